#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Tests vgpu-vnc-client against our QEMU's VNC server.
#
# A std VGA is driven over qtest (-accel qtest: no guest code runs, the
# picture is exactly what we write): VBE 640x480x32 with the linear
# framebuffer at a BAR we assign, filled with a known pattern.  Then:
#   - --snapshot equals the pattern and QMP screendump byte for byte
#     (UNIX socket and TCP);
#   - --watch reports rectangles that cover a block we change, a resize
#     when we change the VBE mode, and its final PPM equals screendump;
#   - --pixel reports each new value of the pixel we change;
#   - connecting retries until QEMU is up; errors exit 1, timeouts 2;
#   - a TCG VM halted with -S (QEMU's "not initialized" text) snapshots
#     equal to screendump too.
#
# Usage: check-vnc-client.py --client build/vnc/vgpu-vnc-client \
#            --qemu build/qemu-build/qemu-system-x86_64

import argparse
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

W, H = 640, 480
LFB = 0xE0000000
VGA_BDF = (0, 2, 0)

passed = 0
failed = 0


def check(cond, what, detail=''):
    global passed, failed
    if cond:
        passed += 1
        print('PASS', what)
    else:
        failed += 1
        print('FAIL', what, detail)
    sys.stdout.flush()


def pattern(w, h):
    """RGB bytes of the known picture: red ramps in x, green in y, blue
    is a 16x16 checkerboard."""
    out = bytearray(w * h * 3)
    i = 0
    for y in range(h):
        g = (y * 255) // (h - 1)
        for x in range(w):
            out[i] = (x * 255) // (w - 1)
            out[i + 1] = g
            out[i + 2] = 255 if ((x >> 4) + (y >> 4)) & 1 else 0
            i += 3
    return bytes(out)


def rgb_to_vram(rgb):
    """RGB -> the VGA's 32 bpp memory layout B, G, R, X."""
    out = bytearray(len(rgb) // 3 * 4)
    out[0::4] = rgb[2::3]
    out[1::4] = rgb[1::3]
    out[2::4] = rgb[0::3]
    return bytes(out)


def ppm(w, h, rgb):
    return b'P6\n%d %d\n255\n' % (w, h) + rgb


def read(path):
    with open(path, 'rb') as f:
        return f.read()


def wait_for(path, timeout=10):
    end = time.time() + timeout
    while not os.path.exists(path):
        if time.time() > end:
            raise RuntimeError('%s did not appear' % path)
        time.sleep(0.02)


class Qemu:
    def __init__(self, qemu, tmp, name, accel='qtest', extra=(), vnc=None):
        self.tmp = tmp
        self.vnc = os.path.join(tmp, name + '-vnc.sock')
        self.qmp_path = os.path.join(tmp, name + '-qmp.sock')
        self.qtest_path = os.path.join(tmp, name + '-qtest.sock')
        args = [qemu, '-machine', 'pc', '-accel', accel, '-display', 'none',
                '-nodefaults', '-device', 'VGA,addr=02.0',
                '-vnc', vnc or 'unix:' + self.vnc,
                '-qmp', 'unix:%s,server=on,wait=off' % self.qmp_path]
        if accel == 'qtest':
            args += ['-qtest', 'unix:%s,server=on,wait=off' % self.qtest_path]
        args += list(extra)
        self.log = open(os.path.join(tmp, name + '-qemu.log'), 'w')
        self.proc = subprocess.Popen(args, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        wait_for(self.qmp_path)
        self.qmp_sock = socket.socket(socket.AF_UNIX)
        self.qmp_sock.connect(self.qmp_path)
        self.qmp_file = self.qmp_sock.makefile('rw')
        json.loads(self.qmp_file.readline())
        self.qmp('qmp_capabilities')
        self.qt = None
        if accel == 'qtest':
            wait_for(self.qtest_path)
            self.qt = socket.socket(socket.AF_UNIX)
            self.qt.connect(self.qtest_path)
            self.qt_file = self.qt.makefile('rw')

    def qmp(self, cmd, **args):
        msg = {'execute': cmd}
        if args:
            msg['arguments'] = args
        self.qmp_file.write(json.dumps(msg) + '\n')
        self.qmp_file.flush()
        while True:
            r = json.loads(self.qmp_file.readline())
            if 'event' in r:
                continue
            if 'error' in r:
                raise RuntimeError('QMP %s: %s' % (cmd, r['error']))
            return r['return']

    def screendump(self, path):
        self.qmp('screendump', filename=path)
        return read(path)

    def qtest(self, line):
        self.qt_file.write(line + '\n')
        self.qt_file.flush()
        while True:
            r = self.qt_file.readline().strip()
            if r.startswith('IRQ'):
                continue
            if not r.startswith('OK'):
                raise RuntimeError('qtest %r: %r' % (line[:60], r))
            return r

    def outw(self, port, val):
        self.qtest('outw 0x%x 0x%x' % (port, val))

    def vbe(self, index, val):
        self.outw(0x1ce, index)
        self.outw(0x1cf, val)

    def setup_vga(self, w, h):
        bus, dev, fn = VGA_BDF
        cfg = 0x80000000 | bus << 16 | dev << 11 | fn << 8
        self.qtest('outl 0xcf8 0x%x' % (cfg | 0x10))       # BAR0
        self.qtest('outl 0xcfc 0x%x' % LFB)
        self.qtest('outl 0xcf8 0x%x' % (cfg | 0x04))       # COMMAND
        self.qtest('outw 0xcfc 0x3')                       # I/O + memory
        self.set_mode(w, h)
        self.qtest('inb 0x3da')                            # AR flip-flop
        self.qtest('outb 0x3c0 0x20')                      # palette on

    def set_mode(self, w, h):
        self.vbe(4, 0)                                     # disable
        self.vbe(1, w)
        self.vbe(2, h)
        self.vbe(3, 32)
        self.vbe(4, 0x41)                                  # enable + LFB

    def write_vram(self, offset, data):
        self.qtest('b64write 0x%x 0x%x %s' % (
            LFB + offset, len(data), base64.b64encode(data).decode()))

    def fill(self, x, y, w, h, rgb, stride):
        px = bytes((rgb & 0xff, rgb >> 8 & 0xff, rgb >> 16 & 0xff, 0)) * w
        for row in range(y, y + h):
            self.write_vram((row * stride + x) * 4, px)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class Client:
    """vgpu-vnc-client in the background, its stdout lines collected."""

    def __init__(self, binary, args):
        self.proc = subprocess.Popen([binary] + args, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.lines = []
        self.cv = threading.Condition()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            with self.cv:
                self.lines.append((time.monotonic_ns(), line.strip()))
                self.cv.notify_all()

    def wait_line(self, prefix, timeout=10, start=0):
        end = time.time() + timeout
        with self.cv:
            while True:
                for i in range(start, len(self.lines)):
                    if self.lines[i][1].startswith(prefix):
                        return i, self.lines[i]
                left = end - time.time()
                if left <= 0:
                    return None, None
                self.cv.wait(left)

    def finish(self, timeout=30):
        rc = self.proc.wait(timeout)
        self.thread.join()
        err = self.proc.stderr.read()
        return rc, [l for _, l in self.lines], err


def run(binary, args, timeout=60):
    r = subprocess.run([binary] + args, capture_output=True, text=True,
                       timeout=timeout)
    return r.returncode, r.stdout, r.stderr


def covered(rects, x, y, w, h):
    """Every pixel of x,y,w,h lies in one of rects."""
    for py in range(y, y + h):
        for px in range(x, x + w):
            if not any(rx <= px < rx + rw and ry <= py < ry + rh
                       for rx, ry, rw, rh in rects):
                return False
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--client', required=True)
    ap.add_argument('--qemu', required=True)
    ap.add_argument('--keep', action='store_true', help='keep the temp dir')
    a = ap.parse_args()
    client = os.path.abspath(a.client)
    tmp = tempfile.mkdtemp(prefix='vnc-check-')
    base = pattern(W, H)
    want = ppm(W, H, base)
    qemus = []

    try:
        # --- snapshot over a UNIX socket vs pattern and screendump -------
        q = Qemu(a.qemu, tmp, 'a')
        qemus.append(q)
        q.setup_vga(W, H)
        q.write_vram(0, rgb_to_vram(base))
        snap = os.path.join(tmp, 'snap.ppm')
        rc, out, err = run(client, ['--snapshot', snap, 'unix:' + q.vnc])
        check(rc == 0 and out == 'size %dx%d\n' % (W, H),
              'snapshot over unix: exit 0, prints size', (rc, out, err))
        dump = q.screendump(os.path.join(tmp, 'dump.ppm'))
        check(read(snap) == want, 'snapshot equals the pattern written')
        check(read(snap) == dump, 'snapshot equals QMP screendump')
        rc, out, err = run(client, ['--snapshot', snap, q.vnc,
                                    '--encodings', 'zrle,hextile,raw'])
        check(rc == 0 and read(snap) == want,
              'snapshot with a bare path and zrle/hextile equals pattern',
              (rc, err))

        # --- watch: a change gives rects, final PPM is right -------------
        final = os.path.join(tmp, 'watch.ppm')
        c = Client(client, ['--watch', '--quiet-ms', '700', '--snapshot',
                            final, 'unix:' + q.vnc])
        i, ready = c.wait_line('ready')
        check(ready and ready[1] == 'ready %dx%d' % (W, H),
              'watch prints ready WxH', ready)
        time.sleep(0.3)
        q.fill(100, 50, 40, 20, 0x123456, W)
        rc, lines, err = c.finish()
        rects = [tuple(map(int, l.split()[1:])) for l in lines
                 if l.startswith('rect ')]
        print('  watch output:', lines)
        check(rc == 0 and lines[-1] == 'done',
              'watch ends with done, exit 0', (rc, lines[-3:], err))
        check(rects and covered(rects, 100, 50, 40, 20),
              'watch rects cover the changed 40x20 block', rects)
        dump = q.screendump(os.path.join(tmp, 'dump2.ppm'))
        check(read(final) == dump, 'watch final snapshot equals screendump')

        # --- watch with nothing happening: done, exit 2 ------------------
        rc, out, err = run(client, ['--watch', '--timeout-ms', '1500',
                                    'unix:' + q.vnc])
        check(rc == 2 and out == 'ready %dx%d\ndone\n' % (W, H),
              'watch without changes: exit 2 after timeout', (rc, out, err))

        # --- pixel probe ---------------------------------------------------
        c = Client(client, ['--pixel', '5,7', '--timeout-ms', '3000',
                            'unix:' + q.vnc])
        i, ready = c.wait_line('ready')
        r, g, b = base[(7 * W + 5) * 3:(7 * W + 5) * 3 + 3]
        j, init = c.wait_line('initial', start=i)
        check(init and init[1] == 'initial 0x%02x%02x%02x' % (r, g, b),
              'pixel prints the initial value', init)
        t0 = time.monotonic_ns()
        q.fill(5, 7, 1, 1, 0xabcdef, W)
        k, p1 = c.wait_line('pixel', start=j)
        time.sleep(0.2)
        q.fill(100, 100, 16, 16, 0x00ff00, W)   # elsewhere: no output
        time.sleep(0.2)
        q.fill(5, 7, 1, 1, 0x010203, W)
        rc, lines, err = c.finish()
        pix = [l.split() for l in lines if l.startswith('pixel ')]
        print('  pixel output:', lines)
        check(rc == 0 and [p[2] for p in pix] == ['0xabcdef', '0x010203'],
              'pixel reports exactly the two changes', (rc, lines, err))
        check(pix and t0 < int(pix[0][1]) < time.monotonic_ns(),
              'pixel T_NS is CLOCK_MONOTONIC in the right window')

        # --- resize --------------------------------------------------------
        final = os.path.join(tmp, 'resize.ppm')
        c = Client(client, ['--watch', '--quiet-ms', '700', '--snapshot',
                            final, 'unix:' + q.vnc])
        pc = Client(client, ['--pixel', '5,7', '--timeout-ms', '2500',
                             'unix:' + q.vnc])     # a second viewer
        c.wait_line('ready')
        pc.wait_line('initial')
        q.set_mode(800, 600)
        q.write_vram(0, rgb_to_vram(pattern(800, 600)))
        rc, lines, err = c.finish()
        prc, plines, perr = pc.finish()
        print('  pixel output over the resize:', plines)
        # (while the mode and the picture change, intermediate values
        # may show up; the last one must be the new picture's)
        check(prc == 0 and 'resize 800x600' in plines and
              plines[-1].startswith('pixel ') and
              plines[-1].endswith(' 0x010200'),
              'pixel across a resize: resize line, ends with the new value',
              (prc, plines, perr))
        print('  resize output:', [l for l in lines if not
                                   l.startswith('rect')][:6], '...')
        check(rc == 0 and 'resize 800x600' in lines and lines[-1] == 'done',
              'watch reports resize 800x600', (rc, lines[-3:], err))
        check(read(final) == ppm(800, 600, pattern(800, 600)) and
              read(final) == q.screendump(os.path.join(tmp, 'd3.ppm')),
              'after resize the final snapshot equals pattern and screendump')
        q.set_mode(W, H)

        # --- TCP -----------------------------------------------------------
        q2 = Qemu(a.qemu, tmp, 'tcp', vnc='127.0.0.1:100,to=1000')
        qemus.append(q2)
        q2.setup_vga(W, H)
        q2.write_vram(0, rgb_to_vram(base))
        port = int(q2.qmp('query-vnc')['service'])
        rc, out, err = run(client, ['--snapshot', snap, '127.0.0.1:%d' % port])
        check(rc == 0 and read(snap) == want,
              'snapshot over TCP 127.0.0.1:%d equals pattern' % port,
              (rc, err))
        q2.stop()

        # --- connect retry, errors -----------------------------------------
        late = os.path.join(tmp, 'late-vnc.sock')
        c = Client(client, ['--snapshot', snap, '--connect-timeout-ms',
                            '8000', 'unix:' + late])
        time.sleep(1)
        q3 = Qemu(a.qemu, tmp, 'late', accel='tcg', extra=['-S'],
                  vnc='unix:' + late)
        qemus.append(q3)
        rc, lines, err = c.finish()
        check(rc == 0 and lines == ['size 640x480'],
              'client started 1 s before QEMU connects (retry)', (rc, err))
        # TCG halted: QEMU's own "not initialized" text picture
        check(read(snap) == q3.screendump(os.path.join(tmp, 'd4.ppm')),
              'halted TCG VM: snapshot equals screendump')
        q3.stop()

        t = time.time()
        rc, out, err = run(client, ['--snapshot', snap, '--connect-timeout-ms',
                                    '500', 'unix:' + late])
        check(rc == 1 and 'cannot connect' in err and time.time() - t < 3,
              'no server: exit 1 after the connect timeout', (rc, err))
        srv = socket.socket()
        srv.bind(('127.0.0.1', 0))
        srv.listen(1)                  # accepts, never speaks RFB
        rc, out, err = run(client, ['--snapshot', snap, '--timeout-ms', '800',
                                    '127.0.0.1:%d' % srv.getsockname()[1]])
        check(rc == 2, 'silent server: exit 2 (timeout)', (rc, err))
        srv.close()
        rc, out, err = run(client, ['--snapshot', snap, 'nonsense'])
        check(rc == 1 and 'SERVER' in err, 'bad SERVER: exit 1', (rc, err))
    finally:
        for q in qemus:
            q.stop()
        if a.keep or failed:
            print('files kept in', tmp)
        else:
            shutil.rmtree(tmp)

    print('%d passed, %d failed' % (passed, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
