#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# sriov-smoke-test.sh: the simulated SR-IOV GPU (hw/misc/nvsim-sriov-gpu.c)
# as the test host's kernel sees it, with the kernel's own pci-pf-stub as
# the PF driver.  Run it in the SR-IOV test host:
#     VGPU_HOST_SRIOV=1 tests/vgpu-host/run bash tests/vgpu-host/sriov-smoke-test.sh
# Prints TAP and "sriov-smoke: N passed, N failed"; exits 1 on a failure.
# Each check depends on the ones before it (one PF, bound, VFs made), so
# the first failure ends the run and the rest count as failed.
# Sysfs reads are builtins: every exec costs under TCG.
set -u

VENDOR=0x10de DEVICE=0x27b8 CLASS=0x030200 SUBSYS=0x16ca
TOTAL_VFS=4 NUM_VFS=2
MiB=$((1 << 20))
# struct resource flags, as sysfs "resource" shows them
IORESOURCE_MEM=0x200 IORESOURCE_PREFETCH=0x2000 IORESOURCE_MEM_64=0x100000

checks=(
    "iommu: the emulated IOMMU is on"
    "pf: exactly one PF with NVIDIA's IDs, class and subsystem"
    "pf: BAR0 is 16 MiB and reads 0x10de27b8 at offset 0"
    "pf: SR-IOV capability, TotalVFs 4, offset 1, stride 1, VF device 27b8"
    "pf: ACS capability"
    "pf: binds to pci-pf-stub through driver_override"
    "vfs: more than TotalVFs is refused"
    "vfs: sriov_numvfs=2 makes exactly two VFs"
    "vfs: IDs, class, subsystem and physfn of each VF"
    "vfs: BAR0 16 MiB 32-bit, BAR1 256 MiB 64-bit prefetchable"
    "vfs: each VF alone in an IOMMU group of its own"
    "vfio: a VF's group in a type1 container, a DMA map, the BAR regions"
    "vfs: sriov_numvfs=0 removes them"
)
n=0 passed=0
echo "1..${#checks[@]}"
fail() {
    local i
    echo "not ok $((n + 1)) - ${checks[n]}"
    echo "# $*"
    for ((i = n + 1; i < ${#checks[@]}; i++)); do
        echo "not ok $((i + 1)) - ${checks[i]} # not reached"
    done
    echo "sriov-smoke: $passed passed, $(( ${#checks[@]} - passed )) failed"
    exit 1
}
ok() {
    echo "ok $((n + 1)) - ${checks[n]}"
    n=$((n + 1)) passed=$((passed + 1))
}
rd() { local v; read -r v 2>/dev/null < "$1" && echo "$v"; }

# is_id DEV: the device has the simulated GPU's identity
is_id() {
    [ "$(rd "$1/vendor")" = $VENDOR ] && [ "$(rd "$1/device")" = $DEVICE ] &&
        [ "$(rd "$1/class")" = $CLASS ] &&
        [ "$(rd "$1/subsystem_vendor")" = $VENDOR ] &&
        [ "$(rd "$1/subsystem_device")" = $SUBSYS ]
}

# bar DEV N: "size flags" of BAR N, from sysfs "resource"
bar() {
    local i=0 start end flags
    while read -r start end flags; do
        if [ $i = "$2" ]; then
            [ $((start)) = 0 ] && { echo "0 0"; return; }
            echo "$((end - start + 1)) $((flags))"
            return
        fi
        i=$((i + 1))
    done < "$1/resource"
}

# ext_caps DEV: the IDs of the PCIe extended capabilities in config space,
# in hex, one a line, from the 4 KiB of config space sysfs shows root.
ext_caps() {
    local -a cfg
    local off=0x100 hdr guard=0
    # (no /dev/fd in the test host, so no process substitution)
    read -ra cfg -d '' <<< "$(od -An -v -tx1 "$1/config")"
    [ ${#cfg[@]} -ge 4096 ] || return
    while [ $off != 0 ] && [ $guard -lt 64 ]; do
        hdr=$(( 0x${cfg[off + 3]} << 24 | 0x${cfg[off + 2]} << 16 |
                0x${cfg[off + 1]} << 8 | 0x${cfg[off]} ))
        [ $hdr = 0 ] && break
        printf '%04x\n' $((hdr & 0xffff))
        off=$(( (hdr >> 20) & 0xffc ))
        guard=$((guard + 1))
    done
}

# 1: the IOMMU
case " $(rd /proc/cmdline) " in
    *" intel_iommu=on "*) ;;
    *) fail "intel_iommu=on is not on the kernel command line" ;;
esac
[ -d /sys/class/iommu/dmar0 ] || fail "no /sys/class/iommu/dmar0: intel-iommu is not in use"
ok

# 2: the PF
pfs=()
for d in /sys/bus/pci/devices/*; do
    [ "$(rd "$d/vendor")" = $VENDOR ] && [ "$(rd "$d/device")" = $DEVICE ] &&
        [ ! -e "$d/physfn" ] && pfs+=("$d")
done
[ ${#pfs[@]} = 1 ] || fail "expected one 10de:27b8 PF, found ${#pfs[@]}: ${pfs[*]}"
pf=$(cd "${pfs[0]}" && pwd -P) bdf=${pf##*/}
is_id "$pf" || fail "$bdf: class $(rd "$pf/class"), subsystem" \
    "$(rd "$pf/subsystem_vendor"):$(rd "$pf/subsystem_device")"
echo "# PF $bdf"
ok

# 3: PF BAR0, before any driver maps it (IO_STRICT_DEVMEM)
read -r size flags <<< "$(bar "$pf" 0)"
[ "$size" = $((16 * MiB)) ] || fail "$bdf BAR0 is $size bytes"
read -r start _ < "$pf/resource"
boot0=$(busybox devmem $((start)) 32) || fail "busybox devmem $start failed"
[ "$((boot0))" = $((0x10de27b8)) ] || fail "$bdf BAR0 offset 0 reads $boot0"
ok

# 4: SR-IOV as the kernel parsed it
got="$(rd "$pf/sriov_totalvfs") $(rd "$pf/sriov_numvfs") $(rd "$pf/sriov_offset")"
got="$got $(rd "$pf/sriov_stride") $(rd "$pf/sriov_vf_device")"
[ "$got" = "$TOTAL_VFS 0 1 1 27b8" ] ||
    fail "$bdf sriov_totalvfs numvfs offset stride vf_device: '$got'"
ok

# 5: ACS (extended capability 0x000d); SR-IOV (0x0010) must be found too
caps=$(ext_caps "$pf" | tr '\n' ' ')
case " $caps" in *" 0010 "*) ;; *) fail "$bdf: no SR-IOV in the ext caps ($caps)" ;; esac
case " $caps" in *" 000d "*) ;; *) fail "$bdf: no ACS in the ext caps ($caps)" ;; esac
ok

# 6: pci-pf-stub, which only enables VFs (in place of any driver that
# has the PF)
modprobe pci-pf-stub || fail "modprobe pci-pf-stub failed"
echo pci-pf-stub > "$pf/driver_override" || fail "writing driver_override failed"
[ -e "$pf/driver" ] && echo "$bdf" > "$pf/driver/unbind"
echo "$bdf" > /sys/bus/pci/drivers_probe
drv=$(readlink "$pf/driver")
[ "${drv##*/}" = pci-pf-stub ] || fail "$bdf is bound to '${drv##*/}'"
ok

# 7: TotalVFs is the limit (the kernel answers ERANGE)
if err=$( { echo $((TOTAL_VFS + 1)) > "$pf/sriov_numvfs"; } 2>&1 ); then
    fail "sriov_numvfs=$((TOTAL_VFS + 1)) was accepted"
fi
case $err in *"out of range"*) ;; *) fail "sriov_numvfs=$((TOTAL_VFS + 1)): '$err'" ;; esac
[ "$(rd "$pf/sriov_numvfs")" = 0 ] || fail "sriov_numvfs is $(rd "$pf/sriov_numvfs")"
ok

# 8: two VFs, which no driver may take before we bind them below
echo 0 > "$pf/sriov_drivers_autoprobe" || fail "writing sriov_drivers_autoprobe failed"
echo $NUM_VFS > "$pf/sriov_numvfs" || fail "writing sriov_numvfs=$NUM_VFS failed"
[ "$(rd "$pf/sriov_numvfs")" = $NUM_VFS ] || fail "sriov_numvfs reads $(rd "$pf/sriov_numvfs")"
vfs=()
for l in "$pf"/virtfn*; do
    [ -e "$l" ] && vfs+=("$(cd "$l" && pwd -P)")
done
[ ${#vfs[@]} = $NUM_VFS ] || fail "${#vfs[@]} virtfn links: ${vfs[*]}"
for v in "${vfs[@]}"; do echo "# VF ${v##*/}"; done
ok

# 9: what each VF says it is
for v in "${vfs[@]}"; do
    is_id "$v" || fail "${v##*/}: $(rd "$v/vendor"):$(rd "$v/device") class" \
        "$(rd "$v/class") subsystem $(rd "$v/subsystem_vendor"):$(rd "$v/subsystem_device")"
    [ "$(cd "$v/physfn" && pwd -P)" = "$pf" ] || fail "${v##*/}: physfn is not $bdf"
done
ok

# 10: VF BARs: sizes and the type bits
for v in "${vfs[@]}"; do
    read -r size flags <<< "$(bar "$v" 0)"
    [ "$size" = $((16 * MiB)) ] && (( flags & IORESOURCE_MEM )) &&
        ! (( flags & (IORESOURCE_MEM_64 | IORESOURCE_PREFETCH) )) ||
        fail "${v##*/} BAR0: size $size flags $(printf %#x "$flags")"
    read -r size flags <<< "$(bar "$v" 1)"
    (( (flags & (IORESOURCE_MEM | IORESOURCE_MEM_64 | IORESOURCE_PREFETCH)) ==
       (IORESOURCE_MEM | IORESOURCE_MEM_64 | IORESOURCE_PREFETCH) )) &&
        [ "$size" = $((256 * MiB)) ] ||
        fail "${v##*/} BAR1: size $size flags $(printf %#x "$flags")"
done
ok

# 11: IOMMU groups: one VF each, none shared (nor with the PF)
g=$(readlink "$pf/iommu_group") || fail "$bdf has no IOMMU group"
seen=" ${g##*/} "
for v in "${vfs[@]}"; do
    g=$(readlink "$v/iommu_group") || fail "${v##*/} has no IOMMU group"
    g=${g##*/}
    case $seen in *" $g "*) fail "${v##*/} shares IOMMU group $g" ;; esac
    seen="$seen$g "
    members=(/sys/kernel/iommu_groups/"$g"/devices/*)
    [ ${#members[@]} = 1 ] && [ "${members[0]##*/}" = "${v##*/}" ] ||
        fail "group $g holds ${members[*]##*/}"
    echo "# ${v##*/}: IOMMU group $g"
done
ok

# 12: what a VMM does with a VF (here through vfio-pci): type1 wants
# isolated MSI, i.e. interrupt remapping, and maps into the IOMMU
v=${vfs[0]}
modprobe vfio-pci || fail "modprobe vfio-pci failed"
echo vfio-pci > "$v/driver_override" || fail "writing driver_override failed"
echo "${v##*/}" > /sys/bus/pci/drivers_probe
drv=$(readlink "$v/driver")
[ "${drv##*/}" = vfio-pci ] || fail "${v##*/} is bound to '${drv##*/}'"
got=$(/usr/bin/python3 "$(dirname "$0")/vfio-group-probe.py" "${v##*/}" 2>&1) ||
    fail "$got"
[ "$got" = "bar0=$((16 * MiB)) bar1=$((256 * MiB))" ] || fail "vfio-group-probe: $got"
ok

# 13: and away again
echo 0 > "$pf/sriov_numvfs" || fail "writing sriov_numvfs=0 failed"
for v in "${vfs[@]}"; do
    [ ! -e "$v" ] || fail "${v##*/} is still there"
done
left=("$pf"/virtfn*)
[ ! -e "${left[0]}" ] || fail "virtfn links left: ${left[*]}"
[ "$(rd "$pf/sriov_numvfs")" = 0 ] || fail "sriov_numvfs reads $(rd "$pf/sriov_numvfs")"
ok
echo 1 > "$pf/sriov_drivers_autoprobe"
echo > "$pf/driver_override"

echo "sriov-smoke: $passed passed, 0 failed"
