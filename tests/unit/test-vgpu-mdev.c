/*
 * Tests for the mdev vGPU backend against a fake host tree
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/units.h"
#include "hw/vgpu/vgpu-backend.h"
#include "hw/vgpu/vgpu-record.h"
#include "vgpu-fake-host.h"

#define P4_8C "num_heads=1, frl_config=60, framebuffer=8192M, " \
              "max_resolution=4096x2160, max_instance=1"
#define P4_1Q "num_heads=4, frl_config=60, framebuffer=1024M, " \
              "max_resolution=5120x2880, max_instance=8"
#define UUID1 "8d5c2f0a-34b1-4c55-9a43-0e3c8b1d2f77"
#define UUID2 "1b2a6c9e-0f3d-4e8a-b5c7-d9e0f1a2b3c4"
#define TYPES "sys/devices/0000:83:00.0/mdev_supported_types"
#define RECORDS "run/nv-vgpu"

/* A host with one P4 that offers two NVIDIA types and an AP one. */
static FakeHost *p4_host(int free_8c)
{
    FakeHost *fh = fake_host_new();

    fake_host_add_type(fh, "0000:83:00.0", "nvidia-289", "GRID P4-8C", P4_8C,
                       "vfio-pci", free_8c);
    fake_host_add_type(fh, "0000:83:00.0", "nvidia-63", "GRID P4-1Q", P4_1Q,
                       "vfio-pci", 8);
    fake_host_add_type(fh, "0000:83:00.0", "vfio_ap-passthrough", "AP",
                       "", "vfio-ap", 1);
    return fh;
}

static VgpuHost *host_new(FakeHost *fh)
{
    VgpuHost *h = g_new0(VgpuHost, 1);

    vgpu_host_init(h, &vgpu_mdev_backend, fake_host_root(fh));
    return h;
}

static bool mdev_make(VgpuHost *h, const char *parent, const char *type,
                      const char *uuid, Error **errp)
{
    VgpuRequest req = { .parent = parent, .type = type, .uuid = uuid };

    return h->ops->create(h, &req, errp);
}

static void host_free(VgpuHost *h)
{
    vgpu_host_release(h);
    g_free(h);
}

static void assert_error(Error *err, const char *want)
{
    g_assert_nonnull(err);
    if (!strstr(error_get_pretty(err), want)) {
        g_error("got '%s', want '%s'", error_get_pretty(err), want);
    }
    error_free(err);
}

/* Create by type id: UUID into "create", "1" into "remove" on release. */
static void test_create_and_remove(void)
{
    FakeHost *fh = p4_host(1);
    VgpuHost *h = host_new(fh);
    g_autofree char *uuid = NULL;
    g_autofree char *remove = NULL;
    g_autofree char *record = NULL;
    g_autofree char *text = NULL;
    int i;

    fake_host_serve_create(fh, "0000:83:00.0", "nvidia-289", 7);
    fake_host_add_vfio_group(fh, 7, 0666);

    g_assert_true(mdev_make(h, "0000:83:00.0", "nvidia-289", NULL,
                                 &error_abort));
    uuid = fake_host_created_uuid(fh, 5000);
    g_assert_nonnull(uuid);
    g_assert_cmpuint(strlen(uuid), ==, 36);
    g_assert_cmpstr(h->uuid, ==, uuid);
    g_assert_true(h->created);
    g_assert_cmpstr(h->parent, ==, "0000:83:00.0");
    g_assert_true(g_str_has_prefix(h->sysfsdev, "/sys/bus/mdev/devices/"));
    g_assert_true(g_str_has_suffix(h->sysfsdev, uuid));
    g_assert_cmpstr(h->profile.name, ==, "GRID P4-8C");
    g_assert_cmpuint(h->profile.framebuffer, ==, 8 * GiB);

    g_assert_true(h->ops->describe(h, &error_abort));
    g_assert_cmpstr(h->profile.type_id, ==, "nvidia-289");
    g_assert_cmpstr(h->profile.device_api, ==, "vfio-pci");
    g_assert_cmpuint(h->profile.max_xres, ==, 4096);

    remove = g_strdup_printf("sys/devices/0000:83:00.0/%s/remove", uuid);
    g_assert_cmpstr(fake_host_read(fh, remove), ==, "");
    record = g_strdup_printf(RECORDS "/%s", uuid);
    text = fake_host_read(fh, record);
    g_assert_nonnull(text);
    g_assert_nonnull(strstr(text, "parent=0000:83:00.0\ntype=nvidia-289\n"));
    g_assert_nonnull(strstr(text, "\nstate=owned"));
    host_free(h);
    g_assert_true(fake_host_wait_for(fh, remove, "1", 5000));
    /* The helper deletes the record once the vGPU is removed. */
    for (i = 0; i < 500 && fake_host_read(fh, record); i++) {
        g_usleep(10 * 1000);
    }
    g_assert_null(fake_host_read(fh, record));
    fake_host_free(fh);
}

/* Profile names work as type names, case-insensitively, with a UUID. */
static void test_create_by_profile_name(void)
{
    FakeHost *fh = p4_host(1);
    VgpuHost *h = host_new(fh);
    g_autofree char *uuid = NULL;

    fake_host_serve_create(fh, "0000:83:00.0", "nvidia-63", 3);
    fake_host_add_vfio_group(fh, 3, 0666);
    g_assert_true(mdev_make(h, "0000:83:00.0", "grid p4-1q", UUID1,
                                 &error_abort));
    uuid = fake_host_created_uuid(fh, 5000);
    g_assert_cmpstr(uuid, ==, UUID1);
    g_assert_cmpstr(h->profile.type_id, ==, "nvidia-63");
    g_assert_cmpuint(h->profile.num_heads, ==, 4);
    host_free(h);
    g_assert_true(fake_host_wait_for(fh, "sys/devices/0000:83:00.0/" UUID1
                                     "/remove", "1", 5000));
    fake_host_free(fh);
}

/* The mdev appeared, but cannot be opened: release still removes it. */
static void test_failed_open_cleans_up(void)
{
    FakeHost *fh = p4_host(1);
    VgpuHost *h = host_new(fh);
    Error *err = NULL;

    fake_host_serve_create(fh, "0000:83:00.0", "nvidia-289", 9);
    /* no /dev/vfio/9 */
    g_assert_false(mdev_make(h, "0000:83:00.0", "nvidia-289", UUID1,
                                  &err));
    assert_error(err, "/dev/vfio/9 does not exist");
    g_assert_true(h->created);
    host_free(h);
    g_assert_true(fake_host_wait_for(fh, "sys/devices/0000:83:00.0/" UUID1
                                     "/remove", "1", 5000));
    fake_host_free(fh);
}

/* The driver took the UUID but no device came: nothing to remove. */
static void test_create_never_appears(void)
{
    FakeHost *fh = p4_host(1);
    VgpuHost *h = host_new(fh);
    Error *err = NULL;

    g_assert_false(mdev_make(h, "0000:83:00.0", "nvidia-289", UUID1,
                                  &err));
    assert_error(err, "accepted vGPU " UUID1 " but /sys/bus/mdev/devices/"
                 UUID1 " did not appear");
    g_assert_false(h->created);
    g_assert_cmpstr(fake_host_read(fh, TYPES "/nvidia-289/create"), ==,
                    UUID1);
    host_free(h);
    fake_host_free(fh);
}

static void test_errors_before_create(void)
{
    static const struct {
        const char *parent, *type;
        const char *error;
    } cases[] = {
        { "0000:84:00.0", "nvidia-289",
          "mdev parent 0000:84:00.0 not found; the mdev parents on this host "
          "are: 0000:83:00.0" },
        { "../../etc", "nvidia-289", "is not a device name" },
        { "0000:83:00.0", "nvidia-999",
          "has no vGPU type or profile 'nvidia-999'; its types are: "
          "nvidia-289 (GRID P4-8C, 0 free), nvidia-63 (GRID P4-1Q, 8 free), "
          "vfio_ap-passthrough (AP, 1 free)" },
        { "0000:83:00.0", "nvidia-289",
          "no free instance of vGPU type GRID P4-8C (nvidia-289: 8192 MiB, "
          "1 head, 4096x2160, 60 fps) on 0000:83:00.0 (max_instance=1)" },
        { "0000:83:00.0", "vfio_ap-passthrough",
          "has device_api vfio-ap, but nv-vgpu needs a vfio-pci vGPU" },
    };
    FakeHost *fh = p4_host(0);
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(cases); i++) {
        VgpuHost *h = host_new(fh);
        Error *err = NULL;

        g_assert_false(mdev_make(h, cases[i].parent, cases[i].type,
                                      NULL, &err));
        assert_error(err, cases[i].error);
        g_assert_false(h->created);
        host_free(h);
    }
    /* Nothing was ever written to "create". */
    g_assert_cmpstr(fake_host_read(fh, TYPES "/nvidia-289/create"), ==, "");
    fake_host_free(fh);
}

static void test_no_parents_at_all(void)
{
    FakeHost *fh = fake_host_new();
    VgpuHost *h = host_new(fh);
    Error *err = NULL;

    g_assert_false(mdev_make(h, "0000:83:00.0", "nvidia-289", NULL,
                                  &err));
    assert_error(err, "no mdev parent devices at all; is the vGPU host "
                 "driver loaded?");
    host_free(h);
    fake_host_free(fh);
}

/* An mdev that exists with the UUID: used if it fits, and never removed. */
static void test_existing_uuid(void)
{
    FakeHost *fh = p4_host(0);
    VgpuHost *h = host_new(fh);
    Error *err = NULL;

    g_free(fake_host_add_mdev(fh, "0000:83:00.0", "nvidia-289", UUID1, 4));
    fake_host_add_vfio_group(fh, 4, 0666);
    g_assert_true(mdev_make(h, "0000:83:00.0", "GRID P4-8C", UUID1,
                                 &error_abort));
    g_assert_false(h->created);
    g_assert_cmpstr(h->sysfsdev, ==, "/sys/bus/mdev/devices/" UUID1);
    host_free(h);

    h = host_new(fh);
    g_assert_false(mdev_make(h, "0000:83:00.0", "nvidia-63", UUID1,
                                  &err));
    assert_error(err, "an mdev with uuid " UUID1 " exists already, of type "
                 "nvidia-289 on 0000:83:00.0");
    host_free(h);

    vgpu_wait_no_reaper(UUID1);
    g_assert_cmpstr(fake_host_read(fh, "sys/devices/0000:83:00.0/" UUID1
                                   "/remove"), ==, "");
    g_assert_cmpstr(fake_host_read(fh, TYPES "/nvidia-289/create"), ==, "");
    fake_host_free(fh);
}

static void test_open_sysfsdev(void)
{
    FakeHost *fh = p4_host(1);
    VgpuHost *h = host_new(fh);
    g_autofree char *dev = NULL;
    Error *err = NULL;

    dev = fake_host_add_mdev(fh, "0000:83:00.0", "nvidia-63", UUID2, 5);
    fake_host_add_vfio_group(fh, 5, 0666);
    g_assert_true(h->ops->open(h, dev, &error_abort));
    g_assert_true(h->ops->describe(h, &error_abort));
    g_assert_cmpstr(h->uuid, ==, UUID2);
    g_assert_cmpstr(h->parent, ==, "0000:83:00.0");
    g_assert_cmpstr(h->profile.name, ==, "GRID P4-1Q");
    g_assert_cmpint(h->profile.available, ==, 8);
    g_assert_false(h->created);
    host_free(h);

    h = host_new(fh);
    g_assert_false(h->ops->open(h, "/sys/bus/mdev/devices/" UUID1, &err));
    assert_error(err, "no vGPU at sysfsdev=/sys/bus/mdev/devices/" UUID1);
    host_free(h);
    fake_host_free(fh);
}

/* vgpu-params= and frame-rate-limiter= into the items written */
static void test_params_build(void)
{
    static const struct {
        const char *list;
        OnOffAuto frl;
        const char *want;       /* items joined by ", "; NULL: error */
        const char *err;
    } cases[] = {
        { NULL, ON_OFF_AUTO_AUTO, "" },
        { "", ON_OFF_AUTO_OFF, "frame_rate_limiter=0" },
        { " a=1 : b = x.y-z ,c=_", ON_OFF_AUTO_AUTO, "a=1, b=x.y-z, c=_" },
        { "frame_rate_limiter=1", ON_OFF_AUTO_ON, "frame_rate_limiter=1" },
        { "a=1::", ON_OFF_AUTO_ON, "a=1, frame_rate_limiter=1" },
        { "frame_rate_limiter", ON_OFF_AUTO_AUTO, NULL,
          "vgpu-params: 'frame_rate_limiter' is not key=value" },
        { "a=1:a=0", ON_OFF_AUTO_AUTO, NULL,
          "vgpu-params: a is given twice" },
        { "a b=1", ON_OFF_AUTO_AUTO, NULL,
          "vgpu-params: key 'a b' is not a plugin parameter name" },
        { "=1", ON_OFF_AUTO_AUTO, NULL,
          "vgpu-params: key '' is not a plugin parameter name" },
        { "a=$(x)", ON_OFF_AUTO_AUTO, NULL,
          "vgpu-params: a='$(x)' is not a plugin parameter value" },
        { "a=", ON_OFF_AUTO_AUTO, NULL,
          "vgpu-params: a='' is not a plugin parameter value" },
        { "frame_rate_limiter=0", ON_OFF_AUTO_ON, NULL,
          "frame-rate-limiter=on contradicts vgpu-params' "
          "frame_rate_limiter=0" },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_auto(GStrv) items = NULL;
        Error *err = NULL;
        bool ok = vgpu_params_build(cases[i].list, cases[i].frl, &items,
                                    &err);

        if (cases[i].want) {
            g_autofree char *got = NULL;

            g_assert_true(ok);
            got = g_strjoinv(", ", items);
            g_assert_cmpstr(got, ==, cases[i].want);
        } else {
            g_assert_false(ok);
            assert_error(err, cases[i].err);
        }
    }
}

#define PARAMS "sys/devices/0000:83:00.0/" UUID2 "/nvidia/vgpu_params"

/* A sysfs store replaces the value; a regular file only overwrites. */
static void params_clear(FakeHost *fh)
{
    g_autofree char *path = g_strdup_printf("%s/" PARAMS, fake_host_root(fh));

    g_assert_cmpint(truncate(path, 0), ==, 0);
}

/*
 * Parameters of a vGPU QEMU did not create: written, and the old ones put
 * back on release or, by the helper, when QEMU ends; none asked for,
 * none written; no vgpu_params, an error.
 */
static void test_params_apply(void)
{
    FakeHost *fh = p4_host(1);
    g_autofree char *dev = NULL;
    g_autofree char *dir = NULL;
    g_autofree char *val = NULL;
    g_auto(GStrv) items = NULL;
    VgpuHost *h;
    Error *err = NULL;

    dev = fake_host_add_mdev(fh, "0000:83:00.0", "nvidia-63", UUID2, 5);
    fake_host_add_vfio_group(fh, 5, 0666);
    g_assert_true(vgpu_params_build("a=1", ON_OFF_AUTO_OFF, &items,
                                    &error_abort));

    /* no nvidia/vgpu_params: not an NVIDIA vGPU, or an older driver */
    h = host_new(fh);
    g_assert_true(h->ops->open(h, dev, &error_abort));
    g_assert_true(vgpu_host_apply_params(h, NULL, &error_abort));
    g_assert_false(h->params_supported);
    g_assert_false(vgpu_host_apply_params(h, items, &err));
    assert_error(err, "the host driver of vGPU " UUID2 " takes no plugin "
                 "parameters");
    host_free(h);

    dir = g_strdup_printf("%s/sys/devices/0000:83:00.0/" UUID2 "/nvidia",
                          fake_host_root(fh));
    g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
    g_free(dir);
    dir = g_strdup_printf("%s/" PARAMS, fake_host_root(fh));
    g_assert_true(g_file_set_contents(dir, "enable_uvm=1\n", -1, NULL));

    /* released: put back by QEMU */
    h = host_new(fh);
    g_assert_true(h->ops->open(h, dev, &error_abort));
    g_assert_true(vgpu_host_apply_params(h, items, &error_abort));
    g_assert_true(h->params_supported);
    g_assert_cmpstr(h->params_restore, ==, "enable_uvm=1");
    g_assert_cmpstr(h->params_in_force, ==, "a=1, frame_rate_limiter=0");
    g_assert_cmpint(h->params_helper, >=, 0);
    params_clear(fh);
    host_free(h);
    val = fake_host_read(fh, PARAMS);
    g_assert_cmpstr(val, ==, "enable_uvm=1");

    /* QEMU ends with the vGPU: the helper puts them back */
    h = host_new(fh);
    g_assert_true(h->ops->open(h, dev, &error_abort));
    g_assert_true(vgpu_host_apply_params(h, items, &error_abort));
    g_free(val);
    val = fake_host_read(fh, PARAMS);
    g_assert_cmpstr(val, ==, "a=1, frame_rate_limiter=0");
    close(h->params_helper);
    h->params_helper = -1;
    g_assert_true(fake_host_wait_for(fh, PARAMS, "enable_uvm=1", 5000));
    g_clear_pointer(&h->params_restore, g_free);
    host_free(h);

    /* nothing asked for: nothing written, nothing to put back */
    h = host_new(fh);
    g_assert_true(h->ops->open(h, dev, &error_abort));
    g_assert_true(vgpu_host_apply_params(h, NULL, &error_abort));
    g_assert_cmpstr(h->params_in_force, ==, "enable_uvm=1");
    g_assert_null(h->params_restore);
    g_assert_cmpint(h->params_helper, ==, -1);
    host_free(h);
    fake_host_free(fh);
}

/* Write a record as a QEMU with pid @pid left it. */
static void put_record(FakeHost *fh, const char *uuid, int64_t pid,
                       const char *device, const char *state)
{
    g_autofree char *dir = g_strdup_printf("%s/" RECORDS, fake_host_root(fh));
    g_autofree char *path = g_strdup_printf("%s/%s", dir, uuid);
    g_autofree char *text = g_strdup_printf(
        "uuid=%s\nbackend=mdev\nparent=0000:83:00.0\ntype=nvidia-63\n"
        "device=%s\nremove=%s/remove\nremove-value=1\nowner-pid=%" PRId64
        "\nowner-start=1\nstate=%s\n", uuid, device, device, pid, state);

    g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
    g_assert_true(g_file_set_contents(path, text, -1, NULL));
}

/*
 * An orphan record (owner gone, nobody holds the lock) gets its vGPU
 * removed and goes; a vGPU without a record, or a record that names paths
 * outside sysfs, is left alone.
 */
static void test_orphan_reaped(void)
{
    FakeHost *fh = p4_host(1);
    g_autofree char *dev1 = NULL;
    g_autofree char *dev2 = NULL;
    VgpuHost *h = host_new(fh);

    dev1 = fake_host_add_mdev(fh, "0000:83:00.0", "nvidia-63", UUID1, 11);
    dev2 = fake_host_add_mdev(fh, "0000:83:00.0", "nvidia-63", UUID2, 12);
    fake_host_add_vfio_group(fh, 11, 0666);
    fake_host_add_vfio_group(fh, 12, 0666);
    /* pid 0 never runs: the owner is gone */
    put_record(fh, UUID1, 0, dev1, "owned");
    put_record(fh, "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9", 0, "/etc/passwd",
               "owned");

    g_assert_cmpint(vgpu_records_reap(fake_host_root(fh), "0000:83:00.0",
                                      true, NULL, NULL), ==, 0);
    g_assert_cmpstr(fake_host_read(fh, "sys/devices/0000:83:00.0/" UUID1
                                   "/remove"), ==, "");
    /* the next start on the parent reaps */
    fake_host_serve_create(fh, "0000:83:00.0", "nvidia-63", 13);
    fake_host_add_vfio_group(fh, 13, 0666);
    g_assert_true(mdev_make(h, "0000:83:00.0", "nvidia-63", NULL,
                                 &error_abort));
    g_assert_cmpstr(fake_host_read(fh, "sys/devices/0000:83:00.0/" UUID1
                                   "/remove"), ==, "1");
    g_assert_null(fake_host_read(fh, RECORDS "/" UUID1));
    /* never touched: no record, or a bad one */
    g_assert_cmpstr(fake_host_read(fh, "sys/devices/0000:83:00.0/" UUID2
                                   "/remove"), ==, "");
    g_assert_nonnull(fake_host_read(fh, RECORDS
                                    "/0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"));
    g_assert_cmpint(vgpu_records_reap(fake_host_root(fh), NULL, false,
                                      NULL, NULL), ==, 1);
    host_free(h);
    fake_host_free(fh);
}

typedef struct {
    VgpuRecord *r;
    FakeHost *fh;
} DropLater;

static gpointer drop_later(gpointer opaque)
{
    DropLater *d = opaque;

    g_usleep(200 * 1000);
    vgpu_record_drop(d->r);
    return NULL;
}

/*
 * A UUID whose record is held: refused while its creator (here: this
 * process) uses it, waited for while its removal is pending.
 */
static void test_pending_removal(void)
{
    FakeHost *fh = p4_host(1);
    g_autofree char *dev = NULL;
    g_autoptr(VgpuRecord) r = NULL;
    VgpuHost *h = host_new(fh);
    DropLater d;
    GThread *t;
    Error *err = NULL;

    dev = fake_host_add_mdev(fh, "0000:83:00.0", "nvidia-289", UUID1, 14);
    fake_host_add_vfio_group(fh, 14, 0666);
    r = vgpu_record_new(UUID1, "mdev", "0000:83:00.0", "nvidia-289", dev,
                        "/sys/bus/mdev/devices/" UUID1 "/remove", "1");
    g_assert_cmpint(vgpu_record_claim(fake_host_root(fh), r, &error_abort),
                    ==, VGPU_RECORD_CLAIMED);
    {
        g_autoptr(VgpuRecord) again = vgpu_record_new(UUID1, "mdev", "p",
                                                      "t", dev, dev, "1");

        g_assert_cmpint(vgpu_record_claim(fake_host_root(fh), again,
                                          &error_abort), ==,
                        VGPU_RECORD_TAKEN);
    }

    /* in use: the existing mdev is not adopted, and not touched */
    g_assert_false(mdev_make(h, "0000:83:00.0", "nvidia-289", UUID1,
                                  &err));
    assert_error(err, "vGPU " UUID1 " is in use by another nv-vgpu device "
                 "of this QEMU");
    g_assert_false(h->created);
    err = NULL;
    g_assert_false(h->ops->open(h, dev, &err));
    assert_error(err, "is in use by another nv-vgpu device of this QEMU");

    /* removal pending: waited for, then there is nothing to open */
    vgpu_record_set_removing(r);
    d.r = r;
    d.fh = fh;
    t = g_thread_new("drop", drop_later, &d);
    g_assert_true(vgpu_record_settle(fake_host_root(fh), UUID1, true, NULL,
                                     &error_abort));
    g_assert_null(fake_host_read(fh, RECORDS "/" UUID1));
    g_thread_join(t);
    g_assert_cmpstr(fake_host_read(fh, "sys/devices/0000:83:00.0/" UUID1
                                   "/remove"), ==, "");
    host_free(h);
    fake_host_free(fh);
}

/*
 * Permission problems, seen as an unprivileged user would see them: run in
 * a subprocess that drops root first.
 */
static void drop_root(void)
{
    if (geteuid() == 0) {
        g_assert_cmpint(setgid(65534), ==, 0);
        g_assert_cmpint(setuid(65534), ==, 0);
    }
}

static void test_permissions(void)
{
    FakeHost *fh;

    if (g_test_subprocess()) {
        const char *root = g_getenv("VGPU_TEST_ROOT");
        const char *which = g_getenv("VGPU_TEST_CASE");
        VgpuHost h;
        Error *err = NULL;

        drop_root();
        vgpu_host_init(&h, &vgpu_mdev_backend, root);
        if (!strcmp(which, "create")) {
            g_assert_false(mdev_make(&h, "0000:83:00.0", "nvidia-63",
                                         NULL, &err));
        } else {
            g_assert_false(h.ops->open(&h, "/sys/bus/mdev/devices/" UUID2,
                                       &err));
        }
        fprintf(stderr, "%s\n", error_get_pretty(err));
        error_free(err);
        vgpu_host_release(&h);
        return;
    }

    fh = p4_host(1);
    g_free(fake_host_add_mdev(fh, "0000:83:00.0", "nvidia-63", UUID2, 6));
    fake_host_add_vfio_group(fh, 6, 0600);
    g_setenv("VGPU_TEST_ROOT", fake_host_root(fh), true);

    g_setenv("VGPU_TEST_CASE", "create", true);
    g_test_trap_subprocess(NULL, 0, 0);
    g_test_trap_assert_passed();
    g_test_trap_assert_stderr("*permission denied writing *"
                              "/mdev_supported_types/nvidia-63/create: "
                              "creating a vGPU needs root*sysfsdev=*");

    g_setenv("VGPU_TEST_CASE", "open", true);
    g_test_trap_subprocess(NULL, 0, 0);
    g_test_trap_assert_passed();
    g_test_trap_assert_stderr("*permission denied opening */dev/vfio/6, the "
                              "VFIO group of vGPU " UUID2 ": run QEMU as "
                              "root*/dev/vfio/vfio; with libvirt, pass the "
                              "vGPU as a <hostdev type='mdev'>*");
    fake_host_free(fh);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vgpu/mdev/create-and-remove", test_create_and_remove);
    g_test_add_func("/vgpu/mdev/create-by-profile-name",
                    test_create_by_profile_name);
    g_test_add_func("/vgpu/mdev/failed-open-cleans-up",
                    test_failed_open_cleans_up);
    g_test_add_func("/vgpu/mdev/create-never-appears",
                    test_create_never_appears);
    g_test_add_func("/vgpu/mdev/errors-before-create",
                    test_errors_before_create);
    g_test_add_func("/vgpu/mdev/no-parents", test_no_parents_at_all);
    g_test_add_func("/vgpu/mdev/existing-uuid", test_existing_uuid);
    g_test_add_func("/vgpu/mdev/open-sysfsdev", test_open_sysfsdev);
    g_test_add_func("/vgpu/mdev/permissions", test_permissions);
    g_test_add_func("/vgpu/mdev/orphan-reaped", test_orphan_reaped);
    g_test_add_func("/vgpu/mdev/pending-removal", test_pending_removal);
    g_test_add_func("/vgpu/params/build", test_params_build);
    g_test_add_func("/vgpu/params/apply", test_params_apply);
    return g_test_run();
}
