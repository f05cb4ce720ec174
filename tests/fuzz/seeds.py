#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""seeds.py: write the seed corpora of the fuzz targets (corpus/<target>/).

The seeds are small valid and nearly valid inputs, so that each target
starts from the shapes its parser accepts.  Regression inputs for bugs the
fuzzers found are committed by hand next to them (named regress-*)."""
import json
import os
import struct
import sys

top = os.path.dirname(os.path.abspath(__file__))


def put(target, name, data):
    d = os.path.join(top, 'corpus', target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data if isinstance(data, bytes) else data.encode())


# fuzz-vgpu-profile: sysfs description strings
P = 'fuzz-vgpu-profile'
put(P, 'nvidia', 'num_heads=1, frl_config=60, framebuffer=8192M, '
    'max_resolution=4096x2160, max_instance=1')
put(P, 'nvidia-trailing-comma', 'num_heads=4, frl_config=45, '
    'framebuffer=1024M, max_resolution=5120x2880, max_instance=16, ')
put(P, 'other-vendor', 'Intel GVT-g, low_gm_size: 128MB')
put(P, 'bad-values', 'num_heads=0, framebuffer=8Q')
put(P, 'twice', 'num_heads=1, num_heads=2')

# fuzz-vgpu-descriptor: the stream's bytes (magic, length, JSON)
D = 'fuzz-vgpu-descriptor'
base = {'format': 1, 'type': 'nvidia-289', 'profile': 'GRID P4-8C',
        'framebuffer': 8 << 30, 'heads': 1, 'max-resolution': '4096x2160',
        'device-api': 'vfio-pci', 'driver': 'nvidia',
        'driver-version': '550.127.05', 'guest-resolution': '1280x800',
        'boot-display': True}


def desc(name, d=None, magic=0x4e564744, raw=None):
    j = raw if raw is not None else json.dumps(d, separators=(',', ':')).encode()
    put(D, name, struct.pack('>II', magic, len(j)) + j)


desc('accepted', base)
desc('newer-branch', dict(base, **{'driver-version': '555.42.02'}))
desc('unknown-member', dict(base, future={'x': [1, 2]}))
desc('format-2', dict(base, format=2, **{'min-format': 1}))
desc('no-boot-display', {k: v for k, v in base.items() if k != 'boot-display'})
desc('big-guest-mode', dict(base, **{'guest-resolution': '8192x4320'}))
desc('wrong-type', dict(base, type=5))
desc('bad-magic', base, magic=0x4e564745)
desc('not-json', raw=b'{"format":1,')
desc('nul-inside', raw=b'{"format":1}\x00xx')

# fuzz-scanout-plane: struct PlaneInput of fuzz-scanout-plane.c
S = 'fuzz-scanout-plane'
XR24 = 0x34325258


def plane(name, mode, pick, fmt, w, h, stride, x=0, y=0, bw=0, bh=0,
          modifier=0, offset=0, size=0, maxw=0, maxh=0):
    put(S, name, struct.pack('<BBIIIIIIIIQQIHH', mode, pick, fmt, w, h,
                             stride, x, y, bw, bh, modifier, offset, size,
                             maxw, maxh))


plane('region-1024x768', 0, 0, XR24, 1024, 768, 4096, size=4096 * 768)
plane('region-past-end', 0, 0, XR24, 1024, 768, 4096, offset=4096,
      size=4096 * 768)
plane('region-rgb565', 0, 4, 0, 640, 480, 1280, size=1280 * 480)
plane('dmabuf-1280x800', 1, 0, XR24, 1280, 800, 5120, size=5120 * 800)
plane('dmabuf-visible-rect', 1, 0, XR24, 1280, 800, 5120, x=16, y=8,
      bw=640, bh=400, size=5120 * 800)
plane('dmabuf-tiled', 1, 0, XR24, 1280, 800, 5120,
      modifier=0x0100000000000001, size=5120 * 800)
plane('dmabuf-small', 1, 0, XR24, 1280, 800, 5120, size=4096)
# found by reading the check against the fuzzer's exact-arithmetic oracle:
# y * stride + x * bpp wrapped around 2^64 to a small, accepted offset
plane('regress-offset-wraps', 1, 0, XR24, 1, 1, 0xffffffff, x=0x80000000,
      y=0xffffffff, bw=1, bh=1, size=4096)
plane('bad-format', 0, 255, 0x3231564e, 64, 64, 256, size=65536)

if len(sys.argv) > 1:
    sys.exit('usage: seeds.py')
