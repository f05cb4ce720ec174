#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# fetch-kernel.sh DIR: download (never install) Debian's 6.12 LTS kernel from
# bookworm-backports, with its modules and headers, and unpack it into DIR:
#   DIR/vmlinuz            the kernel the test host boots
#   DIR/root/lib/modules/  its modules, with depmod run
#   DIR/kdir               the kbuild directory for out-of-tree modules
#   DIR/version            the kernel release, e.g. 6.12.95+deb12-amd64
# The host's own kernel and boot setup are not touched.
set -eu

dir=$1
if [ -f "$dir/version" ] && [ -e "$dir/kdir/Makefile" ]; then
    exit 0
fi

image=$(apt-cache depends -t bookworm-backports linux-image-amd64 2>/dev/null |
        sed -n 's/^ *Depends: \(linux-image-6\.12[^ ]*-amd64\)$/\1/p' | head -n 1)
if [ -z "$image" ]; then
    echo "fetch-kernel: no 6.12 kernel in bookworm-backports is known to apt;" \
         "run 'make deps' as root" >&2
    exit 1
fi
release=${image#linux-image-}
common=$(apt-cache depends "linux-headers-$release" |
         sed -n 's/^ *Depends: \(linux-headers-[^ ]*-common\)$/\1/p' | head -n 1)
kbuild=$(apt-cache depends "linux-headers-$release" |
         sed -n 's/^ *Depends: \(linux-kbuild-[^ ]*\)$/\1/p' | head -n 1)

rm -rf "$dir.tmp"
mkdir -p "$dir.tmp/debs" "$dir.tmp/root"
( cd "$dir.tmp/debs" &&
  apt-get download -q "$image" "linux-headers-$release" $common $kbuild ) \
  > "$dir.tmp/log" 2>&1 || {
    cat "$dir.tmp/log" >&2
    echo "fetch-kernel: downloading $image and its headers failed" >&2
    exit 1
}
for deb in "$dir.tmp"/debs/*.deb; do
    dpkg -x "$deb" "$dir.tmp/root"
done
depmod -b "$dir.tmp/root" "$release"

# The headers package points at the -common tree by absolute path.
kdir=$dir.tmp/root/usr/src/linux-headers-$release
abs=$(cd "$dir.tmp/root" && pwd)
sed -i "s|/usr/src/|$abs/usr/src/|g" "$kdir/Makefile"
# kbuild scripts are a symlink into /usr/lib/linux-kbuild-*; point it inside.
for l in scripts tools; do
    t=$(readlink "$kdir/$l" 2>/dev/null) || continue
    case $t in /*) ln -sfn "$abs$t" "$kdir/$l" ;; esac
done

cp "$dir.tmp/root/boot/vmlinuz-$release" "$dir.tmp/vmlinuz"
ln -s "root/usr/src/linux-headers-$release" "$dir.tmp/kdir"
echo "$release" > "$dir.tmp/version"
rm -rf "$dir.tmp/debs" "$dir"
mv "$dir.tmp" "$dir"
# The symlinks above name $dir.tmp; fix them for the final place.
abs_final=$(cd "$dir/root" && pwd)
kdir=$dir/root/usr/src/linux-headers-$release
sed -i "s|$abs/|$abs_final/|g" "$kdir/Makefile"
for l in scripts tools; do
    t=$(readlink "$kdir/$l" 2>/dev/null) || continue
    case $t in "$abs"*) ln -sfn "$abs_final${t#"$abs"}" "$kdir/$l" ;; esac
done
echo "fetch-kernel: Linux $release in $dir/"
