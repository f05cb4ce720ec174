#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""demo-libvirt.py: the demo's libvirt part, inside the test host (see
demo.sh).  A vGPU made with mdevctl, a domain with libvirt's mdev hostdev
overridden to nv-vgpu started by virsh, `virsh screenshot`, noVNC in
headless Chromium, and `virsh migrate --live` to a second libvirt daemon;
the pictures go to /vgpu-results."""
import os
import sys
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
sys.path.insert(0, os.path.join(TOP, 'tests', 'libvirt'))
sys.path.insert(0, os.path.join(TOP, 'fork'))
import libvirt_host as lh  # noqa: E402
import novnc_check  # noqa: E402

spec = __import__('importlib.util').util.spec_from_file_location(
    'lt', os.path.join(TOP, 'tests', 'libvirt', 'libvirt-tests.py'))
lt = __import__('importlib.util').util.module_from_spec(spec)
spec.loader.exec_module(lt)

OUT = '/vgpu-results'


def say(text):
    print(text)
    sys.stdout.flush()


def main():
    lh.run(['rmmod', 'nvsim'])
    lh.run(['insmod', os.path.join(TOP, 'build/nvsim/nvsim.ko'),
            'parent2_driver_version=550.127.08'])
    t0 = time.time()
    d1, d2 = lh.setup_host()
    say('== two libvirt 11.3 daemons up (%.1f s): %s and %s'
        % (time.time() - t0, d1.uri, d2.uri))
    u1 = lh.make_mdev('nvsim', lt.TYPE_1Q, with_mdevctl=True)
    say('== mdevctl start -u %s -p nvsim -t %s (GRID P4-1Q)' % (u1,
                                                               lt.TYPE_1Q))
    xml = lh.domain_xml('vgpu-demo', u1, qtest=lt.qtest_path('demo-d1'),
                        vnc_port=5901, websocket=5701, ramfb=True)
    say('== the domain: libvirt\'s mdev hostdev, driver overridden to '
        'nv-vgpu')
    for line in xml.splitlines():
        if 'hostdev' in line or 'qemu:property' in line or 'address' in line:
            say('   ' + line.strip())
    lt.define_start(d1, 'vgpu-demo', xml)
    say('== virsh start vgpu-demo: running as %s; QEMU says:'
        % lt.qemu_user(d1, 'vgpu-demo'))
    info = d1.virsh('qemu-monitor-command', 'vgpu-demo', '--hmp',
                    'info vgpus').stdout
    say('\n'.join('   ' + l for l in info.rstrip().splitlines()))
    boot = lt.wait_boot_display(d1, 'vgpu-demo')
    say('== the boot display (ramfb=\'on\'): SeaBIOS drew its %dx%d text '
        'screen on the vGPU\'s console (libvirt-boot-display.png); head 0 '
        'takes over when the guest\'s driver sets a mode' % boot[:2])
    guest = lt.Guest(d1, 'vgpu-demo', lt.qtest_path('demo-d1'))
    card = guest.draw(['NV-VGPU HEAD 0', 'LIBVIRT'])
    shot = lt.screenshot(d1, 'vgpu-demo', 'libvirt-virsh-screenshot.png')
    say('== virsh screenshot: %dx%d, identical to what the guest drew: %s'
        % (shot[0], shot[1], 'yes' if shot[2] == card else 'NO'))
    ok = shot[2] == card
    say('== noVNC (Debian\'s vnc_lite.html) in headless Chromium on the '
        'VNC websocket')
    try:
        lines, card = novnc_check.check(guest, card, 5701, OUT, lt.WIDTH,
                                        lt.HEIGHT)
        for line in lines:
            say('   ' + line)
    except AssertionError as e:
        say('   FAILED: %s' % e)
        ok = False
    u2 = lh.make_mdev('nvsim2', lt.TYPE_1Q)
    say('== virsh migrate --live to the second daemon, onto GRID P4-1Q %s '
        'on nvsim2 (--xml with that UUID)' % u2)
    # both daemons share this host: the destination needs its own ports
    path = lt.migrate_xml(d1, 'vgpu-demo', u1, u2, 'demo-d1', 'demo-d2',
                          replace=(("port='5901'", "port='5902'"),
                                   ("websocket='5701'", "websocket='5702'")))
    out, took = lt.migrate(d1, d2, 'vgpu-demo', path)
    if out.returncode:
        say('   FAILED: %s%s' % (out.stdout, out.stderr))
        return 1
    job = lt.jobinfo(d1, 'vgpu-demo')
    raw = lt.jobinfo(d1, 'vgpu-demo', raw=True)
    say('   done in %.1f s (virsh); domjobinfo: time elapsed %s, downtime %s;'
        ' --rawstats: %s' % (took, lt.jobfigure(job, 'Time elapsed'),
                             lt.jobfigure(job, 'Total downtime'),
                             ', '.join(l.strip() for l in raw.splitlines()
                                       if 'vfio' in l) or 'no vfio figures'))
    shot = lt.screenshot(d2, 'vgpu-demo', 'libvirt-destination.png')
    same = shot[2] == card
    say('== virsh screenshot on the destination: identical: %s'
        % ('yes' if same else 'NO'))
    d2.virsh('destroy', 'vgpu-demo')
    d1.virsh('undefine', 'vgpu-demo')
    for u in (u1, u2):
        lh.remove_mdev(u)
    say('== pictures: libvirt-boot-display.png, '
        'libvirt-virsh-screenshot.png, libvirt-novnc.png (Chromium), '
        'libvirt-destination.png')
    return 0 if ok and same else 1


if __name__ == '__main__':
    sys.exit(main())
