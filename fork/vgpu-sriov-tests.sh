#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# vgpu-sriov-tests.sh: the tests that need the simulated SR-IOV GPU, run in
# one test host in SR-IOV mode (VGPU_HOST_SRIOV=1 tests/vgpu-host/run, q35
# with the emulated IOMMU); prints "vgpu-sriov: N passed, N failed, N
# skipped".  The smoke test comes first, while no driver of ours has the
# GPU: it checks the device model and the kernel's view of it.
set -u
if [ -z "${VGPU_HOST:-}" ] || [ ! -d /sys/class/iommu/dmar0 ]; then
    echo "vgpu-sriov-tests: run me through VGPU_HOST_SRIOV=1 tests/vgpu-host/run" >&2
    exit 2
fi
results=/vgpu-results        # shared with the host by tests/vgpu-host/run

bash tests/vgpu-host/sriov-smoke-test.sh > "$results/sriov-smoke.log" 2>&1
sm_rc=$?
grep -E '^(not ok|# )' "$results/sriov-smoke.log"
sm=$(grep -E '^sriov-smoke: [0-9]+ passed, [0-9]+ failed' "$results/sriov-smoke.log" |
     tail -n 1)
echo "${sm:-sriov-smoke: no result}"
[ -n "$sm" ] || cat "$results/sriov-smoke.log"
smp=$(echo "$sm" | sed -n 's/^sriov-smoke: \([0-9]*\) passed.*/\1/p')
smf=$(echo "$sm" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
[ -n "$sm" ] || smf=1

echo "vgpu-sriov: ${smp:-0} passed, ${smf:-0} failed, 0 skipped"
[ "$sm_rc" = 0 ]
