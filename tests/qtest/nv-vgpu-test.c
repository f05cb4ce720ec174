/*
 * QTest for nv-vgpu: start-up errors and the vGPU life cycle, against a
 * fake host tree (x-host-root) on any host, and against real kernel VFIO
 * and the simulated vGPU driver nvsim (kernel/nvsim) in the test host
 * (tests/vgpu-host); those tests skip where nvsim is not loaded.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "libqos/pci-pc.h"
#include "qobject/qdict.h"
#include "hw/pci/pci_regs.h"
#include "qemu/units.h"
#include "../unit/vgpu-fake-host.h"
#include "nvsim-host.h"

#define P4_8C "num_heads=1, frl_config=60, framebuffer=8192M, " \
              "max_resolution=4096x2160, max_instance=1"
#define P4_1Q "num_heads=4, frl_config=60, framebuffer=1024M, " \
              "max_resolution=5120x2880, max_instance=8"
#define GPU   "0000:83:00.0"
#define UUID1 "8d5c2f0a-34b1-4c55-9a43-0e3c8b1d2f77"
#define UUID2 "1b2a6c9e-0f3d-4e8a-b5c7-d9e0f1a2b3c4"

static const char *qemu_binary(void)
{
    const char *qemu = g_getenv("QTEST_QEMU_BINARY");

    g_assert_nonnull(qemu);
    return qemu;
}

static void drop_root(gpointer unused)
{
    if (geteuid() == 0 && (setgid(65534) || setuid(65534))) {
        _exit(99);
    }
}

/*
 * Run QEMU with one nv-vgpu device and return its exit status; its stderr
 * goes to @err.  QEMU is killed after 60 s, in case a device that should
 * have failed started.
 */
static int run_qemu(const char *dev, bool unprivileged, char **err)
{
    const char *argv[] = {
        "timeout", "-s", "KILL", "60", qemu_binary(),
        "-machine", "q35", "-accel", "qtest", "-display", "none",
        "-nodefaults", "-monitor", "none", "-serial", "none",
        "-device", dev, NULL
    };
    g_autoptr(GError) gerr = NULL;
    int status;

    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL,
                               G_SPAWN_SEARCH_PATH |
                               G_SPAWN_STDOUT_TO_DEV_NULL,
                               unprivileged ? drop_root : NULL, NULL,
                               NULL, err, &status, &gerr));
    g_assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

/* QEMU must fail to start, saying @want. */
static void assert_refused(const char *dev, bool unprivileged,
                           const char *want)
{
    g_autofree char *err = NULL;
    int status = run_qemu(dev, unprivileged, &err);

    if (status != 1 || !strstr(err, want)) {
        g_error("-device %s: exit status %d, stderr:\n%s\nwanted status 1 "
                "and '%s'", dev, status, err, want);
    }
}

static FakeHost *p4_host(int free_8c)
{
    FakeHost *fh = fake_host_new();

    fake_host_add_type(fh, GPU, "nvidia-289", "GRID P4-8C", P4_8C,
                       "vfio-pci", free_8c);
    fake_host_add_type(fh, GPU, "nvidia-63", "GRID P4-1Q", P4_1Q,
                       "vfio-pci", 8);
    fake_host_add_type(fh, GPU, "vfio_ap-passthrough", "AP", "", "vfio-ap",
                       1);
    return fh;
}

static char *dev_on(FakeHost *fh, const char *props)
{
    return g_strdup_printf("nv-vgpu,x-host-root=%s,%s", fake_host_root(fh),
                           props);
}

static void test_help(void)
{
    g_autofree char *out = NULL;
    g_autofree char *cmd = g_strdup_printf("%s -device nv-vgpu,help",
                                           qemu_binary());
    char *line;
    int status;

    g_assert_true(g_spawn_command_line_sync(cmd, &out, NULL, &status, NULL));
    g_assert_cmpint(status, ==, 0);
    g_assert_nonnull(strstr(out, "nv-vgpu options:"));
    g_assert_nonnull(strstr(out, "parent=<str>           - Host GPU to "
                            "create the vGPU on"));
    g_assert_nonnull(strstr(out, "mdev-type=<str>        - vGPU type id"));
    g_assert_nonnull(strstr(out, "uuid=<str>             - UUID of the vGPU"));
    g_assert_nonnull(strstr(out, "sysfsdev=<str>"));
    g_assert_nonnull(strstr(out, "vgpu-profile=<string>  - Profile name"));
    /* nv-vgpu's real default: migrate if the vGPU can */
    line = strstr(out, "enable-migration=<OnOffAuto>");
    g_assert_nonnull(line);
    line = g_strndup(line, strcspn(line, "\n"));
    if (!strstr(line, "(default: auto)")) {
        g_error("help shows '%s', not nv-vgpu's default auto", line);
    }
    g_free(line);
}

static void test_option_errors(void)
{
    assert_refused("nv-vgpu", false, "nv-vgpu: nv-vgpu needs a vGPU: "
                   "sysfsdev=/sys/bus/mdev/devices/UUID for an existing "
                   "one, or parent=PARENT,mdev-type=TYPE to create one");
    assert_refused("nv-vgpu,sysfsdev=/sys/bus/mdev/devices/" UUID1
                   ",parent=" GPU ",mdev-type=nvidia-289", false,
                   "use either sysfsdev= (an existing vGPU) or parent= and "
                   "mdev-type= (a vGPU that nv-vgpu creates), not both");
    assert_refused("nv-vgpu,parent=" GPU, false,
                   "parent= and mdev-type= go together");
    assert_refused("nv-vgpu,mdev-type=nvidia-289", false,
                   "parent= and mdev-type= go together");
    assert_refused("nv-vgpu,parent=" GPU ",mdev-type=nvidia-289,"
                   "uuid=8d5c2f0a-34b1-4c55-9a43", false,
                   "uuid=8d5c2f0a-34b1-4c55-9a43 is not a valid UUID");
    assert_refused("nv-vgpu,host=0000:83:00.0", false,
                   "nv-vgpu takes a vGPU, not host=");
}

static void test_host_errors(void)
{
    FakeHost *fh = p4_host(0);
    FakeHost *empty = fake_host_new();
    g_autofree char *d1 = dev_on(empty, "parent=" GPU ",mdev-type=nvidia-289");
    g_autofree char *d2 = dev_on(fh, "parent=0000:84:00.0,mdev-type=x");
    g_autofree char *d3 = dev_on(fh, "parent=" GPU ",mdev-type=GRID P4-4Q");
    g_autofree char *d4 = dev_on(fh, "parent=" GPU ",mdev-type=GRID P4-8C");
    g_autofree char *d5 = dev_on(fh, "parent=" GPU ",mdev-type=vfio_ap-"
                                 "passthrough");
    g_autofree char *d6 = dev_on(fh, "sysfsdev=/sys/bus/mdev/devices/" UUID1);

    assert_refused(d1, false, "mdev parent " GPU " not found: this host has "
                   "no mdev parent devices at all; is the vGPU host driver "
                   "loaded?");
    assert_refused(d2, false, "mdev parent 0000:84:00.0 not found; the mdev "
                   "parents on this host are: " GPU);
    assert_refused(d3, false, "mdev parent " GPU " has no vGPU type or "
                   "profile 'GRID P4-4Q'; its types are: nvidia-289 (GRID "
                   "P4-8C, 0 free), nvidia-63 (GRID P4-1Q, 8 free)");
    assert_refused(d4, false, "no free instance of vGPU type GRID P4-8C "
                   "(nvidia-289: 8192 MiB, 1 head, 4096x2160, 60 fps) on "
                   GPU " (max_instance=1): remove a vGPU that is not in use "
                   "or choose a smaller profile");
    assert_refused(d5, false, "has device_api vfio-ap, but nv-vgpu needs a "
                   "vfio-pci vGPU");
    assert_refused(d6, false, "no vGPU at sysfsdev=/sys/bus/mdev/devices/"
                   UUID1 ": create one first");
    g_assert_cmpstr(fake_host_read(fh, "sys/devices/" GPU "/mdev_supported_"
                                   "types/nvidia-289/create"), ==, "");
    fake_host_free(empty);
    fake_host_free(fh);
}

static void test_profile_limits(void)
{
    FakeHost *fh = p4_host(1);
    g_autofree char *dev = NULL;
    g_autofree char *sysfsdev = NULL;

    sysfsdev = fake_host_add_mdev(fh, GPU, "nvidia-289", UUID1, 4);
    fake_host_add_vfio_group(fh, 4, 0666);
    dev = g_strdup_printf("nv-vgpu,x-host-root=%s,sysfsdev=%s,xres=5120,"
                          "yres=2880", fake_host_root(fh), sysfsdev);
    assert_refused(dev, false, "xres=5120,yres=2880 is beyond the maximum "
                   "resolution 4096x2160 of vGPU profile GRID P4-8C");
    g_free(dev);
    dev = g_strdup_printf("nv-vgpu,x-host-root=%s,sysfsdev=%s,console-fps=61",
                          fake_host_root(fh), sysfsdev);
    assert_refused(dev, false, "console-fps=61 is outside 1 to 60, the frame "
                   "rate limit of vGPU profile GRID P4-8C");
    g_free(dev);
    dev = g_strdup_printf("nv-vgpu,x-host-root=%s,sysfsdev=%s,console-fps=0",
                          fake_host_root(fh), sysfsdev);
    assert_refused(dev, false, "console-fps=0 is outside 1 to 60");
    fake_host_free(fh);
}

static void test_permissions(void)
{
    FakeHost *fh = p4_host(1);
    g_autofree char *create = dev_on(fh, "parent=" GPU ",mdev-type=nvidia-63");
    g_autofree char *open = NULL;
    g_autofree char *sysfsdev = NULL;

    sysfsdev = fake_host_add_mdev(fh, GPU, "nvidia-63", UUID2, 6);
    fake_host_add_vfio_group(fh, 6, 0600);
    open = g_strdup_printf("nv-vgpu,x-host-root=%s,sysfsdev=%s",
                           fake_host_root(fh), sysfsdev);

    assert_refused(create, true, "mdev_supported_types/nvidia-63/create: "
                   "creating a vGPU needs root; or create the mdev "
                   "beforehand (e.g. with mdevctl) and pass sysfsdev=");
    assert_refused(open, true, "/dev/vfio/6, the VFIO group of vGPU " UUID2
                   ": run QEMU as root or give its user read-write access "
                   "to it and to /dev/vfio/vfio; with libvirt, pass the "
                   "vGPU as a <hostdev type='mdev'>");
    fake_host_free(fh);
}

/*
 * The whole life cycle up to the VFIO open: nv-vgpu writes a UUID into
 * "create", finds the new mdev, and when vfio-pci then fails (there is no
 * real VFIO group behind a fake tree) the mdev it made is removed.
 */
static void test_created_then_removed_on_failure(void)
{
    FakeHost *fh = p4_host(1);
    g_autofree char *dev = dev_on(fh, "parent=" GPU ",mdev-type=nvidia-289,"
                                  "uuid=" UUID1);
    g_autofree char *uuid = NULL;

    fake_host_serve_create(fh, GPU, "nvidia-289", 4242);
    fake_host_add_vfio_group(fh, 4242, 0666);
    assert_refused(dev, false, "/dev/vfio/4242");
    uuid = fake_host_created_uuid(fh, 5000);
    g_assert_cmpstr(uuid, ==, UUID1);
    g_assert_true(fake_host_wait_for(fh, "sys/devices/" GPU "/" UUID1
                                     "/remove", "1", 10000));
    fake_host_free(fh);
}

/* An existing mdev named by uuid= is used, and left in place. */
static void test_existing_left_in_place(void)
{
    FakeHost *fh = p4_host(0);
    g_autofree char *dev = dev_on(fh, "parent=" GPU ",mdev-type=GRID P4-8C,"
                                  "uuid=8D5C2F0A-34B1-4C55-9A43-0E3C8B1D2F77");

    g_free(fake_host_add_mdev(fh, GPU, "nvidia-289", UUID1, 4243));
    fake_host_add_vfio_group(fh, 4243, 0666);
    assert_refused(dev, false, "/dev/vfio/4243");
    vgpu_wait_no_reaper(UUID1);
    g_assert_cmpstr(fake_host_read(fh, "sys/devices/" GPU "/" UUID1
                                   "/remove"), ==, "");
    g_assert_cmpstr(fake_host_read(fh, "sys/devices/" GPU "/mdev_supported_"
                                   "types/nvidia-289/create"), ==, "");
    fake_host_free(fh);
}

/* Tests against the simulated vGPU driver, in the test host. */

/* nvsim's BAR0 registers (kernel/nvsim/nvsim-regs.h) */
#define NVSIM_REG_ID        0x0000
#define NVSIM_REG_TYPE      0x0008
#define NVSIM_REG_FB_MB     0x000c
#define NVSIM_REG_SCRATCH   0x0010

static char *qom_get_str(QTestState *qts, const char *prop)
{
    return qom_get_dev_str(qts, "gpu0", prop);
}

static uint64_t qom_get_uint(QTestState *qts, const char *prop)
{
    return qom_get_dev_uint(qts, "gpu0", prop);
}

/*
 * The guest's view of a vGPU that QEMU created: the profile, the PCI
 * identity, BAR0 registers and the BAR1 framebuffer.  Then QEMU exits and
 * the vGPU is gone, its instance free again.
 */
static void test_nvsim_created_vgpu(void)
{
    const uint64_t fb = 0x400000000ULL;     /* where the guest puts BAR1 */
    static const uint32_t offsets[] = { 0, 4, 4096, 1 << 20, (1 << 30) - 4 };
    g_autofree uint8_t *page = g_malloc(4096);
    g_autofree uint8_t *back = g_malloc(4096);
    g_autofree char *uuid = NULL;
    g_autofree char *str = NULL;
    QPCIDevice *dev;
    QPCIBus *bus;
    QTestState *qts;
    QPCIBar bar0;
    uint64_t size;
    int before, i;

    if (nvsim_skip_test()) {
        return;
    }
    before = nvsim_available("nvsim-63");
    qts = qtest_init("-machine q35 -nodefaults -device nv-vgpu,id=gpu0,"
                     "addr=04.0,parent=nvsim,mdev-type=nvsim-63");

    uuid = qom_get_str(qts, "vgpu-uuid");
    g_assert_true(mdev_exists(uuid));
    g_assert_cmpint(nvsim_available("nvsim-63"), ==, before - 1);
    str = qom_get_str(qts, "vgpu-profile");
    g_assert_cmpstr(str, ==, "GRID P4-1Q");
    g_free(str);
    str = qom_get_str(qts, "vgpu-max-resolution");
    g_assert_cmpstr(str, ==, "5120x2880");
    g_assert_cmpuint(qom_get_uint(qts, "vgpu-framebuffer"), ==, 1 * GiB);
    g_assert_cmpuint(qom_get_uint(qts, "vgpu-heads"), ==, 4);

    bus = qpci_new_pc(qts, NULL);
    dev = qpci_device_find(bus, QPCI_DEVFN(4, 0));
    g_assert_nonnull(dev);
    g_assert_cmphex(qpci_config_readw(dev, PCI_VENDOR_ID), ==, 0x10de);
    g_assert_cmphex(qpci_config_readw(dev, PCI_DEVICE_ID), ==, 0x2330);
    g_assert_cmphex(qpci_config_readw(dev, PCI_SUBSYSTEM_VENDOR_ID), ==,
                    0x10de);
    g_assert_cmphex(qpci_config_readw(dev, PCI_SUBSYSTEM_ID), ==, 0x16c1);
    g_assert_cmphex(qpci_config_readw(dev, PCI_CLASS_DEVICE), ==, 0x0300);

    qpci_device_enable(dev);
    bar0 = qpci_iomap(dev, 0, &size);
    g_assert_cmpuint(size, ==, 16 * MiB);
    g_assert_cmphex(qpci_io_readl(dev, bar0, NVSIM_REG_ID), ==, 0x10de2330);
    g_assert_cmpuint(qpci_io_readl(dev, bar0, NVSIM_REG_TYPE), ==, 63);
    g_assert_cmpuint(qpci_io_readl(dev, bar0, NVSIM_REG_FB_MB), ==, 1024);
    qpci_io_writel(dev, bar0, NVSIM_REG_SCRATCH, 0xc0ffee42);
    g_assert_cmphex(qpci_io_readl(dev, bar0, NVSIM_REG_SCRATCH), ==,
                    0xc0ffee42);

    /* BAR1 is 1 GiB, beyond libqos' 32-bit window: place it by hand. */
    qpci_config_writel(dev, PCI_BASE_ADDRESS_1, (uint32_t)fb);
    qpci_config_writel(dev, PCI_BASE_ADDRESS_2, fb >> 32);
    for (i = 0; i < G_N_ELEMENTS(offsets); i++) {
        qtest_writel(qts, fb + offsets[i], 0x5a000000 | i);
    }
    for (i = 0; i < G_N_ELEMENTS(offsets); i++) {
        g_assert_cmphex(qtest_readl(qts, fb + offsets[i]), ==,
                        0x5a000000 | i);
    }
    for (i = 0; i < 4096; i++) {
        page[i] = i * 7 + 3;
    }
    qtest_memwrite(qts, fb + 64 * MiB, page, 4096);
    qtest_memread(qts, fb + 64 * MiB, back, 4096);
    g_assert_cmpmem(page, 4096, back, 4096);

    g_free(dev);
    qpci_free_pc(bus);
    qtest_quit(qts);
    g_assert_true(mdev_wait_gone(uuid));
    g_assert_cmpint(nvsim_available("nvsim-63"), ==, before);
}

/* Unplugging a vGPU that QEMU created removes it; QEMU runs on. */
static void test_nvsim_unplug_removes(void)
{
    g_autofree char *uuid = NULL;
    QTestState *qts;

    if (nvsim_skip_test()) {
        return;
    }
    qts = qtest_init("-machine pc -nodefaults -device nv-vgpu,id=gpu0,"
                     "bus=pci.0,addr=05.0,parent=nvsim,mdev-type=nvsim-65");
    uuid = qom_get_str(qts, "vgpu-uuid");
    g_assert_true(mdev_exists(uuid));
    qpci_unplug_acpi_device_test(qts, "gpu0", 5);
    g_assert_true(mdev_wait_gone(uuid));
    qtest_qmp_assert_success(qts, "{ 'execute': 'query-status' }");
    qtest_quit(qts);
}

/* A vGPU given by sysfsdev= is kept, and a second VM cannot have it. */
static void test_nvsim_sysfsdev_busy(void)
{
    g_autofree char *uuid = NULL;
    g_autofree char *dev = NULL;
    g_autofree char *str = NULL;
    QTestState *qts;

    if (nvsim_skip_test()) {
        return;
    }
    uuid = nvsim_create("nvsim-157");
    qts = qtest_initf("-machine q35 -nodefaults -device nv-vgpu,id=gpu0,"
                      "sysfsdev=" MDEV_DEVICES "/%s", uuid);
    str = qom_get_str(qts, "vgpu-profile");
    g_assert_cmpstr(str, ==, "GRID P4-1B");
    g_assert_false(qtest_qom_get_bool(qts, "/machine/peripheral/gpu0",
                                      "vgpu-created"));

    dev = g_strdup_printf("nv-vgpu,sysfsdev=" MDEV_DEVICES "/%s", uuid);
    assert_refused(dev, false, "is already in use: its VFIO group");

    qtest_quit(qts);
    vgpu_wait_no_reaper(uuid);
    g_assert_true(mdev_exists(uuid));
    nvsim_remove(uuid);
}

/* A GPU whose framebuffer is all given out refuses another vGPU. */
static void test_nvsim_full_parent(void)
{
    g_autofree char *uuid = NULL;
    QTestState *qts;

    if (nvsim_skip_test()) {
        return;
    }
    qts = qtest_init("-machine q35 -nodefaults -device nv-vgpu,id=gpu0,"
                     "parent=nvsim,mdev-type=nvsim-289");
    uuid = qom_get_str(qts, "vgpu-uuid");
    g_assert_cmpint(nvsim_available("nvsim-63"), ==, 0);
    assert_refused("nv-vgpu,parent=nvsim,mdev-type=nvsim-63", false,
                   "no free instance of vGPU type GRID P4-1Q");
    qtest_quit(qts);
    g_assert_true(mdev_wait_gone(uuid));
}

/* vfio-pci fails after the vGPU was created and opened: it is removed. */
static void test_nvsim_failed_start_removes(void)
{
    int before;

    if (nvsim_skip_test()) {
        return;
    }
    before = mdev_count();
    /* vfio-pci's realize has run when PCI fails to load the ROM */
    assert_refused("nv-vgpu,parent=nvsim,mdev-type=nvsim-63,"
                   "romfile=/nonexistent/vgpu.rom", false,
                   "failed to find romfile \"/nonexistent/vgpu.rom\"");
    for (int i = 0; i < 1000 && mdev_count() != before; i++) {
        g_usleep(10 * 1000);
    }
    g_assert_cmpint(mdev_count(), ==, before);

    /* a refusal before vfio-pci's realize, after the create */
    assert_refused("nv-vgpu,parent=nvsim,mdev-type=nvsim-63,display=off,"
                   "xres=640,yres=480", false,
                   "xres= and yres= set the guest's monitor, which needs "
                   "display=on or display=auto");
    for (int i = 0; i < 1000 && mdev_count() != before; i++) {
        g_usleep(10 * 1000);
    }
    g_assert_cmpint(mdev_count(), ==, before);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/nv-vgpu/help", test_help);
    qtest_add_func("/nv-vgpu/option-errors", test_option_errors);
    qtest_add_func("/nv-vgpu/host-errors", test_host_errors);
    qtest_add_func("/nv-vgpu/profile-limits", test_profile_limits);
    qtest_add_func("/nv-vgpu/permissions", test_permissions);
    qtest_add_func("/nv-vgpu/created-then-removed-on-failure",
                   test_created_then_removed_on_failure);
    qtest_add_func("/nv-vgpu/existing-left-in-place",
                   test_existing_left_in_place);
    qtest_add_func("/nv-vgpu/nvsim/created-vgpu", test_nvsim_created_vgpu);
    qtest_add_func("/nv-vgpu/nvsim/unplug-removes", test_nvsim_unplug_removes);
    qtest_add_func("/nv-vgpu/nvsim/sysfsdev-busy", test_nvsim_sysfsdev_busy);
    qtest_add_func("/nv-vgpu/nvsim/full-parent", test_nvsim_full_parent);
    qtest_add_func("/nv-vgpu/nvsim/failed-start-removes",
                   test_nvsim_failed_start_removes);
    return g_test_run();
}
