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
import zlib

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

# fuzz-vgpu-ramfb: VgpuRamfbConfig (big endian), then the limits
R = 'fuzz-vgpu-ramfb'


def ramfb(name, addr, fourcc, w, h, stride, maxw=0, maxh=0, flags=0):
    put(R, name, struct.pack('>QIIIII', addr, fourcc, flags, w, h, stride) +
        struct.pack('<HH', maxw, maxh))


ramfb('seabios-1024x768', 0x7f000000, XR24, 1024, 768, 4096)
ramfb('stride-0', 0x1000000, XR24, 800, 600, 0, 4096, 2160)
ramfb('over-limit', 0x1000000, XR24, 4096, 2160, 0, 1920, 1080)
ramfb('wraps', 0xfffffffffff00000, XR24, 1024, 768, 4096)
ramfb('bad-fourcc', 0x1000000, 0x3231564e, 64, 64, 64)

# fuzz-vgpu-edid: struct EdidInput of fuzz-vgpu-edid.c
E = 'fuzz-vgpu-edid'
RW = 3                          # VFIO_REGION_INFO_FLAG_READ | _WRITE


def edid(name, has=1, writes_ok=255, flags=RW, rsize=0x1000, roffset=0x60000,
         hdr=(24, 1024, 0, 0, 0, 0), limits=(0, 0, 0, 0),
         modes=((1920, 1080), (0, 0), (8192, 8192))):
    m = list(modes) + [(0, 0)] * (8 - len(modes))
    put(E, name, struct.pack('<BBIQQ6I4I', has, writes_ok, flags, rsize,
                             roffset, *hdr, *limits) +
        b''.join(struct.pack('<II', *x) for x in m))


edid('nvsim-like', hdr=(24, 1024, 0, 4096, 2160, 0), limits=(4096, 2160, 0, 0))
edid('no-region', has=0)
edid('read-only', flags=1)
edid('blob-past-end', rsize=0x80, hdr=(24, 1024, 0, 0, 0, 0))
edid('small-blob', hdr=(24, 128, 0, 0, 0, 0), limits=(0, 0, 1280, 800))
edid('write-fails', writes_ok=1)

# fuzz-nvsim-mig: a fault byte, then write() calls as (u16 length, bytes)
N = 'fuzz-nvsim-mig'


def mig_header(type_=63, fb=4 * 4096, version='550.127.05', magic=0x47494d4d4953564e):
    h = struct.pack('<QIIIIQ28s', magic, 1, 64, type_, 4096, fb,
                    version.encode())
    return h + struct.pack('<I', zlib.crc32(h))


def mig_rec(tag, arg, payload=b'', reserved=0):
    head = struct.pack('<IIQ', tag, len(payload), arg)
    crc = zlib.crc32(head + payload)
    return head + struct.pack('<II', crc, reserved) + payload


def pairs(*p):
    return b''.join(struct.pack('<II', o, v) for o, v in p)


def mig(name, stream, chunk=0xffff, fault=0):
    out = bytes([fault])
    for i in range(0, len(stream), chunk):
        c = stream[i:i + chunk]
        out += struct.pack('<H', len(c)) + c
    put(N, name, out)


regs = mig_rec(2, 3, pairs((0x10, 7), (0x100, 1), (0x104, 1024)))
cfg = mig_rec(3, 2, pairs((0x04, 0x107), (0x3c, 0x10b)))
page = mig_rec(1, 2, bytes(range(256)) * 16)
end = mig_rec(4, 0)
mig('whole-stream', mig_header() + page + regs + cfg + end)
mig('small-writes', mig_header() + regs + cfg + end, chunk=7)
mig('other-branch', mig_header(version='555.42') + regs + cfg + end)
mig('page-out-of-range', mig_header() + mig_rec(1, 4, bytes(4096)) + end)
mig('end-before-regs', mig_header() + end)
mig('bad-register', mig_header() + mig_rec(2, 1, pairs((0x1000, 1))) + cfg + end)
mig('write-fault', mig_header() + regs + cfg + end, fault=1)

if len(sys.argv) > 1:
    sys.exit('usage: seeds.py')
