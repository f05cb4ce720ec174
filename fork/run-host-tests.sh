#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# run-host-tests.sh BUILDDIR LABEL TEST...: run meson tests by name, then
# print a closing line "LABEL: N passed, N failed, N skipped" that counts
# the subtests of the suites that passed, and each suite that failed or
# was skipped as one.
set -u
qbuild=$1
label=$2
shift 2
log=$qbuild/meson-logs/nv-vgpu-$label-tests.txt
meson test -C "$qbuild" --no-rebuild --print-errorlogs "$@" > "$log" 2>&1
rc=$?
lines=$(grep -E '^ *[0-9]+/[0-9]+ ' "$log" | sort -u -t/ -k1,1n)
printf '%s\n' "$lines"
if [ "$rc" != 0 ]; then
    grep -E -B2 -A30 '^(not ok|Bail out|.*ERROR:)' "$log" | tail -n 80
fi
passed=$(printf '%s\n' "$lines" | sed -n 's/.* OK .* \([0-9][0-9]*\) subtests passed.*/\1/p' |
         awk '{ n += $1 } END { print n + 0 }')
failed=$(printf '%s\n' "$lines" | grep -c -E ' (FAIL|ERROR|TIMEOUT) ')
skipped=$(printf '%s\n' "$lines" | grep -c -E ' SKIP ')
echo "full log: $log"
echo "$label: $passed passed, $failed failed, $skipped skipped"
exit $rc
