# SPDX-License-Identifier: GPL-2.0-or-later
"""The demo's console part: play the guest's display driver on the vGPU
(set a mode through BAR0, draw a test card into the framebuffer in BAR1,
through QEMU's qtest socket), then take a screenshot over VNC with a real
VNC client and check it pixel by pixel against what was drawn."""
import base64
import socket
import struct
import subprocess
import zlib

# nvsim's head 0 registers (kernel/nvsim/README.md)
HEAD0_ENABLE, HEAD0_WIDTH, HEAD0_HEIGHT = 0x100, 0x104, 0x108
HEAD0_STRIDE, HEAD0_FORMAT = 0x10c, 0x110
HEAD0_FB_OFFSET_LO, HEAD0_FB_OFFSET_HI = 0x114, 0x118
XR24 = 0x34325258

# A 5x7 font for the few letters on the test card
FONT = {
    'N': '10001 11001 10101 10011 10001 10001 10001',
    'V': '10001 10001 10001 10001 10001 01010 00100',
    'G': '01110 10001 10000 10111 10001 10001 01111',
    'P': '11110 10001 10001 11110 10000 10000 10000',
    'U': '10001 10001 10001 10001 10001 10001 01110',
    'H': '10001 10001 10001 11111 10001 10001 10001',
    'E': '11111 10000 10000 11110 10000 10000 11111',
    'A': '01110 10001 10001 11111 10001 10001 10001',
    'D': '11110 10001 10001 10001 10001 10001 11110',
    'R': '11110 10001 10001 11110 10100 10010 10001',
    'I': '01110 00100 00100 00100 00100 00100 01110',
    'C': '01110 10001 10000 10000 10000 10001 01110',
    'X': '10001 10001 01010 00100 01010 10001 10001',
    '0': '01110 10001 10011 10101 11001 10001 01110',
    '1': '00100 01100 00100 00100 00100 00100 01110',
    '2': '01110 10001 00001 00010 00100 01000 11111',
    '4': '00010 00110 01010 10010 11111 00010 00010',
    '7': '11111 00001 00010 00100 01000 01000 01000',
    '8': '01110 10001 10001 01110 10001 10001 01110',
    'L': '10000 10000 10000 10000 10000 10000 11111',
    'B': '11110 10001 10001 11110 10001 10001 11110',
    'T': '11111 00100 00100 00100 00100 00100 00100',
    'S': '01111 10000 10000 01110 00001 00001 11110',
    'O': '01110 10001 10001 10001 10001 10001 01110',
    'Q': '01110 10001 10001 10001 10101 10010 01101',
    'M': '10001 11011 10101 10101 10001 10001 10001',
    '6': '00110 01000 10000 11110 10001 10001 01110',
    '-': '00000 00000 00000 11111 00000 00000 00000',
    ' ': '00000 00000 00000 00000 00000 00000 00000',
}
BARS = [(192, 192, 192), (192, 192, 0), (0, 192, 192), (0, 192, 0),
        (192, 0, 192), (192, 0, 0), (0, 0, 192), (16, 16, 16)]


def test_card(width, height, lines):
    """An RGB test card: colour bars, a grey ramp, a grid and text."""
    white = b'\xff\xff\xff'

    def row(colour_at):
        r = bytearray(b''.join(bytes(colour_at(x)) for x in range(width)))
        for x in range(0, width, 80):
            r[x * 3:x * 3 + 3] = white
        return bytes(r)
    bar_row = row(lambda x: BARS[x * len(BARS) // width])
    ramp_row = row(lambda x: (x * 255 // (width - 1),) * 3)
    bar_h = height * 2 // 3
    img = bytearray(b''.join(white * width if y % 80 == 0 else
                             bar_row if y < bar_h else ramp_row
                             for y in range(height)))
    scale = 6
    # a black panel behind the text
    panel_w = (max(len(t) for t in lines) * 6 + 4) * scale
    px0 = (width - panel_w) // 2
    for y in range(bar_h // 2 - 100 - 2 * scale,
                   bar_h // 2 - 100 + (len(lines) * 10) * scale):
        img[(y * width + px0) * 3:(y * width + px0 + panel_w) * 3] = \
            b'\0\0\0' * panel_w
    for n, text in enumerate(lines):
        x0 = (width - len(text) * 6 * scale) // 2
        y0 = bar_h // 2 - 100 + n * 10 * scale
        for i, ch in enumerate(text):
            for gy, bits in enumerate(FONT[ch].split()):
                for gx, bit in enumerate(bits):
                    if bit != '1':
                        continue
                    colour = white
                    x = x0 + (i * 6 + gx) * scale
                    for dy in range(scale):
                        at = ((y0 + gy * scale + dy) * width + x) * 3
                        img[at:at + scale * 3] = colour * scale
    return bytes(img)


class Qtest:
    """Just enough of QEMU's qtest protocol to be the guest's driver."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(path)
        self.file = self.sock.makefile('rwb')

    def cmd(self, line):
        self.file.write(line.encode() + b'\n')
        self.file.flush()
        reply = self.file.readline().decode()
        if not reply.startswith('OK'):
            raise RuntimeError('qtest %s: %s' % (line[:40], reply))
        return reply

    def writel(self, addr, value):
        self.cmd('writel 0x%x 0x%x' % (addr, value))

    def write(self, addr, data):
        step = 1 << 20
        for off in range(0, len(data), step):
            chunk = data[off:off + step]
            self.cmd('b64write 0x%x 0x%x %s' % (addr + off, len(chunk),
                     base64.b64encode(chunk).decode()))


def read_ppm(path):
    with open(path, 'rb') as f:
        data = f.read()
    magic, width, height, maxval, rest = data.split(maxsplit=4)
    assert magic == b'P6' and maxval == b'255'
    return int(width), int(height), rest


def write_png(path, width, height, rgb):
    def chunk(kind, body):
        return (struct.pack('>I', len(body)) + kind + body +
                struct.pack('>I', zlib.crc32(kind + body)))
    raw = b''.join(b'\0' + rgb[y * width * 3:(y + 1) * width * 3]
                   for y in range(height))
    with open(path, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n')
        f.write(chunk(b'IHDR', struct.pack('>IIBBBBB', width, height, 8, 2,
                                           0, 0, 0)))
        f.write(chunk(b'IDAT', zlib.compress(raw, 6)))
        f.write(chunk(b'IEND', b''))


def draw(qmp, qtest_path, profile):
    """Set head 0 of gpu0 to a mode and draw a test card; return its RGB."""
    bars = {}
    for bus in qmp.cmd('query-pci'):
        for dev in bus['devices']:
            if dev['id']['vendor'] == 0x10de:
                for bar in dev['regions']:
                    bars[bar['bar']] = bar['address']
    width, height = 1280, 720
    print('== the console: a guest driver sets head 0 to %dx%d XRGB8888 and '
          'draws a test card' % (width, height))
    qt = Qtest(qtest_path)
    bar0, bar1 = bars[0], bars[1]
    card = test_card(width, height, ['NV-VGPU HEAD 0', profile.upper(),
                                     '%dX%d' % (width, height)])
    for reg, value in ((HEAD0_ENABLE, 0), (HEAD0_WIDTH, width),
                       (HEAD0_HEIGHT, height), (HEAD0_STRIDE, width * 4),
                       (HEAD0_FORMAT, XR24), (HEAD0_FB_OFFSET_LO, 0),
                       (HEAD0_FB_OFFSET_HI, 0)):
        qt.writel(bar0 + reg, value)
    xrgb = bytearray(width * height * 4)
    xrgb[0::4] = card[2::3]
    xrgb[1::4] = card[1::3]
    xrgb[2::4] = card[0::3]
    qt.write(bar1, bytes(xrgb))
    qt.writel(bar0 + HEAD0_ENABLE, 1)
    return (width, height, card)


def screenshot(qmp, vnc_path, client, png, card, where):
    """Take head 0 over VNC into @png; check it against @card."""
    width, height, rgb_want = card
    ppm = png[:-4] + '.ppm'
    out = subprocess.run([client, '--timeout-ms', '30000', '--snapshot', ppm,
                          'unix:' + vnc_path], capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError('VNC client: ' + out.stdout + out.stderr)
    w, h, rgb = read_ppm(ppm)
    same = (w, h) == (width, height) and rgb == rgb_want
    print('  a VNC client (libvncclient) on %s received %dx%d; identical to '
          'what the guest drew: %s' % (where, w, h, 'yes' if same else 'NO'))
    polls = qmp.cmd('qom-get', path='/machine/peripheral/gpu0',
                    property='x-console-polls')
    print('  console polls of head 0 there so far: %d (only while a client '
          'watched)' % polls)
    write_png(png, w, h, rgb)
    print('  screenshot: %s' % png)
    return same
