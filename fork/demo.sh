#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# demo.sh: the main job (`make demo` builds first).  Boots the test host (tests/vgpu-host), where our
# simulated vGPU driver nvsim stands in for NVIDIA's, and starts a VM with
# `-device nv-vgpu` on a vGPU that QEMU creates; prints what QEMU reports,
# and saves a screenshot of the vGPU's console taken over VNC.  Then the
# same on a VF of the simulated SR-IOV GPU (demo-sriov.sh, a test host in
# SR-IOV mode), and the libvirt part (demo-libvirt.py): virsh start, virsh
# screenshot, noVNC in Chromium, virsh migrate to a second daemon.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

echo "== nv-vgpu's own properties (qemu-system-x86_64 -device nv-vgpu,help)"
build/qemu-build/qemu-system-x86_64 -device nv-vgpu,help |
    grep -E '^  (sysfsdev|parent|mdev-type|uuid|console-fps|vgpu-[a-z-]*)='

echo "== booting the test host"
results=${VGPU_HOST_RESULTS:-build/vgpu-host/results}
rm -f "$results"/nv-vgpu-console*.png
tests/vgpu-host/run sh fork/demo-vm.sh
mkdir -p build/demo
cp "$results/nv-vgpu-console.png" "$results/nv-vgpu-console-destination.png" \
    build/demo/
echo "== head 0 of the vGPU as the VNC client saw it: build/demo/nv-vgpu-console.png"
echo "   and on the migration's destination: build/demo/nv-vgpu-console-destination.png"

echo "== the same on an SR-IOV vGPU (a second test-host boot, in SR-IOV mode)"
rm -f "$results"/nv-vgpu-sriov-console*.png
# no modules at boot: demo-sriov.sh frees the PF, then loads nvsim
VGPU_HOST_SRIOV=1 VGPU_HOST_MODULES='' tests/vgpu-host/run sh fork/demo-sriov.sh
cp "$results/nv-vgpu-sriov-console.png" \
    "$results/nv-vgpu-sriov-console-destination.png" build/demo/
echo "== head 0 of the VF's vGPU: build/demo/nv-vgpu-sriov-console.png"
echo "   and on the migration's destination: build/demo/nv-vgpu-sriov-console-destination.png"

echo "== the same under libvirt 11.3 (a third test-host boot)"
rm -f "$results"/libvirt-*.png
tests/vgpu-host/run /usr/bin/python3 fork/demo-libvirt.py
cp "$results/libvirt-virsh-screenshot.png" "$results/libvirt-novnc.png" \
    "$results/libvirt-destination.png" build/demo/
echo "== virsh screenshot: build/demo/libvirt-virsh-screenshot.png; noVNC in" \
     "Chromium: build/demo/libvirt-novnc.png; after virsh migrate:" \
     "build/demo/libvirt-destination.png"
