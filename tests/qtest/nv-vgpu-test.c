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
#include "qobject/qlist.h"
#include "qobject/qstring.h"
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
#define SR_PF  "0000:41:00.0"
#define SR_VF1 "0000:41:00.1"
#define SR_VF2 "0000:41:00.2"
#define L4_TYPES "ID    : vGPU Name\n1061  : NVIDIA L4-2Q\n" \
                 "1062  : NVIDIA L4-4Q\n"

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
    g_assert_nonnull(strstr(out, "profile=<str>          - vGPU type id"));
    g_assert_nonnull(strstr(out, "mdev-type=<str>        - Old name of "
                            "profile="));
    g_assert_nonnull(strstr(out, "vgpu-vf=<string>       - PCI address of "
                            "the SR-IOV VF"));
    g_assert_nonnull(strstr(out, "uuid=<str>             - UUID of the vGPU"));
    g_assert_nonnull(strstr(out, "sysfsdev=<str>"));
    g_assert_nonnull(strstr(out, "vgpu-profile=<string>  - Profile name"));
    g_assert_nonnull(strstr(out, "on-error=<VgpuErrorPolicy> - "));
    g_assert_nonnull(strstr(out, "(report) (default: stop)\n"));
    g_assert_nonnull(strstr(out, "on-request=<VgpuRequestPolicy> - "));
    g_assert_nonnull(strstr(out, "(report) (default: unplug)\n"));
    g_assert_nonnull(strstr(out, "vgpu-params=<str>      - NVIDIA plugin "
                            "parameters"));
    g_assert_nonnull(strstr(out, "frame-rate-limiter=<OnOffAuto> - "));
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
                   "mdev, host=VF for an SR-IOV VF (with profile=TYPE to "
                   "give it a type), or parent=GPU,profile=TYPE to make one");
    assert_refused("nv-vgpu,sysfsdev=/sys/bus/mdev/devices/" UUID1
                   ",parent=" GPU ",mdev-type=nvidia-289", false,
                   "use either sysfsdev= (an existing vGPU or VF) or "
                   "parent= (a vGPU that nv-vgpu makes on a GPU), not both");
    assert_refused("nv-vgpu,parent=" GPU, false,
                   "parent= and profile= go together");
    assert_refused("nv-vgpu,mdev-type=nvidia-289", false,
                   "profile=nvidia-289 needs a place to make the vGPU: "
                   "parent=GPU");
    assert_refused("nv-vgpu,parent=" GPU ",mdev-type=nvidia-289,"
                   "uuid=8d5c2f0a-34b1-4c55-9a43", false,
                   "uuid=8d5c2f0a-34b1-4c55-9a43 is not a valid UUID");
}

/* SR-IOV forms that need no host to be refused */
static void test_sriov_option_errors(void)
{
    assert_refused("nv-vgpu,host=" SR_VF1 ",sysfsdev=/sys/bus/pci/devices/"
                   SR_VF1, false, "use either host= or sysfsdev=, not both");
    assert_refused("nv-vgpu,host=" SR_VF1 ",parent=" SR_PF ",profile=1062",
                   false, "use either host= (an existing vGPU or VF) or "
                   "parent=");
    assert_refused("nv-vgpu,host=" SR_VF1 ",uuid=" UUID1, false,
                   "use either host= (an existing vGPU or VF) or parent=");
    assert_refused("nv-vgpu,parent=" SR_PF ",profile=1062,mdev-type=1064",
                   false, "profile=1062 and mdev-type=1064 disagree: "
                   "mdev-type= is the old name of profile=");
    assert_refused("nv-vgpu,profile=NVIDIA L4-4Q", false,
                   "profile=NVIDIA L4-4Q needs a place to make the vGPU");
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

/* ------------------------------------------------------------------ */
/* The operator's controls: health events, plugin parameters, query-vgpus */

#define ACPI_PCIHP_DOWN 0xae04  /* slots whose unplug the guest was asked */

/* The one vGPU of query-vgpus (a reference the caller drops) */
static QDict *query_vgpu(QTestState *qts)
{
    QDict *resp = qtest_qmp(qts, "{ 'execute': 'query-vgpus' }");
    QList *list = qdict_get_qlist(resp, "return");
    QDict *v;

    g_assert_nonnull(list);
    g_assert_cmpint(qlist_size(list), ==, 1);
    v = qobject_to(QDict, qlist_peek(list));
    qobject_ref(v);
    qobject_unref(resp);
    return v;
}

static const char *run_status(QTestState *qts, char *buf, size_t len)
{
    QDict *resp = qtest_qmp(qts, "{ 'execute': 'query-status' }");

    g_strlcpy(buf, qdict_get_str(qdict_get_qdict(resp, "return"), "status"),
              len);
    qobject_unref(resp);
    return buf;
}

/* An event of the vGPU gpu0 on nvsim, with the policy's @action */
static void assert_vgpu_event(QDict *ev, const char *uuid, const char *type,
                              const char *action, int64_t count)
{
    QDict *data = qdict_get_qdict(ev, "data");

    g_assert_cmpstr(qdict_get_str(data, "id"), ==, "gpu0");
    g_assert_cmpstr(qdict_get_str(data, "qom-path"), ==,
                    "/machine/peripheral/gpu0");
    g_assert_cmpstr(qdict_get_str(data, "uuid"), ==, uuid);
    g_assert_cmpstr(qdict_get_str(data, "parent"), ==, "nvsim");
    g_assert_cmpstr(qdict_get_str(data, "type"), ==, type);
    g_assert_cmpstr(qdict_get_str(data, "action"), ==, action);
    g_assert_cmpint(qdict_get_int(data, "count"), ==, count);
}

static QDict *health_irq(QDict *v, const char *which)
{
    return qdict_get_qdict(qdict_get_qdict(v, "health"), which);
}

/*
 * on-error=report and on-request=report: the events, the VM running on,
 * the device kept, and the counters.
 */
static void test_nvsim_health_report(void)
{
    g_autofree char *uuid = NULL;
    char status[32];
    int64_t before = g_get_real_time();
    QTestState *qts;
    QDict *ev, *v;

    if (nvsim_skip_test()) {
        return;
    }
    qts = qtest_init("-machine pc -nodefaults -device nv-vgpu,id=gpu0,"
                     "bus=pci.0,addr=05.0,parent=nvsim,mdev-type=nvsim-63,"
                     "on-error=report,on-request=report");
    uuid = qom_get_str(qts, "vgpu-uuid");
    v = query_vgpu(qts);
    g_assert_cmpstr(qdict_get_str(qdict_get_qdict(v, "health"), "on-error"),
                    ==, "report");
    g_assert_true(qdict_get_bool(health_irq(v, "error"), "present"));
    g_assert_true(qdict_get_bool(health_irq(v, "request"), "present"));
    g_assert_cmpint(qdict_get_int(health_irq(v, "error"), "count"), ==, 0);
    g_assert_false(qdict_haskey(health_irq(v, "error"), "last"));
    qobject_unref(v);

    mdev_attr_write(uuid, "nvsim/inject_irq", "err");
    ev = qtest_qmp_eventwait_ref(qts, "VGPU_ERROR");
    assert_vgpu_event(ev, uuid, "nvsim-63", "report", 1);
    qobject_unref(ev);
    mdev_attr_write(uuid, "nvsim/inject_irq", "err");
    ev = qtest_qmp_eventwait_ref(qts, "VGPU_ERROR");
    assert_vgpu_event(ev, uuid, "nvsim-63", "report", 2);
    qobject_unref(ev);
    g_assert_cmpstr(run_status(qts, status, sizeof(status)), ==, "running");

    mdev_attr_write(uuid, "nvsim/inject_irq", "req");
    ev = qtest_qmp_eventwait_ref(qts, "VGPU_REQUEST");
    assert_vgpu_event(ev, uuid, "nvsim-63", "report", 1);
    qobject_unref(ev);
    /* the guest was not asked to unplug it */
    g_assert_cmphex(qtest_inl(qts, ACPI_PCIHP_DOWN), ==, 0);

    v = query_vgpu(qts);
    g_assert_cmpint(qdict_get_int(health_irq(v, "error"), "count"), ==, 2);
    g_assert_cmpint(qdict_get_int(health_irq(v, "error"), "last"), >=,
                    before);
    g_assert_cmpint(qdict_get_int(health_irq(v, "error"), "last"), <=,
                    g_get_real_time());
    g_assert_cmpint(qdict_get_int(health_irq(v, "request"), "count"), ==, 1);
    g_assert_true(qdict_haskey(health_irq(v, "request"), "last"));
    qobject_unref(v);
    g_assert_true(mdev_exists(uuid));
    qtest_quit(qts);
    g_assert_true(mdev_wait_gone(uuid));
}

/*
 * The defaults, vfio-pci's: a request asks the guest to unplug the vGPU
 * (its eject then removes it), an error stops the VM.
 */
static void test_nvsim_health_defaults(void)
{
    g_autofree char *uuid = NULL;
    char status[32];
    QTestState *qts;
    QDict *ev, *v;

    if (nvsim_skip_test()) {
        return;
    }
    /* two series in one VM: NVIDIA's rules need lifting for that */
    qts = qtest_init("-machine pc -nodefaults -device nv-vgpu,id=gpu0,"
                     "bus=pci.0,addr=05.0,parent=nvsim,mdev-type=nvsim-157,"
                     "multi-vgpu=any -device nv-vgpu,id=gpu1,bus=pci.0,"
                     "addr=06.0,parent=nvsim,mdev-type=nvsim-63,"
                     "multi-vgpu=any");
    uuid = qom_get_str(qts, "vgpu-uuid");

    mdev_attr_write(uuid, "nvsim/inject_irq", "req");
    ev = qtest_qmp_eventwait_ref(qts, "VGPU_REQUEST");
    assert_vgpu_event(ev, uuid, "nvsim-157", "unplug", 1);
    qobject_unref(ev);
    g_assert_cmphex(qtest_inl(qts, ACPI_PCIHP_DOWN), ==, 1 << 5);
    qtest_outl(qts, 0xae08, 1 << 5);        /* the guest ejects it */
    qtest_qmp_eventwait(qts, "DEVICE_DELETED");
    g_assert_true(mdev_wait_gone(uuid));

    /* gpu1 now: an error stops the VM */
    g_free(uuid);
    uuid = qom_get_dev_str(qts, "gpu1", "vgpu-uuid");
    g_assert_cmpstr(run_status(qts, status, sizeof(status)), ==, "running");
    mdev_attr_write(uuid, "nvsim/inject_irq", "err");
    ev = qtest_qmp_eventwait_ref(qts, "VGPU_ERROR");
    g_assert_cmpstr(qdict_get_str(qdict_get_qdict(ev, "data"), "id"), ==,
                    "gpu1");
    g_assert_cmpstr(qdict_get_str(qdict_get_qdict(ev, "data"), "action"), ==,
                    "stop");
    qobject_unref(ev);
    qtest_qmp_eventwait(qts, "STOP");
    g_assert_cmpstr(run_status(qts, status, sizeof(status)), ==,
                    "internal-error");
    v = query_vgpu(qts);
    g_assert_cmpstr(qdict_get_str(v, "id"), ==, "gpu1");
    g_assert_cmpint(qdict_get_int(health_irq(v, "error"), "count"), ==, 1);
    g_assert_cmpstr(qdict_get_str(qdict_get_qdict(v, "health"), "on-error"),
                    ==, "stop");
    qobject_unref(v);
    qtest_quit(qts);
    g_assert_true(mdev_wait_gone(uuid));
}

/* A vGPU whose driver has no error interrupt starts, and says so. */
static void test_nvsim_no_err_irq(void)
{
    g_autofree char *uuid = NULL;
    g_autofree char *out = NULL;
    QTestState *qts;
    QDict *v;

    if (nvsim_skip_test()) {
        return;
    }
    uuid = nvsim_create("nvsim-63");
    mdev_attr_write(uuid, "nvsim/err_irq", "0");
    qts = qtest_initf("-machine q35 -nodefaults -device nv-vgpu,id=gpu0,"
                      "sysfsdev=" MDEV_DEVICES "/%s", uuid);
    v = query_vgpu(qts);
    g_assert_false(qdict_get_bool(health_irq(v, "error"), "present"));
    g_assert_true(qdict_get_bool(health_irq(v, "request"), "present"));
    qobject_unref(v);
    out = qtest_hmp(qts, "info vgpus");
    g_assert_nonnull(strstr(out, "  health: on-error=stop, on-request=unplug, "
                            "errors (no interrupt) 0, requests 0\r\n"));
    qtest_quit(qts);
    g_usleep(200 * 1000);
    mdev_attr_write(uuid, "nvsim/err_irq", "1");
    nvsim_remove(uuid);
}

static char *mdev_params(const char *uuid)
{
    g_autofree char *path = g_strdup_printf(MDEV_DEVICES "/%s/nvidia/"
                                            "vgpu_params", uuid);
    char *value = NULL;

    g_assert_true(g_file_get_contents(path, &value, NULL, NULL));
    return g_strchomp(value);
}

/* Wait up to 10 s for the vGPU's plugin parameters to read @want. */
static bool mdev_params_wait(const char *uuid, const char *want)
{
    g_autofree char *value = NULL;

    for (int i = 0; i < 1000; i++) {
        g_free(value);
        value = mdev_params(uuid);
        if (!strcmp(value, want)) {
            return true;
        }
        g_usleep(10 * 1000);
    }
    g_printerr("vGPU %s: plugin parameters '%s', not '%s'\n", uuid, value,
               want);
    return false;
}

static uint64_t mdev_frame_rate(const char *uuid)
{
    g_autofree char *path = g_strdup_printf(MDEV_DEVICES "/%s/nvsim/"
                                            "frame_rate", uuid);
    g_autofree char *value = NULL;

    g_assert_true(g_file_get_contents(path, &value, NULL, NULL));
    return g_ascii_strtoull(value, NULL, 10);
}

/* The n-th key=value of a VgpuParam list */
static void assert_param(QList *list, int n, const char *key,
                         const char *value)
{
    const QListEntry *e = qlist_first(list);
    QDict *p;

    while (n-- && e) {
        e = qlist_next(e);
    }
    g_assert_nonnull(e);
    p = qobject_to(QDict, qlist_entry_obj(e));
    g_assert_cmpstr(qdict_get_str(p, "key"), ==, key);
    g_assert_cmpstr(qdict_get_str(p, "value"), ==, value);
}

/*
 * An existing vGPU: QEMU's parameters are in force while it has the vGPU
 * (the frame rate limiter off lifts the 1B profile's 45 frames/s for the
 * console), and the previous ones come back when QEMU lets go of it.
 */
static void test_nvsim_params_existing(void)
{
    g_autofree char *uuid = NULL;
    g_autofree char *value = NULL;
    g_autofree char *out = NULL;
    QTestState *qts;
    QDict *v, *params;

    if (nvsim_skip_test()) {
        return;
    }
    uuid = nvsim_create("nvsim-157");
    mdev_attr_write(uuid, "nvidia/vgpu_params", "enable_uvm=1");
    qts = qtest_initf("-machine pc -nodefaults -device nv-vgpu,id=gpu0,"
                      "bus=pci.0,addr=05.0,sysfsdev=" MDEV_DEVICES "/%s,"
                      "vgpu-params=enable_debugging=1:disable_vnc=0,"
                      "frame-rate-limiter=off,console-fps=50", uuid);
    value = mdev_params(uuid);
    g_assert_cmpstr(value, ==, "enable_debugging=1, disable_vnc=0, "
                    "frame_rate_limiter=0");
    g_assert_cmpuint(mdev_frame_rate(uuid), ==, 0);

    v = query_vgpu(qts);
    params = qdict_get_qdict(v, "params");
    g_assert_true(qdict_get_bool(params, "supported"));
    assert_param(qdict_get_qlist(params, "in-force"), 0, "enable_debugging",
                 "1");
    assert_param(qdict_get_qlist(params, "in-force"), 2,
                 "frame_rate_limiter", "0");
    assert_param(qdict_get_qlist(params, "requested"), 1, "disable_vnc", "0");
    g_assert_cmpstr(qdict_get_str(params, "restore"), ==, "enable_uvm=1");
    g_assert_cmpint(qdict_get_int(qdict_get_qdict(v, "console-info"),
                                  "frame-cap"), ==, 50);
    g_assert_false(qdict_get_bool(v, "created"));
    qobject_unref(v);
    out = qtest_hmp(qts, "info vgpus");
    g_assert_nonnull(strstr(out, "  plugin parameters: enable_debugging=1 "
                            "disable_vnc=0 frame_rate_limiter=0 (put back on "
                            "release: 'enable_uvm=1')\r\n"));

    /* unplugged: the vGPU is closed, and its parameters put back */
    qpci_unplug_acpi_device_test(qts, "gpu0", 5);
    g_assert_true(mdev_params_wait(uuid, "enable_uvm=1"));
    qtest_quit(qts);

    /* QEMU quits with the vGPU open: its helper puts them back. */
    qts = qtest_initf("-machine q35 -nodefaults -device nv-vgpu,id=gpu0,"
                      "sysfsdev=" MDEV_DEVICES "/%s,"
                      "vgpu-params=disable_vnc=1,display=off", uuid);
    g_free(value);
    value = mdev_params(uuid);
    g_assert_cmpstr(value, ==, "disable_vnc=1");
    qtest_quit(qts);
    g_assert_true(mdev_params_wait(uuid, "enable_uvm=1"));

    /* nothing before: nothing after */
    mdev_attr_write(uuid, "nvidia/vgpu_params", " ");
    qts = qtest_initf("-machine q35 -nodefaults -device nv-vgpu,id=gpu0,"
                      "sysfsdev=" MDEV_DEVICES "/%s,"
                      "frame-rate-limiter=on", uuid);
    g_assert_cmpuint(mdev_frame_rate(uuid), ==, 45);
    g_free(value);
    value = mdev_params(uuid);
    g_assert_cmpstr(value, ==, "frame_rate_limiter=1");
    qtest_quit(qts);
    g_assert_true(mdev_params_wait(uuid, ""));
    nvsim_remove(uuid);
}

/*
 * A vGPU QEMU creates gets the parameters before its first open;
 * disable_vnc=1 takes the console display=auto would have had, and is an
 * error with display=on; the driver's refusal is explained.
 */
static void test_nvsim_params_created(void)
{
    g_autofree char *uuid = NULL;
    g_autofree char *value = NULL;
    QTestState *qts;
    QDict *v;

    if (nvsim_skip_test()) {
        return;
    }
    qts = qtest_init("-machine q35 -nodefaults -device nv-vgpu,id=gpu0,"
                     "parent=nvsim,mdev-type=nvsim-63,"
                     "vgpu-params=disable_vnc=1");
    uuid = qom_get_str(qts, "vgpu-uuid");
    value = mdev_params(uuid);
    g_assert_cmpstr(value, ==, "disable_vnc=1");
    v = query_vgpu(qts);
    g_assert_false(qdict_get_bool(v, "console"));
    g_assert_cmpstr(qdict_get_str(qdict_get_qdict(v, "console-info"),
                                  "plane"), ==, "none");
    g_assert_false(qdict_haskey(qdict_get_qdict(v, "params"), "restore"));
    qobject_unref(v);
    qtest_quit(qts);
    g_assert_true(mdev_wait_gone(uuid));

    /* UUIDs of our own: other tests may create mdevs meanwhile */
    assert_refused("nv-vgpu,parent=nvsim,mdev-type=nvsim-63,display=on,"
                   "uuid=" UUID1 ",vgpu-params=disable_vnc=1", false,
                   "display=on asks for a console, but the vGPU's plugin "
                   "parameters have disable_vnc=1, which switches its "
                   "console off; drop one of them");
    assert_refused("nv-vgpu,parent=nvsim,mdev-type=nvsim-63,"
                   "uuid=" UUID2 ",vgpu-params=no_such_key=1", false,
                   "refused plugin parameters 'no_such_key=1' (");
    assert_refused("nv-vgpu,parent=nvsim,mdev-type=nvsim-63,"
                   "uuid=" UUID2 ",vgpu-params=no_such_key=1", false,
                   "/nvidia/vgpu_params: Invalid argument): it does not know "
                   "a key or does not take a value");
    /* the 1B profile's limit holds with the limiter on */
    assert_refused("nv-vgpu,parent=nvsim,mdev-type=nvsim-157,"
                   "uuid=" UUID1 ",frame-rate-limiter=on,console-fps=50",
                   false, "console-fps=50 is outside 1 to 45, the frame rate "
                   "limit of vGPU profile GRID P4-1B");
    /* each was created, then removed */
    g_assert_true(mdev_wait_gone(UUID1));
    g_assert_true(mdev_wait_gone(UUID2));
}

/*
 * vgpu-params= is checked before any vGPU is touched (every rule:
 * test-vgpu-mdev's /vgpu/params/build).
 */
static void test_params_errors(void)
{
    assert_refused("nv-vgpu,sysfsdev=" MDEV_DEVICES "/" UUID1 ","
                   "vgpu-params=a=1:a=0", false,
                   "nv-vgpu: vgpu-params: a is given twice");
    assert_refused("nv-vgpu,sysfsdev=" MDEV_DEVICES "/" UUID1 ","
                   "vgpu-params=frame_rate_limiter=0,frame-rate-limiter=on",
                   false, "frame-rate-limiter=on contradicts vgpu-params' "
                   "frame_rate_limiter=0");
    assert_refused("nv-vgpu,sysfsdev=" MDEV_DEVICES "/" UUID1 ","
                   "on-error=ignore", false,
                   "Parameter 'on-error' does not accept value 'ignore'");
}

#define NVSIM_NUMA NVSIM "/numa_node"

/* Can this QEMU bind guest RAM to host nodes (is it built with libnuma)? */
static bool qemu_binds_memory(void)
{
    g_autofree char *cmd = g_strdup_printf("%s -machine none -nodefaults "
        "-object memory-backend-ram,id=m,size=2M,host-nodes=0,policy=bind "
        "-device no-such-device", qemu_binary());
    g_autofree char *err = NULL;

    g_assert_true(g_spawn_command_line_sync(cmd, NULL, &err, NULL, NULL));
    return !strstr(err, "not supported by this QEMU");
}

/*
 * The whole vGPU in query-vgpus: where it is in sysfs, its parent's NUMA
 * node and CPUs, and memory backends bound away from that node.
 */
static void test_nvsim_query_whole(void)
{
    g_autofree char *uuid = NULL;
    g_autofree char *want = NULL;
    g_autofree char *cpus = NULL;
    g_autofree char *out = NULL;
    QTestState *qts;
    QDict *v, *parent, *con, *mig;

    if (nvsim_skip_test()) {
        return;
    }
    g_assert_true(g_file_get_contents("/sys/devices/system/node/node0/"
                                      "cpulist", &cpus, NULL, NULL));
    g_strchomp(cpus);

    sysfs_write(NVSIM_NUMA, "0");
    qts = qtest_init("-machine pc -nodefaults -device nv-vgpu,id=gpu0,"
                     "parent=nvsim,mdev-type=nvsim-63");
    uuid = qom_get_str(qts, "vgpu-uuid");
    v = query_vgpu(qts);
    g_assert_cmpstr(qdict_get_str(v, "id"), ==, "gpu0");
    g_assert_cmpstr(qdict_get_str(v, "qom-path"), ==,
                    "/machine/peripheral/gpu0");
    g_assert_cmpstr(qdict_get_str(v, "uuid"), ==, uuid);
    want = g_strdup_printf("/sys/devices/virtual/nvsim/nvsim/%s", uuid);
    g_assert_cmpstr(qdict_get_str(v, "sysfs-path"), ==, want);
    g_assert_true(qdict_get_bool(v, "created"));
    parent = qdict_get_qdict(v, "parent");
    g_assert_cmpstr(qdict_get_str(parent, "name"), ==, "nvsim");
    g_assert_cmpint(qdict_get_int(parent, "numa-node"), ==, 0);
    g_assert_cmpstr(qdict_get_str(parent, "local-cpus"), ==, cpus);
    g_assert_true(qlist_empty(qdict_get_qlist(parent, "remote-memory")));
    g_assert_cmpstr(qdict_get_str(qdict_get_qdict(v, "descriptor"),
                                  "profile"), ==, "GRID P4-1Q");
    con = qdict_get_qdict(v, "console-info");
    g_assert_cmpstr(qdict_get_str(con, "plane"), ==, "region");
    g_assert_cmpstr(qdict_get_str(con, "mode"), ==, "");
    g_assert_cmpint(qdict_get_int(con, "frame-cap"), ==, 10);
    g_assert_cmpint(qdict_get_int(con, "frames-shown"), ==, 0);
    g_assert_cmpint(qdict_get_int(con, "clients"), ==, 0);
    mig = qdict_get_qdict(v, "migration");
    g_assert_cmpstr(qdict_get_str(mig, "state"), ==, "running");
    g_assert_true(qdict_get_bool(qdict_get_qdict(v, "params"), "supported"));
    g_assert_true(qlist_empty(qdict_get_qlist(qdict_get_qdict(v, "params"),
                                              "in-force")));
    qobject_unref(v);
    out = qtest_hmp(qts, "info vgpus");
    want = (g_free(want), g_strdup_printf("  parent: nvsim, NUMA node 0, "
                                          "local CPUs %s\r\n", cpus));
    g_assert_nonnull(strstr(out, want));
    g_assert_nonnull(strstr(out, "  console: region plane, at most 10 "
                            "frames/s, 0 frames/s now, 0 shown, 0 clients"));
    qtest_quit(qts);
    sysfs_write(NVSIM_NUMA, "-1");
    g_assert_true(mdev_wait_gone(uuid));
}

/* A warning, and remote-memory, for guest RAM bound away from the GPU */
static void test_nvsim_numa_memory_policy(void)
{
    g_autofree char *uuid = NULL;
    g_autofree char *out = NULL;
    QTestState *qts;
    QDict *v, *parent;
    QList *remote;

    if (nvsim_skip_test()) {
        return;
    }
    if (!qemu_binds_memory()) {
        g_test_skip("this QEMU has no NUMA binding (configure --enable-numa, "
                    "libnuma-dev): memory policy warning not tested");
        return;
    }
    /* the GPU on node 1, guest RAM bound to node 0 */
    sysfs_write(NVSIM_NUMA, "1");
    qts = qtest_init("-machine pc,memory-backend=ram0 -m 128M "
                     "-object memory-backend-ram,id=ram0,size=128M,"
                     "host-nodes=0,policy=bind -nodefaults "
                     "-device nv-vgpu,id=gpu0,parent=nvsim,"
                     "mdev-type=nvsim-63");
    uuid = qom_get_str(qts, "vgpu-uuid");
    v = query_vgpu(qts);
    parent = qdict_get_qdict(v, "parent");
    g_assert_cmpint(qdict_get_int(parent, "numa-node"), ==, 1);
    remote = qdict_get_qlist(parent, "remote-memory");
    g_assert_cmpint(qlist_size(remote), ==, 1);
    g_assert_cmpstr(qstring_get_str(qobject_to(QString, qlist_peek(remote))),
                    ==, "ram0");
    qobject_unref(v);
    out = qtest_hmp(qts, "info vgpus");
    g_assert_nonnull(strstr(out, "  memory backend ram0: guest RAM kept off "
                            "the GPU's node\r\n"));
    qtest_quit(qts);
    g_assert_true(mdev_wait_gone(uuid));

    /*
     * The warning at start, on stderr: the second device (the same vGPU
     * again) is refused, so QEMU exits after the first one realized.
     */
    {
        g_autofree char *dev1 = g_strdup_printf(
            "nv-vgpu,parent=nvsim,mdev-type=nvsim-63,uuid=%s", UUID1);
        g_autofree char *dev2 = g_strdup_printf(
            "nv-vgpu,sysfsdev=" MDEV_DEVICES "/%s", UUID1);
        const char *argv[] = {
            "timeout", "-s", "KILL", "60", qemu_binary(),
            "-machine", "pc,memory-backend=ram0", "-accel", "qtest",
            "-m", "128M", "-object", "memory-backend-ram,id=ram0,"
            "size=128M,host-nodes=0,policy=bind", "-display", "none",
            "-nodefaults", "-monitor", "none", "-serial", "none",
            "-device", dev1, "-device", dev2, NULL
        };
        g_autoptr(GError) gerr = NULL;
        g_autofree char *err = NULL;
        int status;

        g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL,
                                   G_SPAWN_SEARCH_PATH |
                                   G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                                   NULL, &err, &status, &gerr));
        g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 1);
        if (!strstr(err, "memory backend ram0 keeps guest RAM off host "
                    "NUMA node 1, where the vGPU's GPU is (policy=bind)")) {
            g_error("no NUMA warning in stderr:\n%s", err);
        }
        g_assert_true(mdev_wait_gone(UUID1));
    }
    sysfs_write(NVSIM_NUMA, "-1");
}

/* Several vGPUs in one VM, P2P cliques and hot-plug (nvsim and nvsim2). */

#define NVSIM2          "/sys/class/mdev_bus/nvsim2"
#define UUID3           "5e0c7a12-9d4b-4f6e-8a31-c2b7d9e4f105"

/* Needs nvsim's second parent (parent2_driver_version=...). */
static bool nvsim2_skip_test(void)
{
    if (nvsim_skip_test()) {
        return true;
    }
    if (!g_file_test(NVSIM2, G_FILE_TEST_IS_DIR)) {
        g_test_skip("needs nvsim loaded with parent2_driver_version=");
        return true;
    }
    return false;
}

/* QEMU with the -device options in @devs (NULL-terminated) must fail. */
static void assert_devs_refused(const char *const *devs, const char *want1,
                                const char *want2)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autoptr(GError) gerr = NULL;
    g_autofree char *err = NULL;
    int status, before = mdev_count(), i;
    const char *fixed[] = {
        "timeout", "-s", "KILL", "60", qemu_binary(), "-machine", "q35",
        "-accel", "qtest", "-display", "none", "-nodefaults", "-monitor",
        "none", "-serial", "none",
    };

    for (i = 0; i < G_N_ELEMENTS(fixed); i++) {
        g_ptr_array_add(argv, (char *)fixed[i]);
    }
    for (i = 0; devs[i]; i++) {
        g_ptr_array_add(argv, (char *)"-device");
        g_ptr_array_add(argv, (char *)devs[i]);
    }
    g_ptr_array_add(argv, NULL);
    g_assert_true(g_spawn_sync(NULL, (char **)argv->pdata, NULL,
                               G_SPAWN_SEARCH_PATH |
                               G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                               NULL, &err, &status, &gerr));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 1 ||
        !strstr(err, want1) || (want2 && !strstr(err, want2))) {
        g_error("exit status %d, stderr:\n%s\nwanted status 1, '%s' and "
                "'%s'", status, err, want1, want2 ? want2 : "");
    }
    /* what QEMU created for the refused VM is gone again */
    for (i = 0; i < 1000 && mdev_count() != before; i++) {
        g_usleep(10 * 1000);
    }
    g_assert_cmpint(mdev_count(), ==, before);
}

#define DEVS(...) ((const char *const []){ __VA_ARGS__, NULL })

/* The number of vGPUs query-vgpus lists, and the p2p-clique of @id. */
static int query_vgpus(QTestState *qts, const char *id, int *clique)
{
    QDict *rsp = qtest_qmp(qts, "{ 'execute': 'query-vgpus' }");
    QList *list = qdict_get_qlist(rsp, "return");
    QListEntry *e;
    int n = 0;

    g_assert_nonnull(list);
    *clique = -1;
    QLIST_FOREACH_ENTRY(list, e) {
        QDict *v = qobject_to(QDict, qlist_entry_obj(e));

        n++;
        if (!strcmp(qdict_get_str(v, "id"), id) &&
            qdict_haskey(v, "p2p-clique")) {
            *clique = qdict_get_int(v, "p2p-clique");
        }
    }
    qobject_unref(rsp);
    return n;
}

/* The same vGPU twice, by sysfsdev= and by uuid=, names both devices. */
static void test_multi_same_vgpu(void)
{
    g_autofree char *uuid = NULL;
    g_autofree char *d0 = NULL, *d1 = NULL;

    if (nvsim_skip_test()) {
        return;
    }
    uuid = nvsim_create("nvsim-157");
    d0 = g_strdup_printf("nv-vgpu,id=gpu0,sysfsdev=" MDEV_DEVICES "/%s",
                         uuid);
    d1 = g_strdup_printf("nv-vgpu,id=gpu1,sysfsdev=" MDEV_DEVICES "/%s",
                         uuid);
    assert_devs_refused(DEVS(d0, d1), "nv-vgpu gpu1 and nv-vgpu gpu0 "
                        "(GRID P4-1B on nvsim) are the same vGPU", uuid);
    g_assert_true(mdev_exists(uuid));
    nvsim_remove(uuid);

    assert_devs_refused(DEVS("nv-vgpu,id=gpu0,parent=nvsim,"
                             "mdev-type=nvsim-289,uuid=" UUID1,
                             "nv-vgpu,id=gpu1,parent=nvsim2,"
                             "mdev-type=nvsim-289,uuid=" UUID1),
                        "nv-vgpu gpu1 and nv-vgpu gpu0 (GRID P4-8C on "
                        "nvsim) are the same vGPU " UUID1, NULL);
}

/* NVIDIA's combinations, two and three vGPUs on one and on two GPUs. */
static void test_multi_rules(void)
{
    QTestState *qts;
    int clique;

    if (nvsim2_skip_test()) {
        return;
    }
    /* two 1:1 vGPUs on two GPUs: the vGPU 8.0 configuration */
    qts = qtest_init("-machine q35 -nodefaults "
                     "-device nv-vgpu,id=gpu0,parent=nvsim,"
                     "mdev-type=nvsim-289 "
                     "-device nv-vgpu,id=gpu1,parent=nvsim2,"
                     "mdev-type=nvsim-289");
    g_assert_cmpint(query_vgpus(qts, "gpu0", &clique), ==, 2);
    g_assert_cmpint(clique, ==, -1);
    qtest_quit(qts);

    /* fractional vGPUs with the vGPU 8.0 rules: the 1:1 rule names both */
    assert_devs_refused(DEVS("nv-vgpu,id=gpu0,parent=nvsim,"
                             "mdev-type=nvsim-65,multi-vgpu=full",
                             "nv-vgpu,id=gpu1,parent=nvsim2,"
                             "mdev-type=nvsim-63,multi-vgpu=full"),
                        "nv-vgpu gpu1 (GRID P4-1Q on nvsim2) and nv-vgpu "
                        "gpu0 (GRID P4-2Q on nvsim): nv-vgpu gpu1 (GRID "
                        "P4-1Q on nvsim2) is not a 1:1 vGPU (up to 8 per "
                        "physical GPU)", NULL);
    /* two on one GPU, with one device's vGPU 8.0 rules */
    assert_devs_refused(DEVS("nv-vgpu,id=gpu0,parent=nvsim,"
                             "mdev-type=nvsim-63",
                             "nv-vgpu,id=gpu1,parent=nvsim,"
                             "mdev-type=nvsim-63,multi-vgpu=full"),
                        "nv-vgpu gpu1 (GRID P4-1Q on nvsim) and nv-vgpu "
                        "gpu0 (GRID P4-1Q on nvsim) are both on physical "
                        "GPU nvsim", NULL);
    /* series Q and B do not mix, also when fractional */
    assert_devs_refused(DEVS("nv-vgpu,id=gpu0,parent=nvsim,"
                             "mdev-type=nvsim-63,multi-vgpu=fractional",
                             "nv-vgpu,id=gpu1,parent=nvsim2,"
                             "mdev-type=nvsim-157,multi-vgpu=fractional"),
                        "nv-vgpu gpu1 (GRID P4-1B on nvsim2) and nv-vgpu "
                        "gpu0 (GRID P4-1Q on nvsim) are vGPUs of board P4 "
                        "series B and of board P4 series Q", NULL);
    /* the stricter of the two devices' rules holds */
    assert_devs_refused(DEVS("nv-vgpu,id=gpu0,parent=nvsim,"
                             "mdev-type=nvsim-63,multi-vgpu=any",
                             "nv-vgpu,id=gpu1,parent=nvsim2,"
                             "mdev-type=nvsim-157"),
                        "series B and of board P4 series Q", NULL);
    /* the third of three, on one GPU with the second */
    assert_devs_refused(DEVS("nv-vgpu,id=gpu0,parent=nvsim,"
                             "mdev-type=nvsim-289",
                             "nv-vgpu,id=gpu1,parent=nvsim2,"
                             "mdev-type=nvsim-289",
                             "nv-vgpu,id=gpu2,parent=nvsim2,"
                             "mdev-type=nvsim-63,multi-vgpu=any"),
                        "no free instance of vGPU type GRID P4-1Q", NULL);
    assert_devs_refused(DEVS("nv-vgpu,id=gpu0,parent=nvsim,"
                             "mdev-type=nvsim-65,multi-vgpu=fractional",
                             "nv-vgpu,id=gpu1,parent=nvsim2,"
                             "mdev-type=nvsim-65,multi-vgpu=fractional",
                             "nv-vgpu,id=gpu2,parent=nvsim,"
                             "mdev-type=nvsim-63,multi-vgpu=full"),
                        "nv-vgpu gpu2 (GRID P4-1Q on nvsim) and nv-vgpu "
                        "gpu0 (GRID P4-2Q on nvsim) are both on physical "
                        "GPU nvsim", NULL);

    /* three fractional vGPUs of one series on two GPUs, the default */
    qts = qtest_init("-machine q35 -nodefaults "
                     "-device nv-vgpu,id=gpu0,parent=nvsim,"
                     "mdev-type=nvsim-65 "
                     "-device nv-vgpu,id=gpu1,parent=nvsim,"
                     "mdev-type=nvsim-63 "
                     "-device nv-vgpu,id=gpu2,parent=nvsim2,"
                     "mdev-type=nvsim-63,multi-vgpu=fractional");
    g_assert_cmpint(query_vgpus(qts, "gpu0", &clique), ==, 3);
    qtest_quit(qts);
    /* and series mixed on one GPU with multi-vgpu=any */
    qts = qtest_init("-machine q35 -nodefaults "
                     "-device nv-vgpu,id=gpu0,parent=nvsim,"
                     "mdev-type=nvsim-63,multi-vgpu=any "
                     "-device nv-vgpu,id=gpu1,parent=nvsim,"
                     "mdev-type=nvsim-157,multi-vgpu=any");
    g_assert_cmpint(query_vgpus(qts, "gpu0", &clique), ==, 2);
    qtest_quit(qts);
}

/* The guest-visible clique: NVIDIA's vendor capability in config space */
static void assert_p2p_cap(QTestState *qts, int slot, uint8_t clique)
{
    QPCIBus *bus = qpci_new_pc(qts, NULL);
    QPCIDevice *dev = qpci_device_find(bus, QPCI_DEVFN(slot, 0));
    uint8_t pos;

    g_assert_nonnull(dev);
    pos = qpci_find_capability(dev, PCI_CAP_ID_VNDR, 0);
    g_assert_cmphex(pos, !=, 0);
    g_assert_cmphex(qpci_config_readb(dev, pos + 2), ==, 8);
    g_assert_cmphex(qpci_config_readb(dev, pos + 3), ==, 'P');
    g_assert_cmphex(qpci_config_readb(dev, pos + 4), ==, '2');
    g_assert_cmphex(qpci_config_readb(dev, pos + 5), ==, 'P');
    g_assert_cmphex(qpci_config_readb(dev, pos + 6), ==, clique << 3);
    g_assert_cmphex(qpci_config_readb(dev, pos + 7), ==, 0);
    g_free(dev);
    qpci_free_pc(bus);
}

static void test_p2p_clique(void)
{
    QTestState *qts;
    int clique;

    if (nvsim2_skip_test()) {
        return;
    }
    qts = qtest_init("-machine q35 -nodefaults "
                     "-device nv-vgpu,id=gpu0,addr=04.0,parent=nvsim,"
                     "mdev-type=nvsim-289,p2p-clique=5 "
                     "-device nv-vgpu,id=gpu1,addr=05.0,parent=nvsim2,"
                     "mdev-type=nvsim-289,p2p-clique=5");
    g_assert_cmpint(query_vgpus(qts, "gpu1", &clique), ==, 2);
    g_assert_cmpint(clique, ==, 5);
    assert_p2p_cap(qts, 4, 5);
    assert_p2p_cap(qts, 5, 5);
    qtest_quit(qts);

    assert_devs_refused(DEVS("nv-vgpu,id=gpu0,parent=nvsim,"
                             "mdev-type=nvsim-289,p2p-clique=1",
                             "nv-vgpu,id=gpu1,parent=nvsim2,"
                             "mdev-type=nvsim-289,p2p-clique=2"),
                        "nv-vgpu gpu0 (GRID P4-8C on nvsim) is alone in "
                        "p2p-clique=1", NULL);
    assert_devs_refused(DEVS("nv-vgpu,id=gpu0,parent=nvsim,"
                             "mdev-type=nvsim-63,p2p-clique=1"),
                        "p2p-clique=1 needs a 1:1 vGPU", "GRID P4-1Q");
    assert_devs_refused(DEVS("nv-vgpu,id=gpu0,parent=nvsim,"
                             "mdev-type=nvsim-289,p2p-clique=16"),
                        "p2p-clique=16 is outside 0 to 15", NULL);

    /* GPUs that the host shows without an NVLink between them */
    sysfs_write(NVSIM "/nvlink_peers", "\n");
    assert_devs_refused(DEVS("nv-vgpu,id=gpu0,parent=nvsim,"
                             "mdev-type=nvsim-289,p2p-clique=1",
                             "nv-vgpu,id=gpu1,parent=nvsim2,"
                             "mdev-type=nvsim-289,p2p-clique=1"),
                        "nv-vgpu gpu1 (GRID P4-8C on nvsim2) and nv-vgpu "
                        "gpu0 (GRID P4-8C on nvsim) are both in "
                        "p2p-clique=1, but GPUs nvsim2 and nvsim are not "
                        "NVLink peers", NULL);
    sysfs_write(NVSIM "/nvlink_peers", "nvsim2");
}

/* q35 with a root port to plug into, a QMP client and maybe VNC. */
static QTestState *hotplug_vm(const char *extra)
{
    return qtest_initf("-machine q35 -nodefaults -global ICH9-LPC."
                       "acpi-pci-hotplug-with-bridge-support=off "
                       "-device pcie-root-port,id=rp0,bus=pcie.0,chassis=1,"
                       "addr=06.0 -device pcie-root-port,id=rp1,bus=pcie.0,"
                       "chassis=2,addr=07.0 %s",
                       extra ? extra : "");
}

static void hotplug_add(QTestState *qts, const char *display)
{
    QDict *rsp = qtest_qmp(qts, "{ 'execute': 'device_add', 'arguments': "
                           "{ 'driver': 'nv-vgpu', 'id': 'gpu0', "
                           "'bus': 'rp0', 'parent': 'nvsim', "
                           "'mdev-type': 'nvsim-63', 'uuid': %s, "
                           "'display': %s } }", UUID3, display);

    if (qdict_haskey(rsp, "error")) {
        g_error("device_add: %s", qdict_get_str(qdict_get_qdict(rsp,
                                                                "error"),
                                                "desc"));
    }
    qobject_unref(rsp);
}

/*
 * device_del: with native PCIe hot-plug and no guest to power the slot on,
 * the slot is off and the unplug completes at once (a system_reset, as
 * other qtests use, would remove VFIO's reset handler during the reset).
 */
static void hotplug_del(QTestState *qts)
{
    qtest_qmp_device_del_send(qts, "gpu0");
    qtest_qmp_eventwait(qts, "DEVICE_DELETED");
    g_assert_true(mdev_wait_gone(UUID3));
}

static void test_hotplug(void)
{
    QTestState *qts;
    QDict *rsp;
    int clique, before, i;

    if (nvsim_skip_test()) {
        return;
    }
    g_assert_false(mdev_exists(UUID3));
    qts = hotplug_vm(NULL);
    hotplug_add(qts, "auto");
    g_assert_true(mdev_exists(UUID3));
    g_assert_true(qtest_qom_get_bool(qts, "/machine/peripheral/gpu0",
                                     "vgpu-created"));
    g_assert_cmpint(query_vgpus(qts, "gpu0", &clique), ==, 1);
    hotplug_del(qts);
    g_assert_cmpint(query_vgpus(qts, "gpu0", &clique), ==, 0);

    /* again with the same UUID */
    hotplug_add(qts, "auto");
    g_assert_true(mdev_exists(UUID3));

    /* a second device may not take it, nor break the rules */
    rsp = qtest_qmp(qts, "{ 'execute': 'device_add', 'arguments': "
                    "{ 'driver': 'nv-vgpu', 'id': 'gpu1', 'bus': 'rp1', "
                    "'parent': 'nvsim', 'mdev-type': 'nvsim-63', "
                    "'uuid': %s } }",
                    UUID3);
    g_assert_nonnull(strstr(qdict_get_str(qdict_get_qdict(rsp, "error"),
                                          "desc"),
                            "nv-vgpu gpu1 and nv-vgpu gpu0 (GRID P4-1Q on "
                            "nvsim) are the same vGPU " UUID3));
    qobject_unref(rsp);
    before = mdev_count();
    rsp = qtest_qmp(qts, "{ 'execute': 'device_add', 'arguments': "
                    "{ 'driver': 'nv-vgpu', 'id': 'gpu1', 'bus': 'rp1', "
                    "'parent': 'nvsim', 'mdev-type': 'nvsim-157' } }");
    g_assert_nonnull(strstr(qdict_get_str(qdict_get_qdict(rsp, "error"),
                                          "desc"),
                            "nv-vgpu gpu1 (GRID P4-1B on nvsim) and nv-vgpu "
                            "gpu0 (GRID P4-1Q on nvsim) are vGPUs of board "
                            "P4 series B"));
    qobject_unref(rsp);
    /* the refused device's vGPU was created, and is removed again */
    for (i = 0; i < 1000 && mdev_count() != before; i++) {
        qtest_qmp_assert_success(qts, "{ 'execute': 'query-status' }");
        g_usleep(10 * 1000);
    }
    g_assert_cmpint(mdev_count(), ==, before);
    g_assert_cmpint(query_vgpus(qts, "gpu0", &clique), ==, 1);

    hotplug_del(qts);
    qtest_qmp_assert_success(qts, "{ 'execute': 'query-status' }");
    qtest_quit(qts);
}

#define CREATE_DELAY    "/sys/module/nvsim/parameters/create_delay_ms"
#define UUID4           "0c6d3b8e-2f41-4a97-b5d0-7e1f9a3c6b28"

static const char *error_desc(QDict *rsp)
{
    g_assert_true(qdict_haskey(rsp, "error"));
    return qdict_get_str(qdict_get_qdict(rsp, "error"), "desc");
}

/*
 * vgpu-create makes the vGPU in a thread and says so with VGPU_CREATED;
 * device_add with its uuid takes it, and removes it when unplugged.
 */
static void test_hotplug_prepared(void)
{
    QTestState *qts;
    QDict *rsp, *ev, *data;
    int before, clique;

    if (nvsim_skip_test()) {
        return;
    }
    qts = hotplug_vm(NULL);

    /* the reply does not wait for nvsim's 1 s create */
    sysfs_write(CREATE_DELAY, "1000");
    rsp = qtest_qmp(qts, "{ 'execute': 'vgpu-create', 'arguments': "
                    "{ 'parent': 'nvsim', 'mdev-type': 'nvsim-63', "
                    "'uuid': %s } }", UUID3);
    g_assert_cmpstr(qdict_get_str(qdict_get_qdict(rsp, "return"), "uuid"),
                    ==, UUID3);
    qobject_unref(rsp);
    rsp = qtest_qmp(qts, "{ 'execute': 'vgpu-create', 'arguments': "
                    "{ 'parent': 'nvsim', 'mdev-type': 'nvsim-63', "
                    "'uuid': %s } }", UUID3);
    g_assert_nonnull(strstr(error_desc(rsp), "is already being made"));
    qobject_unref(rsp);
    rsp = qtest_qmp(qts, "{ 'execute': 'vgpu-discard', 'arguments': "
                    "{ 'uuid': %s } }", UUID3);
    g_assert_nonnull(strstr(error_desc(rsp), "is still being made"));
    qobject_unref(rsp);
    /* the monitor answered all three while the vGPU was being made */
    g_assert_null(qtest_qmp_event_ref(qts, "VGPU_CREATED"));
    ev = qtest_qmp_eventwait_ref(qts, "VGPU_CREATED");
    sysfs_write(CREATE_DELAY, "0");
    data = qdict_get_qdict(ev, "data");
    g_assert_cmpstr(qdict_get_str(data, "uuid"), ==, UUID3);
    g_assert_cmpstr(qdict_get_str(data, "mdev-type"), ==, "nvsim-63");
    g_assert_cmpstr(qdict_get_str(data, "sysfs-path"), ==,
                    MDEV_DEVICES "/" UUID3);
    g_assert_false(qdict_haskey(data, "error"));
    qobject_unref(ev);
    g_assert_true(mdev_exists(UUID3));

    /* another type for it is refused; the right one takes it, makes none */
    rsp = qtest_qmp(qts, "{ 'execute': 'device_add', 'arguments': "
                    "{ 'driver': 'nv-vgpu', 'id': 'gpu0', 'bus': 'rp0', "
                    "'parent': 'nvsim', 'mdev-type': 'nvsim-157', "
                    "'uuid': %s } }", UUID3);
    g_assert_nonnull(strstr(error_desc(rsp), "vGPU " UUID3 " was asked of "
                            "vgpu-create as type nvsim-63 on nvsim, not as "
                            "nvsim-157 on nvsim"));
    qobject_unref(rsp);
    before = mdev_count();
    hotplug_add(qts, "off");
    g_assert_cmpint(mdev_count(), ==, before);
    g_assert_true(qtest_qom_get_bool(qts, "/machine/peripheral/gpu0",
                                     "vgpu-created"));
    g_assert_cmpint(query_vgpus(qts, "gpu0", &clique), ==, 1);
    rsp = qtest_qmp(qts, "{ 'execute': 'vgpu-discard', 'arguments': "
                    "{ 'uuid': %s } }", UUID3);
    g_assert_nonnull(strstr(error_desc(rsp), "no vGPU " UUID3 " made by "
                            "vgpu-create waits for a device_add"));
    qobject_unref(rsp);
    hotplug_del(qts);           /* and the device removed it */

    /* a creation that fails: the event says why, and so does device_add */
    rsp = qtest_qmp(qts, "{ 'execute': 'vgpu-create', 'arguments': "
                    "{ 'parent': 'nvsim', 'mdev-type': 'nvsim-999', "
                    "'uuid': %s } }", UUID4);
    g_assert_true(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
    ev = qtest_qmp_eventwait_ref(qts, "VGPU_CREATED");
    data = qdict_get_qdict(ev, "data");
    g_assert_cmpstr(qdict_get_str(data, "uuid"), ==, UUID4);
    g_assert_false(qdict_haskey(data, "sysfs-path"));
    g_assert_nonnull(strstr(qdict_get_str(data, "error"), "nvsim-999"));
    rsp = qtest_qmp(qts, "{ 'execute': 'device_add', 'arguments': "
                    "{ 'driver': 'nv-vgpu', 'id': 'gpu1', 'bus': 'rp1', "
                    "'parent': 'nvsim', 'mdev-type': 'nvsim-999', "
                    "'uuid': %s } }", UUID4);
    g_assert_nonnull(strstr(error_desc(rsp), "vgpu-create could not make "
                            "vGPU " UUID4 ": "));
    g_assert_nonnull(strstr(error_desc(rsp),
                            qdict_get_str(data, "error")));
    qobject_unref(rsp);
    qobject_unref(ev);

    /* one never taken: vgpu-discard removes it */
    rsp = qtest_qmp(qts, "{ 'execute': 'vgpu-create', 'arguments': "
                    "{ 'parent': 'nvsim', 'mdev-type': 'nvsim-63' } }");
    {
        g_autofree char *uuid = g_strdup(qdict_get_str(
            qdict_get_qdict(rsp, "return"), "uuid"));

        qobject_unref(rsp);
        qobject_unref(qtest_qmp_eventwait_ref(qts, "VGPU_CREATED"));
        g_assert_true(mdev_exists(uuid));
        qtest_qmp_assert_success(qts, "{ 'execute': 'vgpu-discard', "
                                 "'arguments': { 'uuid': %s } }", uuid);
        g_assert_true(mdev_wait_gone(uuid));
    }
    qtest_quit(qts);
}

/* Unplugging the vGPU whose console a VNC client is watching. */
static void test_hotplug_vnc(void)
{
    const char *client = g_getenv("VGPU_VNC_CLIENT");
    g_autofree char *dir = NULL, *sock = NULL, *server = NULL;
    g_autofree char *vnc = NULL, *line = NULL;
    g_autoptr(GIOChannel) ch = NULL;
    const char *argv[6];
    QTestState *qts;
    GPid pid;
    int out, status;

    if (nvsim_skip_test()) {
        return;
    }
    if (!client || !g_file_test(client, G_FILE_TEST_IS_EXECUTABLE)) {
        g_test_skip("needs VGPU_VNC_CLIENT (make vnc-client)");
        return;
    }
    dir = g_dir_make_tmp("nv-vgpu-hotplug-XXXXXX", NULL);
    sock = g_strdup_printf("%s/vnc.sock", dir);
    vnc = g_strdup_printf("-vnc unix:%s", sock);
    qts = hotplug_vm(vnc);
    hotplug_add(qts, "on");

    server = g_strdup_printf("unix:%s", sock);
    argv[0] = client;
    argv[1] = "--watch";
    argv[2] = "--timeout-ms";
    argv[3] = "60000";
    argv[4] = server;
    argv[5] = NULL;
    g_assert_true(g_spawn_async_with_pipes(NULL, (char **)argv, NULL,
                                           G_SPAWN_DO_NOT_REAP_CHILD, NULL,
                                           NULL, &pid, NULL, &out, NULL,
                                           NULL));
    ch = g_io_channel_unix_new(out);
    g_io_channel_set_close_on_unref(ch, true);
    g_assert_cmpint(g_io_channel_read_line(ch, &line, NULL, NULL, NULL), ==,
                    G_IO_STATUS_NORMAL);
    g_assert_true(g_str_has_prefix(line, "ready "));

    hotplug_del(qts);
    qtest_qmp_assert_success(qts, "{ 'execute': 'query-status' }");
    qtest_quit(qts);
    /* the client sees the server go and ends */
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    g_spawn_close_pid(pid);
    unlink(sock);
    rmdir(dir);
}


/* SR-IOV, against a fake host tree */

#define SR_TYPE(vf) "sys/bus/pci/devices/" vf "/nvidia/current_vgpu_type"

static void test_sriov_host_errors(void)
{
    FakeHost *off = fake_host_new();
    FakeHost *full = fake_host_new();
    FakeHost *fh = fake_host_new();
    g_autofree char *d1 = dev_on(off, "parent=" SR_PF ",profile=1062");
    g_autofree char *d2 = dev_on(full, "parent=" SR_PF ",profile=1062");
    g_autofree char *d3 = dev_on(fh, "host=" SR_VF1 ",profile=1066");
    g_autofree char *d4 = dev_on(fh, "host=0000:41:00.5");
    g_autofree char *d5 = dev_on(fh, "host=" SR_VF2);
    g_autofree char *d6 = dev_on(fh, "parent=0000:42:00.0,profile=1062");

    fake_host_add_sriov_pf(off, SR_PF, 4, 0, 30, L4_TYPES);
    fake_host_add_sriov_pf(full, SR_PF, 2, 2, 30, "ID    : vGPU Name\n");
    fake_host_add_sriov_pf(fh, SR_PF, 2, 2, 30, L4_TYPES);
    assert_refused(d1, false, "nv-vgpu: SR-IOV is not enabled on GPU " SR_PF
                   " (sriov_numvfs is 0): enable its virtual functions "
                   "first, with '/usr/lib/nvidia/sriov-manage -e " SR_PF "'");
    assert_refused(d2, false, "no vGPU can be made on GPU " SR_PF ": it is "
                   "full");
    assert_refused(d3, false, "vGPU type '1066' cannot be made on VF " SR_VF1
                   " now; the types it can take now are: 1061 (NVIDIA "
                   "L4-2Q), 1062 (NVIDIA L4-4Q)");
    assert_refused(d4, false, "VF 0000:41:00.5 not found");
    assert_refused(d5, false, "VF " SR_VF2 " has no vGPU type: give it one "
                   "with profile=TYPE");
    /* neither an mdev parent nor a PF: the mdev backend's message */
    assert_refused(d6, false, "mdev parent 0000:42:00.0 not found");
    g_assert_cmpstr(fake_host_read(fh, SR_TYPE(SR_VF1)), ==, "0");
    g_assert_cmpstr(fake_host_read(full, SR_TYPE(SR_VF1)), ==, "0");
    fake_host_free(off);
    fake_host_free(full);
    fake_host_free(fh);
}

/*
 * host=VF with a type, by id and (mdev-type=, the old name) by name: the
 * VF is typed, vfio-pci then fails (no real VFIO behind a fake tree), and
 * the type QEMU gave is released.
 */
static void test_sriov_failed_start_releases(void)
{
    FakeHost *fh = fake_host_new();
    g_autofree char *d1 = dev_on(fh, "host=" SR_VF1 ",profile=1062");
    g_autofree char *d2 = dev_on(fh, "parent=" SR_PF ",mdev-type=nvidia "
                                 "l4-2q");

    fake_host_add_sriov_pf(fh, SR_PF, 2, 2, 4250, L4_TYPES);
    assert_refused(d1, false, "/dev/vfio/4251");
    vgpu_wait_no_reaper(SR_VF1);
    g_assert_cmpstr(fake_host_read(fh, SR_TYPE(SR_VF1)), ==, "0");
    g_assert_true(fake_host_wait_gone(fh, "run/nv-vgpu/" SR_VF1, 5000));
    /* the first free VF; a VF QEMU did not type is never touched */
    fake_host_set_vf(fh, SR_VF1, "current_vgpu_type", "1061\n");
    assert_refused(d2, false, "/dev/vfio/4252");
    vgpu_wait_no_reaper(SR_VF2);
    g_assert_cmpstr(fake_host_read(fh, SR_TYPE(SR_VF2)), ==, "0");
    g_assert_cmpstr(fake_host_read(fh, SR_TYPE(SR_VF1)), ==, "1061");
    fake_host_free(fh);
}

/* Has process @pid stopped itself (x-stop-at)?  Or gone? */
static char proc_state(GPid pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int)pid);
    g_autofree char *stat = NULL;
    const char *end;

    if (!g_file_get_contents(path, &stat, NULL, NULL)) {
        return 0;
    }
    end = strrchr(stat, ')');
    return end && end[1] == ' ' ? end[2] : 0;
}

/*
 * QEMU killed with SIGKILL right after it typed the VF: the helper
 * releases the type.
 */
static void test_sriov_sigkill_releases(void)
{
    FakeHost *fh = fake_host_new();
    g_autofree char *dev = dev_on(fh, "host=" SR_VF1 ",profile=1062,"
                                  "x-stop-at=created");
    const char *argv[] = {
        qemu_binary(), "-machine", "q35", "-accel", "qtest", "-display",
        "none", "-nodefaults", "-monitor", "none", "-serial", "none",
        "-device", dev, NULL
    };
    g_autoptr(GError) gerr = NULL;
    GPid pid;
    int i, status;

    fake_host_add_sriov_pf(fh, SR_PF, 2, 2, 4260, L4_TYPES);
    g_assert_true(g_spawn_async(NULL, (char **)argv, NULL,
                                G_SPAWN_DO_NOT_REAP_CHILD |
                                G_SPAWN_STDOUT_TO_DEV_NULL |
                                G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
                                &pid, &gerr));
    for (i = 0; i < 6000 && proc_state(pid) != 'T'; i++) {
        g_usleep(10 * 1000);
    }
    g_assert_cmpint(proc_state(pid), ==, 'T');
    g_assert_cmpstr(fake_host_read(fh, SR_TYPE(SR_VF1)), ==, "1062");
    g_assert_cmpint(kill(pid, SIGKILL), ==, 0);
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    g_spawn_close_pid(pid);
    g_assert_true(fake_host_wait_for(fh, SR_TYPE(SR_VF1), "0", 10000));
    vgpu_wait_no_reaper(SR_VF1);
    g_assert_true(fake_host_wait_gone(fh, "run/nv-vgpu/" SR_VF1, 5000));
    fake_host_free(fh);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/nv-vgpu/help", test_help);
    qtest_add_func("/nv-vgpu/option-errors", test_option_errors);
    qtest_add_func("/nv-vgpu/sriov/option-errors", test_sriov_option_errors);
    qtest_add_func("/nv-vgpu/sriov/host-errors", test_sriov_host_errors);
    qtest_add_func("/nv-vgpu/sriov/failed-start-releases",
                   test_sriov_failed_start_releases);
    qtest_add_func("/nv-vgpu/sriov/sigkill-releases",
                   test_sriov_sigkill_releases);
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
    qtest_add_func("/nv-vgpu/params-errors", test_params_errors);
    qtest_add_func("/nv-vgpu/nvsim/health-report", test_nvsim_health_report);
    qtest_add_func("/nv-vgpu/nvsim/health-defaults",
                   test_nvsim_health_defaults);
    qtest_add_func("/nv-vgpu/nvsim/no-err-irq", test_nvsim_no_err_irq);
    qtest_add_func("/nv-vgpu/nvsim/params-existing",
                   test_nvsim_params_existing);
    qtest_add_func("/nv-vgpu/nvsim/params-created",
                   test_nvsim_params_created);
    qtest_add_func("/nv-vgpu/nvsim/query-whole", test_nvsim_query_whole);
    qtest_add_func("/nv-vgpu/nvsim/numa-memory-policy",
                   test_nvsim_numa_memory_policy);
    qtest_add_func("/nv-vgpu/nvsim/multi/same-vgpu", test_multi_same_vgpu);
    qtest_add_func("/nv-vgpu/nvsim/multi/rules", test_multi_rules);
    qtest_add_func("/nv-vgpu/nvsim/multi/p2p-clique", test_p2p_clique);
    qtest_add_func("/nv-vgpu/nvsim/hotplug/plug-unplug-replug", test_hotplug);
    qtest_add_func("/nv-vgpu/nvsim/hotplug/vgpu-create",
                   test_hotplug_prepared);
    qtest_add_func("/nv-vgpu/nvsim/hotplug/unplug-with-vnc",
                   test_hotplug_vnc);
    return g_test_run();
}
