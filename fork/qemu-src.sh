#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Fetch and unpack upstream QEMU 10.0.x from Debian's `qemu` source package
# into $1 (default: build/upstream/).  Prints the version used and records it in
# $1/.nv-vgpu-version.  QEMU_SRC=/path/to/qemu-10.0.x skips the download.
set -eu

pinned=$(cat "$(dirname "$0")/QEMU_VERSION")
dest=${1:-build/upstream}

if [ -n "${QEMU_SRC:-}" ]; then
    v=$(cat "$QEMU_SRC/VERSION" 2>/dev/null) || {
        echo "qemu-src: QEMU_SRC=$QEMU_SRC has no VERSION file;" \
             "point it at an unpacked QEMU 10.0.x tree" >&2
        exit 1
    }
    case $v in
    10.0.*) ;;
    *) echo "qemu-src: QEMU_SRC is QEMU $v; this fork needs 10.0.x" >&2
       exit 1 ;;
    esac
    echo "qemu-src: using QEMU $v from QEMU_SRC=$QEMU_SRC"
    exit 0
fi

if [ -f "$dest/.nv-vgpu-version" ]; then
    echo "qemu-src: QEMU $(cat "$dest/.nv-vgpu-version") already in $dest/"
    exit 0
fi

command -v apt-get >/dev/null && command -v dpkg-source >/dev/null || {
    echo "qemu-src: needs apt-get and dpkg-source (Debian);" \
         "elsewhere set QEMU_SRC=/path/to/qemu-10.0.x" >&2
    exit 1
}

# Which 10.0.x versions does the archive offer?  Prefer the pinned one.
avail=$(apt-cache showsrc qemu 2>/dev/null |
        sed -n 's/^Version: //p' | grep '^1:10\.0\.' | sort -u) || true
if [ -z "$avail" ]; then
    echo "qemu-src: no qemu 10.0.x source package is known to apt." >&2
    echo "  Run 'make deps' as root (it adds a deb-src entry for trixie)," >&2
    echo "  or set QEMU_SRC=/path/to/qemu-10.0.x." >&2
    exit 1
fi
if printf '%s\n' "$avail" | grep -qx "1:$pinned"; then
    ver=$pinned
else
    ver=$(printf '%s\n' "$avail" | sed 's/^1://' |
          sort -V | tail -n 1)
    echo "qemu-src: pinned qemu $pinned has left the archive;" \
         "using the newer $ver instead (update fork/QEMU_VERSION)"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/nv-vgpu-src.XXXXXX")
trap 'rm -rf "$work"' EXIT
# apt checks the files against the signed archive index, so dpkg-source's
# complaint that it cannot check the .dsc signature itself is noise: log it.
log=$work/log
( cd "$work" && apt-get source -q --download-only "qemu=1:$ver" ) >"$log" 2>&1 || {
    cat "$log" >&2
    echo "qemu-src: 'apt-get source qemu=1:$ver' failed" >&2
    exit 1
}
dsc=$(ls "$work"/qemu_*.dsc)
# Only the upstream tarball: Debian's own patches and packaging stay out,
# so the tree is upstream QEMU as released.
( cd "$work" && dpkg-source --skip-debianization -x "$dsc" tree ) >>"$log" 2>&1 || {
    cat "$log" >&2
    echo "qemu-src: unpacking $dsc failed" >&2
    exit 1
}
rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
mv "$work/tree" "$dest"
printf '%s\n' "$ver" > "$dest/.nv-vgpu-version"
echo "qemu-src: unpacked QEMU $ver (Debian source package qemu) into $dest/"
