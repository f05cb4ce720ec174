#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# vgpu-lifecycle-test.py QEMU REAP: a vGPU that QEMU creates never leaks,
# however QEMU is stopped, and a UUID is never taken while its removal is
# pending.  Runs in the test host (tests/vgpu-host/run) as root, where
# nvsim is loaded, because it needs process groups and signals, which
# libqtest does not give: QEMU runs in a session of its own, as under a
# shell, libvirt or systemd, and the test counts mdevs after each case.
#
# Each QEMU is stopped where the test wants it with nv-vgpu's x-stop-at
# (SIGSTOP at a named step) and the test waits for that state, so no case
# depends on timing.  Prints TAP and "lifecycle: N passed, N failed".

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

QEMU = sys.argv[1] if len(sys.argv) > 1 else 'build/qemu-build/qemu-system-x86_64'
REAP = sys.argv[2] if len(sys.argv) > 2 else 'build/qemu-build/tools/vgpu/nv-vgpu-reap'
MDEVS = '/sys/bus/mdev/devices'
RECORDS = '/run/nv-vgpu'
TYPE = 'nvsim-63'
UUID = '5b0c7d2e-9a41-4f6b-8e3d-2c1a0f9e8d7c'
WAIT = 60           # seconds; generous: the test host runs under TCG

tmp = tempfile.mkdtemp(prefix='vgpu-lifecycle-')


class Fail(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Fail(what)


def wait_for(cond, what, timeout=WAIT):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.02)
    raise Fail('timed out waiting for ' + what)


def mdevs():
    return sorted(os.listdir(MDEVS))


def records():
    try:
        return sorted(n for n in os.listdir(RECORDS) if not n.startswith('.'))
    except FileNotFoundError:
        return []


def proc_state(pid):
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return None


def helpers(uuid, name=b'nv-vgpu-reaper'):
    """pids of the removal helpers (or others named @name) of vGPU @uuid"""
    found = []
    for d in os.listdir('/proc'):
        if not d.isdigit():
            continue
        try:
            with open('/proc/%s/cmdline' % d, 'rb') as f:
                argv = f.read().split(b'\0')
        except OSError:
            continue
        if name in argv and uuid.encode() in argv:
            found.append(int(d))
    return found


class Qemu:
    """One QEMU with one nv-vgpu on nvsim, in a session of its own."""
    n = 0

    def __init__(self, dev, machine='q35', wait_up=True):
        Qemu.n += 1
        self.qmp_path = '%s/qmp-%d.sock' % (tmp, Qemu.n)
        self.qtest_path = '%s/qtest-%d.sock' % (tmp, Qemu.n)
        self.err_path = '%s/stderr-%d.txt' % (tmp, Qemu.n)
        self.qtest_srv = socket.socket(socket.AF_UNIX)
        self.qtest_srv.bind(self.qtest_path)
        self.qtest_srv.listen(1)
        args = [QEMU, '-machine', machine, '-accel', 'qtest',
                '-qtest', 'unix:' + self.qtest_path, '-display', 'none',
                '-nodefaults', '-monitor', 'none', '-serial', 'none',
                '-qmp', 'unix:%s,server=on,wait=off' % self.qmp_path]
        if dev:
            args += ['-device', dev]
        self.err = open(self.err_path, 'w')
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=self.err, start_new_session=True)
        self.pid = self.proc.pid
        self.qmp = None
        self.qtest = None
        self.events = []
        if wait_up:
            self.connect()

    def connect(self):
        self.qtest_srv.settimeout(WAIT)
        self.qtest, _ = self.qtest_srv.accept()
        self.qtest_file = self.qtest.makefile('rw')
        s = socket.socket(socket.AF_UNIX)
        wait_for(lambda: self.exited() or os.path.exists(self.qmp_path),
                 'QMP socket of QEMU %d' % self.pid)
        check(not self.exited(), 'QEMU exited: ' + self.stderr())
        s.connect(self.qmp_path)
        s.settimeout(WAIT * 2)
        self.qtest.settimeout(WAIT * 2)
        self.qmp = s.makefile('rw')
        json.loads(self.qmp.readline())
        self.cmd('qmp_capabilities')

    def cmd(self, name, **args):
        self.qmp.write(json.dumps({'execute': name, 'arguments': args}) + '\n')
        self.qmp.flush()
        while True:
            msg = json.loads(self.qmp.readline())
            if 'event' in msg:
                self.events.append(msg)
                continue
            if 'error' in msg:
                raise Fail('%s: %s' % (name, msg['error']['desc']))
            return msg['return']

    def wait_event(self, name):
        while True:
            for e in self.events:
                if e['event'] == name:
                    self.events.remove(e)
                    return e
            msg = json.loads(self.qmp.readline())
            if 'event' in msg:
                self.events.append(msg)

    def qtest_cmd(self, line):
        self.qtest_file.write(line + '\n')
        self.qtest_file.flush()
        reply = self.qtest_file.readline()
        check(reply.startswith('OK'), 'qtest %s: %s' % (line, reply))

    def qom(self, prop, dev='gpu0'):
        return self.cmd('qom-get', path='/machine/peripheral/' + dev,
                        property=prop)

    def exited(self):
        return self.proc.poll() is not None

    def wait_stopped(self):
        wait_for(lambda: proc_state(self.pid) == 'T' or self.exited(),
                 'QEMU %d to stop itself' % self.pid)
        check(not self.exited(), 'QEMU exited instead of stopping: ' +
              self.stderr())

    def wait_exit(self):
        try:
            self.proc.wait(WAIT)
        except subprocess.TimeoutExpired:
            raise Fail('QEMU %d did not exit' % self.pid)
        return self.proc.returncode

    def killpg(self, sig):
        os.killpg(self.pid, sig)

    def stderr(self):
        self.err.flush()
        with open(self.err_path) as f:
            return f.read()

    def close(self):
        if not self.exited():
            self.proc.kill()
            self.proc.wait()
        self.err.close()
        self.qtest_srv.close()
        for s in (self.qmp, self.qtest):
            if s:
                s.close()


def created_dev(extra=''):
    return 'nv-vgpu,id=gpu0,parent=nvsim,mdev-type=%s%s' % (TYPE, extra)


def wait_removed(uuid, before):
    wait_for(lambda: uuid not in mdevs(), 'vGPU %s to be removed' % uuid)
    wait_for(lambda: uuid not in records(), 'the record of %s to go' % uuid)
    check(mdevs() == before, 'mdevs %s, wanted %s' % (mdevs(), before))


def run_reap(*args):
    p = subprocess.Popen([REAP] + list(args), stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    try:
        out, _ = p.communicate(timeout=WAIT)
    except subprocess.TimeoutExpired:
        # Not waited for: a remove of a vGPU held open blocks in the kernel.
        raise Fail('nv-vgpu-reap %s did not return' % ' '.join(args))
    return p.returncode, out


# Item 1: whole-group signals, as from Ctrl-C, kill -- -PGID, timeout(1),
# systemctl stop with KillMode=control-group (which also sends SIGTERM to
# the helper itself).

def group_signal(sig, helper_too=False):
    def test():
        before = mdevs()
        q = Qemu(created_dev())
        try:
            uuid = q.qom('vgpu-uuid')
            check(q.qom('vgpu-created'), 'vgpu-created')
            check(uuid in mdevs() and uuid in records(), 'vGPU and record')
            hs = helpers(uuid)
            check(len(hs) == 1, 'one helper, found %s' % hs)
            check(os.getpgid(hs[0]) != q.pid, 'helper in its own group')
            q.killpg(sig)
            if helper_too:
                os.kill(hs[0], sig)
            q.wait_exit()
            wait_removed(uuid, before)
        finally:
            q.close()
    return test


# SIGKILL of QEMU at each step of the creation.

def kill_at(step):
    def test():
        before = mdevs()
        q = Qemu(created_dev(',uuid=%s,x-stop-at=%s' % (UUID, step)),
                 wait_up=False)
        try:
            q.wait_stopped()
            check(UUID in records(), 'record before the vGPU exists')
            if step == 'created':
                check(UUID in mdevs(), 'vGPU exists at "created"')
            else:
                check(UUID not in mdevs(), 'no vGPU yet at ' + step)
            if step == 'recorded':
                check(not helpers(UUID), 'no helper yet')
            else:
                check(len(helpers(UUID)) == 1, 'helper armed')
            q.killpg(signal.SIGKILL)
            q.wait_exit()
            if step == 'recorded':
                # No helper yet: the record is an orphan, nothing leaked.
                check(mdevs() == before, 'nothing created')
                rc, out = run_reap()
                check(rc == 0 and '1 removed' in out, 'reap: ' + out)
            wait_removed(UUID, before)
        finally:
            q.close()
    return test


# Someone kills the helper: QEMU starts a new one.

def test_helper_killed():
    before = mdevs()
    q = Qemu(created_dev())
    try:
        uuid = q.qom('vgpu-uuid')
        old = helpers(uuid)
        check(len(old) == 1, 'one helper')
        os.kill(old[0], signal.SIGKILL)
        wait_for(lambda: helpers(uuid) and helpers(uuid) != old,
                 'a new helper')
        q.qom('vgpu-uuid')      # still running
        check('has died' in q.stderr(), 'warning: ' + q.stderr())
        q.killpg(signal.SIGKILL)
        q.wait_exit()
        wait_removed(uuid, before)
    finally:
        q.close()


def orphan():
    """QEMU and its helper both SIGKILLed, as by systemd's final kill."""
    q = Qemu(created_dev())
    try:
        uuid = q.qom('vgpu-uuid')
        hs = helpers(uuid)
        q.killpg(signal.SIGSTOP)     # so that it cannot re-arm
        os.kill(hs[0], signal.SIGKILL)
        wait_for(lambda: not helpers(uuid), 'the helper to die')
        q.killpg(signal.SIGKILL)
        q.wait_exit()
    finally:
        q.close()
    check(uuid in mdevs() and uuid in records(), 'an orphan is left')
    return uuid


def test_reap_command():
    before = mdevs()
    # An mdev that QEMU did not create (as mdevctl makes them).
    mine = '0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9'
    with open('/sys/class/mdev_bus/nvsim/mdev_supported_types/%s/create'
              % TYPE, 'w') as f:
        f.write(mine)
    try:
        uuid = orphan()
        rc, out = run_reap('--list')
        check(rc == 0 and uuid in out and 'orphan' in out, 'list: ' + out)
        check(mine not in out, 'mdevctl-made vGPU listed: ' + out)
        check(uuid in mdevs(), '--list removed nothing')

        # Held open by another process: never removed.
        q = Qemu('nv-vgpu,id=gpu0,sysfsdev=%s/%s' % (MDEVS, uuid))
        try:
            check(not q.qom('vgpu-created'), 'taken as given')
            rc, out = run_reap()
            check(rc == 1 and 'held open' in out, 'held: %d %s' % (rc, out))
            check(uuid in mdevs(), 'held vGPU kept')
        finally:
            q.killpg(signal.SIGTERM)
            q.wait_exit()
            q.close()
        rc, out = run_reap()
        check(rc == 0 and '1 removed' in out, 'reap: ' + out)
        check(uuid not in mdevs() and uuid not in records(), 'reaped')
        check(mine in mdevs(), 'the mdevctl-made vGPU stays')
    finally:
        with open('%s/%s/remove' % (MDEVS, mine), 'w') as f:
            f.write('1')
    check(mdevs() == before, 'mdevs %s, wanted %s' % (mdevs(), before))


def test_reaped_at_next_start():
    before = mdevs()
    uuid = orphan()
    q = Qemu(created_dev())
    try:
        new = q.qom('vgpu-uuid')
        check(uuid not in mdevs() and uuid not in records(),
              'orphan reaped at start')
        check('removed vGPU %s, left behind' % uuid in q.stderr(),
              'warning: ' + q.stderr())
        check(new in mdevs(), 'new vGPU')
        q.killpg(signal.SIGTERM)
        q.wait_exit()
        wait_removed(new, before)
    finally:
        q.close()


# Item 2: a UUID whose removal is pending.

def test_restart_same_uuid():
    """QEMU restarted at once with the same uuid= waits out the removal."""
    before = mdevs()
    a = Qemu(created_dev(',uuid=' + UUID))
    b = None
    try:
        hs = helpers(UUID)
        os.kill(hs[0], signal.SIGSTOP)      # its removal stays pending
        a.killpg(signal.SIGTERM)
        a.wait_exit()
        check(UUID in mdevs(), 'removal pending')
        b = Qemu(created_dev(',uuid=%s,x-stop-at=removal-pending' % UUID),
                 wait_up=False)
        b.wait_stopped()                    # it saw the pending removal
        os.kill(hs[0], signal.SIGCONT)
        os.kill(b.pid, signal.SIGCONT)
        b.connect()
        check(b.qom('vgpu-created'), 'B created its own vGPU, not adopted')
        check(b.qom('vgpu-uuid') == UUID and UUID in mdevs(), 'B has it')
        b.killpg(signal.SIGTERM)
        b.wait_exit()
        wait_removed(UUID, before)
    finally:
        a.close()
        if b:
            b.close()


def test_two_qemus_one_uuid():
    """The second QEMU is refused; the first one's vGPU is untouched."""
    before = mdevs()
    a = Qemu(created_dev(',uuid=' + UUID))
    try:
        b = Qemu(created_dev(',uuid=' + UUID), wait_up=False)
        rc = b.wait_exit()
        err = b.stderr()
        b.close()
        check(rc == 1 and ('vGPU %s is in use by another QEMU (pid %d), which '
                           'created it' % (UUID, a.pid)) in err,
              'B: %d %s' % (rc, err))
        check(a.qom('vgpu-created') and UUID in mdevs(), 'A keeps it')
        check(len(helpers(UUID)) == 1, 'A keeps its helper')
        a.killpg(signal.SIGTERM)
        a.wait_exit()
        wait_removed(UUID, before)
    finally:
        a.close()


def test_replug_same_uuid():
    """Unplug and re-plug with the same uuid= in one QEMU."""
    before = mdevs()
    q = Qemu(None, machine='pc')
    try:
        for i in range(2):
            q.cmd('device_add', driver='nv-vgpu', id='gpu0', bus='pci.0',
                  addr='05.0', parent='nvsim', **{'mdev-type': TYPE},
                  uuid=UUID)
            check(q.qom('vgpu-created'), 'plug %d: created, not adopted' % i)
            check(UUID in mdevs(), 'plug %d: vGPU there' % i)
            q.cmd('device_del', id='gpu0')
            # ACPI PCI hotplug: the guest ejects slot 5
            q.qtest_cmd('outl 0xae08 0x%x' % (1 << 5))
            q.wait_event('DEVICE_DELETED')
        wait_removed(UUID, before)
        check('request' not in q.stderr().lower(), q.stderr())
        q.cmd('query-status')
    finally:
        q.close()


# The plugin parameters of a vGPU QEMU did not create come back when QEMU
# is killed with it open (vgpu-params.c's helper; a quit is nv-vgpu-test's
# /nv-vgpu/nvsim/params-existing).

def params_restored(sig):
    def test():
        uuid = '3c2b1a09-8f7e-4d6c-b5a4-93827160f5e4'
        params = '%s/%s/nvidia/vgpu_params' % (MDEVS, uuid)

        def value():
            with open(params) as f:
                return f.read().strip()
        with open('/sys/class/mdev_bus/nvsim/mdev_supported_types/%s/create'
                  % TYPE, 'w') as f:
            f.write(uuid)
        try:
            with open(params, 'w') as f:
                f.write('enable_uvm=1')
            q = Qemu('nv-vgpu,id=gpu0,sysfsdev=%s/%s,'
                     'vgpu-params=frame_rate_limiter=0:disable_vnc=1,'
                     'display=off' % (MDEVS, uuid))
            try:
                check(value() == 'frame_rate_limiter=0, disable_vnc=1',
                      'in force: ' + value())
                hs = helpers(uuid, b'nv-vgpu-params')
                check(len(hs) == 1, 'one parameter helper, found %s' % hs)
                check(os.getpgid(hs[0]) != q.pid, 'helper in its own group')
                q.killpg(sig)
                q.wait_exit()
                wait_for(lambda: value() == 'enable_uvm=1',
                         'the old parameters back (have %s)' % value())
                wait_for(lambda: not helpers(uuid, b'nv-vgpu-params'),
                         'the parameter helper to end')
            finally:
                q.close()
        finally:
            with open('%s/%s/remove' % (MDEVS, uuid), 'w') as f:
                f.write('1')
    return test


TESTS = [
    ('group-sigterm', group_signal(signal.SIGTERM)),
    ('group-sigint', group_signal(signal.SIGINT)),
    ('group-sighup', group_signal(signal.SIGHUP)),
    ('group-sigkill', group_signal(signal.SIGKILL)),
    ('cgroup-sigterm-helper-too', group_signal(signal.SIGTERM, True)),
    ('sigkill-at-recorded', kill_at('recorded')),
    ('sigkill-at-armed', kill_at('armed')),
    ('sigkill-at-created', kill_at('created')),
    ('helper-killed', test_helper_killed),
    ('reap-command', test_reap_command),
    ('reaped-at-next-start', test_reaped_at_next_start),
    ('restart-same-uuid', test_restart_same_uuid),
    ('two-qemus-one-uuid', test_two_qemus_one_uuid),
    ('replug-same-uuid', test_replug_same_uuid),
    ('params-restored-sigkill', params_restored(signal.SIGKILL)),
]


def main():
    only = os.environ.get('VGPU_LIFECYCLE_TESTS', '').split()
    passed = failed = 0
    todo = [t for t in TESTS if not only or t[0] in only]
    print('1..%d' % len(todo))
    for i, (name, fn) in enumerate(todo, 1):
        try:
            fn()
            print('ok %d %s' % (i, name))
            passed += 1
        except Exception as e:
            print('not ok %d %s' % (i, name))
            for line in (str(e) if isinstance(e, Fail)
                         else traceback.format_exc()).splitlines():
                print('# ' + line)
            failed += 1
        sys.stdout.flush()
    print('lifecycle: %d passed, %d failed' % (passed, failed))
    return 1 if failed else 0


sys.exit(main())
