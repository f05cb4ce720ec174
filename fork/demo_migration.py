# SPDX-License-Identifier: GPL-2.0-or-later
"""The demo's migration part: ask a second QEMU, on a second simulated GPU
or another VF, whether it takes the vGPU, live-migrate the VM there, and
take the console's screenshot over VNC from the destination."""
import os
import subprocess
import time

from qemu.qmp.legacy import QEMUMonitorProtocol

import demo_console

CAPS = [{'capability': 'return-path', 'state': True},
        {'capability': 'switchover-ack', 'state': True}]

# What differs between the demo's vGPUs: where the destination's comes
# from, a type it must refuse, the destination's properties to show and
# the source's migration parameters.
MDEV = {
    'title': 'a new GRID P4-8C on the second GPU (nvsim2)',
    'device': 'parent=nvsim2,mdev-type=GRID P4-8C',
    'wrong': ('nvsim-68', 'GRID P4-4Q'),
    'show': (),
    'params': {},
}


def sriov_options(pf, profile):
    """MDEV's counterpart for a vGPU on a VF of SR-IOV GPU @pf."""
    wrong = (('1062', 'NVIDIA L4-4Q') if profile != 'NVIDIA L4-4Q' else
             ('1061', 'NVIDIA L4-2Q'))
    return {
        'title': 'a new %s on another free VF of %s' % (profile, pf),
        'device': 'parent=%s,profile=%s' % (pf, profile),
        'wrong': wrong,
        'show': ('vgpu-vf', 'vgpu-type'),
        # A VF's DMA through type1 has no dirty tracking, so every pass
        # sends all guest RAM and an idle VM measures no bandwidth: tell
        # QEMU what it has, or the migration never converges.
        'params': {'avail-switchover-bandwidth': 1 << 30},
    }


def wait_for(path):
    for _ in range(300):
        if os.path.exists(path):
            return
        time.sleep(0.1)
    raise RuntimeError('%s did not appear' % path)


def migrate(src, qemu, client, png, card, opts=None):
    """Migrate the VM behind QMP @src to a new QEMU; screenshot into @png.
    @opts: MDEV (the default) or sriov_options()."""
    opts = opts or MDEV
    qmp_path, vnc_path = '/tmp/nv-vgpu-demo-dst.qmp', '/tmp/nv-vgpu-demo-dst.vnc'
    mig_path = '/tmp/nv-vgpu-demo-mig.sock'
    print('== live migration to a second QEMU, with ' + opts['title'])
    dst_proc = subprocess.Popen([
        qemu, '-machine', 'q35', '-accel', 'tcg', '-m', '256', '-nodefaults',
        '-display', 'none', '-serial', 'none',
        '-qmp', 'unix:%s,server=on,wait=off' % qmp_path,
        '-vnc', 'unix:' + vnc_path,
        '-device', 'nv-vgpu,id=gpu0,addr=04.0,' + opts['device'],
        '-incoming', 'defer'])
    wait_for(qmp_path)
    dst = QEMUMonitorProtocol(qmp_path)
    dst.connect()
    for prop in opts['show']:
        print('  destination: %-13s %s' % (prop, dst.cmd(
            'qom-get', path='/machine/peripheral/gpu0', property=prop)))

    desc = src.cmd('query-vgpu-descriptor', id='gpu0')
    print('  source descriptor: %s %s, %d MiB, driver %s %s, guest monitor %s'
          % (desc['type'], desc['profile'], desc['framebuffer'] >> 20,
             desc['driver'], desc['driver-version'] or '(no version)',
             desc['guest-resolution']))
    answer = dst.cmd('vgpu-check-descriptor', id='gpu0', descriptor=desc)
    print('  destination would accept it: %s' % answer)
    wrong_type, wrong_profile = opts['wrong']
    wrong = dict(desc, type=wrong_type, profile=wrong_profile)
    answer = dst.cmd('vgpu-check-descriptor', id='gpu0', descriptor=wrong)
    print('  ... and a %s: %s' % (wrong_profile, answer['reason']))

    for qmp in (src, dst):
        qmp.cmd('migrate-set-capabilities', capabilities=CAPS)
    if opts['params']:
        src.cmd('migrate-set-parameters', **opts['params'])
    dst.cmd('migrate-incoming', uri='unix:' + mig_path)
    wait_for(mig_path)
    src.cmd('migrate', uri='unix:' + mig_path)
    shown = set()
    while True:
        info = src.cmd('query-migrate')
        state = src.cmd('query-vgpus')[0]['migration']
        key = state.get('state')
        if key not in shown:
            shown.add(key)
            print('  source vGPU: %-9s pending %d bytes' %
                  (key, state['pending-initial'] + state['pending-dirty']))
        if info['status'] in ('completed', 'failed', 'cancelled'):
            break
        time.sleep(0.05)
    print('  migration %s: %d ms in all, %d ms of downtime, %d bytes of vGPU '
          'state' % (info['status'], info.get('total-time', 0),
                     info.get('downtime', 0),
                     info.get('vfio', {}).get('transferred', 0)))
    ok = info['status'] == 'completed'
    if ok:
        print(dst.cmd('human-monitor-command',
                      **{'command-line': 'info vgpus'}).rstrip()
              .replace('\n', '\n  ').join(('  ', '')))
        ok = demo_console.screenshot(dst, vnc_path, client, png, card,
                                     'the destination')
    for qmp in (src, dst):
        try:
            qmp.cmd('quit')
            qmp.close()
        except (EOFError, ConnectionError):
            pass
    dst_proc.wait()
    return ok
