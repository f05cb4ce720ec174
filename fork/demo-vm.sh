#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# demo-vm.sh: the demo's part inside the test host (see demo.sh).
set -eu
qemu=build/qemu-build/qemu-system-x86_64
types=/sys/class/mdev_bus/nvsim/mdev_supported_types

# A second simulated GPU, of the same driver branch, to migrate to.
rmmod nvsim && insmod build/nvsim/nvsim.ko parent2_driver_version=550.127.08

echo "== the simulated GPU 'nvsim' and its vGPU types (a second one, nvsim2, has the same)"
for t in "$types"/*; do
    printf '  %-10s %-11s free %-2s %s\n' "$(basename "$t")" "$(cat "$t/name")" \
        "$(cat "$t/available_instances")" "$(cat "$t/description")"
done

echo "== starting a VM with -device nv-vgpu,parent=nvsim,mdev-type=\"GRID P4-8C\""
# QMP for management; qtest lets this script play the guest's display
# driver (there is no guest OS); VNC shows head 0.
sock=/tmp/nv-vgpu-demo.qmp
qtest=/tmp/nv-vgpu-demo.qtest
vnc=/tmp/nv-vgpu-demo.vnc
$qemu -machine q35 -accel tcg -m 256 -nodefaults -display none \
    -serial none -qmp unix:$sock,server=on,wait=off \
    -qtest unix:$qtest,server=on,wait=off -qtest-log none \
    -vnc unix:$vnc \
    -device 'nv-vgpu,id=gpu0,addr=04.0,parent=nvsim,mdev-type=GRID P4-8C' &
pid=$!
PYTHONPATH=build/qemu/python python3 fork/demo-qmp.py "$sock" "$qtest" \
    "$vnc" "${VGPU_VNC_CLIENT:-build/vnc/vgpu-vnc-client}" \
    /vgpu-results/nv-vgpu-console.png "$qemu"
status=0
wait "$pid" || status=$?
[ "$status" = 0 ] || { echo "QEMU exited with status $status" >&2; exit 1; }

sleep 1     # QEMU's helpers remove the vGPUs it created as it exits
echo "== after both QEMUs exited: mdevs left on the host: $(ls /sys/bus/mdev/devices | wc -l)," \
     "free GRID P4-8C instances: $(cat "$types"/nvsim-289/available_instances) on nvsim," \
     "$(cat /sys/class/mdev_bus/nvsim2/mdev_supported_types/nvsim-289/available_instances) on nvsim2"
