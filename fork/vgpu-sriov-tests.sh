#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# vgpu-sriov-tests.sh BUILDDIR: the tests that need the simulated SR-IOV
# GPU, run in one test host in SR-IOV mode (VGPU_HOST_SRIOV=1
# tests/vgpu-host/run, q35 with the emulated IOMMU); prints "vgpu-sriov: N
# passed, N failed, N skipped".  The smoke test comes first, while no
# driver of ours has the GPU: it checks the device model and the kernel's
# view of it.  Then nvsim is loaded and its VF front is tested on sysfs and
# VFIO, and then nv-vgpu on its VFs (the qtest nv-vgpu-sriov-test).
set -u
qbuild=${1:-build/qemu-build}
if [ -z "${VGPU_HOST:-}" ] || [ ! -d /sys/class/iommu/dmar0 ]; then
    echo "vgpu-sriov-tests: run me through VGPU_HOST_SRIOV=1 tests/vgpu-host/run" >&2
    exit 2
fi
results=/vgpu-results        # shared with the host by tests/vgpu-host/run
passed=0 failed=0 skipped=0

# count NAME LOG: add the "NAME: N passed, N failed[, N skipped]" line of
# LOG to the totals; a log without one counts as a failure.
count() {
    line=$(grep -E "^$1: [0-9]+ passed, [0-9]+ failed" "$2" | tail -n 1)
    echo "${line:-$1: no result}"
    if [ -z "$line" ]; then
        cat "$2"
        failed=$((failed + 1))
        return
    fi
    set -- $line
    passed=$((passed + $2))
    failed=$((failed + ${4%,}))
    [ $# -ge 7 ] && skipped=$((skipped + $6))
}

bash tests/vgpu-host/sriov-smoke-test.sh > "$results/sriov-smoke.log" 2>&1
sm_rc=$?
grep -E '^(not ok|# )' "$results/sriov-smoke.log"
count sriov-smoke "$results/sriov-smoke.log"
[ "$sm_rc" = 0 ] || failed=$((failed + 1))

# The smoke test leaves the PF with pci-pf-stub: hand it to nvsim.
pf=$(grep -l '^0x27b8$' /sys/bus/pci/devices/*/device 2>/dev/null | head -n 1)
pf=${pf%/device}
if [ -n "$pf" ] && [ -e "$pf/driver" ]; then
    echo "${pf##*/}" > "$pf/driver/unbind"
fi
if ! err=$(insmod build/nvsim/nvsim.ko 2>&1); then
    echo "vgpu-sriov-tests: insmod nvsim.ko failed: $err"
    failed=$((failed + 1))
else
    build/nvsim/nvsim-sriov-selftest > "$results/nvsim-sriov-selftest.log" 2>&1
    st_rc=$?
    grep -E '^(not ok|Bail)' "$results/nvsim-sriov-selftest.log"
    # "N passed, N failed, N skipped" of the selftest, under our name
    sed -n 's/^\([0-9]* passed, [0-9]* failed.*\)/nvsim-sriov-selftest: \1/p' \
        "$results/nvsim-sriov-selftest.log" > "$results/nvsim-sriov-count.log"
    count nvsim-sriov-selftest "$results/nvsim-sriov-count.log"
    [ "$st_rc" = 0 ] || failed=$((failed + 1))
    # no simulated GPU would be a skip there; here it is a failure
    if grep -q '^1\.\.0 # SKIP' "$results/nvsim-sriov-selftest.log"; then
        failed=$((failed + 1))
    fi

    # nv-vgpu on the VFs, end to end; a skip here would hide a broken setup
    start=$(date +%s)
    sh fork/run-tests.sh "$qbuild" sriov-qtest qtest-x86_64/nv-vgpu-sriov-test \
        > "$results/sriov-qtest.txt" 2>&1
    q_rc=$?
    grep -v -e '^sriov-qtest: ' -e '^full log: ' "$results/sriov-qtest.txt"
    cp "$qbuild/meson-logs/testlog.txt" "$results/sriov-qtest-testlog.txt" \
        2>/dev/null
    grep '^sriov-qtest: ' "$results/sriov-qtest.txt" > "$results/sriov-qtest.log"
    count sriov-qtest "$results/sriov-qtest.log"
    echo "sriov-qtest: $(( $(date +%s) - start )) s; log in" \
         "build/vgpu-sriov/results/sriov-qtest-testlog.txt"
    [ "$q_rc" = 0 ] || failed=$((failed + 1))
    if grep -q '^ok .*# SKIP' "$results/sriov-qtest-testlog.txt"; then
        grep '^ok .*# SKIP' "$results/sriov-qtest-testlog.txt"
        failed=$((failed + 1))
    fi
fi

echo "vgpu-sriov: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
