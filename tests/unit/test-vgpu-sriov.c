/*
 * Tests for the SR-IOV vGPU backend against a fake host tree
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/units.h"
#include "hw/vgpu/vgpu-backend.h"
#include "hw/vgpu/vgpu-record.h"
#include "vgpu-fake-host.h"

#define PF      "0000:41:00.0"
#define VF1     "0000:41:00.1"
#define VF2     "0000:41:00.2"
#define VF3     "0000:41:00.3"
#define VF4     "0000:41:00.4"
#define VFDIR(vf) "sys/bus/pci/devices/" vf "/nvidia/"
#define RECORDS "run/nv-vgpu/"

/* The types of an empty 24 GiB L4, in the driver's table format */
#define L4_ALL  "ID    : vGPU Name\n" \
                "1060  : NVIDIA L4-1Q\n1061  : NVIDIA L4-2Q\n" \
                "1062  : NVIDIA L4-4Q\n1063  : NVIDIA L4-6Q\n" \
                "1064  : NVIDIA L4-8Q\n1065  : NVIDIA L4-12Q\n" \
                "1066  : NVIDIA L4-24Q\n"
#define L4_FULL "ID    : vGPU Name\n"
#define L4_ALL_LIST "1060 (NVIDIA L4-1Q), 1061 (NVIDIA L4-2Q), " \
                    "1062 (NVIDIA L4-4Q), 1063 (NVIDIA L4-6Q), " \
                    "1064 (NVIDIA L4-8Q), 1065 (NVIDIA L4-12Q), " \
                    "1066 (NVIDIA L4-24Q)"

static FakeHost *l4_host(int enabled, const char *creatable)
{
    FakeHost *fh = fake_host_new();

    fake_host_add_sriov_pf(fh, PF, 4, enabled, 20, creatable);
    return fh;
}

static VgpuHost *host_new(FakeHost *fh)
{
    VgpuHost *h = g_new0(VgpuHost, 1);

    vgpu_host_init(h, &vgpu_sriov_backend, fake_host_root(fh));
    return h;
}

static void host_free(VgpuHost *h)
{
    vgpu_host_release(h);
    g_free(h);
}

static bool make_on(VgpuHost *h, const char *vf, const char *type,
                    Error **errp)
{
    VgpuRequest req = { .device = vf, .type = type };

    return h->ops->create(h, &req, errp);
}

static bool make_pick(VgpuHost *h, const char *pf, const char *type,
                      Error **errp)
{
    VgpuRequest req = { .parent = pf, .type = type };

    return h->ops->create(h, &req, errp);
}

static void assert_error(Error *err, const char *want)
{
    g_assert_nonnull(err);
    if (!strstr(error_get_pretty(err), want)) {
        g_error("got '%s', want '%s'", error_get_pretty(err), want);
    }
    error_free(err);
}

static void assert_vf(FakeHost *fh, const char *vf, const char *attr,
                      const char *want)
{
    g_autofree char *rel = g_strdup_printf("sys/bus/pci/devices/%s/nvidia/%s",
                                           vf, attr);
    g_autofree char *have = fake_host_read(fh, rel);

    g_assert_cmpstr(have, ==, want);
}

/*
 * Once the helper of @vf is gone: its record gone too?  The helper ends
 * in an exec of rm, which may still be at work: give it up to 5 s.
 */
static bool record_gone(FakeHost *fh, const char *vf)
{
    g_autofree char *rel = g_strdup_printf(RECORDS "%s", vf);

    vgpu_wait_no_reaper(vf);
    return fake_host_wait_gone(fh, rel, 5000);
}

/* By id: the id into current_vgpu_type, 0 on release, the record goes. */
static void test_assign_by_id(void)
{
    FakeHost *fh = l4_host(4, L4_ALL);
    VgpuHost *h = host_new(fh);
    g_autofree char *text = NULL;

    fake_host_set_vf(fh, VF1, "placement_id", "8\n");
    g_assert_true(make_on(h, VF1, "1062", &error_abort));
    assert_vf(fh, VF1, "current_vgpu_type", "1062");
    g_assert_true(h->created);
    g_assert_cmpstr(h->id, ==, VF1);
    g_assert_null(h->uuid);
    g_assert_cmpstr(h->parent, ==, PF);
    g_assert_cmpstr(h->sysfsdev, ==, "/sys/bus/pci/devices/" VF1);
    g_assert_cmpint(h->placement, ==, 8);

    text = fake_host_read(fh, RECORDS VF1);
    g_assert_nonnull(text);
    g_assert_nonnull(strstr(text, "uuid=" VF1 "\nbackend=sriov\nparent=" PF
                            "\ntype=1062\n"));
    g_assert_nonnull(strstr(text, "remove=/sys/bus/pci/devices/" VF1
                            "/nvidia/current_vgpu_type\nremove-value=0\n"));
    g_assert_nonnull(strstr(text, "guard=1062 /sys/bus/pci/devices/" VF1
                            "/nvidia/current_vgpu_type\n"));
    g_assert_nonnull(strstr(text, "guard=8 /sys/bus/pci/devices/" VF1
                            "/nvidia/placement_id\n"));
    if (!strstr(text, "idle=/dev/vfio/21\nstate=owned")) {
        g_error("record: %s", text);
    }

    /* no vgpuConfig.xml: the profile from the name */
    g_assert_true(h->ops->describe(h, &error_abort));
    g_assert_cmpstr(h->profile.type_id, ==, "1062");
    g_assert_cmpstr(h->profile.name, ==, "NVIDIA L4-4Q");
    g_assert_cmpstr(h->profile.device_api, ==, "vfio-pci");
    g_assert_cmpint(h->profile.source, ==, VGPU_PROFILE_FROM_NAME);
    g_assert_cmpuint(h->profile.framebuffer, ==, 4 * GiB);
    g_assert_cmpuint(h->profile.num_heads, ==, 4);
    g_assert_cmpstr(h->driver, ==, "nvidia");

    host_free(h);
    g_assert_true(fake_host_wait_for(fh, VFDIR(VF1) "current_vgpu_type", "0",
                                     5000));
    g_assert_true(record_gone(fh, VF1));
    fake_host_free(fh);
}

/* By name, in any case; the placement guard is only there if known. */
static void test_assign_by_name(void)
{
    FakeHost *fh = l4_host(4, L4_ALL);
    VgpuHost *h = host_new(fh);

    g_assert_true(make_on(h, VF2, "nvidia l4-2q", &error_abort));
    assert_vf(fh, VF2, "current_vgpu_type", "1061");
    g_assert_cmpstr(h->profile.name, ==, "NVIDIA L4-2Q");
    host_free(h);
    g_assert_true(fake_host_wait_for(fh, VFDIR(VF2) "current_vgpu_type", "0",
                                     5000));
    g_assert_true(record_gone(fh, VF2));
    fake_host_free(fh);
}

/* Start-up fails after the type was given: released all the same. */
static void test_failed_start_releases(void)
{
    FakeHost *fh = l4_host(4, L4_ALL);
    g_autofree char *node = g_strdup_printf("%s/dev/vfio/21",
                                            fake_host_root(fh));
    VgpuHost *h = host_new(fh);
    Error *err = NULL;

    g_assert_cmpint(unlink(node), ==, 0);
    g_assert_false(make_on(h, VF1, "1064", &err));
    assert_error(err, "/dev/vfio/21 does not exist");
    g_assert_true(h->created);
    assert_vf(fh, VF1, "current_vgpu_type", "1064");
    host_free(h);
    g_assert_true(fake_host_wait_for(fh, VFDIR(VF1) "current_vgpu_type", "0",
                                     5000));
    fake_host_free(fh);
}

/* Types that the VF cannot take now are refused, listing those it can. */
static void test_not_creatable(void)
{
    FakeHost *fh = l4_host(4, L4_ALL);
    VgpuHost *h = host_new(fh);
    Error *err = NULL;

    g_assert_false(make_on(h, VF1, "1070", &err));
    assert_error(err, "vGPU type '1070' cannot be made on VF " VF1 " now; "
                 "the types it can take now are: " L4_ALL_LIST);
    err = NULL;
    g_assert_false(make_pick(h, PF, "NVIDIA L4-3Q", &err));
    assert_error(err, "vGPU type 'NVIDIA L4-3Q' cannot be made on GPU " PF
                 " now; the types its free VFs can take now are: "
                 L4_ALL_LIST);
    g_assert_false(h->created);
    assert_vf(fh, VF1, "current_vgpu_type", "0");
    g_assert_null(fake_host_read(fh, RECORDS VF1));
    host_free(h);
    fake_host_free(fh);
}

/* A full GPU lists no type: said so, for host= and for parent=. */
static void test_gpu_full(void)
{
    FakeHost *fh = l4_host(2, L4_FULL);
    VgpuHost *h = host_new(fh);
    Error *err = NULL;

    g_assert_false(make_on(h, VF1, "1066", &err));
    assert_error(err, "no vGPU can be made on VF " VF1 ": its GPU " PF
                 " is full (creatable_vgpu_types lists no type)");
    err = NULL;
    g_assert_false(make_pick(h, PF, "1066", &err));
    assert_error(err, "no vGPU can be made on GPU " PF ": it is full");
    assert_vf(fh, VF1, "current_vgpu_type", "0");
    assert_vf(fh, VF2, "current_vgpu_type", "0");
    host_free(h);
    fake_host_free(fh);
}

/*
 * A VF in use: its group node open in a process, its record held by the
 * QEMU that typed it, or typed with another type.  Nothing is written.
 */
static void test_vf_in_use(void)
{
    FakeHost *fh = l4_host(4, L4_ALL);
    g_autofree char *node = g_strdup_printf("%s/dev/vfio/21",
                                            fake_host_root(fh));
    g_autofree char *want = NULL;
    g_autoptr(VgpuRecord) r = NULL;
    VgpuHost *h = host_new(fh);
    Error *err = NULL;
    int fd = open(node, O_RDWR);

    g_assert_cmpint(fd, >=, 0);
    want = g_strdup_printf("VF " VF1 " is in use: /dev/vfio/21 is open in "
                           "process %d", (int)getpid());
    g_assert_false(make_on(h, VF1, "1062", &err));
    assert_error(err, want);
    err = NULL;
    fake_host_set_vf(fh, VF1, "current_vgpu_type", "1062\n");
    g_assert_false(h->ops->open(h, "/sys/bus/pci/devices/" VF1, &err));
    assert_error(err, want);
    close(fd);
    assert_vf(fh, VF1, "current_vgpu_type", "1062");

    /* typed and held by the QEMU (here: this process) that typed it */
    r = vgpu_record_new(VF1, "sriov", PF, "1062",
                        "/sys/bus/pci/devices/" VF1,
                        "/sys/bus/pci/devices/" VF1
                        "/nvidia/current_vgpu_type", "0");
    g_assert_cmpint(vgpu_record_claim(fake_host_root(fh), r, &error_abort),
                    ==, VGPU_RECORD_CLAIMED);
    err = NULL;
    g_assert_false(h->ops->open(h, "/sys/bus/pci/devices/" VF1, &err));
    assert_error(err, "VF " VF1 " is in use by another nv-vgpu device of "
                 "this QEMU (pid");
    err = NULL;
    g_assert_false(make_on(h, VF1, "1062", &err));
    assert_error(err, "which gave it its vGPU type; stop that VM or choose "
                 "another VF");
    vgpu_record_drop(r);

    /* another type */
    err = NULL;
    g_assert_false(make_on(h, VF1, "1064", &err));
    assert_error(err, "VF " VF1 " has vGPU type 1062 already, not 1064: "
                 "pass host=" VF1 " without a type");
    assert_vf(fh, VF1, "current_vgpu_type", "1062");
    g_assert_false(h->created);
    host_free(h);
    fake_host_free(fh);
}

static void test_not_enabled(void)
{
    FakeHost *fh = l4_host(0, L4_ALL);
    VgpuHost *h = host_new(fh);
    Error *err = NULL;

    g_assert_false(make_pick(h, PF, "1062", &err));
    assert_error(err, "SR-IOV is not enabled on GPU " PF " (sriov_numvfs is "
                 "0): enable its virtual functions first, with "
                 "'/usr/lib/nvidia/sriov-manage -e " PF "' or 'echo 4 > "
                 "/sys/bus/pci/devices/" PF "/sriov_numvfs'");
    host_free(h);
    fake_host_free(fh);
}

static void test_unknown_pf_vf(void)
{
    FakeHost *fh = l4_host(2, L4_ALL);
    VgpuHost *h = host_new(fh);
    Error *err = NULL;

    g_assert_false(make_pick(h, "0000:42:00.0", "1062", &err));
    assert_error(err, "GPU 0000:42:00.0 not found: there is no PCI device "
                 "0000:42:00.0; the SR-IOV GPUs (physical functions) on "
                 "this host are: " PF);
    err = NULL;
    g_assert_false(make_pick(h, "../../etc", "1062", &err));
    assert_error(err, "is not a PCI address");
    err = NULL;
    g_assert_false(make_on(h, "0000:41:00.7", "1062", &err));
    assert_error(err, "VF 0000:41:00.7 not found: there is no PCI device "
                 "0000:41:00.7");
    err = NULL;
    g_assert_false(h->ops->open(h, "/sys/bus/pci/devices/" PF, &err));
    assert_error(err, PF " is an SR-IOV physical function, not one of its "
                 "virtual functions: use parent=" PF);
    err = NULL;
    g_assert_false(h->ops->open(h, "/sys/bus/pci/devices/" VF2, &err));
    assert_error(err, "VF " VF2 " has no vGPU type: give it one with "
                 "profile=TYPE (type id or name; it can take now: "
                 L4_ALL_LIST ")");
    host_free(h);
    fake_host_free(fh);
}

/*
 * Release only what is still ours: a VF typed again by someone else
 * (another type, or another placement) after we let go is left alone,
 * and its record goes.
 */
static void test_release_not_ours(void)
{
    FakeHost *fh = l4_host(4, L4_ALL);
    VgpuHost *h = host_new(fh);

    g_assert_true(make_on(h, VF1, "1062", &error_abort));
    fake_host_set_vf(fh, VF1, "current_vgpu_type", "1064\n");
    host_free(h);
    g_assert_true(record_gone(fh, VF1));
    assert_vf(fh, VF1, "current_vgpu_type", "1064");

    h = host_new(fh);
    fake_host_set_vf(fh, VF2, "placement_id", "0\n");
    g_assert_true(make_on(h, VF2, "1062", &error_abort));
    fake_host_set_vf(fh, VF2, "placement_id", "4\n");
    host_free(h);
    g_assert_true(record_gone(fh, VF2));
    assert_vf(fh, VF2, "current_vgpu_type", "1062");
    fake_host_free(fh);
}

/*
 * An orphan (QEMU and its helper both killed) whose VF another owner has
 * typed again since: nv-vgpu-reap and the next start on the PF drop the
 * record and leave the VF; one still as QEMU left it is released.
 */
static void test_orphan_not_ours(void)
{
    FakeHost *fh = l4_host(4, L4_ALL);
    g_autofree char *dir = g_strdup_printf("%s/" RECORDS, fake_host_root(fh));
    const char *vfs[] = { VF1, VF2 };
    size_t i;

    g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
    for (i = 0; i < G_N_ELEMENTS(vfs); i++) {
        g_autofree char *path = g_strdup_printf("%s%s", dir, vfs[i]);
        g_autofree char *text = g_strdup_printf(
            "uuid=%s\nbackend=sriov\nparent=" PF "\ntype=1062\n"
            "device=/sys/bus/pci/devices/%s\n"
            "remove=/sys/bus/pci/devices/%s/nvidia/current_vgpu_type\n"
            "remove-value=0\nowner-pid=0\nowner-start=1\n"
            "guard=1062 /sys/bus/pci/devices/%s/nvidia/current_vgpu_type\n"
            "idle=/dev/vfio/2%zu\nstate=owned\n", vfs[i], vfs[i], vfs[i],
            vfs[i], i + 1);

        g_assert_true(g_file_set_contents(path, text, -1, NULL));
    }
    fake_host_set_vf(fh, VF1, "current_vgpu_type", "1064\n");
    fake_host_set_vf(fh, VF2, "current_vgpu_type", "1062\n");
    g_assert_cmpint(vgpu_records_reap(fake_host_root(fh), PF, false, NULL,
                                      NULL), ==, 0);
    assert_vf(fh, VF1, "current_vgpu_type", "1064");
    assert_vf(fh, VF2, "current_vgpu_type", "0");
    g_assert_null(fake_host_read(fh, RECORDS VF1));
    g_assert_null(fake_host_read(fh, RECORDS VF2));
    fake_host_free(fh);
}

/*
 * A release while a process holds the VF's VFIO node is held back: the
 * helper gives up, the record stays, and a later reap releases the VF
 * once nobody holds it.
 */
static void test_release_waits_for_holder(void)
{
    FakeHost *fh = l4_host(4, L4_ALL);
    g_autofree char *node = g_strdup_printf("%s/dev/vfio/21",
                                            fake_host_root(fh));
    g_autofree char *text = NULL;
    VgpuHost *h = host_new(fh);
    int fd;

    g_assert_true(make_on(h, VF1, "1062", &error_abort));
    fd = open(node, O_RDWR);
    g_assert_cmpint(fd, >=, 0);
    host_free(h);
    vgpu_wait_no_reaper(VF1);
    assert_vf(fh, VF1, "current_vgpu_type", "1062");
    text = fake_host_read(fh, RECORDS VF1);
    g_assert_nonnull(text);
    g_assert_nonnull(strstr(text, "state=removing"));
    /* held: nv-vgpu-reap leaves it too */
    g_assert_cmpint(vgpu_records_reap(fake_host_root(fh), NULL, false, NULL,
                                      NULL), ==, 1);
    assert_vf(fh, VF1, "current_vgpu_type", "1062");
    close(fd);
    g_assert_cmpint(vgpu_records_reap(fake_host_root(fh), NULL, false, NULL,
                                      NULL), ==, 0);
    assert_vf(fh, VF1, "current_vgpu_type", "0");
    g_assert_null(fake_host_read(fh, RECORDS VF1));
    fake_host_free(fh);
}

/*
 * parent= takes the first VF that is free: not typed, not claimed by
 * another QEMU, not held open, and able to take the type.
 */
static void test_parent_picks_free_vf(void)
{
    FakeHost *fh = l4_host(4, L4_ALL);
    g_autofree char *node = g_strdup_printf("%s/dev/vfio/23",
                                            fake_host_root(fh));
    g_autoptr(VgpuRecord) r = NULL;
    VgpuHost *h = host_new(fh);
    Error *err = NULL;
    int fd;

    fake_host_set_vf(fh, VF1, "current_vgpu_type", "1062\n");
    r = vgpu_record_new(VF2, "sriov", PF, "1062",
                        "/sys/bus/pci/devices/" VF2,
                        "/sys/bus/pci/devices/" VF2
                        "/nvidia/current_vgpu_type", "0");
    g_assert_cmpint(vgpu_record_claim(fake_host_root(fh), r, &error_abort),
                    ==, VGPU_RECORD_CLAIMED);
    fd = open(node, O_RDWR);
    g_assert_cmpint(fd, >=, 0);

    g_assert_true(make_pick(h, PF, "NVIDIA L4-4Q", &error_abort));
    g_assert_cmpstr(h->id, ==, VF4);
    assert_vf(fh, VF4, "current_vgpu_type", "1062");
    assert_vf(fh, VF2, "current_vgpu_type", "0");
    assert_vf(fh, VF3, "current_vgpu_type", "0");
    host_free(h);
    g_assert_true(fake_host_wait_for(fh, VFDIR(VF4) "current_vgpu_type", "0",
                                     5000));

    /* VF4 typed too: nothing left */
    fake_host_set_vf(fh, VF4, "current_vgpu_type", "1061\n");
    h = host_new(fh);
    g_assert_false(make_pick(h, PF, "1062", &err));
    assert_error(err, "no free VF on GPU " PF ": every VF is in use: " VF1
                 " (type 1062), " VF2 " (being taken or released), " VF3
                 " (/dev/vfio/23 open), " VF4 " (type 1061)");
    host_free(h);
    close(fd);
    vgpu_record_drop(r);
    fake_host_free(fh);
}

/* A typed VF is used as it is and never released by QEMU. */
static void test_open_typed(void)
{
    FakeHost *fh = l4_host(2, L4_FULL);
    VgpuHost *h = host_new(fh);

    fake_host_set_vf(fh, VF1, "current_vgpu_type", "1064\n");
    fake_host_set_vf(fh, VF1, "gpu_instance_id", "-1\n");
    g_assert_true(h->ops->open(h, "/sys/bus/pci/devices/" VF1,
                               &error_abort));
    g_assert_false(h->created);
    g_assert_cmpint(h->gpu_instance, ==, -1);
    g_assert_true(h->ops->describe(h, &error_abort));
    g_assert_cmpstr(h->profile.type_id, ==, "1064");
    g_assert_null(h->profile.name);     /* no table lists it */
    g_assert_cmpint(h->profile.source, ==, VGPU_PROFILE_FROM_NONE);
    host_free(h);

    /* another VF of the PF still lists it: its name, and so a profile */
    fake_host_set_vf(fh, VF2, "creatable_vgpu_types",
                     "ID    : vGPU Name\n1064  : NVIDIA L4-8Q\n");
    h = host_new(fh);
    g_assert_true(h->ops->open(h, "/sys/bus/pci/devices/" VF1,
                               &error_abort));
    g_assert_true(h->ops->describe(h, &error_abort));
    g_assert_cmpstr(h->profile.name, ==, "NVIDIA L4-8Q");
    g_assert_cmpuint(h->profile.framebuffer, ==, 8 * GiB);
    host_free(h);

    /* with the type it has: used as it is, too */
    h = host_new(fh);
    g_assert_true(make_on(h, VF1, "1064", &error_abort));
    g_assert_false(h->created);
    host_free(h);
    vgpu_wait_no_reaper(VF1);
    assert_vf(fh, VF1, "current_vgpu_type", "1064");
    g_assert_null(fake_host_read(fh, RECORDS VF1));
    fake_host_free(fh);
}

/* No group node, only VFIO's cdev (iommufd): found, and checked. */
static void test_cdev_only(void)
{
    FakeHost *fh = l4_host(2, L4_ALL);
    g_autofree char *node = g_strdup_printf("%s/dev/vfio/devices/vfio3",
                                            fake_host_root(fh));
    g_autofree char *node4 = g_strdup_printf("%s/dev/vfio/devices/vfio4",
                                             fake_host_root(fh));
    g_autofree char *want = NULL;
    g_autofree char *text = NULL;
    VgpuHost *h = host_new(fh);
    Error *err = NULL;
    int fd;

    fake_host_add_vfio_cdev(fh, VF1, 3, false);
    g_assert_true(make_on(h, VF1, "1062", &error_abort));
    text = fake_host_read(fh, RECORDS VF1);
    g_assert_nonnull(strstr(text, "idle=/dev/vfio/21\n"
                            "idle=/dev/vfio/devices/vfio3\n"));
    host_free(h);
    g_assert_true(fake_host_wait_for(fh, VFDIR(VF1) "current_vgpu_type", "0",
                                     5000));
    g_assert_true(record_gone(fh, VF1));

    /* vfio-dev/vfio4 of a kernel without VFIO's cdevs: no node, no idle= */
    fake_host_add_vfio_cdev(fh, VF2, 4, true);
    g_assert_cmpint(unlink(node4), ==, 0);
    h = host_new(fh);
    g_assert_true(make_on(h, VF2, "1062", &error_abort));
    g_free(text);
    text = fake_host_read(fh, RECORDS VF2);
    g_assert_nonnull(strstr(text, "idle=/dev/vfio/22\nstate=owned"));
    host_free(h);
    g_assert_true(record_gone(fh, VF2));

    fd = open(node, O_RDWR);
    g_assert_cmpint(fd, >=, 0);
    want = g_strdup_printf("VF " VF1 " is in use: /dev/vfio/devices/vfio3 "
                           "is open in process %d", (int)getpid());
    h = host_new(fh);
    g_assert_false(make_on(h, VF1, "1062", &err));
    assert_error(err, want);
    close(fd);
    host_free(h);
    fake_host_free(fh);
}

/* mdev parent or SR-IOV PF, by what sysfs shows */
static void test_backend_choice(void)
{
    FakeHost *fh = l4_host(2, L4_ALL);
    const char *root = fake_host_root(fh);

    fake_host_add_type(fh, "0000:83:00.0", "nvidia-289", "GRID P4-8C", "",
                       "vfio-pci", 1);
    g_assert_true(vgpu_backend_for_parent(root, PF) == &vgpu_sriov_backend);
    g_assert_true(vgpu_backend_for_parent(root, "0000:83:00.0") ==
                  &vgpu_mdev_backend);
    g_assert_null(vgpu_backend_for_parent(root, "0000:99:00.0"));
    g_assert_true(vgpu_backend_for_device(root, "/sys/bus/pci/devices/" VF1)
                  == &vgpu_sriov_backend);
    g_assert_true(vgpu_backend_for_device(root, "/sys/bus/mdev/devices/x") ==
                  &vgpu_mdev_backend);
    fake_host_free(fh);
}

#define L4_4Q_XML \
    "<?xml version=\"1.0\"?>\n<vgpuconfig>\n" \
    " <vgpuType id=\"1061\" name=\"NVIDIA L4-2Q\" class=\"Quadro\">\n" \
    "  <framebuffer>0x70000000</framebuffer><numHeads>4</numHeads>\n" \
    "  <display width=\"5120\" height=\"2880\"/></vgpuType>\n" \
    " <vgpuType id=\"1062\" name=\"NVIDIA L4-4Q\" class=\"Quadro\">\n" \
    "  <devId vendorId=\"0x10de\" deviceId=\"0x27B8\"/>\n" \
    "  <framebuffer>0xE0000000</framebuffer>\n" \
    "  <numHeads>4</numHeads>\n" \
    "  <display width=\"5120\" height=\"2880\"></display>\n" \
    "  <frlConfig>0x3c</frlConfig>\n </vgpuType>\n" \
    " <pgpu><devId vendorId=\"0x10de\" deviceId=\"0x1111\"/>\n" \
    "  <supportedVgpu vgpuId=\"1062\"><maxVgpus>2</maxVgpus>" \
    "</supportedVgpu></pgpu>\n" \
    " <pgpu><devId vendorId=\"0x10de\" deviceId=\"0x27B8\"/>\n" \
    "  <supportedVgpu vgpuId=\"1061\"><maxVgpus>12</maxVgpus>" \
    "</supportedVgpu>\n" \
    "  <supportedVgpu vgpuId=\"1062\"><maxVgpus>6</maxVgpus>" \
    "</supportedVgpu></pgpu>\n</vgpuconfig>\n"

static void put_config(FakeHost *fh, const char *xml)
{
    g_autofree char *dir = g_strdup_printf("%s/usr/share/nvidia/vgpu",
                                           fake_host_root(fh));
    g_autofree char *path = g_strdup_printf("%s/vgpuConfig.xml", dir);

    g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
    g_assert_true(g_file_set_contents(path, xml, -1, NULL));
}

/* The profile from vgpuConfig.xml, where a real host publishes it */
static void test_profile_from_config(void)
{
    FakeHost *fh = l4_host(2, L4_FULL);
    VgpuHost *h = host_new(fh);

    put_config(fh, L4_4Q_XML);
    fake_host_set_vf(fh, VF1, "current_vgpu_type", "1062\n");
    g_assert_true(h->ops->open(h, "/sys/bus/pci/devices/" VF1,
                               &error_abort));
    g_assert_true(h->ops->describe(h, &error_abort));
    g_assert_cmpint(h->profile.source, ==, VGPU_PROFILE_FROM_CONFIG);
    g_assert_cmpstr(h->profile.name, ==, "NVIDIA L4-4Q");
    g_assert_cmpuint(h->profile.framebuffer, ==, 0xE0000000ULL);
    g_assert_cmpuint(h->profile.num_heads, ==, 4);
    g_assert_cmpuint(h->profile.max_xres, ==, 5120);
    g_assert_cmpuint(h->profile.max_yres, ==, 2880);
    g_assert_cmpuint(h->profile.frl_config, ==, 60);
    g_assert_cmpuint(h->profile.max_instance, ==, 6);
    host_free(h);
    fake_host_free(fh);
}

/* Nothing in the file is trusted; the name is the fallback. */
static void test_profile_config_untrusted(void)
{
    static const struct {
        const char *xml;
        const char *why;
    } cases[] = {
        { "<vgpuconfig><vgpuType id=\"1062\" name=\"x\">", "not well-formed" },
        { "<a><vgpuType id=\"1063\"/></a>", "has no vgpuType with id 1062" },
        { "<a><vgpuType id=\"1062\"><framebuffer>0</framebuffer>"
          "<numHeads>4</numHeads><display width=\"1\" height=\"1\"/>"
          "</vgpuType></a>", "lacks a valid framebuffer" },
        { "<a><vgpuType id=\"1062\"><framebuffer>0x1000</framebuffer>"
          "<numHeads>999</numHeads><display width=\"1\" height=\"1\"/>"
          "</vgpuType></a>", "lacks a valid numHeads" },
        { "<a><vgpuType id=\"1062\"><framebuffer>0x1000</framebuffer>"
          "<numHeads>1</numHeads><display width=\"99999\" height=\"1\"/>"
          "</vgpuType></a>", "lacks a valid display" },
    };
    g_autofree char *dir = g_dir_make_tmp("vgpu-config-XXXXXX", NULL);
    g_autofree char *path = g_strdup_printf("%s/vgpuConfig.xml", dir);
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(cases); i++) {
        VgpuProfile p = { .available = -1 };
        g_autofree char *why = NULL;

        g_assert_true(g_file_set_contents(path, cases[i].xml, -1, NULL));
        g_assert_false(vgpu_profile_from_config(&p, path, 1062, 0x27b8,
                                                &why));
        g_assert_nonnull(why);
        if (!strstr(why, cases[i].why)) {
            g_error("case %zu: got '%s', want '%s'", i, why, cases[i].why);
        }
        g_assert_cmpuint(p.framebuffer, ==, 0);
        g_assert_cmpint(p.source, ==, VGPU_PROFILE_FROM_NONE);
    }
    unlink(path);
    rmdir(dir);
}

static void test_profile_from_name(void)
{
    static const struct {
        const char *name;
        uint64_t fb;
        uint32_t heads, xres;
    } cases[] = {
        { "NVIDIA L4-4Q", 4 * GiB, 4, 7680 },
        { "NVIDIA L4-24Q", 24 * GiB, 4, 7680 },
        { "GRID P4-8C", 8 * GiB, 1, 4096 },
        { "NVIDIA A100-4-20C", 20 * GiB, 1, 4096 },
        { "NVIDIA RTX Pro 6000 Blackwell DC-2B", 2 * GiB, 2, 5120 },
        { "GRID M60-0Q", 512 * MiB, 4, 7680 },
        { "NVIDIA L4", 0, 0, 0 },
        { "NVIDIA L4-4X", 0, 0, 0 },
        { "NVIDIA L4-Q", 0, 0, 0 },
        { "NVIDIA L4-4QQ", 0, 0, 0 },
    };
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(cases); i++) {
        VgpuProfile p = { .name = (char *)cases[i].name };

        g_assert_cmpint(vgpu_profile_from_name(&p), ==, cases[i].fb != 0);
        g_assert_cmpuint(p.framebuffer, ==, cases[i].fb);
        g_assert_cmpuint(p.num_heads, ==, cases[i].heads);
        g_assert_cmpuint(p.max_xres, ==, cases[i].xres);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vgpu/sriov/assign-by-id", test_assign_by_id);
    g_test_add_func("/vgpu/sriov/assign-by-name", test_assign_by_name);
    g_test_add_func("/vgpu/sriov/failed-start-releases",
                    test_failed_start_releases);
    g_test_add_func("/vgpu/sriov/not-creatable", test_not_creatable);
    g_test_add_func("/vgpu/sriov/gpu-full", test_gpu_full);
    g_test_add_func("/vgpu/sriov/vf-in-use", test_vf_in_use);
    g_test_add_func("/vgpu/sriov/not-enabled", test_not_enabled);
    g_test_add_func("/vgpu/sriov/unknown-pf-vf", test_unknown_pf_vf);
    g_test_add_func("/vgpu/sriov/release-not-ours", test_release_not_ours);
    g_test_add_func("/vgpu/sriov/orphan-not-ours", test_orphan_not_ours);
    g_test_add_func("/vgpu/sriov/release-waits-for-holder",
                    test_release_waits_for_holder);
    g_test_add_func("/vgpu/sriov/parent-picks-free-vf",
                    test_parent_picks_free_vf);
    g_test_add_func("/vgpu/sriov/open-typed", test_open_typed);
    g_test_add_func("/vgpu/sriov/cdev-only", test_cdev_only);
    g_test_add_func("/vgpu/sriov/backend-choice", test_backend_choice);
    g_test_add_func("/vgpu/sriov/profile-from-config",
                    test_profile_from_config);
    g_test_add_func("/vgpu/sriov/profile-config-untrusted",
                    test_profile_config_untrusted);
    g_test_add_func("/vgpu/sriov/profile-from-name", test_profile_from_name);
    return g_test_run();
}
