#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# demo-sriov.sh: the demo's SR-IOV part inside the test host, booted in
# SR-IOV mode without our modules (see demo.sh): nvsim takes the simulated
# SR-IOV GPU, and a VM gets a vGPU on one of its VFs, typed by QEMU from
# `parent=<PF>,profile=...`; console and live migration as in demo-vm.sh.
set -eu
qemu=build/qemu-build/qemu-system-x86_64
numvfs=4
profile='NVIDIA L4-2Q'

pf=$(grep -l '^0x27b8$' /sys/bus/pci/devices/*/device | head -n 1)
pf=${pf%/device}
[ -n "$pf" ] || { echo "demo-sriov: no simulated SR-IOV GPU (10de:27b8)" >&2; exit 1; }
# Whichever driver has the PF (none at boot; pci-pf-stub after the SR-IOV
# smoke test) must let go of it for nvsim's PCI driver to bind it.
if [ -e "$pf/driver" ]; then
    echo "${pf##*/}" > "$pf/driver/unbind"
fi
insmod build/nvsim/nvsim.ko
driver=$(readlink "$pf/driver")
[ "${driver##*/}" = nvsim-sriov ] ||
    { echo "demo-sriov: PF ${pf##*/} is bound to ${driver##*/}, not nvsim-sriov" >&2; exit 1; }
echo "$numvfs" > "$pf/sriov_numvfs"

read -r dev < "$pf/device"
echo "== the simulated SR-IOV GPU: PF ${pf##*/} (10de:${dev#0x}, driver nvsim-sriov)," \
     "$numvfs VFs enabled through its sriov_numvfs"
vfs=
i=0
while [ "$i" -lt "$numvfs" ]; do
    vf=$(readlink -f "$pf/virtfn$i")
    read -r type < "$vf/nvidia/current_vgpu_type"
    read -r plane < "$vf/nvsim/plane"
    driver=$(readlink "$vf/driver")
    echo "  VF$i ${vf##*/}  driver ${driver##*/}, nvidia/current_vgpu_type $type," \
         "nvsim/plane $plane"
    vfs="$vfs $vf"
    i=$((i + 1))
done
vf0=$(readlink -f "$pf/virtfn0")
echo "== VF0's vGPU types (nvidia/creatable_vgpu_types)"
sed 's/^/  /' "$vf0/nvidia/creatable_vgpu_types"
grep -q ": $profile\$" "$vf0/nvidia/creatable_vgpu_types" ||
    { echo "demo-sriov: $profile is not creatable on VF0" >&2; exit 1; }

echo "== starting a VM with -device nv-vgpu,parent=${pf##*/},profile=\"$profile\""
# As in demo-vm.sh: QMP, qtest to play the guest's driver, VNC.
sock=/tmp/nv-vgpu-demo.qmp
qtest=/tmp/nv-vgpu-demo.qtest
vnc=/tmp/nv-vgpu-demo.vnc
$qemu -machine q35 -accel tcg -m 256 -nodefaults -display none \
    -serial none -qmp unix:$sock,server=on,wait=off \
    -qtest unix:$qtest,server=on,wait=off -qtest-log none \
    -vnc unix:$vnc \
    -device "nv-vgpu,id=gpu0,addr=04.0,parent=${pf##*/},profile=$profile" &
pid=$!
PYTHONPATH=build/qemu/python python3 fork/demo-qmp.py "$sock" "$qtest" \
    "$vnc" "${VGPU_VNC_CLIENT:-build/vnc/vgpu-vnc-client}" \
    /vgpu-results/nv-vgpu-sriov-console.png "$qemu" "${pf##*/}"
status=0
wait "$pid" || status=$?
[ "$status" = 0 ] || { echo "QEMU exited with status $status" >&2; exit 1; }

# QEMU's helpers release the types it gave as it exits; wait for them.
left=
for _ in 1 2 3 4 5 6 7 8 9 10; do
    left=
    for vf in $vfs; do
        read -r type < "$vf/nvidia/current_vgpu_type"
        [ "$type" = 0 ] || left="$left ${vf##*/}"
    done
    [ -z "$left" ] && [ -z "$(ls /run/nv-vgpu 2>/dev/null)" ] && break
    sleep 1
done
types=
for vf in $vfs; do
    read -r type < "$vf/nvidia/current_vgpu_type"
    types="$types $type"
done
echo "== after both QEMUs exited: the VFs' nvidia/current_vgpu_type:$types;" \
     "QEMU's records left in /run/nv-vgpu: $(ls /run/nv-vgpu 2>/dev/null | wc -l)"
[ -z "$left" ] || { echo "demo-sriov: VFs left typed:$left" >&2; exit 1; }
