#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""nv-vgpu under real libvirt (11.3, bookworm-backports), inside the test
host: the documented form (libvirt's mdev hostdev with its driver
overridden to nv-vgpu) defined and started as libvirt's QEMU user and as
root, `virsh screenshot`, save/restore, managedsave, `virsh migrate --live`
(also --parallel) between two daemons, a refused migration, `virsh
destroy`, and the console in noVNC in headless Chromium.

Prints TAP and a closing line "libvirt: N passed, N failed, N skipped".
Figures (times, domjobinfo, noVNC latency) go to stdout as '#' lines and
to RESULTS/libvirt-figures.txt."""
import json
import os
import pwd
import re
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..', '..', 'fork'))
import demo_console  # noqa: E402  (test card, qtest client)
import libvirt_host as lh  # noqa: E402
from pngio import read_png  # noqa: E402

RESULTS = os.environ.get('VGPU_LIBVIRT_RESULTS', '/vgpu-results')
WIDTH, HEIGHT = 640, 480
HEAD_REGS = (demo_console.HEAD0_ENABLE, demo_console.HEAD0_WIDTH,
             demo_console.HEAD0_HEIGHT, demo_console.HEAD0_STRIDE,
             demo_console.HEAD0_FORMAT, demo_console.HEAD0_FB_OFFSET_LO)
TYPE_1Q, TYPE_2Q = 'nvsim-63', 'nvsim-65'

results = []
figures = []


def figure(line):
    print('# ' + line)
    sys.stdout.flush()
    figures.append(line)


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def test(name, skip=None):
    def wrap(fn):
        n = len(results) + 1
        if skip:
            print('ok %d - %s # SKIP %s' % (n, name, skip))
            results.append('skip')
            return fn
        start = time.time()
        try:
            fn()
            print('ok %d - %s (%.1f s)' % (n, name, time.time() - start))
            results.append('pass')
        except Exception as e:   # noqa: BLE001  (report, go on)
            print('not ok %d - %s' % (n, name))
            for line in (str(e) + '\n' + traceback.format_exc()).splitlines():
                print('#   ' + line)
            results.append('fail')
        sys.stdout.flush()
        return fn
    return wrap


class Guest:
    """Plays the guest's display driver on a domain's vGPU, over the
    domain's qtest socket (see libvirt_host.domain_xml)."""

    def __init__(self, daemon, dom, qtest):
        self.daemon, self.dom = daemon, dom
        deadline = time.time() + 120
        while not os.path.exists(qtest):
            check(time.time() < deadline, 'no qtest socket ' + qtest)
            time.sleep(0.1)
        self.qt = demo_console.Qtest(qtest)
        self.bar0, self.bar1 = self.bars()

    def bars(self):
        # The firmware places the BARs: wait until it has.
        deadline = time.time() + 180
        while True:
            bars = {}
            for bus in self.daemon.qmp(self.dom, 'query-pci'):
                for dev in all_devices(bus['devices']):
                    if dev['id']['vendor'] == 0x10de:
                        for bar in dev['regions']:
                            bars[bar['bar']] = bar['address']
            # unplaced BARs read as 0 or -1 (all ones)
            if 0 < bars.get(0, 0) < 0xffffffff and \
               0 < bars.get(1, 0) < (1 << 63):
                return bars[0], bars[1]
            check(time.time() < deadline, 'BARs never placed: %s' % bars)
            time.sleep(0.5)

    def draw(self, text):
        card = demo_console.test_card(WIDTH, HEIGHT, text)
        for reg, value in ((demo_console.HEAD0_ENABLE, 0),
                           (demo_console.HEAD0_WIDTH, WIDTH),
                           (demo_console.HEAD0_HEIGHT, HEIGHT),
                           (demo_console.HEAD0_STRIDE, WIDTH * 4),
                           (demo_console.HEAD0_FORMAT, demo_console.XR24),
                           (demo_console.HEAD0_FB_OFFSET_LO, 0),
                           (demo_console.HEAD0_FB_OFFSET_HI, 0)):
            self.qt.writel(self.bar0 + reg, value)
        self.qt.write(self.bar1, xrgb(card))
        self.qt.writel(self.bar0 + demo_console.HEAD0_ENABLE, 1)
        return card

    def fill(self, x, y, w, h, rgb):
        px = bytes((rgb[2], rgb[1], rgb[0], 0)) * w
        for row in range(y, y + h):
            self.qt.write(self.bar1 + (row * WIDTH + x) * 4, px)

    def regs(self):
        return [int(self.qt.cmd('readl 0x%x' % (self.bar0 + r)).split()[1], 0)
                for r in HEAD_REGS]


def all_devices(devs):
    for d in devs:
        yield d
        yield from all_devices(d.get('pci_bridge', {}).get('devices', []))


def xrgb(card):
    out = bytearray(WIDTH * HEIGHT * 4)
    out[0::4] = card[2::3]
    out[1::4] = card[1::3]
    out[2::4] = card[0::3]
    return bytes(out)


def screenshot(daemon, dom, name):
    path = os.path.join(RESULTS, name)
    daemon.virsh('screenshot', dom, path)
    return read_png(path)


def same_picture(shot, card, where):
    w, h, rgb = shot
    check((w, h) == (WIDTH, HEIGHT), '%s: screenshot is %dx%d, drew %dx%d'
          % (where, w, h, WIDTH, HEIGHT))
    if rgb != card:
        bad = next(i for i in range(len(rgb)) if rgb[i] != card[i]) // 3
        raise AssertionError('%s: screenshot differs from what the guest '
                             'drew first at (%d,%d)' % (where, bad % WIDTH,
                                                        bad // WIDTH))


def paused_save_workaround(daemon, dom):
    """A paused VM's vGPU can only move its state at the switchover, and
    QEMU waits until the measured bandwidth would carry that state within
    the downtime limit: with the VM paused nothing else moves, the
    measurement falls to zero and `virsh save` never ends.  Telling QEMU
    the bandwidth it may assume lets it switch over (see the docs)."""
    daemon.qmp(dom, 'migrate-set-parameters',
               **{'avail-switchover-bandwidth': 1 << 30})


def save_cmd(daemon, *args):
    """virsh save/managedsave; aborts the job if it hangs."""
    try:
        return daemon.virsh(*args, timeout=300)
    except subprocess.TimeoutExpired:
        daemon.virsh('domjobabort', args[1], check=False)
        raise AssertionError('virsh %s did not finish in 300 s' % args[0])


def lit_pixels(shot):
    rgb = shot[2]
    return sum(1 for i in range(0, len(rgb), 3) if rgb[i:i + 3] != b'\0\0\0')


def same_but_cursor(a, b):
    """Two screenshots of one text screen: equal but for SeaBIOS's blinking
    cursor, i.e. they differ at most inside one 8x16 character cell."""
    if a[:2] != b[:2]:
        return False
    w = a[0]
    diff = [i // 3 for i in range(0, len(a[2]), 3)
            if a[2][i:i + 3] != b[2][i:i + 3]]
    if not diff:
        return True
    xs = [p % w for p in diff]
    ys = [p // w for p in diff]
    return max(xs) - min(xs) < 8 and max(ys) - min(ys) < 16


def wait_boot_display(daemon, dom):
    """SeaBIOS's text screen on the boot display (1024x768 where the
    head-0-off notice is 640x480), once it has not changed but for its
    cursor for 4 s (SeaBIOS ends on "No bootable device." and stays there:
    see rebootTimeout in libvirt_host.domain_xml)."""
    deadline = time.time() + 240
    same = 0
    last = None
    while True:
        shot = screenshot(daemon, dom, 'libvirt-boot-display.png')
        same = same + 1 if last and same_but_cursor(shot, last) else 0
        if shot[:2] == (1024, 768) and lit_pixels(shot) > 500 and same >= 2:
            return shot
        check(time.time() < deadline, 'no boot display after 240 s: '
              'screenshot %dx%d with %d lit pixels' % (
                  shot[0], shot[1], lit_pixels(shot)))
        last = shot
        time.sleep(2)


def state(daemon, dom):
    return daemon.virsh('domstate', dom).stdout.strip()


def qtest_path(tag):
    return '%s/%s.qtest' % (lh.SOCKDIR, tag)


def define(daemon, name, xml):
    path = '%s/%s.xml' % (lh.BASE, name)
    with open(path, 'w') as f:
        f.write(xml)
    daemon.virsh('define', path)


def define_start(daemon, name, xml):
    define(daemon, name, xml)
    out = daemon.virsh('start', name, check=False)
    check(out.returncode == 0, 'virsh start %s: %s%s\n%s' % (
        name, out.stdout, out.stderr, daemon.qemu_log(name)[-3000:]))


def qemu_user(daemon, dom):
    with open('/proc/%d/status' % daemon.qemu_pid(dom)) as f:
        uid = int(re.search(r'^Uid:\s+(\d+)', f.read(), re.M).group(1))
    return pwd.getpwuid(uid).pw_name


def migrate_xml(src, dom, old_uuid, new_uuid, old_tag, new_tag,
                replace=()):
    """The destination's XML: another vGPU, another qtest socket, and
    @replace (pairs), e.g. fixed VNC ports taken by the source here."""
    xml = src.virsh('dumpxml', '--migratable', dom).stdout
    for old, new in replace:
        check(old in xml, '%s not in the migratable XML' % old)
        xml = xml.replace(old, new)
    check(old_uuid in xml and qtest_path(old_tag) in xml,
          'migratable XML lacks the vGPU or the qtest socket:\n' + xml)
    xml = xml.replace(old_uuid, new_uuid).replace(qtest_path(old_tag),
                                                  qtest_path(new_tag))
    path = '%s/%s-to-%s.xml' % (lh.BASE, dom, new_tag)
    with open(path, 'w') as f:
        f.write(xml)
    return path


def migrate(src, dst, dom, xml, *flags):
    start = time.time()
    out = src.virsh('migrate', '--live', dom, dst.uri, '--migrateuri',
                    'tcp://127.0.0.1', '--xml', xml, *flags, check=False,
                    timeout=900)
    return out, time.time() - start


def jobinfo(daemon, dom, raw=False):
    # --keep-completed: reading the figures would otherwise drop them.
    args = ['domjobinfo', dom, '--completed', '--keep-completed']
    if raw:
        args.append('--rawstats')
    return daemon.virsh(*args, check=False).stdout


def jobfigure(info, key):
    m = re.search(r'^%s:\s+(.*)$' % re.escape(key), info, re.M)
    return ' '.join(m.group(1).split()) if m else None


def main():
    os.makedirs(RESULTS, exist_ok=True)
    for f in os.listdir(RESULTS):
        if f.startswith('libvirt-') and f.endswith('.png'):
            os.unlink(os.path.join(RESULTS, f))
    suite_start = time.time()
    print('TAP version 13')
    d1 = d2 = None
    st = {}

    @test('two libvirt daemons start in the test host')
    def _():
        nonlocal d1, d2
        if not os.path.exists('/sys/class/mdev_bus/nvsim2'):
            lh.run(['rmmod', 'nvsim'])
            lh.run(['insmod', os.path.join(lh.TOP, 'build/nvsim/nvsim.ko'),
                    'parent2_driver_version=550.127.08'])
        start = time.time()
        d1, d2 = lh.setup_host()
        figure('two libvirtds up in %.1f s' % (time.time() - start))
        check(d1.host_uuid != d2.host_uuid, 'same host UUIDs')

    if d1 is None:
        finish(suite_start)
        return

    # The vGPU as an operator makes it: mdevctl, against nvsim.
    st['uuid'] = lh.make_mdev('nvsim', TYPE_1Q, with_mdevctl=True)

    @test('virsh define/start of the hostdev form as libvirt-qemu')
    def _():
        define_start(d1, 'vgpu1', lh.domain_xml(
            'vgpu1', st['uuid'], qtest=qtest_path('vgpu1-d1')))
        check(state(d1, 'vgpu1') == 'running', 'not running')
        user = qemu_user(d1, 'vgpu1')
        check(user == 'libvirt-qemu', 'QEMU runs as %s' % user)
        vgpus = d1.qmp('vgpu1', 'query-vgpus')
        check(len(vgpus) == 1 and st['uuid'] in json.dumps(vgpus),
              'query-vgpus: %s' % vgpus)
        st['guest'] = Guest(d1, 'vgpu1', qtest_path('vgpu1-d1'))

    @test('virsh screenshot shows what the guest drew', skip=None
          if 'guest' in st else 'no domain')
    def _():
        st['card'] = st['guest'].draw(['NV-VGPU HEAD 0', 'LIBVIRT'])
        st['regs'] = st['guest'].regs()
        same_picture(screenshot(d1, 'vgpu1', 'libvirt-screenshot.png'),
                     st['card'], 'virsh screenshot')

    @test('virsh save/restore keeps framebuffer and registers',
          skip=None if 'card' in st else 'no picture')
    def _():
        path = lh.BASE + '/vgpu1.save'
        paused_save_workaround(d1, 'vgpu1')
        start = time.time()
        save_cmd(d1, 'save', 'vgpu1', path)
        saved = time.time() - start
        check(state(d1, 'vgpu1') == 'shut off', 'still running after save')
        start = time.time()
        out = d1.virsh('restore', path, check=False)
        check(out.returncode == 0, 'virsh restore: %s%s\n%s' % (
            out.stdout, out.stderr, d1.qemu_log('vgpu1')[-3000:]))
        figure('virsh save %.1f s, restore %.1f s' % (saved,
                                                       time.time() - start))
        st['guest'] = Guest(d1, 'vgpu1', qtest_path('vgpu1-d1'))
        check(st['guest'].regs() == st['regs'], 'registers %s, were %s'
              % (st['guest'].regs(), st['regs']))
        same_picture(screenshot(d1, 'vgpu1', 'libvirt-restored.png'),
                     st['card'], 'after restore')

    @test('a virsh restore onto a vGPU of another type says why',
          skip=None if 'card' in st else 'no picture')
    def _():
        path = lh.BASE + '/vgpu1-again.save'
        paused_save_workaround(d1, 'vgpu1')
        save_cmd(d1, 'save', 'vgpu1', path)
        wrong = lh.make_mdev('nvsim', TYPE_2Q)
        xml = d1.virsh('save-image-dumpxml', path).stdout
        check(st['uuid'] in xml, 'the saved XML lacks the vGPU')
        xml_path = lh.BASE + '/vgpu1-wrong-type.xml'
        with open(xml_path, 'w') as f:
            f.write(xml.replace(st['uuid'], wrong))
        out = d1.virsh('restore', path, '--xml', xml_path, check=False)
        err = ' '.join((out.stdout + out.stderr).split())
        figure('refused virsh restore says: %s' % err)
        check(out.returncode != 0, 'restored onto a GRID P4-2Q')
        want = 'vGPU type: the source has %s (GRID P4-1Q), this vGPU %s' % (
            TYPE_1Q, TYPE_2Q)
        check(want in err, 'virsh restore does not say why (want "%s"): %s'
              % (want, err))
        lh.remove_mdev(wrong)
        out = d1.virsh('restore', path, check=False)
        check(out.returncode == 0, 'virsh restore: %s%s' % (out.stdout,
                                                           out.stderr))
        st['guest'] = Guest(d1, 'vgpu1', qtest_path('vgpu1-d1'))
        check(st['guest'].regs() == st['regs'], 'registers differ')

    @test('virsh managedsave/start keeps framebuffer and registers',
          skip=None if 'card' in st else 'no picture')
    def _():
        paused_save_workaround(d1, 'vgpu1')
        save_cmd(d1, 'managedsave', 'vgpu1')
        check(state(d1, 'vgpu1') == 'shut off', 'still running')
        d1.virsh('start', 'vgpu1')
        st['guest'] = Guest(d1, 'vgpu1', qtest_path('vgpu1-d1'))
        check(st['guest'].regs() == st['regs'], 'registers differ')
        same_picture(screenshot(d1, 'vgpu1', 'libvirt-managedsave.png'),
                     st['card'], 'after managedsave')

    @test('virsh migrate --live to a second daemon',
          skip=None if 'card' in st else 'no picture')
    def _():
        st['uuid2'] = lh.make_mdev('nvsim2', TYPE_1Q)
        xml = migrate_xml(d1, 'vgpu1', st['uuid'], st['uuid2'], 'vgpu1-d1',
                          'vgpu1-d2')
        out, took = migrate(d1, d2, 'vgpu1', xml)
        check(out.returncode == 0, 'virsh migrate: %s%s\n%s' % (
            out.stdout, out.stderr, d2.qemu_log('vgpu1')[-3000:]))
        info = jobinfo(d1, 'vgpu1')
        raw = jobinfo(d1, 'vgpu1', raw=True)
        with open(os.path.join(RESULTS, 'libvirt-domjobinfo.txt'), 'w') as f:
            f.write(info + '\n--rawstats:\n' + raw)
        figure('virsh migrate --live: %.1f s for virsh; domjobinfo: total '
               '%s, downtime %s' % (took, jobfigure(info, 'Time elapsed'),
                                    jobfigure(info, 'Total downtime')))
        figure('domjobinfo lines naming VFIO/vGPU: %s; --rawstats: %s' % (
            [l for l in info.splitlines() if re.search('vfio|vgpu', l, re.I)]
            or 'none',
            [l for l in raw.splitlines() if re.search('vfio|vgpu', l, re.I)]
            or 'none'))
        check(state(d2, 'vgpu1') == 'running', 'not running on daemon 2')
        check(d1.virsh('domstate', 'vgpu1', check=False).stdout.strip() !=
              'running', 'still running on daemon 1')
        st['guest'] = Guest(d2, 'vgpu1', qtest_path('vgpu1-d2'))
        check(st['guest'].regs() == st['regs'], 'registers differ')
        same_picture(screenshot(d2, 'vgpu1', 'libvirt-migrated.png'),
                     st['card'], 'on the destination')
        st['on'] = d2

    @test('virsh migrate --live --parallel back',
          skip=None if st.get('on') is d2 else 'not migrated')
    def _():
        st['uuid3'] = lh.make_mdev('nvsim', TYPE_1Q)
        xml = migrate_xml(d2, 'vgpu1', st['uuid2'], st['uuid3'], 'vgpu1-d2',
                          'vgpu1-d1b')
        out, took = migrate(d2, d1, 'vgpu1', xml, '--parallel',
                            '--parallel-connections', '2')
        check(out.returncode == 0, 'virsh migrate --parallel: %s%s\n%s' % (
            out.stdout, out.stderr, d1.qemu_log('vgpu1')[-3000:]))
        # the source forgot the transient domain: ask the destination
        info = jobinfo(d1, 'vgpu1')
        figure('virsh migrate --live --parallel: %.1f s for virsh; '
               'domjobinfo: total %s, downtime %s' % (
                   took, jobfigure(info, 'Time elapsed'),
                   jobfigure(info, 'Total downtime')))
        st['guest'] = Guest(d1, 'vgpu1', qtest_path('vgpu1-d1b'))
        check(st['guest'].regs() == st['regs'], 'registers differ')
        same_picture(screenshot(d1, 'vgpu1', 'libvirt-parallel.png'),
                     st['card'], 'after --parallel')
        st['on'] = d1
        st['tag'] = 'vgpu1-d1b'
        st['cur_uuid'] = st['uuid3']

    @test('a refused virsh migrate leaves the source running, never paused',
          skip=None if st.get('on') is d1 else 'not back on daemon 1')
    def _():
        wrong = lh.make_mdev('nvsim2', TYPE_2Q)
        xml = migrate_xml(d1, 'vgpu1', st['cur_uuid'], wrong, st['tag'],
                          'vgpu1-wrong')
        events = subprocess.Popen(
            ['virsh', '-c', d1.uri, 'event', '--domain', 'vgpu1', '--all',
             '--loop', '--timeout', '600'], stdout=subprocess.PIPE, text=True)
        out, _ = migrate(d1, d2, 'vgpu1', xml)
        err = out.stdout + out.stderr
        figure('refused virsh migrate says: %s' % ' '.join(err.split()))
        check(out.returncode != 0, 'the migration onto a GRID P4-2Q worked')
        want = 'vGPU type: the source has %s (GRID P4-1Q), this vGPU %s' % (
            TYPE_1Q, TYPE_2Q)
        check(want in ' '.join(err.split()), 'virsh migrate does not say '
              'why (want "%s"): %s' % (want, err))
        check(state(d1, 'vgpu1') == 'running', 'source is %s'
              % state(d1, 'vgpu1'))
        # A marker event: everything the migration caused came before it.
        d1.virsh('desc', 'vgpu1', '--live', '--new-desc', 'after-refusal')
        seen = []
        for line in events.stdout:
            seen.append(line.strip())
            if 'metadata-change' in line:
                break
        events.kill()
        events.wait()
        check(not any('Suspended' in s for s in seen),
              'the source was paused: %s' % seen)
        check(st['guest'].regs() == st['regs'], 'registers changed')
        same_picture(screenshot(d1, 'vgpu1', 'libvirt-refused.png'),
                     st['card'], 'after the refusal')
        lh.remove_mdev(wrong)

    @test('virsh destroy keeps the vGPU the operator made',
          skip=None if st.get('on') is d1 else 'not back on daemon 1')
    def _():
        d1.virsh('destroy', 'vgpu1')
        check(state(d1, 'vgpu1') == 'shut off', 'still running')
        check(st['cur_uuid'] in lh.mdevs(), 'the vGPU was removed')

    @test('virsh start as root (static DAC label)')
    def _():
        u = lh.make_mdev('nvsim', TYPE_1Q)
        define_start(d1, 'vgpu-root', lh.domain_xml(
            'vgpu-root', u, as_root=True))
        check(qemu_user(d1, 'vgpu-root') == 'root', 'QEMU runs as %s'
              % qemu_user(d1, 'vgpu-root'))
        d1.virsh('destroy', 'vgpu-root')
        check(u in lh.mdevs(), 'the vGPU was removed')
        lh.remove_mdev(u)

    @test("ramfb='on': SeaBIOS on the boot display, then head 0, then "
          "the boot display again")
    def _():
        u = lh.make_mdev('nvsim', TYPE_1Q)
        define_start(d1, 'vgpu-boot', lh.domain_xml(
            'vgpu-boot', u, qtest=qtest_path('vgpu-boot'), ramfb=True))
        with open('/proc/%d/cmdline' % d1.qemu_pid('vgpu-boot')) as f:
            cmdline = f.read().replace('\0', ' ')
        check('"driver":"nv-vgpu"' in cmdline and '"ramfb":true' in cmdline,
              'libvirt did not give nv-vgpu ramfb=on: %s' % cmdline)
        t0 = time.time()
        boot = wait_boot_display(d1, 'vgpu-boot')
        figure('boot display: SeaBIOS drew %dx%d, %d lit pixels, settled '
               '%.1f s after virsh start' % (boot[0], boot[1],
                                              lit_pixels(boot),
                                              time.time() - t0))
        t0 = time.time()
        guest = Guest(d1, 'vgpu-boot', qtest_path('vgpu-boot'))
        figure('boot display: BARs placed after %.1f s more' % (
            time.time() - t0))
        card = guest.draw(['NV-VGPU HEAD 0', 'AT BOOT'])
        same_picture(screenshot(d1, 'vgpu-boot', 'libvirt-boot-head0.png'),
                     card, 'head 0 after the boot display')
        guest.qt.writel(guest.bar0 + demo_console.HEAD0_ENABLE, 0)
        again = screenshot(d1, 'vgpu-boot', 'libvirt-boot-again.png')
        check(same_but_cursor(again, boot), 'head 0 off: the screen is not '
              'the boot display SeaBIOS drew (%dx%d)' % again[:2])
        d1.virsh('destroy', 'vgpu-boot')
        d1.virsh('undefine', 'vgpu-boot')
        check(u in lh.mdevs(), 'the vGPU was removed')
        lh.remove_mdev(u)

    @test("a failed virsh start leaves no vGPU QEMU made and keeps the "
          "operator's")
    def _():
        u = lh.make_mdev('nvsim', TYPE_1Q)
        before = lh.mdevs()
        want = 'console-fps=1000 is outside 1 to'
        for name, xml in (
                ('vgpu-bad', lh.domain_xml(
                    'vgpu-bad', u,
                    props=[('console-fps', 'unsigned', '1000')])),
                ('vgpu-bad-created', lh.domain_xml(
                    'vgpu-bad-created', None, hostdev=False, as_root=True,
                    extra_args=['-device', 'nv-vgpu,id=gpu0,parent=nvsim,'
                                'mdev-type=%s,console-fps=1000' % TYPE_1Q]))):
            define(d1, name, xml)
            out = d1.virsh('start', name, check=False)
            err = ' '.join((out.stdout + out.stderr).split())
            check(out.returncode != 0, 'virsh start %s worked' % name)
            check(want in err, 'virsh start %s does not say why (want "%s"):'
                  ' %s' % (name, want, err))
            figure('failed virsh start says: %s' % err)
            d1.virsh('undefine', name)
            deadline = time.time() + 60
            while lh.mdevs() != before:
                check(time.time() < deadline, '%s: mdevs %s, were %s' % (
                    name, lh.mdevs(), before))
                time.sleep(0.2)
        lh.remove_mdev(u)

    @test('a vGPU QEMU created is gone after virsh destroy')
    def _():
        before = lh.mdevs()
        xml = lh.domain_xml('vgpu-created', None, hostdev=False, as_root=True,
                            extra_args=['-device', 'nv-vgpu,id=gpu0,'
                                        'parent=nvsim,mdev-type=' + TYPE_1Q])
        define_start(d1, 'vgpu-created', xml)
        created = [m for m in lh.mdevs() if m not in before]
        check(len(created) == 1, 'QEMU created %s' % created)
        d1.virsh('destroy', 'vgpu-created')
        deadline = time.time() + 60
        while created[0] in lh.mdevs():
            check(time.time() < deadline, 'vGPU %s left behind' % created[0])
            time.sleep(0.2)
        check(lh.mdevs() == before, 'mdevs %s, were %s' % (lh.mdevs(),
                                                           before))

    novnc(d1)
    finish(suite_start)


def novnc(d1):
    import novnc_check

    @test('noVNC in headless Chromium shows the vGPU and its changes')
    def _():
        u = lh.make_mdev('nvsim', TYPE_1Q)
        define_start(d1, 'vgpu-vnc', lh.domain_xml(
            'vgpu-vnc', u, qtest=qtest_path('vgpu-vnc'), vnc_port=5901,
            websocket=5701))
        guest = Guest(d1, 'vgpu-vnc', qtest_path('vgpu-vnc'))
        card = guest.draw(['NV-VGPU HEAD 0', 'NOVNC'])
        lines, _ = novnc_check.check(guest, card, 5701, RESULTS, WIDTH,
                                     HEIGHT)
        for line in lines:
            figure(line)
        d1.virsh('destroy', 'vgpu-vnc')
        lh.remove_mdev(u)


def finish(suite_start):
    figure('libvirt suite: %.0f s of tests' % (time.time() - suite_start))
    with open(os.path.join(RESULTS, 'libvirt-figures.txt'), 'w') as f:
        f.write('\n'.join(figures) + '\n')
    print('1..%d' % len(results))
    print('libvirt: %d passed, %d failed, %d skipped' % (
        results.count('pass'), results.count('fail'), results.count('skip')))
    sys.exit(1 if 'fail' in results or not results else 0)


if __name__ == '__main__':
    main()
