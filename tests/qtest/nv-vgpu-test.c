/*
 * QTest for nv-vgpu: start-up errors and the vGPU life cycle, against a
 * fake host tree (x-host-root).  Runs on any host; the tests against a
 * real kernel VFIO run in the test host (tests/vgpu-host).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "../unit/vgpu-fake-host.h"

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
                   ": run QEMU as root or give its user access to that file");
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
    g_usleep(200 * 1000);
    g_assert_cmpstr(fake_host_read(fh, "sys/devices/" GPU "/" UUID1
                                   "/remove"), ==, "");
    g_assert_cmpstr(fake_host_read(fh, "sys/devices/" GPU "/mdev_supported_"
                                   "types/nvidia-289/create"), ==, "");
    fake_host_free(fh);
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
    return g_test_run();
}
