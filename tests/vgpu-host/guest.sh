#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The test host's side of tests/vgpu-host/run.  init runs this with the
# host's bash, chrooted into the overlay of the host's /, with an empty
# environment, once the shares are mounted and the modules loaded.
# /run/vgpu-host is the run's control folder: env.sh comes from run; we
# leave status, dmesg and timings there.  Forks are slow under TCG: builtins
# only until CMD runs.
# shellcheck disable=SC2154
set -u
read -r up0 _ < /proc/uptime
ctl=/run/vgpu-host
# Sets vh_mode, vh_cwd, vh_args, vh_size and the caller's variables.
# shellcheck source=/dev/null
. "$ctl/env.sh"

say() { echo "vgpu-host: $*" >&2; }
finish() {
    echo "$1" > "$ctl/status"
    dmesg > "$ctl/dmesg" 2>/dev/null
    exit 0
}

if [ "$vh_mode" = run ]; then
    out='' err=''
    # Ports are announced asynchronously; they are normally long there.
    for ((i = 0; i < 100; i++)); do
        for p in /sys/class/virtio-ports/vport*; do
            name=
            read -r name < "$p/name" 2>/dev/null
            case $name in
                vgpu.stdout) out=/dev/${p##*/} ;;
                vgpu.stderr) err=/dev/${p##*/} ;;
            esac
        done
        [ -n "$out" ] && [ -n "$err" ] && break
        sleep 0.05
    done
    if [ -z "$out" ] || [ -z "$err" ]; then
        say "no virtio ports for stdout/stderr" 2>> "$ctl/error"
        finish 125
    fi
    exec 2> "$err"
fi

cd "$vh_cwd" || { say "cannot cd to $vh_cwd"; finish 125; }
unset OLDPWD
read -r up _ < /proc/uptime
echo "$up0 $up" > "$ctl/uptime"

if [ "$vh_mode" = shell ]; then
    # The console is the caller's terminal: size it like the caller's.
    [ -n "$vh_size" ] && stty -F /dev/ttyS0 rows "${vh_size% *}" cols "${vh_size#* }"
    echo "vgpu-host: shell up after ${up}s; 'exit' powers off" > /dev/ttyS0
    setsid -c -w bash -i < /dev/ttyS0 > /dev/ttyS0 2>&1
    finish $?
fi

# Only run's boot-time meter looks for this line on the console.
echo "vgpu-host: cmd start at ${up}s" > /dev/console
# A port opens only once: stderr is already on its port.
"${vh_args[@]}" < /dev/null > "$out"
finish $?
