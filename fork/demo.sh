#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# demo.sh: the main job (`make demo` builds first).  Boots the test host (tests/vgpu-host), where our
# simulated vGPU driver nvsim stands in for NVIDIA's, and starts a VM with
# `-device nv-vgpu` on a vGPU that QEMU creates; prints what QEMU reports.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

echo "== nv-vgpu's own properties (qemu-system-x86_64 -device nv-vgpu,help)"
build/qemu-build/qemu-system-x86_64 -device nv-vgpu,help |
    grep -E '^  (sysfsdev|parent|mdev-type|uuid|vgpu-[a-z-]*)='

echo "== booting the test host"
exec tests/vgpu-host/run sh fork/demo-vm.sh
