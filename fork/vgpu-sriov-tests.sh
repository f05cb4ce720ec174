#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# vgpu-sriov-tests.sh: the tests that need the simulated SR-IOV GPU.  Runs
# inside the SR-IOV test host (VGPU_HOST_SRIOV=1 tests/vgpu-host/run), where
# nvsim is loaded and drives the GPU; prints
# "vgpu-sriov: N passed, N failed, N skipped".
set -u
if [ -z "${VGPU_HOST:-}" ] || [ ! -d /sys/bus/pci/drivers/nvsim-sriov ]; then
    echo "vgpu-sriov-tests: run me through VGPU_HOST_SRIOV=1 tests/vgpu-host/run" \
         "(needs the nvsim driver)" >&2
    exit 2
fi
results=/vgpu-results

# VFIO's type1 IOMMU backend refuses a group (VFIO_SET_IOMMU: -EPERM) on
# an IOMMU without interrupt remapping unless told to allow it, and the
# test host's intel-iommu has none (intremap=off).  Nothing here does real
# DMA or MSI through it.
p=/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts
if ! dmesg | grep -q 'Enabled IRQ remapping' && [ -w "$p" ]; then
    echo 1 > "$p"
fi

# The VF front of the driver, straight on sysfs and VFIO.
build/nvsim/nvsim-sriov-selftest > "$results/nvsim-sriov-selftest.log" 2>&1
st_rc=$?
grep -E '^(not ok|Bail)' "$results/nvsim-sriov-selftest.log"
st=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$results/nvsim-sriov-selftest.log" |
     tail -n 1)
echo "nvsim-sriov-selftest: ${st:-no result}"
[ "$st_rc" = 0 ] && [ -n "$st" ] || cat "$results/nvsim-sriov-selftest.log"
# no simulated GPU would be a skip there; here it is a failure
grep -q '^1\.\.0 # SKIP' "$results/nvsim-sriov-selftest.log" && st_rc=1

sp=$(echo "$st" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
sf=$(echo "$st" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
[ -n "$st" ] || sf=1
[ "$st_rc" = 0 ] || [ "${sf:-0}" != 0 ] || sf=1
echo "vgpu-sriov: ${sp:-0} passed, ${sf:-0} failed, 0 skipped"
[ "$st_rc" = 0 ]
