#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Console benchmark: what nv-vgpu's head-0 console costs, next to upstream.

Runs inside the test host (tests/vgpu-host/run), where the nvsim driver
provides vGPU mdevs:

    tests/vgpu-host/run /usr/bin/python3 bench/console-bench.py [--quick]

For each configuration -- upstream vfio-pci,display=on (region plane),
nv-vgpu with a region plane at the default console-fps and at 30, and
nv-vgpu with a dma-buf plane (no OpenGL) -- and each resolution, one QEMU
(-accel qtest) is started.  The script plays the guest over the qtest
socket (PCI config, nvsim's BAR0 mode registers, drawing into BAR1) and
measures:

  * QEMU's CPU time per wall second (utime+stime of /proc/PID/stat) with
    no VNC client (VNC listening), then with a VNC client attached
    (build/vnc/vgpu-vnc-client --watch), each for a static screen and for
    a changing one (a 64-line band rewritten 10 times a second);
  * nv-vgpu's console poll and tile counters (x-console-polls/-tiles);
  * QEMU's VmRSS;
  * at the first resolution, the latency from a framebuffer write to the
    VNC client seeing the new pixel (vgpu-vnc-client --pixel).

It prints numbers and ratios only; nothing passes or fails.  See
bench/README.md.  Python 3 standard library only.
"""

import argparse
import atexit
import json
import os
import queue
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from benchlib import (MDEV_BUS, MDEV_DEVICES, BenchError, cleanup, log,
                      mdev_create, mdevs, on_signal, procs, stop_proc)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MDEV_TYPE = "nvsim-63"                  # GRID P4-1Q: 1 GiB, 5120x2880
FB_SIZE = 1 << 30

# The guest's view: device 04.0 on bus 0, BARs placed by hand.
PCI_CFG = 0x80000000 | (4 << 11)
BAR0 = 0xE0000000
BAR1 = 0x400000000
REG_ID = 0x0000
REG_HEAD0_ENABLE = 0x0100
REG_HEAD0_WIDTH = 0x0104
REG_HEAD0_HEIGHT = 0x0108
REG_HEAD0_STRIDE = 0x010C
REG_HEAD0_FORMAT = 0x0110
REG_HEAD0_FB_OFFSET_LO = 0x0114
REG_HEAD0_FB_OFFSET_HI = 0x0118
NVSIM_ID = 0x10DE2330
FMT_XRGB8888 = 0x34325258               # 'XR24'

TILE = 64
FILL = 0x40                             # the static screen's colour
BAND_Y = 8 * TILE                       # the changing band: one tile row
BAND_HZ = 10
LAT_X, LAT_Y, LAT_SIZE = 200, 200, 16   # the latency probe's square

RESOLUTIONS = {"1080p": (1920, 1080), "2160p": (3840, 2160)}


class Config:
    def __init__(self, key, label, device, plane, fps=None):
        self.key = key
        self.label = label
        self.device = device            # "vfio-pci" or "nv-vgpu"
        self.plane = plane              # "region" or "dmabuf"
        self.fps = fps                  # console-fps; None: the default

    @property
    def nv(self):
        return self.device == "nv-vgpu"

    def device_arg(self, uuid):
        arg = "%s,id=gpu0,addr=04.0,sysfsdev=%s/%s" % (
            self.device, MDEV_DEVICES, uuid)
        if self.device == "vfio-pci":
            arg += ",display=on"
        if self.fps is not None:
            arg += ",console-fps=%d" % self.fps
        return arg


CONFIGS = [
    Config("upstream", "upstream vfio-pci,display=on (region)", "vfio-pci",
           "region"),
    Config("nv-region", "nv-vgpu region, default fps", "nv-vgpu", "region"),
    Config("nv-region-30", "nv-vgpu region, console-fps=30", "nv-vgpu",
           "region", 30),
    Config("nv-dmabuf", "nv-vgpu dma-buf (no GL), default fps", "nv-vgpu",
           "dmabuf"),
]
LATENCY_CONFIGS = ("upstream", "nv-region", "nv-region-30")
PROFILE_CONFIGS = ("upstream", "nv-region")






# ---------------------------------------------------------------------------
# mdevs

def mdev_create_plane(plane):
    return mdev_create(MDEV_TYPE, plane=plane)


# ---------------------------------------------------------------------------
# /proc

def proc_cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])      # utime + stime


def proc_status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if v.strip().endswith("kB"):
                out[k] = int(v.split()[0])
    return out


def proc_switches(pid):
    """Context switches of all of the process's threads so far: each is
    a wake-up of a thread that slept (voluntary) or a preemption."""
    n = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                for line in f:
                    if line.split(":")[0].endswith("ctxt_switches"):
                        n += int(line.split()[1])
        except FileNotFoundError:       # the thread ended meanwhile
            pass
    return n


def system_busy_idle():
    """Busy and idle jiffies of all CPUs, from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]                          # idle + iowait
    return sum(v[:8]) - idle, idle             # without guest, guest_nice


CLK_TCK = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------------------
# QEMU with a qtest and a QMP socket

class Qemu:
    def __init__(self, args, cfg, uuid, tmp):
        self.cfg = cfg
        self.dir = tempfile.mkdtemp(prefix="qemu-", dir=tmp)
        self.qsock = os.path.join(self.dir, "qtest.sock")
        self.msock = os.path.join(self.dir, "qmp.sock")
        self.vsock = os.path.join(self.dir, "vnc.sock")
        self.errlog = os.path.join(self.dir, "stderr")
        self.lock = threading.Lock()
        self.proc = None
        self.qt = self.qmp = None
        self.memfd = None

        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(self.qsock)
        listener.listen(1)
        cmd = [args.qemu, "-L", args.data_dir,
               "-machine", "q35", "-nodefaults", "-accel", "qtest",
               "-qtest", "unix:" + self.qsock, "-qtest-log", "/dev/null",
               "-qmp", "unix:%s,server=on,wait=off" % self.msock,
               "-display", "none", "-vnc", "unix:" + self.vsock,
               # thread names, so that a profile can tell VNC's worker
               "-name", "bench,debug-threads=on",
               "-device", cfg.device_arg(uuid)]
        self.cmdline = cmd
        env = dict(os.environ)
        with open(self.errlog, "w") as err:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL,
                                         stderr=err, env=env)
        procs.append(self.proc)
        self.pid = self.proc.pid
        try:
            self._connect(args, listener)
        except BaseException:
            self.quit()
            raise

    def _connect(self, args, listener):
        try:
            listener.settimeout(0.2)
            deadline = time.monotonic() + 120
            while True:
                try:
                    conn, _ = listener.accept()
                    break
                except socket.timeout:
                    self.check_alive("while starting")
                    if time.monotonic() > deadline:
                        raise BenchError("QEMU did not connect to qtest")
        finally:
            listener.close()
        conn.settimeout(120)
        self.qt = conn.makefile("rw", buffering=1)
        self.qmp_connect()
        if args.draw == "procmem":
            self.fb_addr = self.find_fb_mapping()
            self.memfd = os.open("/proc/%d/mem" % self.pid, os.O_RDWR)

    def find_fb_mapping(self):
        """Where QEMU has BAR1 (the vGPU framebuffer) mapped.

        vfio-pci maps BAR1 at realize; nvsim rebases the offset of BAR1
        mappings to the framebuffer page, so it is the writable shared
        vfio-device mapping of FB_SIZE bytes at offset 0 (the display
        region is mapped read-only)."""
        found = []
        with open("/proc/%d/maps" % self.pid) as f:
            for line in f:
                w = line.split()
                if (len(w) >= 6 and w[5] == "anon_inode:[vfio-device]" and
                        w[1].startswith("rw") and w[1][3] == "s" and
                        int(w[2], 16) == 0):
                    lo, hi = (int(x, 16) for x in w[0].split("-"))
                    if hi - lo == FB_SIZE:
                        found.append(lo)
        if len(found) != 1:
            raise BenchError("cannot find QEMU's BAR1 mapping in /proc/%d/"
                             "maps (%d candidates); try --draw qtest" %
                             (self.pid, len(found)))
        return found[0]

    # -- life

    def stderr_tail(self, n=15):
        try:
            with open(self.errlog) as f:
                lines = f.read().splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-n:])

    def check_alive(self, when=""):
        rc = self.proc.poll()
        if rc is None:
            return
        how = ("killed by signal %d" % -rc if rc < 0
               else "exit status %d" % rc)
        tail = self.stderr_tail()
        raise BenchError("QEMU died %s (%s)%s" % (
            when, how, (": " + tail) if tail else ""))

    def quit(self):
        if self.proc.poll() is None and self.qmp:
            try:
                self.qmp_cmd("quit")
            except (OSError, BenchError, ValueError):
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                pass
        stop_proc(self.proc)
        if self.memfd is not None:
            os.close(self.memfd)
            self.memfd = None
        for f in (self.qt, self.qmp):
            try:
                if f:
                    f.close()
            except OSError:
                pass
        if self.proc in procs:
            procs.remove(self.proc)

    # -- qtest

    def qtest(self, *lines):
        """Send qtest commands (pipelined); return their OK payloads."""
        with self.lock:
            try:
                self.qt.write("".join(line + "\n" for line in lines))
                self.qt.flush()
                out = []
                while len(out) < len(lines):
                    r = self.qt.readline()
                    if not r:
                        raise BenchError("qtest connection closed")
                    r = r.strip()
                    if r.startswith("IRQ"):
                        continue
                    if not r.startswith("OK"):
                        raise BenchError("qtest: %r -> %r" % (
                            lines[len(out)], r))
                    out.append(r[2:].strip())
                return out
            except (OSError, socket.timeout) as e:
                self.check_alive("during qtest")
                raise BenchError("qtest: %s" % e)

    def pci_cfg_writel(self, reg, val):
        self.qtest("outl 0xcf8 0x%x" % (PCI_CFG | reg),
                   "outl 0xcfc 0x%x" % val)

    def readl(self, addr):
        return int(self.qtest("readl 0x%x" % addr)[0], 0)

    def writel(self, addr, val):
        self.qtest("writel 0x%x 0x%x" % (addr, val))

    # -- QMP

    def qmp_connect(self):
        deadline = time.monotonic() + 60
        while True:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(self.msock)
                break
            except OSError:
                s.close()
                self.check_alive("before QMP")
                if time.monotonic() > deadline:
                    raise BenchError("cannot connect to QMP")
                time.sleep(0.05)
        s.settimeout(60)
        self.qmp = s.makefile("rw", buffering=1)
        json.loads(self.qmp.readline())          # greeting
        self.qmp_cmd("qmp_capabilities")

    def qmp_cmd(self, name, **arguments):
        msg = {"execute": name}
        if arguments:
            msg["arguments"] = arguments
        try:
            self.qmp.write(json.dumps(msg) + "\n")
            self.qmp.flush()
            while True:
                line = self.qmp.readline()
                if not line:
                    raise BenchError("QMP connection closed")
                r = json.loads(line)
                if "return" in r:
                    return r["return"]
                if "error" in r:
                    raise BenchError("QMP %s: %s" % (name,
                                                     r["error"]["desc"]))
        except (OSError, socket.timeout) as e:
            self.check_alive("during QMP")
            raise BenchError("QMP: %s" % e)

    def counter(self, prop):
        if not self.cfg.nv:
            return None
        return self.qmp_cmd("qom-get", path="/machine/peripheral/gpu0",
                            property=prop)

    # -- the guest

    def setup_pci(self):
        self.pci_cfg_writel(0x10, BAR0)
        self.pci_cfg_writel(0x14, BAR1 & 0xFFFFFFFF)
        self.pci_cfg_writel(0x18, BAR1 >> 32)
        self.pci_cfg_writel(0x04, 0x6)          # memory, bus master
        got = self.readl(BAR0 + REG_ID)
        if got != NVSIM_ID:
            raise BenchError("BAR0 ID reads 0x%08x, not 0x%08x" %
                             (got, NVSIM_ID))

    def set_mode(self, width, height):
        self.width, self.height, self.stride = width, height, width * 4
        r = BAR0
        self.qtest("writel 0x%x 0" % (r + REG_HEAD0_ENABLE),
                   "writel 0x%x %d" % (r + REG_HEAD0_WIDTH, width),
                   "writel 0x%x %d" % (r + REG_HEAD0_HEIGHT, height),
                   "writel 0x%x %d" % (r + REG_HEAD0_STRIDE, self.stride),
                   "writel 0x%x 0x%x" % (r + REG_HEAD0_FORMAT, FMT_XRGB8888),
                   "writel 0x%x 0" % (r + REG_HEAD0_FB_OFFSET_LO),
                   "writel 0x%x 0" % (r + REG_HEAD0_FB_OFFSET_HI),
                   "writel 0x%x 1" % (r + REG_HEAD0_ENABLE))

    def memset(self, offsets, size, value):
        """Fill size bytes at each framebuffer offset with value.

        procmem: the way a KVM guest's stores reach a vGPU framebuffer,
        straight into the mapping, without QEMU doing anything; qtest:
        through QEMU (BAR1 is a RAM device region, so that is 8-byte MMIO
        dispatch in QEMU, on QEMU's CPU time)."""
        if self.memfd is not None:
            data = bytes([value]) * size
            for off in offsets:
                if os.pwrite(self.memfd, data, self.fb_addr + off) != size:
                    raise BenchError("short write to /proc/%d/mem" %
                                     self.pid)
        else:
            self.qtest(*["memset 0x%x %d 0x%x" % (BAR1 + off, size, value)
                         for off in offsets])

    def fill(self, value):
        """The whole scanout, one colour (every page touched)."""
        self.memset([0], self.stride * self.height, value)

    def draw_band(self, value):
        self.memset([BAND_Y * self.stride], TILE * self.stride, value)

    def draw_square(self, x, y, size, value):
        self.memset([(y + i) * self.stride + x * 4 for i in range(size)],
                    size * 4, value)


class BandDrawer:
    """Rewrite the band hz times a second, a new value each time."""

    def __init__(self, vm, hz=BAND_HZ):
        self.vm = vm
        self.hz = hz
        self.stop_ev = threading.Event()
        self.error = None
        self.frames = 0
        self.late = 0
        self.written = {}               # value -> monotonic ns of its write
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        period = 1.0 / self.hz
        nxt = time.monotonic()
        value = 0x10
        try:
            while not self.stop_ev.is_set():
                value = value % 0xF0 + 1          # never the last one
                t = time.monotonic_ns()
                self.vm.draw_band(value)
                self.written[value] = t
                self.frames += 1
                nxt += period
                delay = nxt - time.monotonic()
                if delay < 0:
                    self.late += 1
                    nxt = time.monotonic()
                elif self.stop_ev.wait(delay):
                    break
        except BaseException as e:          # noqa: B902 -- reported by stop
            self.error = e

    def stop(self):
        self.stop_ev.set()
        self.thread.join(30)
        if self.error:
            raise BenchError("drawing failed: %s" % self.error)


# ---------------------------------------------------------------------------
# The VNC client

class VncClient:
    def __init__(self, args, vm, mode_args):
        cmd = [args.vnc_client, "--timeout-ms", "3600000"] + mode_args + [
            "unix:" + vm.vsock]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True,
                                     bufsize=1)
        procs.append(self.proc)
        self.lines = queue.Queue()
        self.rects = 0
        self.rect_px = 0
        self.updates = 0                # FramebufferUpdates with rects
        self.size = None
        self.err = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            t = time.monotonic_ns()
            w = line.split()
            if w and w[0] == "rect":
                self.rects += 1
                self.rect_px += int(w[3]) * int(w[4])
                continue
            if w and w[0] == "update":
                self.updates += 1
                continue
            if len(w) == 2 and w[0] in ("ready", "resize"):
                self.size = tuple(int(x) for x in w[1].split("x"))
            self.lines.put((t, line.strip()))
        self.lines.put((time.monotonic_ns(), None))

    def _read_err(self):
        for line in self.proc.stderr:
            self.err.append(line.rstrip())

    def expect(self, prefix, timeout):
        """The next non-rect line starting with prefix."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BenchError("VNC client: no '%s' within %g s" %
                                 (prefix, timeout))
            try:
                _, line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                time.sleep(0.1)
                raise BenchError("VNC client ended (status %s): %s" % (
                    self.proc.poll(), " / ".join(self.err[-3:])))
            if line.startswith(prefix):
                return line

    def wait_pixel(self, value, timeout):
        """T_NS of the first 'pixel' line showing value, or None."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                _, line = self.lines.get(timeout=left)
            except queue.Empty:
                return None
            if line is None:
                raise BenchError("VNC client ended (status %s): %s" % (
                    self.proc.poll(), " / ".join(self.err[-3:])))
            w = line.split()
            if len(w) == 3 and w[0] == "pixel" and int(w[2], 16) == value:
                return int(w[1])

    def close(self):
        stop_proc(self.proc, 2)
        if self.proc in procs:
            procs.remove(self.proc)


# ---------------------------------------------------------------------------
# Measurements

class Sample:
    """QEMU's CPU time and counters at one end of a window.

    The counters are QMP commands, which cost QEMU CPU time (only
    nv-vgpu has them): they are read before the window's start and after
    its end, so that the window charges nv-vgpu for no QMP work that
    upstream does not do."""

    def __init__(self, vm, client=None, end=False):
        if not end:
            self._counters(vm, client)
        self.t = time.monotonic()
        self.ticks = proc_cpu_ticks(vm.pid)
        self.switches = proc_switches(vm.pid)
        self.sys_busy, self.sys_idle = system_busy_idle()
        if end:
            self._counters(vm, client)

    def _counters(self, vm, client):
        self.polls = vm.counter("x-console-polls")
        self.tiles = vm.counter("x-console-tiles")
        self.capped = vm.counter("x-console-capped")
        self.rects = client.rects if client else 0
        self.rect_px = client.rect_px if client else 0
        self.updates = client.updates if client else 0


class Window:
    """One measured window: rates over it."""

    def __init__(self, a, b, vm):
        dt = b.t - a.t
        self.wall = dt
        self.cpu = (b.ticks - a.ticks) / CLK_TCK / dt
        self.switches = (b.switches - a.switches) / dt
        busy = b.sys_busy - a.sys_busy
        total = busy + b.sys_idle - a.sys_idle
        self.sys_busy = busy / total if total else float("nan")
        self.polls = None if a.polls is None else (b.polls - a.polls) / dt
        self.tiles = None if a.tiles is None else (b.tiles - a.tiles) / dt
        self.polls_total = b.polls
        self.vnc_mpx = (b.rect_px - a.rect_px) / dt / 1e6
        self.updates = (b.updates - a.updates) / dt
        self.capped = None if a.capped is None else (b.capped -
                                                      a.capped) / dt
        self.rss = proc_status(vm.pid).get("VmRSS", 0) / 1024.0


def measure(vm, warmup, seconds, client=None):
    time.sleep(warmup)
    vm.check_alive()
    a = Sample(vm, client)
    time.sleep(seconds)
    vm.check_alive("in a measured window")
    b = Sample(vm, client, end=True)
    return Window(a, b, vm)


# ---------------------------------------------------------------------------
# Where QEMU's CPU goes: a call-graph profile of the changing window

# Each sample goes to the first of these its stack meets, leaf first; a
# sample of the VNC worker thread is VNC's encoder whatever its stack.
PROFILE_PARTS = (
    ("console", ("scanout_shadow_", "vgpu_display_", "dmabuf_surface_",
                 "vfio_display_", "graphic_hw_update")),
    ("vnc-compare", ("vnc_refresh_server_surface",)),
    ("vnc-send", ("vnc_",)),
)
PROFILE_OTHER = "other"


def profile_classify(comm, stack):
    if comm.startswith("vnc_worker"):
        return "vnc-encode"
    for sym in stack:
        for part, prefixes in PROFILE_PARTS:
            if sym.startswith(prefixes):
                return part
    return PROFILE_OTHER


def run_profile(args, vm, tmp):
    """perf record QEMU (DWARF call graphs) for one window; the share of
    samples per part of PROFILE_PARTS, and the top leaf symbols."""
    data = os.path.join(args.profile_keep or tmp,
                        "perf-%s.data" % vm.cfg.key)
    rec = subprocess.run(
        [args.perf, "record", "-q", "-e", "cpu-clock", "-F",
         str(args.profile_hz), "--call-graph", "dwarf,16384", "-p",
         str(vm.pid), "-o", data, "--", "sleep", str(args.window)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if rec.returncode or not os.path.exists(data):
        raise BenchError("perf record failed: %s" % rec.stderr.strip()[-300:])
    out = subprocess.run(
        [args.perf, "script", "-i", data, "-F", "comm,tid,ip,sym",
         "--inline"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        text=True).stdout
    parts, leaves, total = {}, {}, 0
    for block in out.split("\n\n"):
        lines = [x for x in block.splitlines() if x.strip()]
        if not lines:
            continue
        comm = lines[0].split()[0]
        stack = []
        for line in lines[1:]:
            f = line.split(None, 1)
            sym = f[1].split("+0x")[0] if len(f) > 1 else "?"
            stack.append(sym.replace(" (inlined)", "").strip())
        total += 1
        part = profile_classify(comm, stack)
        parts[part] = parts.get(part, 0) + 1
        leaf = "%s (%s)" % (stack[0] if stack else "?", part)
        leaves[leaf] = leaves.get(leaf, 0) + 1
    if not args.profile_keep:
        os.unlink(data)
    if not total:
        raise BenchError("perf recorded no samples")
    return {"total": total,
            "parts": {k: v / total for k, v in parts.items()},
            "leaves": sorted(((v / total, k) for k, v in leaves.items()),
                             reverse=True)[:8]}


def run_latency(args, vm, log_prefix, notes):
    cl = VncClient(args, vm, ["--pixel", "%d,%d" % (LAT_X + 3, LAT_Y + 3)])
    try:
        cl.expect("ready", 120)
        init = cl.expect("initial", 30)
        value = int(init.split()[1], 16)
        if value != FILL * 0x010101:
            note = ("the VNC client's first frame shows 0x%06x at the probe,"
                    " not the fill colour 0x%06x" % (value, FILL * 0x010101))
            log("%s: %s" % (log_prefix, note))
            notes.append(note)
        value &= 0xFF
        lat, missed = [], 0
        for _ in range(args.samples):
            # a new value about every 300 ms, at a random phase
            time.sleep(random.uniform(0.15, 0.45))
            value = value % 0xEF + 0x11
            t0 = time.monotonic_ns()
            vm.draw_square(LAT_X, LAT_Y, LAT_SIZE, value)
            t = cl.wait_pixel(value * 0x010101, 5.0)
            if t is None:
                missed += 1
                vm.check_alive("in the latency test")
            else:
                lat.append((t - t0) / 1e6)
        log("%s latency: %s ms" % (log_prefix,
                                   " ".join("%.0f" % x for x in lat)))
        return lat, missed
    finally:
        cl.close()


def percentile(xs, p):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    k = (len(xs) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def bench_one(args, cfg, res, uuid, tmp, do_latency):
    """One QEMU: all windows for cfg at res.  Returns a dict of results."""
    width, height = RESOLUTIONS[res]
    r = {"error": None, "windows": {}}
    t_start = time.monotonic()
    try:
        vm = Qemu(args, cfg, uuid, tmp)
    except BenchError as e:
        log("%s %s: %s" % (cfg.key, res, e))
        r.update(error=str(e), exit=None, stderr=[])
        return r
    r["start_s"] = time.monotonic() - t_start
    try:
        vm.setup_pci()
        vm.set_mode(width, height)
        t = time.monotonic()
        vm.fill(FILL)
        r["fill_s"] = time.monotonic() - t
        name = "%s %s" % (cfg.key, res)

        # No client (VNC listening): static, then changing
        r["windows"]["idle-static"] = measure(vm, args.idle_warmup,
                                              args.idle_window)
        d = BandDrawer(vm)
        try:
            r["windows"]["idle-changing"] = measure(vm, args.idle_warmup,
                                                    args.idle_window)
        finally:
            d.stop()
        r["polls_no_client"] = vm.counter("x-console-polls")
        r["rss_no_client"] = proc_status(vm.pid).get("VmRSS", 0) / 1024.0

        # A client: changing, then static
        cl = VncClient(args, vm, ["--watch", "--quiet-ms", "3600000"])
        try:
            t = time.monotonic()
            cl.expect("ready", 120)
            r["first_frame_s"] = time.monotonic() - t
            d = BandDrawer(vm)
            try:
                r["windows"]["client-changing"] = measure(
                    vm, args.warmup, args.window, cl)
            finally:
                d.stop()
                if args.profile and cfg.key in PROFILE_CONFIGS and \
                        res == args.resolutions[0]:
                    log("%s: profiling the changing window" % name)
                    try:
                        r["profile"] = run_profile(args, vm, tmp)
                    except BenchError as e:
                        r["profile_error"] = str(e)
            r["band_late"] = d.late
            wc = r["windows"]["client-changing"]
            if cl.size != (width, height):
                r["no_picture"] = "the VNC client shows %s, not %dx%d" % (
                    "x".join(map(str, cl.size)) if cl.size else "nothing",
                    width, height)
            elif wc.vnc_mpx == 0:
                r["no_picture"] = ("the VNC client got no update of the "
                                   "changing band")
            r["windows"]["client-static"] = measure(vm, args.warmup,
                                                    args.window, cl)
        finally:
            cl.close()
        st = proc_status(vm.pid)
        r["rss_client"] = st.get("VmRSS", 0) / 1024.0
        r["hwm"] = st.get("VmHWM", 0) / 1024.0

        if do_latency:
            r["notes"] = []
            r["latency"] = run_latency(args, vm, name, r["notes"])
            if cfg.nv:
                # the client is gone: polling must stop
                time.sleep(1.0)
                p0 = vm.counter("x-console-polls")
                time.sleep(args.after_window)
                r["polls_after_disconnect"] = (
                    vm.counter("x-console-polls") - p0, args.after_window)
        vm.check_alive("at the end")
        log("%s done in %.0f s" % (name, time.monotonic() - t_start))
    except BenchError as e:
        r["error"] = str(e)
        log("%s %s: %s" % (cfg.key, res, e))
    finally:
        vm.quit()
    r["exit"] = vm.proc.returncode
    warn = [line for line in vm.stderr_tail(50).splitlines() if line.strip()]
    r["stderr"] = warn
    return r


# ---------------------------------------------------------------------------
# Frames delivered: caps x change rates

RATE_CAPS = (5, 10, 30)
RATE_HZ = (5, 10, 30)
RATE_PROBE_X = 100                      # the pixel the client watches


def rate_configs():
    """upstream (no cap: the reference) and nv-vgpu at each cap."""
    out = [Config("upstream", "upstream vfio-pci", "vfio-pci", "region")]
    for cap in RATE_CAPS:
        out.append(Config("nv-cap%d" % cap, "nv-vgpu cap %d" % cap,
                          "nv-vgpu", "region",
                          None if cap == 10 else cap))
    return out


def rate_window(args, vm, cl, hz):
    """Change the band hz times a second; what the client saw of it."""
    d = BandDrawer(vm, hz)
    try:
        time.sleep(args.rate_warmup)
        while not cl.lines.empty():     # what came before the window
            cl.lines.get()
        a = Sample(vm, cl)
        t_end = time.monotonic() + args.rate_window
        seen, lat = 0, []
        while True:
            left = t_end - time.monotonic()
            if left <= 0:
                break
            try:
                _, line = cl.lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                raise BenchError("VNC client ended: %s" %
                                 " / ".join(cl.err[-3:]))
            w = line.split()
            if len(w) != 3 or w[0] != "pixel":
                continue
            value = int(w[2], 16) & 0xFF
            t_write = d.written.get(value)
            seen += 1
            if t_write is not None:
                lat.append((int(w[1]) - t_write) / 1e6)
        b = Sample(vm, cl, end=True)
    finally:
        d.stop()
    win = Window(a, b, vm)
    return {"fps": seen / win.wall, "lat": lat, "cpu": win.cpu,
            "capped": win.capped, "late": d.late}


def bench_rates(args, cfg, uuid, tmp):
    width, height = RESOLUTIONS["1080p"]
    r = {"error": None, "rates": {}}
    vm = None
    try:
        vm = Qemu(args, cfg, uuid, tmp)
        vm.setup_pci()
        vm.set_mode(width, height)
        vm.fill(FILL)
        cl = VncClient(args, vm, ["--pixel", "%d,%d" % (RATE_PROBE_X,
                                                        BAND_Y + 3)])
        try:
            cl.expect("ready", 120)
            cl.expect("initial", 30)
            for hz in RATE_HZ:
                r["rates"][hz] = rate_window(args, vm, cl, hz)
                x = r["rates"][hz]
                log("%s at %d Hz: %.1f frames/s, median latency %s ms" % (
                    cfg.key, hz, x["fps"],
                    "%.0f" % statistics.median(x["lat"]) if x["lat"]
                    else "-"))
        finally:
            cl.close()
    except BenchError as e:
        r["error"] = str(e)
        log("%s rates: %s" % (cfg.key, e))
    finally:
        if vm:
            vm.quit()
    return r


def report_rates(args, rates):
    P = print
    P()
    P("== 5. Frames/s the VNC client sees of a band changed at 5, 10, 30 Hz "
      "(1080p, window %g s),\n   and the median latency from the write to "
      "the client (ms) ==" % args.rate_window)
    P("   %-24s%s" % ("", "".join(("%d Hz" % hz).rjust(22)
                                   for hz in RATE_HZ)))
    P("   %-24s%s" % ("", "".join("fps  goal  lat  ratio".rjust(22)
                                   for hz in RATE_HZ)))
    up = rates.get("upstream")
    for cfg in rate_configs():
        x = rates.get(cfg.key)
        if not x:
            continue
        cells = []
        cap = int(cfg.key[6:]) if cfg.nv else None
        for hz in RATE_HZ:
            c = x["rates"].get(hz)
            if not c:
                cells.append("-".rjust(22))
                continue
            goal = min(cap, hz) if cap else hz
            med = statistics.median(c["lat"]) if c["lat"] else None
            um = (statistics.median(up["rates"][hz]["lat"])
                  if up and hz in up["rates"] and up["rates"][hz]["lat"]
                  else None)
            rr = ratio(med, um) if cfg.nv else None
            cells.append(("%4.1f %4.0f%% %4s %5s" % (
                c["fps"], 100.0 * c["fps"] / goal,
                "%.0f" % med if med is not None else "-",
                "%.2f" % rr if rr is not None else "-")).rjust(22))
        P("   %-24s%s" % (cfg.label, "".join(cells)))
    P("   (goal: %% of min(cap, change rate) seen; ratio: median latency "
      "over upstream's at that rate)")
    for cfg in rate_configs():
        x = rates.get(cfg.key)
        if x and x["error"]:
            P("   ! %s: %s" % (cfg.label, x["error"]))


# ---------------------------------------------------------------------------
# Report

def fmt(x, spec="%.3f", width=8):
    if x is None:
        s = "-"
    elif isinstance(x, float) and x != x:
        s = "n/a"
    else:
        s = spec % x
    return s.rjust(width)


def ratio(a, b):
    if a is None or b is None:
        return None
    if b <= 0:
        return float("inf") if a > 0 else None
    return a / b


def fmt_ratio(x):
    if x is None:
        return "-".rjust(8)
    if x == float("inf"):
        return "inf".rjust(8)
    return ("%.2fx" % x).rjust(8)


def machine_context(args):
    cpus = os.cpu_count()
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    tcg = "TCG" in model
    try:
        ver = subprocess.run([args.qemu, "--version"], capture_output=True,
                             text=True, timeout=60).stdout.splitlines()[0]
    except (OSError, subprocess.TimeoutExpired, IndexError):
        ver = "?"
    lines = []
    if os.environ.get("VGPU_HOST") == "1":
        lines.append("machine: vgpu test host (kernel %s, %s), %d vCPU%s, "
                     "CPU model '%s'" % (
                         os.uname().release,
                         "TCG" if tcg else os.environ.get("VGPU_HOST_ACCEL",
                                                          "accel ?"),
                         cpus, "" if cpus == 1 else "s", model))
    else:
        lines.append("machine: %d CPUs, '%s', kernel %s (not the vgpu test "
                     "host)" % (cpus, model, os.uname().release))
    hc = os.environ.get("VGPU_BENCH_HOST_CPUS")
    if hc:
        lines.append("outer host: %s cores" % hc)
    lines.append("QEMU: %s (%s)" % (args.qemu, ver))
    if tcg:
        lines.append(
            "NOTE: the test host runs under TCG, so QEMU and the VNC client "
            "run as emulated code,\n      many times slower than on "
            "hardware; absolute CPU times and latencies are inflated.\n"
            "      Compare the ratios between configurations, not the "
            "absolute numbers.")
    if args.draw == "qtest":
        lines.append("NOTE: --draw qtest: the 'guest' draws through QEMU "
                     "(8-byte MMIO dispatch into BAR1),\n      which a real "
                     "guest does not: the no-client 'chg' column is mostly "
                     "that cost.")
    else:
        lines.append("guest: BAR0 mode registers through qtest; pixels "
                     "written straight into QEMU's BAR1 mapping\n"
                     "       (/proc/PID/mem), as a KVM guest's stores "
                     "would land: QEMU's CPU time is console work only.")
    return lines


def report(args, results, wall):
    res_list = args.resolutions
    P = print
    P()
    P("== 1. QEMU CPU seconds per wall second, VNC client attached "
      "(warm-up %g s, window %g s;\n   resolution %.3f s/s) ==" % (
          args.warmup, args.window, 1.0 / CLK_TCK / args.window))
    table_cpu(results, res_list, "client")
    P()
    P("   nv-vgpu console polls/s and 64x64 tiles copied/s (with client):")
    table_counters(results, res_list, "client")
    P()
    P("   QEMU's context switches/s (all threads; mostly main-loop "
      "wake-ups):")
    table_vnc(results, res_list, "switches", "%.0f")
    P()
    P("   VNC pixels sent to the client, Mpx/s:")
    table_vnc(results, res_list, "vnc_mpx", "%.2f")
    P()
    P("   the test host's CPUs busy (QEMU, the VNC client, this script), %:")
    table_vnc(results, res_list, "sys_busy", "%.0f%%", 100)
    P()
    P("   (near 100%%, QEMU competes with the client for the CPU%s:\n"
      "   heavy cases are capped and their ratios understated)" % (
          "" if os.cpu_count() > 1 else " (the test host has one vCPU)"))
    P()
    P("   ratios (CPU s/s of the first over the second):")
    ratios = [
        ("upstream / nv-vgpu region", "upstream", "nv-region"),
        ("upstream / nv-vgpu region fps=30", "upstream", "nv-region-30"),
        ("nv-vgpu region fps=30 / default fps", "nv-region-30",
         "nv-region"),
        ("dmabuf / region (nv-vgpu)", "nv-dmabuf", "nv-region"),
    ]
    table_ratios(results, res_list, ratios, "client")
    P()
    P("   the same net of the no-client baseline (section 2: QEMU idle%s):" %
      (" + the qtest guest's drawing" if args.draw == "qtest" else ""))
    table_ratios(results, res_list, ratios, "client", net=True)

    P()
    P("== 2. No VNC client (VNC listening), window %g s; resolution %.3f "
      "s/s ==" % (args.idle_window, 1.0 / CLK_TCK / args.idle_window))
    table_cpu(results, res_list, "idle")
    P()
    P("   nv-vgpu console polls since QEMU started, no client ever "
      "connected (expected 0):")
    for cfg in CONFIGS:
        if not cfg.nv or not any((cfg.key, r) in results for r in res_list):
            continue
        cells = []
        for r in res_list:
            x = results.get((cfg.key, r))
            cells.append(fmt(x.get("polls_no_client") if x else None, "%d",
                             16))
        P("   %-40s%s" % (cfg.label, "".join(cells)))
    P("   nv-vgpu console polls after the client disconnected:")
    for cfg in CONFIGS:
        x = results.get((cfg.key, res_list[0]))
        if cfg.nv and x and "polls_after_disconnect" in x:
            n, s = x["polls_after_disconnect"]
            P("   %-40s%d in %g s (from 1 s after it left)" %
              (cfg.label, n, s))
    P()
    P("   ratios with no client:")
    table_ratios(results, res_list, ratios[:2] + ratios[3:], "idle")

    P()
    P("== 3. Latency, framebuffer write -> VNC client sees the pixel "
      "(%s, %d x %dx%d writes ~300 ms apart) ==" % (
          res_list[0], args.samples, LAT_SIZE, LAT_SIZE))
    P("   %-40s%8s%8s%8s%8s%8s" % ("", "median", "p90", "min", "max",
                                    "missed"))
    meds = {}
    for cfg in CONFIGS:
        x = results.get((cfg.key, res_list[0]))
        if not x or "latency" not in x:
            continue
        lat, missed = x["latency"]
        meds[cfg.key] = statistics.median(lat) if lat else None
        P("   %-40s%s%s%s%s%s" % (
            cfg.label + " (ms)",
            fmt(statistics.median(lat) if lat else None, "%.0f"),
            fmt(percentile(lat, 90) if lat else None, "%.0f"),
            fmt(min(lat) if lat else None, "%.0f"),
            fmt(max(lat) if lat else None, "%.0f"),
            fmt(missed, "%d")))
    if meds.get("upstream") and (meds.get("nv-region") or
                                 meds.get("nv-region-30")):
        P("   median ratios: nv-vgpu/upstream %s, nv-vgpu fps=30/upstream %s"
          % (fmt_ratio(ratio(meds.get("nv-region"),
                             meds.get("upstream"))).strip(),
             fmt_ratio(ratio(meds.get("nv-region-30"),
                             meds.get("upstream"))).strip()))

    P()
    P("== 4. QEMU RSS, MiB (VmRSS; no client / with client; peak VmHWM) ==")
    P("   %-40s%s" % ("", "".join(("%s" % r).rjust(24) for r in res_list)))
    for cfg in CONFIGS:
        if not any((cfg.key, r) in results for r in res_list):
            continue
        cells = []
        for r in res_list:
            x = results.get((cfg.key, r))
            if not x or "rss_client" not in x:
                cells.append("-".rjust(24))
            else:
                cells.append(("%.0f / %.0f; %.0f" % (
                    x["rss_no_client"], x["rss_client"], x["hwm"])).rjust(24))
        P("   %-40s%s" % (cfg.label, "".join(cells)))

    report_profile(args, results)

    P()
    P("== Notes and problems ==")
    problems = 0
    for cfg in CONFIGS:
        for r in res_list:
            why = invalid(results, cfg, r)
            if why:
                problems += 1
                P("   ! %s %s: not a valid measurement: %s" % (
                    cfg.label, r, why))
    for cfg in CONFIGS:
        for r in res_list:
            x = results.get((cfg.key, r))
            if not x:
                continue
            if x["error"]:
                problems += 1
                P("   %s %s: %s" % (cfg.label, r, x["error"]))
            if x.get("exit") not in (0, None):
                problems += 1
                P("   %s %s: QEMU exit status %s" % (cfg.label, r,
                                                     x["exit"]))
            for n in x.get("notes", []):
                problems += 1
                P("   %s %s: %s" % (cfg.label, r, n))
            if x.get("band_late"):
                P("   %s %s: the band drawer fell behind %d times" % (
                    cfg.label, r, x["band_late"]))
    seen = {}
    for x in results.values():
        for w in x["stderr"]:
            # the same warning from each QEMU: once, with a count
            w = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
                       r"[0-9a-f]{12}", "UUID", w)
            seen[w] = seen.get(w, 0) + 1
    for w, n in seen.items():
        P("   QEMU stderr (%d of %d runs): %s" % (n, len(results), w))
    if not problems:
        P("   every QEMU started, ran and quit cleanly%s" % (
            "" if seen else ", nothing on stderr"))


VNC_SEND_PARTS = ("vnc-encode", "vnc-send")


def net_of_vnc_send(x):
    """CPU s/s of the changing window with a client, less the share the
    profile gives VNC's encoder and send path; None without a profile."""
    w = x["windows"].get("client-changing") if x else None
    if not w or not x.get("profile"):
        return None
    parts = x["profile"]["parts"]
    return w.cpu * (1.0 - sum(parts.get(k, 0.0) for k in VNC_SEND_PARTS))


def report_profile(args, results):
    r0 = args.resolutions[0]
    rows = [(c, results.get((c.key, r0))) for c in CONFIGS
            if c.key in PROFILE_CONFIGS and (c.key, r0) in results]
    if not any(x and (x.get("profile") or x.get("profile_error"))
               for _, x in rows):
        return
    P = print
    P()
    P("== 6. Where QEMU's CPU goes: perf, cpu-clock at %d Hz, DWARF call "
      "graphs,\n   %s, client, changing band, a %g s window after the "
      "measured one ==" % (args.profile_hz, r0, args.window))
    P("   parts (each sample to the first part its stack meets, leaf "
      "first):")
    P("     console      the display device: poll, compare, copy "
      "(scanout_shadow_*, vgpu_display_*, vfio_display_*)")
    P("     vnc-compare  VNC's own compare of the surface with its copy "
      "(vnc_refresh_server_surface)")
    P("     vnc-send     VNC's update, output buffers and socket writes "
      "(called from other vnc_*)")
    P("     vnc-encode   the VNC worker thread (the encoder)")
    P("     other        main loop, timers, qtest, QMP, kernel entry")
    names = ["console", "vnc-compare", "vnc-send", "vnc-encode",
             PROFILE_OTHER]
    P("   %-40s%s%10s" % ("", "".join(n.rjust(12) for n in names),
                          "samples"))
    for cfg, x in rows:
        if x.get("profile_error"):
            P("   %-40s%s" % (cfg.label, x["profile_error"]))
            continue
        pr = x["profile"]
        P("   %-40s%s%10d" % (cfg.label, "".join(
            ("%.0f%%" % (100 * pr["parts"].get(n, 0.0))).rjust(12)
            for n in names), pr["total"]))
    for cfg, x in rows:
        if x.get("profile"):
            P("   top leaf symbols, %s:" % cfg.label)
            for share, sym in x["profile"]["leaves"]:
                P("     %5.1f%%  %s" % (100 * share, sym))
    up = net_of_vnc_send(results.get(("upstream", r0)))
    nv = net_of_vnc_send(results.get(("nv-region", r0)))
    P("   CPU s/s net of vnc-send and vnc-encode: upstream %s, nv-vgpu %s, "
      "ratio %s" % (fmt(up).strip(), fmt(nv).strip(),
                    fmt_ratio(ratio(nv, up)).strip()))


def cell_window(results, cfg, r, phase, scen):
    x = results.get((cfg.key, r)) if cfg else None
    if not x:
        return None
    return x["windows"].get("%s-%s" % (phase, scen))


def invalid(results, cfg, r):
    """Why the numbers of cfg at r do not count, or None."""
    x = results.get((cfg.key, r)) if cfg else None
    return x.get("no_picture") if x else None


def mark(cell, bad):
    return (cell.strip() + ("!" if bad else "")).rjust(len(cell))


def header(res_list, w=12):
    cols = []
    for r in res_list:
        cols += ["%s static" % r, "%s chg" % r]
    return "   %-40s%s" % ("", "".join(c.rjust(w + 2) for c in cols))


def table_cpu(results, res_list, phase):
    print(header(res_list))
    for cfg in CONFIGS:
        if not any((cfg.key, r) in results for r in res_list):
            continue
        cells = []
        for r in res_list:
            for scen in ("static", "changing"):
                w = cell_window(results, cfg, r, phase, scen)
                cells.append(mark(fmt(w.cpu if w else None, "%.3f", 14),
                                  w and invalid(results, cfg, r)))
        print("   %-40s%s" % (cfg.label, "".join(cells)))


def table_counters(results, res_list, phase):
    print(header(res_list))
    for cfg in CONFIGS:
        if not cfg.nv or not any((cfg.key, r) in results for r in res_list):
            continue
        cells = []
        for r in res_list:
            for scen in ("static", "changing"):
                w = cell_window(results, cfg, r, phase, scen)
                cells.append(("-" if not w else "%.1f / %.0f" % (
                    w.polls, w.tiles)).rjust(14))
        print("   %-40s%s" % (cfg.label, "".join(cells)))


def table_vnc(results, res_list, attr, spec, scale=1):
    print(header(res_list))
    for cfg in CONFIGS:
        if not any((cfg.key, r) in results for r in res_list):
            continue
        cells = []
        for r in res_list:
            for scen in ("static", "changing"):
                w = cell_window(results, cfg, r, "client", scen)
                cells.append(mark(fmt(getattr(w, attr) * scale if w else None,
                                      spec, 14),
                                  w and invalid(results, cfg, r)))
        print("   %-40s%s" % (cfg.label, "".join(cells)))


def table_ratios(results, res_list, ratios, phase, net=False):
    print(header(res_list))
    for label, a, b in ratios:
        ca = next((c for c in CONFIGS if c.key == a), None)
        cb = next((c for c in CONFIGS if c.key == b), None)
        if not any((a, r) in results and (b, r) in results
                   for r in res_list):
            continue
        cells = []
        for r in res_list:
            for scen in ("static", "changing"):
                wa = cell_window(results, ca, r, phase, scen)
                wb = cell_window(results, cb, r, phase, scen)
                va = wa.cpu if wa else None
                vb = wb.cpu if wb else None
                if invalid(results, ca, r) or invalid(results, cb, r):
                    cells.append("n/a!".rjust(14))
                    continue
                if net and va is not None and vb is not None:
                    ia = cell_window(results, ca, r, "idle", scen)
                    ib = cell_window(results, cb, r, "idle", scen)
                    if ia and ib:
                        va, vb = max(va - ia.cpu, 0.0), max(vb - ib.cpu, 0.0)
                    else:
                        va = vb = None
                cells.append(fmt_ratio(ratio(va, vb)).rjust(14))
        print("   %-40s%s" % (label, "".join(cells)))


def summary(args, results, rates):
    """A short table to paste (README, issue notes)."""
    rows = []

    def cpu(key, res, phase, scen):
        x = results.get((key, res))
        w = x["windows"].get("%s-%s" % (phase, scen)) if x else None
        return w.cpu if w and not x.get("no_picture") else None

    def add(name, up, nv, goal):
        r = ratio(nv, up)
        spec = "%.0f" if name.startswith("latency") else "%.3f"
        rows.append((name, fmt(up, spec, 9).strip(),
                     fmt(nv, spec, 9).strip(),
                     "-" if r is None else "%.2f" % r, goal))

    for res in args.resolutions:
        add("CPU s/s, client, changing, %s" % res,
            cpu("upstream", res, "client", "changing"),
            cpu("nv-region", res, "client", "changing"), "<= 0.35")
    r0 = args.resolutions[0]
    if any(results.get((k, r0), {}).get("profile")
           for k in PROFILE_CONFIGS):
        add("CPU s/s, client, changing, %s, net of VNC send (perf)" % r0,
            net_of_vnc_send(results.get(("upstream", r0))),
            net_of_vnc_send(results.get(("nv-region", r0))), "<= 0.35")
    for res in args.resolutions:
        add("CPU s/s, client, static, %s" % res,
            cpu("upstream", res, "client", "static"),
            cpu("nv-region", res, "client", "static"), "<= 1")
    for res in args.resolutions:
        add("CPU s/s, no client, static, %s" % res,
            cpu("upstream", res, "idle", "static"),
            cpu("nv-region", res, "idle", "static"), "<= 1")
    r0 = args.resolutions[0]
    lat = {}
    for key in ("upstream", "nv-region"):
        x = results.get((key, r0))
        if x and x.get("latency") and x["latency"][0]:
            lat[key] = statistics.median(x["latency"][0])
    if lat:
        add("latency median ms, %s, writes 300 ms apart" % r0,
            lat.get("upstream"), lat.get("nv-region"), "<= 1")
    up = rates.get("upstream")
    for cap in RATE_CAPS:
        x = rates.get("nv-cap%d" % cap)
        if not x:
            continue
        for hz in RATE_HZ:
            c = x["rates"].get(hz)
            u = up["rates"].get(hz) if up else None
            if not c:
                continue
            goal = min(cap, hz)
            um = statistics.median(u["lat"]) if u and u["lat"] else None
            nm = statistics.median(c["lat"]) if c["lat"] else None
            rows.append(("cap %d, %d Hz: frames/s (%% of %d); latency ms" %
                         (cap, hz, goal),
                         "%.1f; %s" % (u["fps"], "%.0f" % um if um else "-")
                         if u else "-",
                         "%.1f (%.0f%%); %s" % (c["fps"],
                                                100.0 * c["fps"] / goal,
                                                "%.0f" % nm if nm else "-"),
                         "-" if not (um and nm) else "%.2f" % (nm / um),
                         ">= 90%; <= 1"))
    print()
    print("== Summary (nv-vgpu region, default settings unless a cap is "
          "named; ratio = nv-vgpu / upstream) ==")
    print()
    w = [max(len(r[i]) for r in rows + [("what", "upstream", "nv-vgpu",
                                         "ratio", "goal")])
         for i in range(5)]
    for r in [("what", "upstream", "nv-vgpu", "ratio", "goal")] + rows:
        print("| " + " | ".join(c.ljust(w[i]) for i, c in enumerate(r)) +
              " |")
        if r[0] == "what":
            print("|" + "|".join("-" * (w[i] + 2) for i in range(5)) + "|")


# ---------------------------------------------------------------------------

def parse_args():
    p = argparse.ArgumentParser(
        description="Benchmark nv-vgpu's console against upstream "
        "vfio-pci,display=on. Run it in the test host: "
        "tests/vgpu-host/run /usr/bin/python3 bench/console-bench.py")
    p.add_argument("--qemu", default=os.path.join(
        REPO, "build/qemu-build/qemu-system-x86_64"),
        help="QEMU binary (default: %(default)s)")
    p.add_argument("-L", "--data-dir", dest="data_dir", default=os.path.join(
        REPO, "build/qemu-build/qemu-bundle/usr/local/share/qemu"),
        help="QEMU's -L (default: %(default)s)")
    p.add_argument("--vnc-client", default=os.path.join(
        REPO, "build/vnc/vgpu-vnc-client"),
        help="the VNC client (default: %(default)s)")
    p.add_argument("--quick", action="store_true",
                   help="smoke run: short windows, 1080p only, 6 latency "
                   "samples")
    p.add_argument("--warmup", type=float, help="seconds before a window "
                   "with a client (default 2, quick 1)")
    p.add_argument("--window", type=float, help="measured seconds with a "
                   "client (default 6, quick 3)")
    p.add_argument("--idle-warmup", type=float, help="seconds before a "
                   "window without a client (default 1, quick 0.5)")
    p.add_argument("--idle-window", type=float, help="measured seconds "
                   "without a client (default 3, quick 2)")
    p.add_argument("--after-window", type=float, help="seconds to watch "
                   "for polls after the client left (default 2)")
    p.add_argument("--samples", type=int, help="latency samples per "
                   "configuration (default 15, quick 6)")
    p.add_argument("--resolutions", help="comma-separated, of %s "
                   "(default: all; quick: 1080p)" % ",".join(RESOLUTIONS))
    p.add_argument("--configs", help="comma-separated, of %s (default: all)"
                   % ",".join(c.key for c in CONFIGS))
    p.add_argument("--draw", choices=("procmem", "qtest"), default="procmem",
                   help="how the guest writes the framebuffer: straight "
                   "into QEMU's BAR1 mapping through /proc/PID/mem, as KVM "
                   "guest stores would (default), or with qtest memset, "
                   "which QEMU executes (and is charged for)")
    p.add_argument("--rate-warmup", type=float, help="seconds of changes "
                   "before each frames/s window (default 1, quick 0.5)")
    p.add_argument("--rate-window", type=float, help="seconds of each "
                   "frames/s window (default 4, quick 2)")
    p.add_argument("--sections", default="main,rates",
                   help="main (sections 1-4), rates (section 5), or both "
                   "(default: %(default)s)")
    p.add_argument("--profile", action="store_true",
                   help="after the changing window with a client (first "
                   "resolution), record a call-graph profile of upstream's "
                   "and nv-vgpu's QEMU with perf for another window: where "
                   "the CPU goes, and the CPU ratio net of VNC's encoder "
                   "and send path")
    p.add_argument("--perf", default="perf", help="perf binary "
                   "(default: %(default)s)")
    p.add_argument("--profile-keep", metavar="DIR",
                   help="keep the perf data files in DIR (perf-CONFIG.data)")
    p.add_argument("--profile-hz", type=int, default=1000,
                   help="perf sampling rate (default: %(default)s)")
    p.add_argument("--seed", type=int, default=None,
                   help="random seed for the latency phases")
    a = p.parse_args()
    q = a.quick
    for name, full, quick in (("warmup", 2.0, 1.0), ("window", 6.0, 3.0),
                              ("idle_warmup", 1.0, 0.5),
                              ("idle_window", 3.0, 2.0),
                              ("after_window", 2.0, 2.0),
                              ("samples", 15, 6),
                              ("rate_warmup", 1.0, 0.5),
                              ("rate_window", 4.0, 2.0)):
        if getattr(a, name) is None:
            setattr(a, name, quick if q else full)
    if a.resolutions:
        a.resolutions = a.resolutions.split(",")
    else:
        a.resolutions = ["1080p"] if q else list(RESOLUTIONS)
    for r in a.resolutions:
        if r not in RESOLUTIONS:
            p.error("unknown resolution %s" % r)
    keys = [c.key for c in CONFIGS]
    a.configs = a.configs.split(",") if a.configs else keys
    for c in a.configs:
        if c not in keys:
            p.error("unknown configuration %s" % c)
    return a


def main():
    args = parse_args()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)
    atexit.register(cleanup)
    random.seed(args.seed)

    if not os.path.isdir(MDEV_BUS):
        print("console-bench: no nvsim vGPU parent (%s): run it in the test "
              "host:\n  tests/vgpu-host/run /usr/bin/python3 "
              "bench/console-bench.py" % MDEV_BUS, file=sys.stderr)
        return 2
    for path, what in ((args.qemu, "QEMU"), (args.vnc_client,
                                              "VNC client")):
        if not os.access(path, os.X_OK):
            print("console-bench: no %s at %s" % (what, path),
                  file=sys.stderr)
            return 2
    avail = int(open("%s/mdev_supported_types/%s/available_instances" %
                     (MDEV_BUS, MDEV_TYPE)).read())
    if avail < 2:
        print("console-bench: need 2 free %s vGPUs, nvsim has %d" %
              (MDEV_TYPE, avail), file=sys.stderr)
        return 2

    t0 = time.monotonic()
    print("console-bench: nv-vgpu console vs upstream vfio-pci display=on")
    for line in machine_context(args):
        print(line)
    print("workload: XR24 scanout filled with one colour; 'static' = no "
          "change, 'chg' = a 64-line band\n          (one tile row) rewritten "
          "%d times/s with a new value; VNC client: vgpu-vnc-client,\n"
          "          raw encoding, always one incremental update request "
          "outstanding" % BAND_HZ)
    sys.stdout.flush()

    tmp = tempfile.mkdtemp(prefix="console-bench-")
    atexit.register(shutil.rmtree, tmp, True)
    vgpus = {"region": mdev_create_plane("region"),
             "dmabuf": mdev_create_plane("dmabuf")}
    results = {}
    rates = {}
    sections = args.sections.split(",")
    try:
        for cfg in CONFIGS:
            if cfg.key not in args.configs or "main" not in sections:
                continue
            for i, res in enumerate(args.resolutions):
                log("%s at %s" % (cfg.key, res))
                results[(cfg.key, res)] = bench_one(
                    args, cfg, res, vgpus[cfg.plane], tmp,
                    i == 0 and cfg.key in LATENCY_CONFIGS)
        if "rates" in sections:
            for cfg in rate_configs():
                log("%s: frames/s at %s Hz" % (
                    cfg.key, ", ".join(map(str, RATE_HZ))))
                rates[cfg.key] = bench_rates(args, cfg, vgpus["region"], tmp)
    finally:
        cleanup()
    if results:
        report(args, results, time.monotonic() - t0)
    if rates:
        report_rates(args, rates)
    summary(args, results, rates)
    print()
    print("total wall time: %.0f s" % (time.monotonic() - t0))
    # numbers only, no verdicts; but say when a configuration could not run
    return 1 if any(x["error"] for x in list(results.values()) +
                    list(rates.values())) else 0


if __name__ == "__main__":
    sys.exit(main())
