#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Migration benchmark: what migrating a vGPU costs, nv-vgpu next to upstream.

Runs inside the test host (tests/vgpu-host/run), where the nvsim driver
provides vGPU mdevs:

    VGPU_HOST_MEM=4G tests/vgpu-host/run \
        /usr/bin/python3 bench/migration-bench.py [--quick]

Each case migrates a VM (-accel qtest, -m 256) with one vGPU from a source
QEMU to a destination QEMU (-incoming unix:...) on an mdev of the same
nvsim type, over a UNIX socket, with the return-path and switchover-ack
capabilities, once with -device nv-vgpu and once with upstream -device
vfio-pci (enable-migration=on,x-device-dirty-page-tracking=off).  The
script plays the guest over the qtest socket (PCI config, nvsim's BAR0
SCRATCH register, memset through BAR1) and reports:

  1. the loopback UNIX-socket bandwidth, measured first in the same run,
     and each migration's device-state throughput (query-migrate's
     vfio.transferred over its total-time) as a share of it;
  2. downtime and total time with 64 MiB and 1 GiB of the framebuffer of
     a GRID P4-1Q (nvsim-63) touched, (a) live: pre-copy while the guest
     rewrites a 4 MiB window (at 1/12 of the loopback bandwidth), against
     (b) stop-copy: the VM is stopped first, so all of the device state
     moves while it is down.  (a) and (b) are one guest: it migrates live
     to a fresh mdev, then stopped to another;
  3. the device-state bytes sent against the framebuffer touched, on an
     8 GiB GRID P4-8C (nvsim-289) with 64 MiB touched in 16 pieces.

After each migration the destination's guest must read back the words of
the framebuffer and the SCRATCH value the source's guest wrote, or the
case is reported as failed.  QEMUs and mdevs are cleaned up however the
script ends.  It prints numbers and ratios; the exit status is 1 only
when a migration failed or arrived wrong.  See bench/README.md.

Python 3 standard library, plus QEMU's python QMP library.
"""

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "build/qemu/python"))
from qemu.qmp.legacy import QEMUMonitorProtocol  # noqa: E402

from benchlib import (MDEV_BUS, MDEV_DEVICES, BenchError, cleanup, log,
                      mdev_create, mdev_remove, mdevs, on_signal, procs,
                      stop_proc, sysfs_write)

MDEV_BUS2 = "/sys/class/mdev_bus/nvsim2"
TYPE_1Q = "nvsim-63"            # GRID P4-1Q, 1 GiB
TYPE_8C = "nvsim-289"           # GRID P4-8C, 8 GiB
TYPE_FB_MB = {TYPE_1Q: 1024, TYPE_8C: 8192}
KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30
CLK_TCK = os.sysconf("SC_CLK_TCK")

# The guest's view: device 04.0 on bus 0, BARs placed by hand.
PCI_CFG = 0x80000000 | (4 << 11)
BAR0 = 0xE0000000
BAR1 = 0x400000000
REG_ID = 0x0000
REG_SCRATCH = 0x0010
NVSIM_ID = 0x10DE2330

PAGE = 4096
CHUNK = 4 * MiB                 # the touch pattern: one byte per 4 MiB
WINDOW_OFF = 8 * MiB            # the window the guest rewrites live
WINDOW_LEN = 4 * MiB
POLL = 0.02                     # s between query-migrate polls
MAX_DOWNTIME_MS = 2000 * 1000   # QEMU's largest downtime-limit
DIRTY_SHARE = 12                # the guest dirties 1/12 of the loopback bw


def chunk_byte(i):
    """The byte the guest fills 4 MiB chunk @i of the framebuffer with."""
    return 1 + (i * 37) % 127   # 0x01..0x7f; the window uses 0x80..0xfe


def window_byte(k):
    return 0x80 + k % 127



ARGS = None             # the command line





# ---------------------------------------------------------------------------
# mdevs

def sysfs_read(path):
    with open(path) as f:
        return f.read().strip()


def meminfo(key):
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k == key:
                    return int(v.split()[0]) * KiB
    except (OSError, ValueError, IndexError):
        pass
    return None




def ensure_parent2():
    """nvsim-289 allows one instance per parent, so the 8 GiB case
    migrates from an mdev of nvsim to one of nvsim's second parent,
    nvsim2, which exists when nvsim is loaded with parent2_driver_version.
    Given the same driver version as nvsim's, the two parents are alike.

    In the throw-away test host (VGPU_HOST=1) with no mdev present, reload
    nvsim so; returns a note.  Raises BenchError when that cannot be."""
    version = sysfs_read(MDEV_BUS + "/driver_version")
    if os.path.isdir(MDEV_BUS2):
        v2 = sysfs_read(MDEV_BUS2 + "/driver_version")
        if v2.split(".")[0] != version.split(".")[0]:
            raise BenchError("nvsim2 runs driver %s, nvsim %s: another "
                             "branch" % (v2, version))
        return None
    if os.listdir(MDEV_DEVICES):
        raise BenchError("no nvsim2, and mdevs exist: not reloading nvsim")
    if os.environ.get("VGPU_HOST") != "1" and not ARGS.reload_nvsim:
        raise BenchError("no nvsim2: load nvsim with "
                         "parent2_driver_version=%s (or pass "
                         "--reload-nvsim)" % version)
    ko = ARGS.nvsim_ko
    if not os.path.exists(ko):
        raise BenchError("no %s to reload nvsim from" % ko)
    for cmd in (["rmmod", "nvsim"],
                ["insmod", ko, "parent2_driver_version=" + version]):
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode:
            raise BenchError("%s: %s" % (" ".join(cmd), r.stderr.strip()))
    for _ in range(100):
        if os.path.isdir(MDEV_BUS2):
            break
        time.sleep(0.05)
    if not os.path.isdir(MDEV_BUS2):
        raise BenchError("nvsim reloaded, but %s did not appear" % MDEV_BUS2)
    return ("nvsim reloaded with parent2_driver_version=%s, for a second "
            "parent: nvsim-289 allows one instance per parent" % version)


# ---------------------------------------------------------------------------
# QEMU with a qtest and a QMP socket

class Qemu:
    traces = 0          # trace files written
    def __init__(self, args, name, device_arg, tmp, incoming=None):
        self.name = name
        self.dir = tempfile.mkdtemp(prefix=name + "-", dir=tmp)
        self.qsock = os.path.join(self.dir, "qtest.sock")
        self.msock = os.path.join(self.dir, "qmp.sock")
        self.errlog = os.path.join(self.dir, "stderr")
        self.qt = self.qmp = self.qconn = None
        cmd = [args.qemu, "-L", args.data_dir,
               "-machine", "q35", "-nodefaults", "-accel", "qtest",
               "-qtest", "unix:%s,server=on,wait=off" % self.qsock,
               "-qtest-log", "none",
               "-qmp", "unix:%s,server=on,wait=off" % self.msock,
               "-display", "none", "-m", "256", "-device", device_arg]
        if args.trace:
            # the log backend, with wall-clock timestamps, into our own file
            Qemu.traces += 1
            self.tracelog = os.path.join(args.trace_dir, "%02d-%s-%s.trace"
                                         % (Qemu.traces, device_arg.split(
                                             ",")[0], name.replace(" ", "-")))
            cmd += ["-msg", "timestamp=on", "-D", self.tracelog]
            for t in args.trace.split(","):
                cmd += ["-trace", t]
        if incoming:
            cmd += ["-incoming", incoming]
        self.cmdline = cmd
        with open(self.errlog, "w") as err:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL,
                                         stderr=err)
        procs.append(self.proc)
        try:
            self._connect()
        except BaseException:
            self.quit()
            raise

    def _connect(self):
        deadline = time.monotonic() + 120
        while not (os.path.exists(self.qsock) and
                   os.path.exists(self.msock)):
            self.check_alive("while starting")
            if time.monotonic() > deadline:
                raise BenchError("%s: QEMU made no sockets in 120 s" %
                                 self.name)
            time.sleep(0.02)
        try:
            self.qconn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.qconn.connect(self.qsock)
            self.qconn.settimeout(300)
            self.qt = self.qconn.makefile("rw", buffering=1)
            self.qmp = QEMUMonitorProtocol(self.msock)
            self.qmp.connect()
            self.qmp.settimeout(300)
        except Exception as e:
            self.check_alive("while connecting")
            raise BenchError("%s: connecting to QEMU: %s" % (self.name, e))

    def stderr_text(self):
        try:
            with open(self.errlog) as f:
                return f.read().strip()
        except OSError:
            return ""

    def cpu_s(self):
        """CPU seconds QEMU used so far, user and system (the host
        driver's work for QEMU's reads and writes is system time)."""
        try:
            with open("/proc/%d/stat" % self.proc.pid) as f:
                v = f.read().rsplit(")", 1)[1].split()
            return (int(v[11]) + int(v[12])) / CLK_TCK
        except (OSError, IndexError, ValueError):
            return None

    def check_alive(self, what):
        if self.proc.poll() is not None:
            raise BenchError("%s QEMU exited (status %s) %s: %s" %
                             (self.name, self.proc.returncode, what,
                              self.stderr_text() or "(no stderr)"))

    def quit(self):
        if self.qmp:
            try:
                self.qmp.settimeout(10)
                self.qmp.cmd("quit")
            except Exception:
                pass
            try:
                self.qmp.close()
            except Exception:
                pass
            self.qmp = None
        if self.qt:
            try:
                self.qt.close()
                self.qconn.close()
            except Exception:
                pass
            self.qt = None
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            pass
        stop_proc(self.proc)
        if self.proc in procs:
            procs.remove(self.proc)
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- QMP

    def cmd(self, name, **kw):
        try:
            return self.qmp.cmd(name, **kw)
        except Exception as e:
            self.check_alive("during %s" % name)
            raise BenchError("%s: %s: %s" % (self.name, name, e))

    # -- the qtest text protocol

    def qtest(self, line):
        try:
            self.qt.write(line + "\n")
            while True:
                resp = self.qt.readline()
                if not resp:
                    raise BenchError("qtest connection closed")
                if not resp.startswith("IRQ"):
                    break
        except (OSError, BenchError) as e:
            self.check_alive("during qtest '%s'" % line)
            raise BenchError("%s: qtest '%s': %s" % (self.name, line, e))
        w = resp.split()
        if not w or w[0] != "OK":
            raise BenchError("%s: qtest '%s': %s" % (self.name, line,
                                                     resp.strip()))
        return w[1:]

    def writel(self, addr, val):
        self.qtest("writel 0x%x 0x%x" % (addr, val))

    def readl(self, addr):
        return int(self.qtest("readl 0x%x" % addr)[0], 16) & 0xffffffff

    def memset(self, addr, size, byte):
        self.qtest("memset 0x%x 0x%x 0x%x" % (addr, size, byte))

    def pipeline(self, lines, batch=256):
        """Send qtest commands @batch at a time, then read their OKs."""
        lines = iter(lines)
        while True:
            b = [x for _, x in zip(range(batch), lines)]
            if not b:
                return
            try:
                self.qt.write("\n".join(b) + "\n")
                for x in b:
                    resp = self.qt.readline()
                    while resp.startswith("IRQ"):
                        resp = self.qt.readline()
                    if not resp.startswith("OK"):
                        raise BenchError("qtest '%s': %s" %
                                         (x, resp.strip() or "EOF"))
            except (OSError, BenchError) as e:
                self.check_alive("during qtest")
                raise BenchError("%s: %s" % (self.name, e))

    def cfg_readl(self, reg):
        self.qtest("outl 0xcf8 0x%x" % (PCI_CFG | reg))
        return int(self.qtest("inl 0xcfc")[0], 16)

    def cfg_writel(self, reg, val):
        self.qtest("outl 0xcf8 0x%x" % (PCI_CFG | reg))
        self.qtest("outl 0xcfc 0x%x" % val)

    def guest_setup(self):
        """What the guest's firmware and driver would do: place the BARs
        and enable memory decoding and bus mastering."""
        self.cfg_writel(0x10, BAR0)
        self.cfg_writel(0x14, BAR1 & 0xffffffff)
        self.cfg_writel(0x18, BAR1 >> 32)
        self.cfg_writel(0x04, 6)
        got = self.readl(BAR0 + REG_ID)
        if got != NVSIM_ID:
            raise BenchError("%s: BAR0 ID reads 0x%08x, not 0x%08x" %
                             (self.name, got, NVSIM_ID))


# ---------------------------------------------------------------------------
# 1. Loopback bandwidth

def loopback_bandwidth(total, chunk):
    """Bytes/s through an AF_UNIX stream socketpair from one process to
    another (a forked child sends, we receive)."""
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    pid = os.fork()
    if pid == 0:
        try:
            a.close()
            buf = bytes(chunk)
            view = memoryview(buf)
            left = total
            while left:
                n = b.send(view[:min(chunk, left)])
                left -= n
            b.close()
        finally:
            os._exit(0)
    b.close()
    buf = bytearray(chunk)
    got = 0
    t0 = time.monotonic()
    while got < total:
        n = a.recv_into(buf)
        if not n:
            break
        got += n
    t = time.monotonic() - t0
    a.close()
    os.waitpid(pid, 0)
    if got != total:
        raise BenchError("loopback: received %d of %d bytes" % (got, total))
    return total / t


# ---------------------------------------------------------------------------
# Cases and results

class Case:
    def __init__(self, key, mtype, touched, mode, writer, sparse=False,
                 dst_parent=MDEV_BUS, multifd=False, rep=1):
        self.base = key + ("-mfd" if multifd else "")
        self.key = self.base + ("#%d" % rep if rep > 1 else "")
        self.rep = rep          # the how-manieth run of this case
        self.multifd = multifd  # multifd channels carry the device state
        self.dst_parent = dst_parent
        self.mtype = mtype
        self.fb_size = TYPE_FB_MB[mtype] * MiB
        self.touched = touched
        self.mode = mode        # "live" or "stop"
        self.writer = writer    # the guest rewrites the window while live
        self.sparse = sparse    # touched in 16 pieces spread over the BAR

    @property
    def chunks(self):
        """Framebuffer offsets of the touched 4 MiB chunks."""
        n = self.touched // CHUNK
        if not self.sparse:
            return [i * CHUNK for i in range(n)]
        step = self.fb_size // 16
        per = n // 16
        return [p * step + i * CHUNK for p in range(16) for i in range(per)]

    @property
    def label(self):
        what = {"live": "live: pre-copy, VM running%s" %
                (", guest rewriting" if self.writer else ", guest idle"),
                "stop": "stop-copy: VM stopped first"}[self.mode]
        return "%s, %s touched%s, %s%s" % (
            self.mtype, size_str(self.touched),
            " in 16 pieces" if self.sparse else "", what,
            ", multifd (%d channels)" % ARGS.multifd_channels
            if self.multifd else "")


class Result:
    def __init__(self, case, device):
        self.case = case
        self.device = device
        self.ok = False
        self.error = None
        self.status = None
        self.info = {}
        self.touch_s = None
        self.wall_s = None
        self.stopped_s = None   # stop-copy: from 'stop' to completion
        self.writes = 0
        self.knobs = []
        self.verified = 0
        self.notes = []
        self.cpu_src = self.cpu_dst = None  # QEMU CPU s while migrating

    def get(self, *keys):
        v = self.info
        for k in keys:
            if not isinstance(v, dict) or k not in v:
                return None
            v = v[k]
        return v

    @property
    def total_ms(self):
        return self.get("total-time")

    @property
    def qemu_downtime_ms(self):
        return self.get("downtime")

    @property
    def downtime_ms(self):
        """What the guest sees: QEMU's downtime live; in stop-copy the VM
        is down from 'stop' to the end."""
        if self.case.mode == "stop":
            return self.stopped_s * 1000 if self.stopped_s else None
        return self.qemu_downtime_ms

    @property
    def vfio_bytes(self):
        return self.get("vfio", "transferred")

    @property
    def vfio_rate(self):
        if self.vfio_bytes is None or not self.total_ms:
            return None
        return self.vfio_bytes / (self.total_ms / 1000.0)


DEVICES = ("nv-vgpu", "vfio-pci")


def device_arg(device, uuid):
    arg = "%s,id=gpu0,addr=04.0,sysfsdev=%s/%s" % (device, MDEV_DEVICES,
                                                    uuid)
    if device == "vfio-pci":
        arg += ",enable-migration=on,x-device-dirty-page-tracking=off"
    return arg


# ---------------------------------------------------------------------------
# The guest's framebuffer contents

def touch(vm, case):
    """The guest touches every page of the chunks: an 8-byte memset at
    the start of each page, the chunk's byte."""
    for off in case.chunks:
        b = chunk_byte(off // CHUNK)
        vm.pipeline("memset 0x%x 8 0x%x" % (BAR1 + off + p, b)
                    for p in range(0, CHUNK, PAGE))


def rewrite_window(vm, b):
    vm.pipeline("memset 0x%x 8 0x%x" % (BAR1 + WINDOW_OFF + p, b)
                for p in range(0, WINDOW_LEN, PAGE))


def in_window(off):
    return WINDOW_OFF <= off < WINDOW_OFF + WINDOW_LEN


WINDOW_SAMPLES = (WINDOW_OFF, WINDOW_OFF + WINDOW_LEN // 2,
                  WINDOW_OFF + WINDOW_LEN - PAGE)


def expect_window(case):
    """The window's sampled words before any rewrite, by offset."""
    v = 0
    if any(in_window(off) for off in case.chunks):
        v = chunk_byte(WINDOW_OFF // CHUNK) * 0x01010101
    return {off: v for off in WINDOW_SAMPLES}


def verify(vm, case, scratch, window_ok):
    """The guest reads back what the source's guest wrote: SCRATCH, the
    first and last pages of up to 16 spread chunks (a written word, and
    an unwritten one that must be zero), an untouched page, and the
    window, whose sampled words must each be one of @window_ok[offset]."""
    checked = 0

    def fail(what, off, got, want):
        raise BenchError("%s: the framebuffer word at 0x%x is 0x%08x, "
                         "expected %s" % (what, off, got, want))
    got = vm.readl(BAR0 + REG_SCRATCH)
    if got != scratch:
        cmd = vm.cfg_readl(0x04) & 0xffff
        bar0 = vm.cfg_readl(0x10)
        raise BenchError("%s: SCRATCH is 0x%08x, the source's guest wrote "
                         "0x%08x (ID 0x%08x, PCI command 0x%04x, BAR0 "
                         "0x%08x)" % (vm.name, got, scratch,
                                      vm.readl(BAR0 + REG_ID), cmd, bar0))
    checked += 1
    chunks = [c for c in case.chunks if not in_window(c)]
    picks = sorted(set(chunks[len(chunks) * i // 16]
                       for i in range(16))) if chunks else []
    for c in picks:
        want = chunk_byte(c // CHUNK) * 0x01010101
        for off in (c, c + CHUNK - PAGE):
            got = vm.readl(BAR1 + off)
            if got != want:
                fail(vm.name, off, got, "0x%08x" % want)
            got = vm.readl(BAR1 + off + PAGE // 2)
            if got != 0:
                fail(vm.name, off + PAGE // 2, got, "0 (not written)")
            checked += 2
    touched = set(case.chunks)
    untouched = [o for o in (case.fb_size - CHUNK, case.fb_size // 2 + CHUNK,
                             case.touched)
                 if o not in touched and o < case.fb_size]
    if untouched:
        got = vm.readl(BAR1 + untouched[0])
        if got != 0:
            fail(vm.name, untouched[0], got, "0 (never touched)")
        checked += 1
    for off in WINDOW_SAMPLES:
        got = vm.readl(BAR1 + off)
        if got not in window_ok[off]:
            fail(vm.name + " (the rewritten window)", off, got, "one of " +
                 ", ".join("0x%08x" % v for v in sorted(window_ok[off])))
        checked += 1
    return checked


# ---------------------------------------------------------------------------
# Migrating

CAPS = [{"capability": "return-path", "state": True},
        {"capability": "switchover-ack", "state": True}]


def caps_for(case):
    """The capabilities, the same on both sides.  With multifd, QEMU 10.0's
    VFIO sends the device state over the multifd channels by itself
    (x-migration-multifd-transfer=auto, its default)."""
    return CAPS + [{"capability": "multifd", "state": case.multifd}]


def setup_side(vm, case):
    vm.cmd("migrate-set-capabilities", capabilities=caps_for(case))
    if case.multifd:
        vm.cmd("migrate-set-parameters",
               **{"multifd-channels": ARGS.multifd_channels})


def params_for(args, case, bw):
    """Migration parameters set before migrating (see bench/README.md)."""
    if case.mode == "stop":
        # The VM is down for all of it anyway.  At the default 300 ms
        # limit QEMU waits for a moment when the device state it has yet
        # to send (all of it: the device is in STOP, not PRE_COPY) fits
        # in 300 ms at its bandwidth estimate, and that moment never
        # comes: nothing moves while it waits, so the estimate falls to
        # zero.  With the largest limit it switches over once RAM is
        # through.
        return {"downtime-limit": MAX_DOWNTIME_MS}
    # Live: QEMU's defaults (see --converge-after for the fallback).
    return {}


def cpu_diff(a, b):
    return a - b if a is not None and b is not None else None


def migrate(args, case, r, src, dst, uri, bw, window_before):
    """Migrate @src to @dst (already listening on @uri) as @case says,
    the guest rewriting the window if it is live and writing.  Fills @r;
    returns the values the destination may hold at each sampled word of
    the window (@window_before: the source's before migrating).  A
    rewrite during which the VM stopped may have reached some of the
    window's pages before the stop, and others after it."""
    params = params_for(args, case, bw)
    r.knobs += ["%s=%s" % kv for kv in sorted(params.items())]
    if params:
        src.cmd("migrate-set-parameters", **params)
    last_ok = None              # the last rewrite done before the stop
    maybe = None                # a rewrite that may have landed after stop
    writing = case.mode == "live" and case.writer
    t_stop = None
    if case.mode == "stop":
        t_stop = time.monotonic()
        src.cmd("stop")
    cpu0 = (src.cpu_s(), dst.cpu_s())
    t0 = time.monotonic()
    src.cmd("migrate", uri=uri)
    deadline = t0 + args.timeout
    fallback_at = t0 + args.converge_after + 10.0 * case.touched / bw
    k = 0
    next_write = t0
    while True:
        now = time.monotonic()
        if writing and now >= next_write:
            # Rewrite, then see whether the VM still ran after it: the
            # qtest commands and query-status are served in order by
            # QEMU's main loop, and the VM does not start again.
            b = window_byte(k)
            rewrite_window(src, b)
            k += 1
            r.writes += 1
            if src.cmd("query-status")["running"]:
                last_ok = b * 0x01010101
            else:
                maybe = b * 0x01010101
                writing = False
            next_write += args.write_period
            if next_write < time.monotonic():
                next_write = time.monotonic() + args.write_period
        info = src.cmd("query-migrate")
        status = info.get("status")
        if status in ("completed", "failed", "cancelled"):
            break
        now = time.monotonic()
        if now > fallback_at and args.fallback:
            fb = {"avail-switchover-bandwidth": int(bw)}
            src.cmd("migrate-set-parameters", **fb)
            r.knobs.append("avail-switchover-bandwidth=%d after %.0f s "
                           "without convergence" % (int(bw), now - t0))
            fallback_at = float("inf")
        if now > deadline:
            src.cmd("migrate_cancel")
            raise BenchError("no convergence in %.0f s (status %s, %s "
                             "device-state bytes sent, %d rewrites)" %
                             (args.timeout, status,
                              (info.get("vfio") or {}).get("transferred"),
                              r.writes))
        wait = POLL
        if writing:
            wait = max(0.0, min(POLL, next_write - time.monotonic()))
        time.sleep(wait)
    t1 = time.monotonic()
    r.cpu_src = cpu_diff(src.cpu_s(), cpu0[0])
    r.wall_s = t1 - t0
    if t_stop is not None:
        r.stopped_s = t1 - t_stop
    r.info = info
    r.status = status
    if status != "completed":
        time.sleep(0.5)
        dst.proc.poll()
        err = dst.stderr_text().replace("\n", " | ")
        raise BenchError("migration %s: %s%s" % (
            status, info.get("error-desc", "(no error-desc)"),
            "; destination QEMU: " + err if err else ""))
    deadline = time.monotonic() + 60
    while True:
        dinfo = dst.cmd("query-migrate")
        if dinfo.get("status") == "completed":
            r.cpu_dst = cpu_diff(dst.cpu_s(), cpu0[1])
            break
        if dinfo.get("status") == "failed" or time.monotonic() > deadline:
            raise BenchError("destination migration status %s: %s" % (
                dinfo.get("status"), dst.stderr_text()))
        time.sleep(POLL)
    return {off: {v if last_ok is None else last_ok} |
            ({maybe} if maybe is not None else set())
            for off, v in window_before.items()}


def settle():
    """Before each chain: write back and drop the page cache and compact
    memory in the test host, as the chain before freed framebuffers of up
    to 1 GiB (in two runs, one with each device first, the first device's
    8 GiB downtime was the higher).  Best effort: needs root."""
    os.sync()
    for path, value in (("/proc/sys/vm/drop_caches", "3"),
                        ("/proc/sys/vm/compact_memory", "1")):
        try:
            sysfs_write(path, value)
        except OSError:
            pass


def run_chain(args, cases, device, tmp, bw):
    """Run @cases (of one touched layout) one after the other with one
    guest: the source's guest touches its framebuffer once, the VM
    migrates to a fresh mdev for each case.  Returns their Results."""
    results = [Result(c, device) for c in cases]
    vms = []
    uuids = []
    i = 0
    try:
        mtype = cases[0].mtype
        uuids.append(mdev_create(mtype))
        src = Qemu(args, "source", device_arg(device, uuids[-1]), tmp)
        vms.append(src)
        src.guest_setup()
        scratch = 0x5c000000 | (os.getpid() & 0xfff) << 12 | len(mdevs)
        src.writel(BAR0 + REG_SCRATCH, scratch)
        t = time.monotonic()
        touch(src, cases[0])
        results[0].touch_s = time.monotonic() - t
        window = expect_window(cases[0])
        for i, (c, r) in enumerate(zip(cases, results)):
            setup_side(src, c)
            uuids.append(mdev_create(mtype, c.dst_parent))
            sock = os.path.join(tmp, "mig-%s.sock" % uuids[-1][:8])
            dst = Qemu(args, "destination %d" % (i + 1),
                       device_arg(device, uuids[-1]), tmp,
                       incoming="defer")
            vms.append(dst)
            # multifd must be set before the destination listens
            setup_side(dst, c)
            dst.cmd("migrate-incoming", uri="unix:" + sock)
            ok = migrate(args, c, r, src, dst, "unix:" + sock, bw, window)
            if c.mode == "stop":
                # The destination stays paused, as the source was.
                try:
                    verify(dst, c, scratch, ok)
                except BenchError as e:
                    r.notes.append("read while paused, before 'cont': %s"
                                   % e)
                dst.cmd("cont")
            r.verified = verify(dst, c, scratch, ok)
            r.ok = True
            # the next case migrates from here: the old source goes
            window = {off: dst.readl(BAR1 + off) for off in WINDOW_SAMPLES}
            src.quit()
            vms.remove(src)
            mdev_remove(uuids.pop(0))
            src = dst
    except BenchError as e:
        results[i].error = str(e)
        for r in results[i + 1:]:
            r.error = "not run: an earlier migration of this guest failed"
    finally:
        for vm in vms:
            vm.quit()
        for u in uuids:
            mdev_remove(u)
    return results


# ---------------------------------------------------------------------------
# Report

def size_str(n):
    if n >= GiB and n % GiB == 0:
        return "%d GiB" % (n // GiB)
    return "%d MiB" % (n // MiB)


def mb(n):
    return "%.1f" % (n / MiB) if n is not None else "-"


def ms(v):
    return "%.0f" % v if v is not None else "-"


def ratio(a, b, fmt="%.2f"):
    if a is None or b is None or not b:
        return "-"
    return fmt % (a / b)


def secs(v):
    return "%.1f" % v if v is not None else "-"


def pct(a, b):
    if a is None or not b:
        return "-"
    return "%.0f%%" % (100.0 * a / b)


def median(vals):
    vals = sorted(v for v in vals if v is not None)
    if not vals:
        return None
    n = len(vals)
    return vals[n // 2] if n % 2 else (vals[n // 2 - 1] + vals[n // 2]) / 2


def table(rows, header):
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    out = []
    for i, row in enumerate([header] + rows):
        out.append("  ".join(str(c).rjust(w) if j else str(c).ljust(w)
                             for j, (c, w) in enumerate(zip(row, widths))))
        if i == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def report(args, results, bw, bw_small, notes, wall):
    ref = max(bw, bw_small)
    print("Migration benchmark: nv-vgpu vs upstream vfio-pci on nvsim mdevs")
    print("%s; QEMU %s; -accel qtest, -m 256; over a UNIX socket with "
          "return-path and switchover-ack" %
          ("quick run" if args.quick else "full run", args.qemu))
    print()
    print("1. Loopback UNIX-socket bandwidth (socketpair, one process to "
          "another):")
    print("   %.0f MiB/s with 1 MiB writes (%s), %.0f MiB/s with 32 KiB "
          "writes (%s); reference: %.0f MiB/s" %
          (bw / MiB, size_str(args.loopback_bytes), bw_small / MiB,
           size_str(args.loopback_small), ref / MiB))
    print()
    print("2./3. Migrations (ms; total = QEMU's total-time; downtime = what "
          "the guest sees: QEMU's")
    print("   downtime when live, from 'stop' to completion in stop-copy; "
          "qemu-dt = QEMU's downtime):")
    print()
    rows = []
    for r in results:
        c = r.case
        if not r.ok:
            rows.append([c.key, r.device, "FAILED"] + [""] * 10)
            continue
        rows.append([
            c.key, r.device, ms(r.total_ms), ms(r.downtime_ms),
            ms(r.qemu_downtime_ms), mb(r.vfio_bytes),
            ratio(r.vfio_bytes, c.touched), mb(r.vfio_rate),
            pct(r.vfio_rate, ref),
            str(r.writes) if c.mode == "live" and c.writer else "-",
            secs(r.cpu_src), secs(r.cpu_dst), "%d" % r.verified])
    print(table(rows, ["case", "device", "total", "downtime", "qemu-dt",
                       "vfio MiB", "/touched", "vfio MiB/s", "of lo-bw",
                       "rewrites", "src cpu", "dst cpu", "checked"]))
    print()
    for c in args.cases:
        print("   %-10s %s" % (c.key, c.label))
    print("   vfio MiB: query-migrate's vfio.transferred (/touched: over the "
          "touched framebuffer); vfio MiB/s:")
    print("   that over total, and as a share of the loopback bandwidth; "
          "rewrites: of the %d MiB window, one" % (WINDOW_LEN // MiB))
    print("   every %.0f ms (%.1f MiB/s, 1/%d of the loopback bandwidth) "
          "while live; src/dst cpu: CPU seconds" %
          (args.write_period * 1000, WINDOW_LEN / args.write_period / MiB,
           round(ref * args.write_period / WINDOW_LEN)))
    print("   of the QEMUs (user + system) during the migration; checked: "
          "words the destination's guest read back")
    noted = [r for r in results if r.notes]
    if noted:
        print()
        print("   Remarks:")
        for r in noted:
            for n in r.notes:
                print("   - %s %s: %s" % (r.case.key, r.device, n))
    failed = [r for r in results if not r.ok]
    if failed:
        print()
        print("   Failures:")
        for r in failed:
            print("   - %s %s: %s" % (r.case.key, r.device, r.error))
    print()
    knobs = {}
    for r in results:
        if r.knobs:
            knobs.setdefault("; ".join(r.knobs), []).append(
                "%s/%s" % (r.case.key, r.device))
    if knobs:
        print("   Migration parameters set (all else QEMU's defaults):")
        for k, who in knobs.items():
            print("   - %s: %s" % (k, ", ".join(who)))
    else:
        print("   Migration parameters: QEMU's defaults everywhere")

    by = {(r.case.key, r.device): r for r in results if r.ok}
    rows = []
    for c in args.cases:
        a, b = by.get((c.key, "nv-vgpu")), by.get((c.key, "vfio-pci"))
        if a and b:
            rows.append([c.key, ratio(a.total_ms, b.total_ms),
                         ratio(a.downtime_ms, b.downtime_ms),
                         ratio(a.vfio_bytes, b.vfio_bytes),
                         ratio(a.vfio_rate, b.vfio_rate)])
    if rows:
        print()
        print("Ratios nv-vgpu / upstream vfio-pci (below 1: nv-vgpu faster "
              "or sending less):")
        print(table(rows, ["case", "total", "downtime", "vfio bytes",
                           "vfio MiB/s"]))
    rows = []
    for dev in args.devices:
        for c in args.cases:
            if c.mode != "live" or not c.writer:
                continue
            stop = [s for s in args.cases if s.mode == "stop" and
                    s.touched == c.touched and s.mtype == c.mtype and
                    s.multifd == c.multifd]
            a = by.get((c.key, dev))
            b = by.get((stop[0].key, dev)) if stop else None
            if a and b:
                rows.append([dev, size_str(c.touched), ms(a.downtime_ms),
                             ms(b.downtime_ms),
                             ratio(a.downtime_ms, b.downtime_ms, "%.3f"),
                             ms(a.total_ms), ms(b.total_ms),
                             ratio(a.total_ms, b.total_ms)])
    if rows:
        print()
        print("Live (pre-copy) vs stop-copy, same device and size "
              "(ratio = live / stop-copy):")
        print(table(rows, ["device", "touched", "live dt", "stop dt",
                           "dt ratio", "live total", "stop total",
                           "total ratio"]))
    rows = []
    for c in args.cases:
        if not c.multifd:
            continue
        off = [o for o in args.cases if not o.multifd and
               o.base + "-mfd" == c.base and o.rep == c.rep]
        for dev in args.devices:
            a = by.get((c.key, dev))
            b = by.get((off[0].key, dev)) if off else None
            if a and b:
                rows.append([off[0].key, dev, ms(b.downtime_ms),
                             ms(a.downtime_ms),
                             ratio(a.downtime_ms, b.downtime_ms),
                             mb(b.vfio_rate), mb(a.vfio_rate),
                             ratio(a.vfio_rate, b.vfio_rate)])
    if rows:
        print()
        print("multifd on vs off, same device and case (ratio = on / off):")
        print(table(rows, ["case", "device", "dt off", "dt on", "dt ratio",
                           "MiB/s off", "MiB/s on", "MiB/s ratio"]))
    rows = []
    for c in args.cases:
        if c.rep > 1:
            continue
        runs = [x for x in args.cases if x.base == c.base]
        dt, bwr = {}, {}
        for dev in ("nv-vgpu", "vfio-pci"):
            got = [by[(x.key, dev)] for x in runs if (x.key, dev) in by]
            dt[dev] = median([g.downtime_ms for g in got])
            bwr[dev] = median([g.vfio_rate for g in got])
        rows.append([c.base + (" (x%d)" % len(runs) if len(runs) > 1
                               else ""),
                     ms(dt["nv-vgpu"]) if dt["nv-vgpu"] is not None
                     else "FAILED",
                     ms(dt["vfio-pci"]) if dt["vfio-pci"] is not None
                     else "FAILED",
                     ratio(dt["nv-vgpu"], dt["vfio-pci"]),
                     pct(bwr["nv-vgpu"], ref), pct(bwr["vfio-pci"], ref)])
    print()
    print("Summary (downtime ms, the median of (xN) runs; device-state "
          "MiB/s as a share of the")
    print("loopback's %.0f MiB/s; -mfd: multifd with %d channels):" %
          (ref / MiB, args.multifd_channels))
    print(table(rows, ["case", "nv-vgpu dt", "upstream dt", "dt ratio",
                       "nv-vgpu bw", "upstream bw"]))
    print()
    for n in notes:
        print("Note: " + n)
    touched = ["%s %s %.1f s" % (size_str(r.case.touched), r.device,
                                 r.touch_s)
               for r in results if r.touch_s is not None]
    if touched:
        print("The guest's touching of the framebuffer took: " +
              ", ".join(touched))
    print("Wall time of the benchmark: %.0f s" % wall)


# ---------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--qemu", default=os.path.join(
        REPO, "build/qemu-build/qemu-system-x86_64"))
    ap.add_argument("-L", "--data-dir", default=os.path.join(
        REPO, "build/qemu-build/qemu-bundle/usr/local/share/qemu"),
        help="QEMU's -L (firmware); default: next to the default --qemu")
    ap.add_argument("--quick", action="store_true",
                    help="a smoke run: 16 MiB live and stop-copy, the 8 GiB "
                    "case, a 256 MiB loopback")
    ap.add_argument("--devices", default=",".join(DEVICES),
                    help="comma-separated: nv-vgpu, vfio-pci (default both)")
    ap.add_argument("--sizes", default="",
                    help="comma-separated touched sizes in MiB for the "
                    "live/stop-copy cases (default 64,1024; quick 16)")
    ap.add_argument("--no-sparse", dest="sparse", action="store_false",
                    help="skip the 8 GiB case")
    ap.add_argument("--write-period", type=float, default=None,
                    help="s between the guest's rewrites of the 4 MiB "
                    "window while live (default: a dirty rate of 1/%d "
                    "of the loopback bandwidth, at most every 50 ms)" %
                    DIRTY_SHARE)
    ap.add_argument("--nvsim-ko", default=os.path.join(
        REPO, "build/nvsim/nvsim.ko"))
    ap.add_argument("--reload-nvsim", action="store_true",
                    help="reload nvsim for a second parent even outside "
                    "the test host")
    ap.add_argument("--timeout", type=float, default=300,
                    help="s before a migration is cancelled (default 300)")
    ap.add_argument("--converge-after", type=float, default=30,
                    help="s (plus 10 s per loopback-second of touched "
                    "framebuffer) after which a live migration still "
                    "running gets avail-switchover-bandwidth")
    ap.add_argument("--no-fallback", dest="fallback", action="store_false",
                    help="never set avail-switchover-bandwidth late")
    ap.add_argument("--multifd", default="off,on",
                    help="comma-separated: off, on: run the live/stop-copy "
                    "cases without and with multifd (default both, with "
                    "multifd up to --multifd-max; the 8 GiB case runs "
                    "without)")
    ap.add_argument("--multifd-max", type=int, default=64,
                    help="MiB: the largest touched size also run with "
                    "multifd (default 64, so that a full run stays "
                    "within 10 min)")
    ap.add_argument("--multifd-channels", type=int, default=2,
                    help="multifd-channels when multifd is on (default 2)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="run each live case this many times in a row "
                    "(the summary gives the median downtime); the 8 GiB "
                    "case too")
    ap.add_argument("--trace", default="",
                    help="comma-separated QEMU -trace patterns for every "
                    "QEMU, written with timestamps to --trace-dir")
    ap.add_argument("--trace-dir", default="/tmp/migration-bench-trace",
                    help="where --trace writes (default %(default)s)")
    args = ap.parse_args()
    global ARGS
    ARGS = args

    if os.geteuid() != 0:
        sys.exit("migration-bench: run it as root in the test host "
                 "(tests/vgpu-host/run)")
    if not os.path.isdir(MDEV_BUS):
        sys.exit("migration-bench: no nvsim (%s): run it in the test host "
                 "(tests/vgpu-host/run)" % MDEV_BUS)
    if not os.access(args.qemu, os.X_OK):
        sys.exit("migration-bench: no QEMU at %s" % args.qemu)
    args.devices = [d for d in args.devices.split(",") if d]
    for d in args.devices:
        if d not in DEVICES:
            sys.exit("migration-bench: unknown device %s" % d)

    if args.sizes:
        sizes = [int(x) * MiB for x in args.sizes.split(",") if x]
    else:
        sizes = [16 * MiB] if args.quick else [64 * MiB, 1 * GiB]
    for s in sizes:
        if s % CHUNK or s < WINDOW_OFF + WINDOW_LEN or s > GiB:
            sys.exit("migration-bench: sizes are multiples of 4 MiB from "
                     "%d to 1024 MiB" % ((WINDOW_OFF + WINDOW_LEN) // MiB))
    args.loopback_bytes = 256 * MiB if args.quick else 1 * GiB
    args.loopback_small = 256 * MiB
    modes = [m for m in args.multifd.split(",") if m]
    if not modes or any(m not in ("off", "on") for m in modes):
        sys.exit("migration-bench: --multifd takes off, on or off,on")
    if args.trace:
        os.makedirs(args.trace_dir, exist_ok=True)
    chains = []
    for s in sizes:
        k = size_str(s).replace(" ", "").replace("MiB", "M").replace(
            "GiB", "G")
        for m in modes:
            if m == "on" and s > args.multifd_max * MiB:
                continue
            chains.append([Case(k + "-live", TYPE_1Q, s, "live", True,
                                multifd=m == "on", rep=n + 1)
                           for n in range(args.repeat)] +
                          [Case(k + "-stop", TYPE_1Q, s, "stop", False,
                                multifd=m == "on")])
    notes = []
    if args.sparse:
        # one 8C fits a parent: the VM goes back and forth between two
        chains.append([Case("8G-sparse", TYPE_8C, 64 * MiB, "live", False,
                            sparse=True, rep=n + 1,
                            dst_parent=MDEV_BUS if n % 2 else MDEV_BUS2)
                       for n in range(args.repeat)])

    need = 2 * max(sizes) + 512 * MiB
    avail = meminfo("MemAvailable")
    if avail is not None and avail < need:
        notes.append("only %d MiB of memory available, about %d MiB "
                     "needed (two touched framebuffers at a time): give the "
                     "test host VGPU_HOST_MEM=4G" % (avail // MiB,
                                                     need // MiB))
        log(notes[-1])

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    t_start = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="migration-bench-")
    results = []
    try:
        if args.sparse:
            try:
                n = ensure_parent2()
                if n:
                    notes.append(n)
            except BenchError as e:
                notes.append("8 GiB case skipped: %s" % e)
                chains = [ch for ch in chains if ch[0].mtype != TYPE_8C]
        args.cases = [c for ch in chains for c in ch]
        log("loopback bandwidth")
        bw = loopback_bandwidth(args.loopback_bytes, 1 * MiB)
        bw_small = loopback_bandwidth(args.loopback_small, 32 * KiB)
        log("loopback: %.0f MiB/s (1 MiB writes), %.0f MiB/s (32 KiB)" %
            (bw / MiB, bw_small / MiB))
        if args.write_period is None:
            args.write_period = max(0.05, WINDOW_LEN * DIRTY_SHARE /
                                    max(bw, bw_small))
        firsts = []
        for k, ch in enumerate(chains):
            # every other chain the other device goes first, so that
            # neither is always the one that follows the previous chain
            order = args.devices if k % 2 == 0 else args.devices[::-1]
            firsts.append("%s %s" % (ch[0].key, order[0]))
            for d in order:
                settle()
                log("%s: %s ..." % (d, ", ".join(c.key for c in ch)))
                t = time.monotonic()
                rs = run_chain(args, ch, d, tmp, max(bw, bw_small))
                for r in rs:
                    log("  %s %s%s" % (r.case.key, "ok" if r.ok else "FAILED",
                                       "" if r.ok else ": " + r.error))
                log("  %.1f s" % (time.monotonic() - t))
                results += rs
        if len(args.devices) > 1:
            notes.append("the device that ran each chain first (after the "
                         "test host's memory settled): " + ", ".join(firsts))
        results.sort(key=lambda r: (args.cases.index(r.case),
                                    args.devices.index(r.device)))
        report(args, results, bw, bw_small, notes,
               time.monotonic() - t_start)
    finally:
        cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(1 if any(not r.ok for r in results) else 0)


if __name__ == "__main__":
    main()
