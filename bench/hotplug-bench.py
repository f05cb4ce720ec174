#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Hot-plug benchmark: how long a vGPU hot-plug stalls a running VM.

Runs inside the test host (tests/vgpu-host/run), where the nvsim driver
provides vGPU mdevs:

    tests/vgpu-host/run /usr/bin/python3 bench/hotplug-bench.py [--quick]

The VM is q35 under TCG with native PCIe hot-plug on a pcie-root-port.
Its only code is a 16-byte loop at the reset vector that writes a byte to
an isa-debugcon port (each write needs the BQL) and spins a little, so
the gaps between the bytes arriving on the debugcon socket are the vCPU's
stalls.  A second QMP client sends query-status in a loop: the gaps
between its replies are the monitor's stalls.  Each configuration plugs
and unplugs a GRID P4-1Q (nvsim-63) vGPU --rounds times through the first
QMP client (device_add, device_del and DEVICE_DELETED), display=off:

  vfio-pci          upstream vfio-pci,sysfsdev= of an existing mdev
  nv-sysfsdev       nv-vgpu,sysfsdev= of the same kind of mdev
  nv-create         nv-vgpu,parent=nvsim,mdev-type=nvsim-63: QEMU creates
                    and removes the vGPU (the creation without the BQL)
  nv-create-bql     the same with x-create-with-bql=on (the lock held, as
                    before)
  nv-prepared       vgpu-create, then VGPU_CREATED, then device_add with
                    its uuid: the vGPU is made in a thread of its own, and
                    the times count from vgpu-create to device_add's reply

The creating ones run once with nvsim's create taking no time and
once with create_delay_ms (default 300) standing in for a real vGPU
manager's create.  The report gives, per configuration, the device_add
and device_del times and the longest monitor and vCPU stalls during them
(medians over the rounds), with ratios to vfio-pci.  It asserts nothing;
the exit status is 1 only when a configuration could not be run.
"""

import argparse
import json
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
import signal
import subprocess

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "build/qemu/python"))
from qemu.qmp.legacy import QEMUMonitorProtocol  # noqa: E402

from benchlib import (MDEV_DEVICES, BenchError, cleanup, log, mdev_create,
                      mdev_remove, on_signal, procs, stop_proc)

TYPE = "nvsim-63"
DELAY_PARAM = "/sys/module/nvsim/parameters/create_delay_ms"

# F000:FFF0: mov al,'.'; mov dx,0x402; l: out dx,al; mov cx,0x1000;
# loop $; pause; jmp l.  The pause makes TCG leave its execution loop, as
# a real guest's interrupts do: a vCPU that never leaves it holds up RCU,
# and with it every unplug's DEVICE_DELETED.
RESET_CODE = bytes([0xB0, 0x2E, 0xBA, 0x02, 0x04, 0xEE, 0xB9, 0x00, 0x10,
                    0xE2, 0xFE, 0xF3, 0x90, 0xEB, 0xF6])


def write_bios(path):
    img = bytearray(b"\xf4" * 65536)        # hlt everywhere else
    img[0xFFF0:0xFFF0 + len(RESET_CODE)] = RESET_CODE
    with open(path, "wb") as f:
        f.write(img)


class Gaps:
    """Arrival times of something that should keep arriving."""

    def __init__(self):
        self.times = []
        self.lock = threading.Lock()
        self.stop = False

    def mark(self):
        with self.lock:
            self.times.append(time.monotonic())

    def longest(self, t0, t1):
        """Longest gap between arrivals that overlaps [t0, t1], in ms."""
        with self.lock:
            ts = list(self.times)
        best = 0.0
        for a, b in zip(ts, ts[1:]):
            if b >= t0 and a <= t1:
                best = max(best, b - a)
        return best * 1000


class RawQmp:
    """A QMP client of its own for the pinging thread (the python QMP
    library's synchronous wrapper shares one event loop per thread)."""

    def __init__(self, path):
        deadline = time.monotonic() + 60
        while not os.path.exists(path):
            if time.monotonic() > deadline:
                raise BenchError("no QMP socket after 60 s")
            time.sleep(0.02)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.sock.settimeout(120)
        self.f = self.sock.makefile("rw", buffering=1)
        self.f.readline()                   # the greeting
        self.cmd("qmp_capabilities")

    def cmd(self, name):
        self.f.write(json.dumps({"execute": name}) + "\n")
        self.f.flush()
        while True:
            line = self.f.readline()
            if not line:
                raise BenchError("QMP connection closed")
            msg = json.loads(line)
            if "return" in msg or "error" in msg:
                return msg

    def close(self):
        self.sock.close()


class Vm:
    def __init__(self, args, tmp):
        self.dir = tempfile.mkdtemp(prefix="hotplug-", dir=tmp)
        self.bios = os.path.join(self.dir, "loop.bin")
        write_bios(self.bios)
        self.qmp_path = os.path.join(self.dir, "qmp.sock")
        self.ping_path = os.path.join(self.dir, "ping.sock")
        self.con_path = os.path.join(self.dir, "debugcon.sock")
        self.errlog = os.path.join(self.dir, "stderr")
        cmd = [args.qemu, "-L", args.data_dir, "-machine", "q35",
               "-accel", "tcg", "-m", "128", "-nodefaults",
               "-display", "none", "-bios", self.bios,
               "-global", "ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off",
               "-device", "pcie-root-port,id=rp0,bus=pcie.0,chassis=1",
               "-chardev", "socket,id=dc,path=%s,server=on,wait=on" %
               self.con_path,
               "-device", "isa-debugcon,iobase=0x402,chardev=dc",
               "-qmp", "unix:%s,server=on,wait=off" % self.qmp_path,
               "-qmp", "unix:%s,server=on,wait=off" % self.ping_path]
        with open(self.errlog, "w") as err:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL,
                                         stderr=err)
        procs.append(self.proc)
        self.vcpu = Gaps()
        self.mon = Gaps()
        self.con = self._connect_con()
        self.qmp = self._qmp(self.qmp_path)
        self.ping = RawQmp(self.ping_path)
        self.threads = [threading.Thread(target=self._read_con, daemon=True),
                        threading.Thread(target=self._ping, daemon=True)]
        for t in self.threads:
            t.start()

    def _connect_con(self):
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise BenchError("QEMU exited: %s" % self.stderr())
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(self.con_path)
                return s
            except OSError:
                if time.monotonic() > deadline:
                    raise BenchError("no debugcon socket after 60 s")
                time.sleep(0.05)

    def _qmp(self, path):
        deadline = time.monotonic() + 60
        while not os.path.exists(path):
            if time.monotonic() > deadline:
                raise BenchError("no QMP socket after 60 s")
            time.sleep(0.02)
        q = QEMUMonitorProtocol(path)
        q.connect()
        q.settimeout(120)
        return q

    def stderr(self):
        with open(self.errlog) as f:
            return f.read().strip()

    def _read_con(self):
        while not self.vcpu.stop:
            try:
                if not self.con.recv(65536):
                    return
            except OSError:
                return
            self.vcpu.mark()

    def _ping(self):
        while not self.mon.stop:
            try:
                self.ping.cmd("query-status")
            except Exception:
                return
            self.mon.mark()

    def cmd(self, name, **kw):
        r = self.qmp.cmd_raw(name, kw) if kw else self.qmp.cmd_raw(name)
        if "error" in r:
            raise BenchError("%s: %s" % (name, r["error"]["desc"]))
        return r

    def wait_event(self, name, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ev = self.qmp.pull_event(wait=max(0.1, deadline -
                                              time.monotonic()))
            if ev and ev["event"] == name:
                return ev
        raise BenchError("no %s in %d s" % (name, timeout))

    def quit(self):
        self.vcpu.stop = self.mon.stop = True
        try:
            self.qmp.cmd("quit")
        except Exception:
            pass
        for c in (self.qmp, self.ping):
            try:
                c.close()
            except Exception:
                pass
        self.con.close()
        stop_proc(self.proc)


def set_delay(ms):
    with open(DELAY_PARAM, "w") as f:
        f.write(str(ms))


def run_config(args, vm, key, delay):
    adds, dels, mon_add, cpu_add, mon_del, cpu_del = [], [], [], [], [], []
    for r in range(args.rounds):
        mdev = None
        dev = {"driver": "nv-vgpu", "id": "hp%d" % r, "bus": "rp0",
               "display": "off"}
        if key in ("vfio-pci", "nv-sysfsdev"):
            mdev = mdev_create(TYPE)
            dev["sysfsdev"] = "%s/%s" % (MDEV_DEVICES, mdev)
            if key == "vfio-pci":
                dev["driver"] = "vfio-pci"
        else:
            dev.update({"parent": "nvsim", "mdev-type": TYPE})
            if key == "nv-create-bql":
                dev["x-create-with-bql"] = True
        set_delay(delay)
        t0 = time.monotonic()
        if key == "nv-prepared":
            r = vm.cmd("vgpu-create", parent="nvsim", **{"mdev-type": TYPE})
            dev["uuid"] = r["return"]["uuid"]
            ev = vm.wait_event("VGPU_CREATED")
            if "error" in ev["data"]:
                raise BenchError("vgpu-create: %s" % ev["data"]["error"])
        vm.cmd("device_add", **dev)
        t1 = time.monotonic()
        time.sleep(0.3)                 # let the pings and bytes land
        t2 = time.monotonic()
        vm.cmd("device_del", id=dev["id"])
        vm.wait_event("DEVICE_DELETED")
        t3 = time.monotonic()
        set_delay(0)
        time.sleep(0.3)
        adds.append((t1 - t0) * 1000)
        dels.append((t3 - t2) * 1000)
        mon_add.append(vm.mon.longest(t0, t1))
        cpu_add.append(vm.vcpu.longest(t0, t1))
        mon_del.append(vm.mon.longest(t2, t3))
        cpu_del.append(vm.vcpu.longest(t2, t3))
        if mdev:
            mdev_remove(mdev)
    # medians over the rounds: single rounds in a shared TCG host are noisy
    med = statistics.median
    return {"add": med(adds), "del": med(dels), "mon_add": med(mon_add),
            "cpu_add": med(cpu_add), "mon_del": med(mon_del),
            "cpu_del": med(cpu_del), "cpu_add_max": max(cpu_add)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--qemu", default=os.path.join(
        REPO, "build/qemu-build/qemu-system-x86_64"))
    ap.add_argument("-L", dest="data_dir", default=os.path.join(
        REPO, "build/qemu-build/qemu-bundle/usr/local/share/qemu"))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--delay-ms", type=int, default=300,
                    help="nvsim's create_delay_ms for the slow-create runs")
    ap.add_argument("--quick", action="store_true", help="2 rounds")
    args = ap.parse_args()
    if args.quick:
        args.rounds = 2
    signal.signal(signal.SIGTERM, on_signal)
    if not os.path.exists(DELAY_PARAM):
        print("hotplug-bench: needs nvsim with create_delay_ms (make nvsim)",
              file=sys.stderr)
        return 1

    cases = [("vfio-pci", 0), ("nv-sysfsdev", 0), ("nv-create", 0),
             ("nv-create-bql", 0), ("nv-prepared", 0),
             ("nv-create", args.delay_ms), ("nv-create-bql", args.delay_ms),
             ("nv-prepared", args.delay_ms)]
    results = {}
    failed = False
    tmp = tempfile.mkdtemp(prefix="hotplug-bench-")
    vm = None
    try:
        vm = Vm(args, tmp)
        # one unmeasured round first: the first plug pays for cold caches
        run_config(argparse.Namespace(rounds=1), vm, "vfio-pci", 0)
        time.sleep(1.0)
        idle_cpu = vm.vcpu.longest(time.monotonic() - 0.8, time.monotonic())
        idle_mon = vm.mon.longest(time.monotonic() - 0.8, time.monotonic())
        for key, delay in cases:
            log("%s, create %d ms: %d rounds" % (key, delay, args.rounds))
            try:
                results[(key, delay)] = run_config(args, vm, key, delay)
            except BenchError as e:
                log("%s failed: %s" % (key, e))
                failed = True
    finally:
        if vm:
            vm.quit()
        set_delay(0)
        cleanup()

    base = results.get(("vfio-pci", 0))
    print("hot-plug of a GRID P4-1Q (nvsim-63), q35 pcie-root-port, TCG, "
          "%d rounds; idle stalls: vCPU %.1f ms, monitor %.1f ms" %
          (args.rounds, idle_cpu, idle_mon))
    print("medians over the rounds; max: the longest vCPU stall of any plug")
    print("%-14s %6s  %9s %9s %9s %7s  %9s %9s %9s  %s" %
          ("config", "create", "add ms", "mon stall", "vCPU stall", "max",
           "del ms", "mon stall", "vCPU stall", "ratios to vfio-pci "
           "(add, add mon stall, add vCPU stall)"))
    for key, delay in cases:
        r = results.get((key, delay))
        if not r:
            print("%-14s %6d  failed" % (key, delay))
            continue
        ratio = ""
        if base:
            ratio = "%.2f, %.2f, %.2f" % (
                r["add"] / max(base["add"], 0.001),
                r["mon_add"] / max(base["mon_add"], 0.001),
                r["cpu_add"] / max(base["cpu_add"], 0.001))
        print("%-14s %4dms  %9.1f %9.1f %9.1f %7.1f  %9.1f %9.1f %9.1f  %s" %
              (key, delay, r["add"], r["mon_add"], r["cpu_add"],
               r["cpu_add_max"], r["del"], r["mon_del"], r["cpu_del"],
               ratio))
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as e:
        log(str(e))
        cleanup()
        sys.exit(1)
