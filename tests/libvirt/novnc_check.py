# SPDX-License-Identifier: GPL-2.0-or-later
"""The console in a real browser: Debian's noVNC page (served from
/usr/share/novnc on loopback) connected straight to QEMU's VNC websocket,
in headless Chromium driven by Selenium.  Reads the canvas back, compares
it with the guest's framebuffer, changes the framebuffer and waits for the
change to show, and saves the browser's screenshot as a PNG."""
import base64
import functools
import http.server
import os
import shutil
import tempfile
import threading
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from pngio import read_png

NOVNC = '/usr/share/novnc'
CHROMIUM_FLAGS = ('--headless', '--no-sandbox', '--disable-gpu',
                  '--disable-quic', '--no-first-run',
                  '--disable-background-networking',
                  '--disable-component-update', '--disable-sync',
                  '--disable-dev-shm-usage', '--window-size=800,720',
                  # Under TCG in the test host: one process and no JIT make
                  # Chromium start in about 2 min instead of not at all.
                  '--single-process', '--no-zygote', '--js-flags=--jitless')

# The canvas as PNG, read in the page (keeps the transfer small).
CANVAS_PNG = '''
const c = document.querySelector('#screen canvas');
if (!c || c.width < 2) { return null; }
return c.toDataURL('image/png');
'''
# Note when the pixel at (x, y) turns into the colour asked for.
WATCH = '''
const [x, y, r, g, b] = arguments;
const c = document.querySelector('#screen canvas');
const ctx = c.getContext('2d');
window.vgpuSeen = null;
window.vgpuWatch = setInterval(() => {
    const p = ctx.getImageData(x, y, 1, 1).data;
    if (p[0] === r && p[1] === g && p[2] === b) {
        window.vgpuSeen = Date.now();
        clearInterval(window.vgpuWatch);
    }
}, 5);
'''


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(port):
    handler = functools.partial(QuietHandler, directory=NOVNC)
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', port), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def canvas(driver):
    url = driver.execute_script(CANVAS_PNG)
    if not url:
        return None
    return read_png(base64.b64decode(url.split(',', 1)[1]))


def wait_canvas(driver, want, timeout):
    """Poll the canvas until it shows @want (RGB); return the last read."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = canvas(driver)
        if last and last[2] == want:
            return last
        time.sleep(0.5)
    return last


def check(guest, card, ws_port, results, width, height):
    """Returns figure lines and the framebuffer's new picture (RGB);
    raises AssertionError on a mismatch."""
    httpd = serve(6080)
    profile = tempfile.mkdtemp(prefix='nv-vgpu-chromium-')
    opts = webdriver.ChromeOptions()
    opts.binary_location = '/usr/bin/chromium'
    for flag in CHROMIUM_FLAGS + ('--user-data-dir=' + profile,):
        opts.add_argument(flag)
    figures = []
    start = time.time()
    driver = webdriver.Chrome(service=Service('/usr/bin/chromedriver'),
                              options=opts)
    try:
        driver.set_script_timeout(600)
        driver.set_page_load_timeout(1200)
        driver.get('http://127.0.0.1:6080/vnc_lite.html?host=127.0.0.1'
                   '&port=%d&path=&scale=false' % ws_port)
        shown = wait_canvas(driver, card, 900)
        figures.append('noVNC: Chromium up and the picture in its canvas '
                       'after %.1f s' % (time.time() - start))
        if not shown or (shown[0], shown[1]) != (width, height):
            raise AssertionError('noVNC canvas is %s, want %dx%d' % (
                shown and shown[:2], width, height))
        if shown[2] != card:
            bad = next(i for i in range(len(card))
                       if shown[2][i] != card[i]) // 3
            raise AssertionError('noVNC canvas differs from the framebuffer '
                                 'first at (%d,%d)' % (bad % width,
                                                       bad // width))
        # Change a block of the framebuffer; time until the canvas has it.
        lat = []
        for n, colour in enumerate(((255, 0, 255), (0, 255, 255),
                                    (255, 255, 0))):
            x, y = 40 + 100 * n, 400
            driver.execute_script(WATCH, x + 4, y + 4, *colour)
            t0 = time.time()
            guest.fill(x, y, 32, 32, colour)
            deadline = time.time() + 60
            seen = None
            while time.time() < deadline:
                seen = driver.execute_script('return window.vgpuSeen;')
                if seen:
                    break
                time.sleep(0.01)
            if not seen:
                raise AssertionError('noVNC never showed the framebuffer '
                                     'change %d' % n)
            lat.append(seen / 1000.0 - t0)
            for row in range(y, y + 32):
                at = (row * width + x) * 3
                card = card[:at] + bytes(colour) * 32 + card[at + 96:]
        figures.append('noVNC update latency (framebuffer write to canvas, '
                       'default frame cap): %s ms' % ', '.join(
                           '%.0f' % (v * 1000) for v in lat))
        final = wait_canvas(driver, card, 60)
        if not final or final[2] != card:
            raise AssertionError('noVNC canvas differs after the changes')
        png = os.path.join(results, 'libvirt-novnc.png')
        driver.save_screenshot(png)
        figures.append('noVNC browser screenshot: %s' % png)
    finally:
        driver.quit()
        httpd.shutdown()
        shutil.rmtree(profile, ignore_errors=True)
    return figures, card
