#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# run-tests.sh BUILDDIR LABEL TEST...: run meson tests by name, then
# print a closing line "LABEL: N passed, N failed, N skipped" that counts
# their subtests.
set -u
qbuild=$1
label=$2
shift 2
log=$qbuild/meson-logs/nv-vgpu-$label-tests.txt
# The test host runs under TCG, where the two-QEMU migration and console
# qtests take minutes: give them room (meson's qtest default is 60 s).
mult=10
[ "$label" = host ] || mult=30
meson test -C "$qbuild" --no-rebuild --print-errorlogs --timeout-multiplier $mult \
    "$@" > "$log" 2>&1
rc=$?
lines=$(grep -E '^ *[0-9]+/[0-9]+ ' "$log" | sort -u -t/ -k1,1n)
printf '%s\n' "$lines"
if [ "$rc" != 0 ]; then
    grep -E -B2 -A30 '^(not ok|Bail out|.*ERROR:)' "$log" | tail -n 80
fi
echo "full log: $log"
python3 "$(dirname "$0")/count-tests.py" "$qbuild/meson-logs/testlog.json" "$label"
exit $rc
