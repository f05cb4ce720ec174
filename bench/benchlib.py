# SPDX-License-Identifier: GPL-2.0-or-later
"""What the benchmarks share: progress lines, mdevs on nvsim, and the
cleanup of every QEMU, client and mdev they started, however they exit."""
import os
import subprocess
import sys
import threading
import time
import uuid as uuidlib

MDEV_BUS = "/sys/class/mdev_bus/nvsim"
MDEV_DEVICES = "/sys/bus/mdev/devices"

PROG = os.path.basename(sys.argv[0]).rsplit(".", 1)[0]

procs = []              # Popen objects we started
mdevs = []              # mdev UUIDs we created
_cleaned = False


class BenchError(Exception):
    pass


def log(msg):
    """Progress, on stderr, so that stdout holds only the report."""
    print("%s: %s" % (PROG, msg), file=sys.stderr, flush=True)


def stop_proc(p, grace=5.0):
    if p.poll() is not None:
        return
    try:
        p.terminate()
        p.wait(grace)
    except subprocess.TimeoutExpired:
        p.kill()
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            pass
    except OSError:
        pass


def cleanup():
    global _cleaned
    if _cleaned:
        return
    _cleaned = True
    for p in list(procs):
        stop_proc(p)
    for u in list(mdevs):
        mdev_remove(u)


def on_signal(signum, frame):
    raise SystemExit(128 + signum)


def sysfs_write(path, value):
    with open(path, "w") as f:
        f.write(value)


def mdev_create(mtype, parent=MDEV_BUS, plane=None):
    """An mdev of type @mtype on @parent, showing @plane planes if given."""
    u = str(uuidlib.uuid4())
    try:
        sysfs_write("%s/mdev_supported_types/%s/create" % (parent, mtype), u)
    except OSError as e:
        raise BenchError("cannot create a %s mdev: %s" % (mtype, e))
    mdevs.append(u)
    if plane:
        sysfs_write("%s/%s/nvsim/plane" % (MDEV_DEVICES, u), plane)
    return u


def mdev_remove(u):
    path = "%s/%s" % (MDEV_DEVICES, u)
    if not os.path.exists(path):
        if u in mdevs:
            mdevs.remove(u)
        return

    # remove blocks while the device is open: do not hang on it forever
    def rm():
        try:
            sysfs_write(path + "/remove", "1")
        except OSError as e:
            log("removing mdev %s: %s" % (u, e))
    t = threading.Thread(target=rm, daemon=True)
    t.start()
    t.join(20)
    for _ in range(200):
        if not os.path.exists(path):
            break
        time.sleep(0.05)
    if os.path.exists(path):
        log("mdev %s is still there" % u)
    elif u in mdevs:
        mdevs.remove(u)
