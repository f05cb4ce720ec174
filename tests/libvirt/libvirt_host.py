# SPDX-License-Identifier: GPL-2.0-or-later
"""Two libvirt daemons inside the test host (tests/vgpu-host), and the
domains the libvirt tests and the demo start on them.

Daemon 1 is the system one (/etc/libvirt, /run/libvirt, qemu:///system).
Daemon 2 runs in a mount namespace of its own where its configuration,
state, cache and log folders are other tmpfs folders, and listens on a
socket outside them; it has its own host_uuid, so that libvirt takes the
two for two hosts and migrates between them.  Both keep libvirt's default
QEMU user (libvirt-qemu) and DAC labelling, run without a per-VM mount
namespace (it loses the VFIO nodes under the test host's chroot) and log
QEMU's output to files (no virtlogd)."""
import os
import shutil
import subprocess
import time
import uuid

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
QEMU = os.path.join(TOP, 'build', 'qemu-build', 'qemu-system-x86_64')
BASE = '/run/nv-vgpu-libvirt'
SOCKDIR = BASE + '/vm'         # qtest sockets, world-writable
LIBVIRT_DIRS = ('/etc/libvirt', '/run/libvirt', '/var/lib/libvirt',
                '/var/cache/libvirt', '/var/log/libvirt')

QEMU_CONF = '''# written by tests/libvirt/libvirt_host.py
namespaces = [ ]
stdio_handler = "file"
vnc_listen = "127.0.0.1"
'''


def run(cmd, check=True, timeout=300, **kw):
    out = subprocess.run(cmd, capture_output=True, text=True,
                         timeout=timeout, **kw)
    if check and out.returncode:
        raise RuntimeError('%s: exit %d: %s%s' % (' '.join(cmd),
                           out.returncode, out.stdout, out.stderr))
    return out


class Daemon:
    def __init__(self, n):
        self.n = n
        self.host_uuid = str(uuid.uuid4())
        if n == 1:
            self.uri = 'qemu:///system'
            self.sock_dir = '/run/libvirt'
            self.log_dir = '/var/log/libvirt'
        else:
            self.root = '%s/d%d' % (BASE, n)
            self.sock_dir = '%s/sock%d' % (BASE, n)
            self.uri = 'qemu:///system?socket=%s/libvirt-sock' % self.sock_dir
            self.log_dir = self.root + '/var/log/libvirt'
        self.pidfile = '%s/libvirtd%d.pid' % (BASE, n)
        self.conf = '%s/libvirtd%d.conf' % (BASE, n)

    def start(self):
        os.makedirs(self.sock_dir, exist_ok=True)
        with open(self.conf, 'w') as f:
            f.write('host_uuid = "%s"\nunix_sock_dir = "%s"\n'
                    'auth_unix_ro = "none"\nauth_unix_rw = "none"\n'
                    'log_outputs = "3:file:%s/libvirtd%d.log"\n'
                    % (self.host_uuid, self.sock_dir, BASE, self.n))
        if self.n == 1:
            with open('/etc/libvirt/qemu.conf', 'w') as f:
                f.write(QEMU_CONF)
            cmd = ['libvirtd', '-d', '-p', self.pidfile, '-f', self.conf]
        else:
            binds = []
            for d in LIBVIRT_DIRS:
                mine = self.root + d
                if d == '/etc/libvirt':
                    shutil.copytree(d, mine, dirs_exist_ok=True)
                else:
                    os.makedirs(mine, exist_ok=True)
                binds.append('mount --bind %s %s' % (mine, d))
            script = ' && '.join(binds + [
                'exec libvirtd -d -p %s -f %s' % (self.pidfile, self.conf)])
            cmd = ['unshare', '-m', '--propagation', 'private',
                   'sh', '-c', script]
        run(cmd)
        # `virsh version` needs a system QEMU; `uri` only the daemon.
        deadline = time.time() + 120
        while run(['virsh', '-c', self.uri, 'uri'], check=False,
                  timeout=60).returncode:
            if time.time() > deadline:
                raise RuntimeError('libvirtd %d did not come up' % self.n)
            time.sleep(0.2)

    def virsh(self, *args, check=True, timeout=600):
        return run(['virsh', '-q', '-c', self.uri] + list(args), check=check,
                   timeout=timeout)

    def qmp(self, dom, cmd, **args):
        import json
        req = {'execute': cmd}
        if args:
            req['arguments'] = args
        out = self.virsh('qemu-monitor-command', dom, json.dumps(req))
        return json.loads(out.stdout)['return']

    def qemu_pid(self, dom):
        path = ('/run/libvirt/qemu/%s.pid' % dom if self.n == 1 else
                '%s/run/libvirt/qemu/%s.pid' % (self.root, dom))
        with open(path) as f:
            return int(f.read().strip())

    def qemu_log(self, dom):
        try:
            with open('%s/qemu/%s.log' % (self.log_dir, dom)) as f:
                return f.read()
        except OSError as e:
            return str(e)

    def stop(self):
        try:
            with open(self.pidfile) as f:
                pid = int(f.read().strip())
            os.kill(pid, 15)
        except (OSError, ValueError):
            pass


def setup_host():
    """Loopback up, our folders; returns the two daemons, started."""
    run(['ip', 'link', 'set', 'lo', 'up'])
    os.makedirs(SOCKDIR, exist_ok=True)
    os.chmod(SOCKDIR, 0o1777)
    daemons = [Daemon(1), Daemon(2)]
    for d in daemons:
        d.start()
    return daemons


def make_mdev(parent, mdev_type, with_mdevctl=False):
    """A vGPU made as an operator would (not by QEMU); returns its UUID."""
    u = str(uuid.uuid4())
    if with_mdevctl:
        run(['mdevctl', 'start', '-u', u, '-p', parent, '-t', mdev_type])
    else:
        with open('/sys/class/mdev_bus/%s/mdev_supported_types/%s/create'
                  % (parent, mdev_type), 'w') as f:
            f.write(u)
    return u


def remove_mdev(u):
    try:
        with open('/sys/bus/mdev/devices/%s/remove' % u, 'w') as f:
            f.write('1')
    except OSError:
        pass


def mdevs():
    return sorted(os.listdir('/sys/bus/mdev/devices'))


def domain_xml(name, mdev_uuid, qtest=None, as_root=False, vnc_port=None,
               websocket=None, extra_args=(), hostdev=True, ramfb=False,
               props=()):
    """The documented form: libvirt's mdev hostdev, its driver overridden
    to nv-vgpu.  @qtest adds a qtest socket through which the tests play
    the guest's display driver (the guest has no OS); @ramfb the boot
    display (ramfb='on'); @props more nv-vgpu properties, as (name, type,
    value) triples for <qemu:property>."""
    args = list(extra_args)
    if qtest:
        args += ['-qtest', 'unix:%s,server=on,wait=off' % qtest,
                 '-qtest-log', 'none']
    cmdline = ''.join("    <qemu:arg value='%s'/>\n" % a for a in args)
    if cmdline:
        cmdline = '  <qemu:commandline>\n%s  </qemu:commandline>\n' % cmdline
    # display='on' needs a graphics device; VNC on a free loopback port.
    graphics = "    <graphics type='vnc' autoport='yes' listen='127.0.0.1'/>\n"
    if vnc_port:
        graphics = ("    <graphics type='vnc' port='%d' autoport='no'%s "
                    "listen='127.0.0.1'/>\n"
                    % (vnc_port, " websocket='%d'" % websocket
                       if websocket else ''))
    seclabel = ("  <seclabel type='static' model='dac' relabel='yes'>"
                "<label>+0:+0</label></seclabel>\n" if as_root else '')
    dev = override = ''
    if hostdev:
        dev = ("    <hostdev mode='subsystem' type='mdev' managed='no' "
               "model='vfio-pci' display='on'%s>\n"
               "      <source><address uuid='%s'/></source>\n"
               "      <alias name='ua-gpu0'/>\n"
               "    </hostdev>\n" % (" ramfb='on'" if ramfb else '',
                                  mdev_uuid))
        override = ("  <qemu:override>\n"
                    "    <qemu:device alias='ua-gpu0'>\n"
                    "      <qemu:frontend>\n"
                    "        <qemu:property name='driver' type='string' "
                    "value='nv-vgpu'/>\n" +
                    ''.join("        <qemu:property name='%s' type='%s' "
                            "value='%s'/>\n" % p for p in props) +
                    "      </qemu:frontend>\n"
                    "    </qemu:device>\n"
                    "  </qemu:override>\n")
    # With no disk SeaBIOS ends on "No bootable device." and, by default,
    # reboots a minute later; the boot display tests want it to stay.
    bios = "<bios rebootTimeout='-1'/>" if ramfb else ''
    return ("<domain type='qemu' "
            "xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>\n"
            "  <name>%s</name>\n"
            "  <memory unit='MiB'>128</memory>\n"
            "  <vcpu>1</vcpu>\n"
            "  <os><type arch='x86_64' machine='q35'>hvm</type>%s</os>\n"
            "  <devices>\n"
            "    <emulator>%s</emulator>\n"
            "    <controller type='usb' model='none'/>\n"
            "%s"
            "    <video><model type='none'/></video>\n"
            "%s"
            "    <memballoon model='none'/>\n"
            "  </devices>\n"
            "%s%s%s"
            "</domain>\n" % (name, bios, QEMU, graphics, dev, seclabel,
                             cmdline, override))
