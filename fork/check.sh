#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# check.sh: `make check`: the host tests (with a short run of each fuzz
# target), the test-host tests, the SR-IOV tests and the libvirt tests
# (each in a test host of their own), then one closing line "total: N
# passed, N failed, N skipped" over the five counts.
set -u
cd "$(dirname "$0")/.."
mkdir -p build
rc=0
for suite in check-host check-vgpu-host check-vgpu-sriov check-libvirt; do
    { make --no-print-directory $suite 2>&1; echo $? > build/$suite.rc; } |
        tee build/$suite.log
    [ "$(cat build/$suite.rc)" = 0 ] || rc=1
done
cat build/check-host.log build/check-vgpu-host.log build/check-vgpu-sriov.log \
    build/check-libvirt.log | awk '
    /^(host|fuzz|vgpu-host|vgpu-sriov|libvirt): [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$/ {
        p += $2; f += $4; s += $6; n++
    }
    END {
        if (n < 5) f++      # a suite that never got to count counts as failed
        printf "total: %d passed, %d failed, %d skipped\n", p, f, s
    }'
exit $rc
