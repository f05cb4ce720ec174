#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# demo.sh: the main job (`make demo` builds first).  Boots the test host (tests/vgpu-host), where our
# simulated vGPU driver nvsim stands in for NVIDIA's, and starts a VM with
# `-device nv-vgpu` on a vGPU that QEMU creates; prints what QEMU reports,
# and saves a screenshot of the vGPU's console taken over VNC.
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
