#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# graft.sh PRISTINE TREE: make TREE a QEMU tree with the fork on top.
#
# TREE is a hard-linked copy of the pristine upstream tree (cheap, and the
# pristine files keep their mtimes, so rebuilds stay incremental).  The
# patches in patches/series are applied to it (GNU patch replaces the files
# it changes, so the pristine copy is never written), and every file of the
# overlay is symlinked to its place, so editing an overlay file needs no new
# graft.  A stamp of the series and of the overlay's file list makes a rerun
# with nothing new a no-op.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
pristine=$(cd "$1" && pwd)
tree=$2
overlay_dirs="hw include qapi docs tests ui migration tools"

[ -f "$pristine/VERSION" ] || {
    echo "graft: $pristine is not a QEMU source tree" >&2
    exit 1
}

overlay_files() {
    (cd "$top" && for d in $overlay_dirs; do
        [ -d "$d" ] && find "$d" -type f
    done | LC_ALL=C sort)
}

stamp=$( { echo "$pristine"; cat "$pristine/VERSION";
           cat "$top/patches/series" 2>/dev/null;
           for p in $(grep -v '^#' "$top/patches/series" 2>/dev/null); do
               cat "$top/patches/$p"
           done
           overlay_files; } | sha256sum | cut -d' ' -f1)
if [ -f "$tree/.nv-vgpu-graft" ] && [ "$(cat "$tree/.nv-vgpu-graft")" = "$stamp" ]; then
    exit 0
fi

echo "graft: grafting the fork onto QEMU $(cat "$pristine/VERSION") in $tree/"
rm -rf "$tree"
mkdir -p "$(dirname "$tree")"
cp -al "$pristine" "$tree"

for p in $(grep -v '^#' "$top/patches/series" 2>/dev/null); do
    if ! out=$(patch -d "$tree" -p1 --forward --batch --no-backup-if-mismatch \
                     -r - < "$top/patches/$p" 2>&1); then
        echo "graft: patches/$p does not apply to QEMU $(cat "$pristine/VERSION"):" >&2
        # Name each file whose hunks failed, with the hunks.
        printf '%s\n' "$out" | awk '
            /^patching file / { file = $3 }
            /FAILED|can.t find file|malformed|Reversed/ {
                if (file != shown) { print "  in " file; shown = file }
                print "    " $0
            }' >&2
        echo "graft: refresh that patch against the new upstream (see README.md, 'Rebasing')" >&2
        rm -rf "$tree"
        exit 1
    fi
done

for f in $(overlay_files); do
    if [ -e "$tree/$f" ] && [ ! -L "$tree/$f" ]; then
        echo "graft: overlay file $f also exists upstream; change upstream files" \
             "through patches/ instead" >&2
        rm -rf "$tree"
        exit 1
    fi
    mkdir -p "$tree/$(dirname "$f")"
    ln -sf "$top/$f" "$tree/$f"
done

echo "$stamp" > "$tree/.nv-vgpu-graft"
