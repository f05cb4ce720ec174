#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# vgpu-host-tests.sh BUILDDIR QTEST...: the tests that need real kernel VFIO
# and the simulated vGPU.  Runs inside the test host (tests/vgpu-host/run), where
# nvsim is loaded; prints "vgpu-host: N passed, N failed, N skipped".
set -u
qbuild=$1
shift
if [ -z "${VGPU_HOST:-}" ] || [ ! -d /sys/class/mdev_bus/nvsim ]; then
    echo "vgpu-host-tests: run me through tests/vgpu-host/run" \
         "(needs the nvsim driver)" >&2
    exit 2
fi
results=/vgpu-results        # shared with the host by tests/vgpu-host/run

# The driver's own selftest, straight on VFIO (TAP, then "N passed, ...").
start=$(date +%s.%N)
build/nvsim/nvsim-selftest > "$results/nvsim-selftest.log" 2>&1
st_rc=$?
st_time=$(awk "BEGIN { printf \"%.2f\", $(date +%s.%N) - $start }")
grep -E '^(not ok|Bail)' "$results/nvsim-selftest.log"
st=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$results/nvsim-selftest.log" |
     tail -n 1)
echo "nvsim-selftest: ${st:-no result} ($st_time s)"
[ "$st_rc" = 0 ] && [ -n "$st" ] || cat "$results/nvsim-selftest.log"

# A second simulated GPU with a host driver of another branch, for the
# migration tests; its own selftest checks run in this configuration.
rmmod nvsim && insmod build/nvsim/nvsim.ko parent2_driver_version=535.54.03 ||
    echo "vgpu-host-tests: cannot reload nvsim with a second parent" >&2
build/nvsim/nvsim-selftest > "$results/nvsim-selftest-2.log" 2>&1
st2_rc=$?
grep -E '^(not ok|Bail)' "$results/nvsim-selftest-2.log"
st2=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$results/nvsim-selftest-2.log" |
      tail -n 1)
echo "nvsim-selftest (two parents): ${st2:-no result}"

# nv-vgpu's qtests: here their nvsim tests run instead of skipping.
sh fork/run-tests.sh "$qbuild" qtest "$@" > \
    "$results/qtest.txt" 2>&1
q_rc=$?
# The build tree is a throw-away overlay in here: keep the logs in results.
grep -v -e '^qtest: ' -e '^full log: ' "$results/qtest.txt"
cp "$qbuild/meson-logs/testlog.txt" "$results/qtest-testlog.txt" 2>/dev/null
echo "logs: build/vgpu-host/results/ (nvsim-selftest.log, qtest-testlog.txt," \
     "dmesg.txt)"

# The life cycle under signals, kills and races (process groups: python).
python3 tests/vgpu-host/vgpu-lifecycle-test.py "$qbuild/qemu-system-x86_64" \
    "$qbuild/tools/vgpu/nv-vgpu-reap" > "$results/lifecycle.log" 2>&1
lc_rc=$?
grep -E '^(not ok|# )' "$results/lifecycle.log"
lc=$(grep -E '^lifecycle: [0-9]+ passed, [0-9]+ failed' "$results/lifecycle.log" |
     tail -n 1)
echo "${lc:-lifecycle: no result}"
lp=$(echo "$lc" | sed -n 's/^lifecycle: \([0-9]*\) passed.*/\1/p')
lf=$(echo "$lc" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
[ -n "$lc" ] || lf=1

# One closing line over all.
sp=$(echo "$st" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
sf=$(echo "$st" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
sp2=$(echo "$st2" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
sf2=$(echo "$st2" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
[ -n "$st2" ] || sf2=1
qline=$(grep '^qtest: ' "$results/qtest.txt")
qp=$(echo "$qline" | sed -n 's/^qtest: \([0-9]*\) passed.*/\1/p')
qf=$(echo "$qline" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
qs=$(echo "$qline" | sed -n 's/.* \([0-9]*\) skipped.*/\1/p')
[ -n "$st" ] || sf=1
[ -n "$qline" ] || qf=1
echo "vgpu-host: $(( ${sp:-0} + ${sp2:-0} + ${qp:-0} + ${lp:-0} )) passed," \
     "$(( ${sf:-0} + ${sf2:-0} + ${qf:-0} + ${lf:-0} )) failed, ${qs:-0} skipped"
[ "$st_rc" = 0 ] && [ "$st2_rc" = 0 ] && [ "$q_rc" = 0 ] && [ "$lc_rc" = 0 ]
