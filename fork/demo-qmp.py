#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""demo-qmp.py QMP QTEST VNC CLIENT PNG QEMU [PF]: show what QEMU reports
about the demo's vGPU, draw on its console and take a VNC screenshot into
PNG, then live-migrate the VM to a second QEMU and take the screenshot
there (PNG with -destination), and quit both.  With PF, the vGPU is on a
VF of that SR-IOV GPU (demo-sriov.sh), else an mdev (demo-vm.sh).  Uses
QEMU's own QMP library (python/qemu in the QEMU tree)."""
import json
import os
import sys
import time

from qemu.qmp.legacy import QEMUMonitorProtocol

sys.path.insert(0, os.path.dirname(__file__))
import demo_console  # noqa: E402
import demo_migration  # noqa: E402

sock, qtest, vnc, client, png, qemu = sys.argv[1:7]
pf = sys.argv[7] if len(sys.argv) > 7 else None
for _ in range(300):
    if os.path.exists(sock):
        break
    time.sleep(0.1)
qmp = QEMUMonitorProtocol(sock)
qmp.connect()
gpu = '/machine/peripheral/gpu0'


def get(prop):
    return qmp.cmd('qom-get', path=gpu, property=prop)


print('== QEMU reports (qom-get %s ...)' % gpu)
# a VF's vGPU has no UUID: the VF names it
for prop in ('vgpu-vf' if pf else 'vgpu-uuid', 'vgpu-type', 'vgpu-profile',
             'vgpu-framebuffer', 'vgpu-heads', 'vgpu-max-resolution',
             'vgpu-frame-rate-limit', 'vgpu-max-instances', 'vgpu-created',
             'sysfsdev'):
    print('  %-22s %s' % (prop, json.dumps(get(prop))))
if pf:
    vf = get('vgpu-vf')
    with open('/sys/bus/pci/devices/%s/nvidia/current_vgpu_type' % vf) as f:
        print('  on the host: VF %s of PF %s has nvidia/current_vgpu_type %s'
              % (vf, pf, f.read().strip()))
    mig = demo_migration.sriov_options(pf, get('vgpu-profile'))
else:
    uuid = get('vgpu-uuid')
    print('  on the host: /sys/bus/mdev/devices/%s exists: %s'
          % (uuid, os.path.exists('/sys/bus/mdev/devices/' + uuid)))
    mig = demo_migration.MDEV

time.sleep(3)   # let the firmware enumerate PCI and place the BARs
print('== the guest\'s PCI view (HMP info pci)')
ids = [dev['id'] for bus in qmp.cmd('query-pci') for dev in bus['devices']
       if dev.get('qdev_id') == 'gpu0'][0]
pci_id = '%04x:%04x' % (ids['vendor'], ids['device'])
pci = qmp.cmd('human-monitor-command', **{'command-line': 'info pci'})
lines = pci.splitlines()
for i, line in enumerate(lines):
    if pci_id in line:              # print our device's block
        for more in lines[i - 1:]:
            print('  ' + more.strip())
            if more.strip().startswith('id '):
                break
        break
card = demo_console.draw(qmp, qtest, get('vgpu-profile'))
ok = demo_console.screenshot(qmp, vnc, client, png, card, 'the source')
ok = demo_migration.migrate(qmp, qemu, client,
                            png[:-4] + '-destination.png', card, mig) and ok
sys.exit(0 if ok else 1)
