#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Install what building and testing the nv-vgpu fork needs on Debian
# bookworm.  Binary packages come from bookworm and bookworm-backports only;
# trixie is added as a deb-src entry so that `apt-get source qemu` can fetch
# upstream QEMU 10.0.x, and never as a binary source.
set -eu

if [ "$(id -u)" != 0 ]; then
    echo "fork/deps.sh: installing packages needs root (try: sudo make deps)" >&2
    exit 1
fi
if ! grep -qs '^VERSION_CODENAME=bookworm' /etc/os-release; then
    echo "fork/deps.sh: this script targets Debian bookworm;" \
         "on other systems install the packages listed in it by hand" \
         "and set QEMU_SRC=/path/to/qemu-10.0.x" >&2
    exit 1
fi

list=/etc/apt/sources.list.d/nv-vgpu.sources
want='Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg'

# Only trixie sources, never trixie binaries: pin them out for good measure.
pin=/etc/apt/preferences.d/nv-vgpu-no-trixie
pinwant='Package: *
Pin: release n=trixie
Pin-Priority: -1'

stamp=/var/lib/apt/nv-vgpu.updated
if [ "$(cat "$list" 2>/dev/null)" != "$want" ] ||
   [ "$(cat "$pin" 2>/dev/null)" != "$pinwant" ] ||
   [ ! -e "$stamp" ] || [ -n "$(find "$stamp" -mmin +1440)" ]; then
    printf '%s\n' "$want" > "$list"
    printf '%s\n' "$pinwant" > "$pin"
    apt-get update -q
    touch "$stamp"
fi

# Build tools and the libraries of the features we build (see fork/configure).
pkgs="build-essential gcc-multilib ccache ninja-build pkg-config python3-venv
      python3-setuptools flex bison dpkg-dev git
      libglib2.0-dev libpixman-1-dev zlib1g-dev libjpeg-dev libpng-dev
      libepoxy-dev libgbm-dev libdrm-dev libcap-ng-dev libattr1-dev libnuma-dev
      seabios ipxe-qemu"
# The test host: kernel and headers (downloaded, not installed, by
# tests/vgpu-host), busybox for its initramfs, cpio to pack it, kbuild needs.
pkgs="$pkgs busybox-static cpio kmod libelf-dev zstd xz-utils
      libvncserver-dev"
# libFuzzer (clang and its runtime) for the fuzz targets (tests/fuzz).
pkgs="$pkgs clang libclang-rt-14-dev"
bpo="meson python3-pycotap"

missing=
for p in $pkgs; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'ok installed' ||
        missing="$missing $p"
done
if [ -n "$missing" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
fi

# meson >= 1.5 for QEMU 10.0, from bookworm-backports.
meson_ok() {
    v=$(meson --version 2>/dev/null) || return 1
    dpkg --compare-versions "$v" ge 1.5
}
if ! meson_ok || ! dpkg-query -W python3-pycotap >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        -t bookworm-backports $bpo
fi
# The libvirt suite (tests/libvirt, `make check-libvirt`) and the demo's
# libvirt part: libvirt 11.3 from bookworm-backports, named package by
# package (`-t bookworm-backports` would also take a newer systemd);
# libvirt-daemon-driver-qemu wants some qemu-system, bookworm's satisfies it
# (our QEMU is the domain's <emulator>, bookworm's is never run).  mdevctl
# for the docs' recipes; noVNC and headless Chromium driven by Selenium for
# the browser console test.
libvirt_bpo="libvirt-daemon-driver-qemu libvirt-daemon libvirt-clients"
libvirt_deps="qemu-system-x86 mdevctl novnc python3-websockify chromium
              chromium-driver python3-selenium"
libvirt_ok() {
    v=$(dpkg-query -W -f='${Version}' libvirt-daemon-driver-qemu 2>/dev/null) ||
        return 1
    dpkg --compare-versions "$v" ge 11.3 || return 1
    for p in $libvirt_bpo $libvirt_deps; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'ok installed' ||
            return 1
    done
}
if ! libvirt_ok; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        $(for p in $libvirt_bpo; do printf '%s/bookworm-backports ' "$p"; done) \
        $libvirt_deps
fi
echo "fork/deps.sh: build dependencies are installed"
