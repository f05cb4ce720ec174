/*
 * QTest for nv-vgpu migration: two QEMUs on one simulated GPU (nvsim),
 * over a UNIX socket and through a file, with the compatibility check
 * and every fault we can make: in each, the source VM keeps running with
 * its vGPU byte for byte as before, and no mdev is left behind.  Runs in
 * the test host (tests/vgpu-host); skips where nvsim is not loaded.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <sys/wait.h>
#include "libqtest.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "qobject/qjson.h"
#include "qobject/qnum.h"
#include "qobject/qstring.h"
#include "qemu/bswap.h"
#include "qemu/units.h"
#include "nvsim-mig.h"

#define TYPE_2Q         "nvsim-65"      /* GRID P4-2Q */

/* A source with a mode, a picture and a scratch value set by its guest */
static Vm *source_start(char **uuids, int n, const char *props)
{
    Vm *vm = vm_start(uuids, n, props, NULL, NULL, true);

    source_prepare(vm);
    return vm;
}

/* Also move VFIO's stop-copy state over two multifd channels */
static void set_caps_multifd(QTestState *qts)
{
    set_caps(qts);
    qtest_qmp_assert_success(qts, "{ 'execute': 'migrate-set-capabilities',"
        " 'arguments': { 'capabilities': ["
        "   { 'capability': 'multifd', 'state': true } ] } }");
    qtest_qmp_assert_success(qts, "{ 'execute': 'migrate-set-parameters',"
                             " 'arguments': { 'multifd-channels': 2 } }");
}

/*
 * The destination's VFIO state came through multifd's load thread: its
 * end is traced (see MULTIFD_TRACE), once per vGPU.  And each vGPU left
 * RESUMING (new state STOP) only once that thread had started on its
 * config, which it loads after writing all of the vGPU's state.
 */
#define MULTIFD_TRACE "-trace vfio_load_bufs_thread_end " \
                      "-trace vfio_load_device_config_state_start " \
                      "-trace vfio_migration_set_state "

static void assert_multifd_used(Vm *dst, int n)
{
    g_autofree char *err = vm_stderr(dst);
    g_auto(GStrv) lines = g_strsplit(err, "\n", -1);
    int found = 0, config = 0, i;

    for (i = 0; lines[i]; i++) {
        if (strstr(lines[i], "vfio_load_bufs_thread_end")) {
            found++;
        } else if (strstr(lines[i], "vfio_load_device_config_state_start")) {
            config++;
        } else if (strstr(lines[i], "vfio_migration_set_state") &&
                   strstr(lines[i], "new state STOP,")) {
            if (config-- <= 0) {
                g_error("a vGPU left RESUMING before its multifd state was "
                        "loaded:\n%s", err);
            }
        }
    }
    if (found != n) {
        g_error("the destination's VFIO state came through %d multifd load "
                "threads, not %d:\n%s", found, n, err);
    }
}

static char *sock_uri(Vm *vm)
{
    return g_strdup_printf("unix:%s/migration.sock", vm->dir);
}

/* A source with @n vGPUs on mdevs @ua, a destination on @ub listening */
typedef struct Pair {
    Vm *src, *dst;
    char *uri;
    GpuSnapshot before[2];
} Pair;

static void pair_start_multifd(Pair *p, char **ua, char **ub, int n,
                               bool multifd)
{
    g_autofree char *extra = NULL;
    int i;

    p->src = source_start(ua, n, "");
    for (i = 0; i < n; i++) {
        snapshot(&p->src->gpu[i], &p->before[i]);
    }
    p->uri = g_strdup_printf("unix:%s/m.sock", p->src->dir);
    if (multifd) {
        /* multifd must be set before the destination listens */
        extra = g_strdup_printf(MULTIFD_TRACE "-incoming defer");
        p->dst = vm_start(ub, n, "", NULL, extra, false);
        set_caps_multifd(p->src->qts);
        set_caps_multifd(p->dst->qts);
        qtest_qmp_assert_success(p->dst->qts, "{ 'execute': "
                                 "'migrate-incoming', 'arguments': "
                                 "{ 'uri': %s } }", p->uri);
        return;
    }
    extra = g_strdup_printf("-incoming %s", p->uri);
    p->dst = vm_start(ub, n, "", NULL, extra, false);
    set_caps(p->src->qts);
    set_caps(p->dst->qts);
}

static void pair_start(Pair *p, char **ua, char **ub, int n)
{
    pair_start_multifd(p, ua, ub, n, false);
}

/*
 * The migration ends as @want_status: the source's query-migrate says
 * @want_src, the destination exits saying @want, the source runs on as
 * before.  The destination is gone afterwards, the source is not.
 */
static void pair_check_failure(Pair *p, const char *want_status,
                               const char *want, const char *want_src,
                               const char *what)
{
    g_autofree char *status = NULL, *err = NULL;

    status = wait_migration_end(p->src->qts);
    err = migration_error(p->src->qts);
    /*
     * QEMU 10.0's migrate_cancel shuts the return path down before it
     * marks the migration CANCELLING: a migration thread that sees the
     * return path's error first ends it as failed, with a channel error.
     * The source must run on as it was all the same.
     */
    if (!strcmp(want_status, "cancelled") && !strcmp(status, "failed") &&
        strstr(err, "Channel error")) {
        g_test_message("cancelled, but failed first on the return path "
                       "(QEMU's race): %s", err);
    } else {
        g_assert_cmpstr(status, ==, want_status);
    }
    if (!strstr(err, want_src)) {
        g_error("%s: the source's migration error '%s' lacks '%s'", what,
                err, want_src);
    }
    assert_dest_refused(p->dst, want);
    assert_source_intact(p->src, p->before, what);
}

/* As above, for a migration started (when @start) here; both QEMUs go. */
static void pair_expect_failure(Pair *p, bool start, const char *want_status,
                                const char *want, const char *want_src,
                                const char *what)
{
    if (start) {
        vm_migrate(p->src->qts, p->uri, 0);
    }
    pair_check_failure(p, want_status, want, want_src, what);
    vm_quit(p->src);
    g_free(p->uri);
}

/*
 * A destination whose vGPU is mdev @dst_uuid refuses the descriptor: as
 * above, and the source never paused (no STOP event came before the
 * query-migrate that saw the failure: events and replies share the QMP
 * stream, in order), and no byte of the vGPU's state reached the
 * destination's driver (nvsim/resumed), although vfio-pci put it in
 * RESUMING before any section loaded.
 */
static void pair_expect_refusal(Pair *p, const char *dst_uuid,
                                const char *want, const char *what)
{
    g_autofree char *status = NULL, *resumed = NULL;

    vm_migrate(p->src->qts, p->uri, 0);
    status = wait_migration_end(p->src->qts);
    g_assert_cmpstr(status, ==, "failed");
    if (qtest_qmp_event_ref(p->src->qts, "STOP")) {
        g_error("%s: the source paused (STOP event)", what);
    }
    /* the destination has exited, or will: its driver saw all it will */
    qtest_set_expected_status(p->dst->qts, 1);
    qtest_wait_qemu(p->dst->qts);
    resumed = mdev_attr_read(dst_uuid, "nvsim/resumed");
    if (strcmp(resumed, "0")) {
        g_error("%s: %s bytes of vGPU state reached the destination's "
                "driver before the refusal", what, resumed);
    }
    pair_check_failure(p, "failed", want, "Sibling indicated error", what);
    vm_quit(p->src);
    g_free(p->uri);
}

/* ---------------------------------------------------------------------- */

/*
 * Live migration over a UNIX socket (@opaque: with multifd): registers,
 * the framebuffer, the console and the guest's monitor arrive; the
 * source's vGPU is stopped.  The destination's driver is strict
 * (nvsim/strict_resuming): it fails region access while RESUMING, so the
 * guest's monitor arrives only if it is replugged after RESUMING.
 */
static void test_live(const void *opaque)
{
    bool multifd = *(const bool *)opaque;
    g_autofree char *ua = NULL, *ub = NULL, *uri = NULL;
    g_autofree char *status = NULL, *err = NULL;
    GpuSnapshot before[1];
    Vm *src, *dst;

    if (nvsim_skip_test()) {
        return;
    }
    ua = mdev_with_plane("region");
    ub = mdev_with_plane("region");
    mdev_attr_write(ub, "nvsim/strict_resuming", "1");
    src = source_start(&ua, 1, "xres=1600,yres=900");
    snapshot(&src->gpu[0], &before[0]);
    dst = vm_start(&ub, 1, "", NULL,
                   multifd ? MULTIFD_TRACE "-incoming defer" :
                   "-incoming defer", false);
    uri = sock_uri(dst);
    if (multifd) {
        set_caps_multifd(src->qts);
        set_caps_multifd(dst->qts);
    } else {
        set_caps(src->qts);
        set_caps(dst->qts);
    }
    qtest_qmp_assert_success(dst->qts, "{ 'execute': 'migrate-incoming', "
                             "'arguments': { 'uri': %s } }", uri);
    vm_migrate(src->qts, uri, 0);
    status = wait_migration_end(src->qts);
    g_assert_cmpstr(status, ==, "completed");
    assert_vgpu_state(src->qts, 0, "stop");

    assert_destination_matches(src->gpu, dst, before);
    /* the guest's monitor came along (the destination has no xres) */
    assert_guest_edid(&dst->gpu[0], 1600, 900);
    if (multifd) {
        assert_multifd_used(dst, 1);
    }
    err = vm_stderr(dst);
    if (strstr(err, "EDID") || strstr(err, "Input/output error")) {
        g_error("the destination touched its RESUMING vGPU:\n%s", err);
    }

    vm_quit(src);
    vm_quit(dst);
    mdev_attr_write(ub, "nvsim/strict_resuming", "0");
    nvsim_remove(ua);
    nvsim_remove(ub);
}

/* A VM with two vGPUs, one of each plane kind, migrates both. */
static void test_two_vgpus(const void *opaque)
{
    bool multifd = *(const bool *)opaque;
    g_autofree char *a0 = NULL, *a1 = NULL, *b0 = NULL, *b1 = NULL;
    g_autofree char *status = NULL;
    char *ua[2], *ub[2];
    Pair p;

    if (nvsim_skip_test()) {
        return;
    }
    ua[0] = a0 = mdev_with_plane("region");
    ua[1] = a1 = mdev_with_plane("dmabuf");
    ub[0] = b0 = mdev_with_plane("region");
    ub[1] = b1 = mdev_with_plane("dmabuf");
    pair_start_multifd(&p, ua, ub, 2, multifd);
    vm_migrate(p.src->qts, p.uri, 0);
    status = wait_migration_end(p.src->qts);
    g_assert_cmpstr(status, ==, "completed");
    assert_destination_matches(p.src->gpu, p.dst, p.before);
    if (multifd) {
        assert_multifd_used(p.dst, 2);
    }

    vm_quit(p.src);
    vm_quit(p.dst);
    g_free(p.uri);
    nvsim_remove(a0);
    nvsim_remove(a1);
    nvsim_remove(b0);
    nvsim_remove(b1);
}

/*
 * Suspend to a file and resume, onto a vGPU that QEMU creates after the
 * old one was destroyed (virsh save / restore).
 */
/* Save the paused @src to @uri (file:), then end it and its mdev @ua */
static void save_and_quit(Vm *src, const char *uri, const char *ua)
{
    g_autofree char *status = NULL;

    qtest_qmp_assert_success(src->qts, "{ 'execute': 'stop' }");
    vm_migrate(src->qts, uri, 0);
    status = wait_migration_end(src->qts);
    g_assert_cmpstr(status, ==, "completed");
    vm_quit(src);
    nvsim_remove(ua);
}

static void test_save_restore(void)
{
    g_autofree char *ua = NULL, *uri = NULL, *file = NULL;
    g_autofree char *extra = NULL, *uuid = NULL;
    g_autofree char *dir = g_dir_make_tmp("nv-vgpu-save-XXXXXX", NULL);
    GpuSnapshot before[1];
    Gpu modes;
    int mdevs;
    Vm *src, *dst;

    if (nvsim_skip_test()) {
        return;
    }
    ua = mdev_with_plane("region");
    src = source_start(&ua, 1, "");
    snapshot(&src->gpu[0], &before[0]);
    modes = src->gpu[0];
    file = g_strdup_printf("%s/vm.state", dir);
    uri = g_strdup_printf("file:%s", file);
    save_and_quit(src, uri, ua);

    /* a new vGPU of the same type, made by the restoring QEMU */
    mdevs = mdev_count();
    extra = g_strdup_printf("-incoming %s -device nv-vgpu,id=gpu0,addr=04.0,"
                            "parent=nvsim,mdev-type=nvsim-63", uri);
    dst = vm_start(NULL, 0, "", NULL, extra, false);
    dst->ngpus = 1;
    dst->gpu[0].id = "gpu0";
    uuid = qom_get_dev_str(dst->qts, "gpu0", "vgpu-uuid");
    g_assert_cmpstr(uuid, !=, ua);
    g_assert_cmpint(mdev_count(), ==, mdevs + 1);
    wait_migration_status(dst->qts, "completed");
    qtest_qmp_assert_success(dst->qts, "{ 'execute': 'cont' }");
    assert_destination_matches(&modes, dst, before);
    vm_quit(dst);
    g_assert_true(mdev_wait_gone(uuid));
    unlink(file);
    rmdir(dir);
}

/* A destination of another vGPU type refuses before anything moves. */
static void test_refused_type(void)
{
    g_autofree char *ua = NULL, *ub = NULL;
    Pair p;

    if (nvsim_skip_test()) {
        return;
    }
    ua = mdev_with_plane("region");
    ub = nvsim_create(TYPE_2Q);
    pair_start(&p, &ua, &ub, 1);
    pair_expect_refusal(&p, ub,
                        "nv-vgpu gpu0: refusing the incoming vGPU state: "
                        "vGPU type: the source has nvsim-63 (GRID P4-1Q), "
                        "this vGPU nvsim-65 (GRID P4-2Q)",
                        "after a refused migration");
    nvsim_remove(ua);
    nvsim_remove(ub);
}

/*
 * A destination whose host driver is of another branch refuses; nvsim2
 * is a second simulated GPU with another driver version, there when
 * nvsim is loaded with parent2_driver_version (make check does that).
 */
static void test_refused_branch(void)
{
    const char *create = "/sys/class/mdev_bus/nvsim2/mdev_supported_types/"
                         TYPE_1Q "/create";
    g_autofree char *ua = g_uuid_string_random();
    g_autofree char *ub = NULL, *want = NULL, *version = NULL;
    Pair p;

    if (nvsim_skip_test()) {
        return;
    }
    if (!g_file_test(create, G_FILE_TEST_EXISTS)) {
        g_test_skip("needs nvsim loaded with parent2_driver_version");
        return;
    }
    g_assert_true(g_file_get_contents("/sys/class/mdev_bus/nvsim2/"
                                      "driver_version", &version, NULL,
                                      NULL));
    g_strchomp(version);
    sysfs_write(create, ua);
    ub = nvsim_create(TYPE_1Q);
    pair_start(&p, &ua, &ub, 1);
    want = g_strdup_printf("host driver branch: the source runs nvsim %s",
                           version);
    pair_expect_refusal(&p, ub, want, "after a refused migration");
    nvsim_remove(ua);
    nvsim_remove(ub);
}

/* Ask the destination before migrating: vgpu-check-descriptor */
static QDict *check_descriptor(QTestState *qts, QDict *desc,
                               const char *key, QObject *value)
{
    QDict *copy = qdict_clone_shallow(desc);
    QDict *rsp;
    QDict *ret;

    if (key) {
        qdict_put_obj(copy, key, value);
    }
    rsp = qtest_qmp(qts, "{ 'execute': 'vgpu-check-descriptor', "
                    "'arguments': { 'id': 'gpu0', 'descriptor': %p } }",
                    QOBJECT(copy));
    ret = qobject_ref(qdict_get_qdict(rsp, "return"));
    qobject_unref(rsp);
    return ret;
}

static void assert_check(QTestState *qts, QDict *desc, const char *key,
                         QObject *value, const char *field,
                         const char *reason)
{
    QDict *ret = check_descriptor(qts, desc, key, value);

    if (!field) {
        g_assert_true(qdict_get_bool(ret, "compatible"));
    } else {
        g_assert_false(qdict_get_bool(ret, "compatible"));
        g_assert_cmpstr(qdict_get_str(ret, "field"), ==, field);
        if (!strstr(qdict_get_str(ret, "reason"), reason)) {
            g_error("reason '%s' lacks '%s'", qdict_get_str(ret, "reason"),
                    reason);
        }
    }
    qobject_unref(ret);
}

static void test_ask_first(void)
{
    g_autofree char *ua = NULL, *ub = NULL, *uc = NULL;
    QDict *rsp, *desc;
    Vm *src, *dst, *any;

    if (nvsim_skip_test()) {
        return;
    }
    ua = nvsim_create(TYPE_1Q);
    ub = nvsim_create(TYPE_1Q);
    uc = nvsim_create(TYPE_1Q);
    src = vm_start(&ua, 1, "xres=1920,yres=1080", NULL, NULL, false);
    dst = vm_start(&ub, 1, "", NULL, "-incoming defer", false);
    any = vm_start(&uc, 1, "migration-driver-match=any", NULL,
                   "-incoming defer", false);

    rsp = qtest_qmp(src->qts, "{ 'execute': 'query-vgpu-descriptor', "
                    "'arguments': { 'id': 'gpu0' } }");
    desc = qobject_ref(qdict_get_qdict(rsp, "return"));
    qobject_unref(rsp);
    g_assert_cmpint(qdict_get_int(desc, "format"), ==, 1);
    g_assert_cmpstr(qdict_get_str(desc, "type"), ==, "nvsim-63");
    g_assert_cmpstr(qdict_get_str(desc, "profile"), ==, "GRID P4-1Q");
    g_assert_cmpint(qdict_get_int(desc, "framebuffer"), ==, GiB);
    g_assert_cmpint(qdict_get_int(desc, "heads"), ==, 4);
    g_assert_cmpstr(qdict_get_str(desc, "max-resolution"), ==, "5120x2880");
    g_assert_cmpstr(qdict_get_str(desc, "device-api"), ==, "vfio-pci");
    g_assert_cmpstr(qdict_get_str(desc, "driver"), ==, "nvsim");
    g_assert_cmpstr(qdict_get_str(desc, "driver-version"), ==, "550.127.05");
    g_assert_cmpstr(qdict_get_str(desc, "guest-resolution"), ==, "1920x1080");

    assert_check(dst->qts, desc, NULL, NULL, NULL, NULL);
    assert_check(dst->qts, desc, "type", QOBJECT(qstring_from_str("nvsim-65")),
                 "type", "vGPU type: the source has nvsim-65");
    assert_check(dst->qts, desc, "framebuffer", QOBJECT(qnum_from_int(GiB * 2)),
                 "framebuffer", "the source has 2147483648, this vGPU "
                 "1073741824");
    assert_check(dst->qts, desc, "driver-version",
                 QOBJECT(qstring_from_str("535.54.03")), "driver-version",
                 "the source runs nvsim 535.54.03 (branch 535), this host "
                 "nvsim 550.127.05 (branch 550)");
    assert_check(dst->qts, desc, "driver-version",
                 QOBJECT(qstring_from_str("550.100.01")), NULL, NULL);
    assert_check(dst->qts, desc, "driver", QOBJECT(qstring_from_str("nvidia")),
                 "driver", "host driver: the source has 'nvidia'");
    assert_check(dst->qts, desc, "format", QOBJECT(qnum_from_int(2)),
                 "format", "the source sends 2, this QEMU understands up "
                 "to 1");
    /* a member from a newer nv-vgpu of the same format: ignored */
    assert_check(dst->qts, desc, "future-member",
                 QOBJECT(qstring_from_str("x")), NULL, NULL);
    assert_check(dst->qts, desc, "guest-resolution",
                 QOBJECT(qstring_from_str("9000x9000")), "guest-resolution",
                 "the source showed '9000x9000'");
    /* a destination that allows any driver version */
    assert_check(any->qts, desc, "driver-version",
                 QOBJECT(qstring_from_str("535.54.03")), NULL, NULL);
    assert_check(any->qts, desc, "type", QOBJECT(qstring_from_str("nvsim-65")),
                 "type", "vGPU type");

    qobject_unref(desc);
    vm_quit(src);
    vm_quit(dst);
    vm_quit(any);
    nvsim_remove(ua);
    nvsim_remove(ub);
    nvsim_remove(uc);
}

/* Hold a migration in pre-copy; check its progress is visible. */
static void hold_in_precopy(Vm *src, const char *uri)
{
    uint64_t pending = 0;
    int i;

    set_caps(src->qts);
    vm_migrate(src->qts, uri, 256 * KiB);
    for (i = 0; i < 600; i++) {
        g_autofree char *state = vgpu_state(src->qts, 0, &pending);

        if (!strcmp(state, "pre-copy") && pending) {
            return;
        }
        g_usleep(20 * 1000);
    }
    g_error("the vGPU did not show pre-copy with bytes pending");
}

/* migrate_cancel during pre-copy leaves the source as it was. */
static void test_cancel(void)
{
    g_autofree char *ua = NULL, *ub = NULL;
    Pair p;

    if (nvsim_skip_test()) {
        return;
    }
    ua = mdev_with_plane("region");
    ub = mdev_with_plane("region");
    pair_start(&p, &ua, &ub, 1);
    hold_in_precopy(p.src, p.uri);
    qtest_qmp_assert_success(p.src->qts, "{ 'execute': 'migrate_cancel' }");
    pair_expect_failure(&p, false, "cancelled",
                        "load of migration failed", "",
                        "after migrate_cancel");
    nvsim_remove(ua);
    nvsim_remove(ub);
}

/*
 * The destination, a vGPU that it created, is killed mid-stream: the
 * source runs on and the destination's vGPU goes away.
 */
static void test_dest_killed(void)
{
    g_autofree char *ua = NULL, *uri = NULL, *status = NULL;
    g_autofree char *incoming = NULL;
    const char *argv[] = {
        g_getenv("QTEST_QEMU_BINARY"), "-machine", "q35", "-accel", "qtest",
        "-nodefaults", "-display", "none", "-monitor", "none",
        "-device", "nv-vgpu,id=gpu0,addr=04.0,parent=nvsim,"
        "mdev-type=nvsim-63", "-incoming", NULL, NULL
    };
    GpuSnapshot before[1];
    int mdevs, i, wstatus;
    GPid pid;
    Vm *src;

    if (nvsim_skip_test()) {
        return;
    }
    ua = mdev_with_plane("region");
    src = source_start(&ua, 1, "");
    snapshot(&src->gpu[0], &before[0]);
    mdevs = mdev_count();
    uri = g_strdup_printf("unix:%s/m.sock", src->dir);
    argv[G_N_ELEMENTS(argv) - 2] = uri;
    g_assert_true(g_spawn_async(NULL, (char **)argv, NULL,
                                G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &pid,
                                NULL));
    for (i = 0; i < 500 && mdev_count() != mdevs + 1; i++) {
        g_usleep(10 * 1000);
    }
    g_assert_cmpint(mdev_count(), ==, mdevs + 1);
    for (i = 0; i < 500; i++) {
        g_autofree char *sock = g_strdup(uri + strlen("unix:"));

        if (g_file_test(sock, G_FILE_TEST_EXISTS)) {
            break;
        }
        g_usleep(10 * 1000);
    }
    hold_in_precopy(src, uri);
    kill(pid, SIGKILL);
    g_assert_cmpint(waitpid(pid, &wstatus, 0), ==, pid);
    g_spawn_close_pid(pid);
    status = wait_migration_end(src->qts);
    g_assert_cmpstr(status, ==, "failed");
    assert_source_intact(src, before, "after the destination died");
    /* the killed QEMU's vGPU is removed all the same */
    for (i = 0; i < 1000 && mdev_count() != mdevs; i++) {
        g_usleep(10 * 1000);
    }
    g_assert_cmpint(mdev_count(), ==, mdevs);

    vm_quit(src);
    nvsim_remove(ua);
}

/* The host driver fails a migration step, on the source or the destination */
typedef struct DriverFault {
    const char *step;           /* nvsim/mig_fail value */
    bool on_dest;
    bool multifd;
    const char *dst_says;       /* on the destination's stderr */
    const char *src_says;       /* in the source's query-migrate */
} DriverFault;

static void test_driver_fails(const void *opaque)
{
    const DriverFault *fault = opaque;
    g_autofree char *ua = NULL, *ub = NULL, *left = NULL;
    Pair p;

    if (nvsim_skip_test()) {
        return;
    }
    ua = mdev_with_plane("region");
    ub = mdev_with_plane("region");
    pair_start_multifd(&p, &ua, &ub, 1, fault->multifd);
    mdev_attr_write(fault->on_dest ? ub : ua, "nvsim/mig_fail", fault->step);
    pair_expect_failure(&p, true, "failed", fault->dst_says,
                        fault->src_says, fault->step);
    /* the failure was the injected one: nvsim consumed it */
    left = mdev_attr_read(fault->on_dest ? ub : ua, "nvsim/mig_fail");
    g_assert_cmpstr(left, ==, "none");
    nvsim_remove(ua);
    nvsim_remove(ub);
}

/* Save to @file from a source VM; returns the source's snapshot */
static void save_to_file(const char *file, GpuSnapshot *before, Gpu *modes)
{
    g_autofree char *ua = mdev_with_plane("region");
    g_autofree char *uri = g_strdup_printf("file:%s", file);
    Vm *src = source_start(&ua, 1, "");

    snapshot(&src->gpu[0], before);
    *modes = src->gpu[0];
    save_and_quit(src, uri, ua);
}

/*
 * Restoring @file must fail, saying @want, and leave no mdev behind.  The
 * destination may die before a QMP client could greet it: run it bare.
 */
static void restore_fails_on(const char *file, const char *dev,
                             const char *want)
{
    g_autofree char *incoming = g_strdup_printf("file:%s", file);
    const char *argv[] = {
        "timeout", "-s", "KILL", "60", g_getenv("QTEST_QEMU_BINARY"),
        "-machine", "q35", "-accel", "qtest", "-nodefaults", "-display",
        "none", "-monitor", "none", "-device", dev, "-incoming", incoming,
        NULL
    };
    g_autofree char *err = NULL;
    int mdevs = mdev_count(), i, status;

    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL,
                               G_SPAWN_SEARCH_PATH |
                               G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
                               &err, &status, NULL));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 1 ||
        !strstr(err, want)) {
        g_error("restoring %s: status 0x%x, wanted exit 1 saying '%s':\n%s",
                file, status, want, err);
    }
    for (i = 0; i < 1000 && mdev_count() != mdevs; i++) {
        g_usleep(10 * 1000);
    }
    g_assert_cmpint(mdev_count(), ==, mdevs);
}

static void assert_restore_fails(const char *file, const char *want)
{
    restore_fails_on(file, "nv-vgpu,id=gpu0,addr=04.0,parent=nvsim,"
                     "mdev-type=nvsim-63", want);
}

/*
 * The boot display (ramfb=on) is saved and restored with the VM: the
 * firmware's picture shows on the destination, and a destination
 * without a boot display refuses the state before any of it loads.
 */
static void test_ramfb(void)
{
    g_autofree char *ua = NULL, *uri = NULL, *file = NULL;
    g_autofree char *extra = NULL;
    g_autofree char *dir = g_dir_make_tmp("nv-vgpu-ramfb-XXXXXX", NULL);
    Ramfb r = { .fb = RAMFB_FB, .width = 800, .height = 600 };
    QDict *rsp;
    Vm *src, *dst;

    if (nvsim_skip_test()) {
        return;
    }
    ua = mdev_with_plane("region");
    src = vm_start(&ua, 1, "ramfb=on", NULL, NULL, true);
    ramfb_draw(src->qts, &r, 81);
    ramfb_config(src->qts, r.fb, FMT_XRGB8888, r.width, r.height, 0);
    assert_ramfb_screendump(src, &src->gpu[0], &r);
    rsp = qtest_qmp(src->qts, "{ 'execute': 'query-vgpu-descriptor', "
                    "'arguments': { 'id': 'gpu0' } }");
    g_assert_true(qdict_get_bool(qdict_get_qdict(rsp, "return"),
                                 "boot-display"));
    qobject_unref(rsp);

    file = g_strdup_printf("%s/vm.state", dir);
    uri = g_strdup_printf("file:%s", file);
    save_and_quit(src, uri, ua);

    restore_fails_on(file, "nv-vgpu,id=gpu0,addr=04.0,parent=nvsim,"
                     "mdev-type=nvsim-63",
                     "nv-vgpu gpu0: refusing the incoming vGPU state: boot "
                     "display: the source has ramfb=on, this vGPU "
                     "ramfb=off; start the destination with ramfb=on");

    extra = g_strdup_printf("-incoming %s -device nv-vgpu,id=gpu0,addr=04.0,"
                            "parent=nvsim,mdev-type=nvsim-63,ramfb=on", uri);
    dst = vm_start(NULL, 0, "", NULL, extra, false);
    dst->ngpus = 1;
    dst->gpu[0].id = "gpu0";
    wait_migration_status(dst->qts, "completed");
    qtest_qmp_assert_success(dst->qts, "{ 'execute': 'cont' }");
    assert_ramfb_screendump(dst, &dst->gpu[0], &r);
    vm_quit(dst);
    unlink(file);
    rmdir(dir);
}

/* Find @what in @buf, which must hold it */
static size_t find_bytes(const char *buf, size_t len, const char *what)
{
    const char *p = memmem(buf, len, what, strlen(what));

    g_assert_nonnull(p);
    return p - buf;
}

/* A truncated file and files with flipped bytes do not restore. */
static void test_bad_files(void)
{
    g_autofree char *dir = g_dir_make_tmp("nv-vgpu-bad-XXXXXX", NULL);
    g_autofree char *file = g_strdup_printf("%s/vm.state", dir);
    g_autofree char *bad = g_strdup_printf("%s/bad.state", dir);
    g_autofree char *data = NULL;
    GpuSnapshot before;
    Gpu modes;
    size_t len, at;

    if (nvsim_skip_test()) {
        return;
    }
    save_to_file(file, &before, &modes);
    g_free(before.fb);
    g_assert_true(g_file_get_contents(file, &data, &len, NULL));

    /* cut inside the vGPU's own state */
    at = find_bytes(data, len, "NVSIMMIG");
    g_assert_true(g_file_set_contents(bad, data, at + 5000, NULL));
    assert_restore_fails(bad, "load of migration failed");

    /* a flipped byte in a framebuffer page: the driver's CRC catches it */
    data[at + 64 + 24 + 100] ^= 0x40;
    g_assert_true(g_file_set_contents(bad, data, len, NULL));
    assert_restore_fails(bad, "load of migration failed");
    data[at + 64 + 24 + 100] ^= 0x40;

    /* a flipped byte in nv-vgpu's descriptor */
    at = find_bytes(data, len, "\"type\": \"nvsim-63\"");
    data[at + strlen("\"type\": \"nvsim-6")] = '9';
    g_assert_true(g_file_set_contents(bad, data, len, NULL));
    assert_restore_fails(bad, "vGPU type: the source has nvsim-69");

    unlink(bad);
    unlink(file);
    rmdir(dir);
}

/* query-vgpus' migration member of vGPU 0 (a new reference) */
static QDict *vgpu_migration(QTestState *qts)
{
    QDict *rsp = qtest_qmp(qts, "{ 'execute': 'query-vgpus' }");
    QDict *vgpu = qobject_to(QDict, qlist_peek(qdict_get_qlist(rsp,
                                                                "return")));
    QDict *mig;

    g_assert_nonnull(vgpu);
    mig = qobject_ref(qdict_get_qdict(vgpu, "migration"));
    qobject_unref(rsp);
    return mig;
}

static uint64_t vfio_transferred(QTestState *qts)
{
    g_autoptr(QDict) mig = vgpu_migration(qts);

    return qdict_get_int(mig, "vfio-transferred");
}

/*
 * Multifd with most of the vGPU's state in stop-copy: the guest rewrites
 * 16 MiB of its framebuffer while the migration runs, and once more as
 * the VM stops, so that what it wrote last moves over the multifd
 * channels, in VFIO's load thread on the destination, while the main
 * stream, nv-vgpu's own state included, may be loaded already.  The
 * source pauses before the switchover (pause-before-switchover): the VM
 * is stopped then, but its vGPU state not yet read, so the last rewrite
 * is known to move in stop-copy.
 */
static void test_multifd_stop_copy(void)
{
    const uint64_t area = 16 * MiB, at = 16 * MiB;
    g_autofree char *ua = NULL, *ub = NULL, *status = NULL;
    g_autofree uint8_t *buf = NULL;
    uint64_t sent_live, sent_stopped, pending = 0, off;
    uint8_t last = 0;
    size_t i;
    int polls;
    Pair p;

    if (nvsim_skip_test()) {
        return;
    }
    ua = mdev_with_plane("region");
    ub = mdev_with_plane("region");
    pair_start_multifd(&p, &ua, &ub, 1, true);
    qtest_qmp_assert_success(p.src->qts, "{ 'execute': "
        "'migrate-set-capabilities', 'arguments': { 'capabilities': ["
        "   { 'capability': 'pause-before-switchover', 'state': true } ] } }");
    vm_migrate(p.src->qts, p.uri, 0);
    for (polls = 0; ; polls++) {
        g_free(status);
        status = migration_status(p.src->qts);
        if (!strcmp(status, "pre-switchover")) {
            break;
        }
        g_assert_cmpstr(status, !=, "failed");
        if (polls == 6000) {
            g_autofree char *state = vgpu_state(p.src->qts, 0, &pending);

            g_error("no switchover in 60 s: migration %s, vGPU %s with %"
                    PRIu64 " bytes pending", status, state, pending);
        }
        /* a few rewrites while it runs: no need to converge on them */
        if (last < 3) {
            qtest_memset(p.src->qts, p.src->gpu[0].fb + at, ++last, area);
        } else {
            g_usleep(10 * 1000);
        }
    }
    sent_live = vfio_transferred(p.src->qts);
    qtest_memset(p.src->qts, p.src->gpu[0].fb + at, ++last, area);
    qtest_qmp_assert_success(p.src->qts, "{ 'execute': 'migrate-continue', "
                             "'arguments': { 'state': 'pre-switchover' } }");
    g_free(status);
    status = wait_migration_end(p.src->qts);
    g_assert_cmpstr(status, ==, "completed");
    sent_stopped = vfio_transferred(p.src->qts) - sent_live;
    g_test_message("%d rewrites while running; vGPU state: %" PRIu64
                   " bytes before the VM stopped, %" PRIu64 " after",
                   last - 1, sent_live, sent_stopped);
    g_assert_cmpuint(sent_stopped, >=, area);

    assert_destination_matches(p.src->gpu, p.dst, p.before);
    /* a page in every 64 (reading all 16 MiB takes minutes under TCG) */
    buf = g_malloc(4 * KiB);
    for (off = 0; off < area; off += 64 * 4 * KiB) {
        uint64_t page = off + (off / (64 * 4 * KiB)) % 64 * 4 * KiB;

        qtest_memread(p.dst->qts, p.dst->gpu[0].fb + at + page, buf,
                      4 * KiB);
        for (i = 0; i < 4 * KiB; i++) {
            if (buf[i] != last) {
                g_error("destination framebuffer byte 0x%" PRIx64 " is "
                        "0x%02x, the guest wrote 0x%02x last",
                        at + page + i, buf[i], last);
            }
        }
    }
    assert_multifd_used(p.dst, 1);

    vm_quit(p.src);
    vm_quit(p.dst);
    g_free(p.uri);
    nvsim_remove(ua);
    nvsim_remove(ub);
}

/*
 * A vGPU whose host driver has no VFIO migration (nvsim/migration=0)
 * runs, with its console, and its migration is refused with the reason
 * that query-vgpus shows; enable-migration=on makes it an error.
 */
static void test_no_vfio_migration(void)
{
    const char *want = "the vGPU's host driver offers no VFIO migration "
                       "(VFIO_DEVICE_FEATURE_MIGRATION: Inappropriate "
                       "ioctl for device)";
    g_autofree char *ua = NULL, *dev = NULL, *err = NULL;
    g_autofree char *uri = NULL;
    g_autoptr(QDict) mig = NULL;
    QDict *rsp;
    const char *argv[] = {
        "timeout", "-s", "KILL", "60", g_getenv("QTEST_QEMU_BINARY"),
        "-machine", "q35", "-accel", "qtest", "-nodefaults", "-display",
        "none", "-monitor", "none", "-device", NULL, NULL
    };
    int status;
    Vm *vm;

    if (nvsim_skip_test()) {
        return;
    }
    ua = mdev_with_plane("region");
    mdev_attr_write(ua, "nvsim/migration", "0");
    vm = source_start(&ua, 1, "");
    assert_screendump(vm, &vm->gpu[0]);
    mig = vgpu_migration(vm->qts);
    g_assert_false(qdict_haskey(mig, "state"));
    if (!strstr(qdict_get_try_str(mig, "blocker") ?: "", want)) {
        g_error("query-vgpus blocker '%s' lacks '%s'",
                qdict_get_try_str(mig, "blocker"), want);
    }
    uri = g_strdup_printf("file:%s/vm.state", vm->dir);
    rsp = qtest_qmp(vm->qts, "{ 'execute': 'migrate', 'arguments': "
                    "{ 'uri': %s } }", uri);
    g_assert_true(qdict_haskey(rsp, "error"));
    if (!strstr(qdict_get_str(qdict_get_qdict(rsp, "error"), "desc"),
                want)) {
        g_error("migrate refused with '%s', not saying '%s'",
                qdict_get_str(qdict_get_qdict(rsp, "error"), "desc"), want);
    }
    qobject_unref(rsp);
    assert_running(vm->qts);
    vm_quit(vm);

    dev = g_strdup_printf("nv-vgpu,id=gpu0,addr=04.0,sysfsdev="
                          MDEV_DEVICES "/%s,enable-migration=on", ua);
    argv[G_N_ELEMENTS(argv) - 2] = dev;
    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL,
                               G_SPAWN_SEARCH_PATH |
                               G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
                               &err, &status, NULL));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 1 ||
        !strstr(err, "enable-migration=on, but the host driver of vGPU") ||
        !strstr(err, "offers no VFIO migration (Inappropriate ioctl for "
                "device)")) {
        g_error("enable-migration=on on a vGPU without migration: status "
                "0x%x:\n%s", status, err);
    }
    mdev_attr_write(ua, "nvsim/migration", "1");
    nvsim_remove(ua);
}

/*
 * A source without nv-vgpu's descriptor (plain vfio-pci here; an nv-vgpu
 * from before the descriptor alike) migrates to an nv-vgpu destination
 * with switchover-ack: it must not wait for a descriptor that never comes.
 */
static void test_plain_vfio_source(void)
{
    g_autofree char *ua = NULL, *ub = NULL, *extra = NULL, *uri = NULL;
    g_autofree char *status = NULL;
    GpuSnapshot before[1];
    Vm *src, *dst;

    if (nvsim_skip_test()) {
        return;
    }
    ua = mdev_with_plane("region");
    ub = mdev_with_plane("region");
    extra = g_strdup_printf("-device vfio-pci,id=gpu0,addr=04.0,sysfsdev="
                            MDEV_DEVICES "/%s,enable-migration=on,"
                            "x-device-dirty-page-tracking=off", ua);
    src = vm_start(NULL, 0, "", NULL, extra, false);
    src->ngpus = 1;
    src->gpu[0].id = "gpu0";
    vm_attach(src);
    gpu_set_mode(&src->gpu[0], 800, 600, FMT_XRGB8888, 0, 0);
    gpu_draw(&src->gpu[0], 77);
    qpci_io_writel(src->gpu[0].dev, src->gpu[0].bar0, REG_SCRATCH,
                   0x5c0000aa);
    snapshot(&src->gpu[0], &before[0]);
    dst = vm_start(&ub, 1, "", NULL, "-incoming defer", false);
    uri = sock_uri(dst);
    set_caps(src->qts);
    set_caps(dst->qts);
    qtest_qmp_assert_success(dst->qts, "{ 'execute': 'migrate-incoming', "
                             "'arguments': { 'uri': %s } }", uri);
    vm_migrate(src->qts, uri, 0);
    status = wait_migration_end(src->qts);
    g_assert_cmpstr(status, ==, "completed");
    assert_destination_matches(src->gpu, dst, before);

    vm_quit(src);
    vm_quit(dst);
    nvsim_remove(ua);
    nvsim_remove(ub);
}

/*
 * The saved stream @data with its descriptor JSON edited: @insert added
 * as its first members, and its format (1) replaced by @format
 */
static GString *edit_descriptor(const char *data, size_t len,
                                const char *insert, int format)
{
    size_t at = find_bytes(data, len, "NVGD");
    uint32_t json_len = ldl_be_p(data + at + 4);
    g_autofree char *json = g_strndup(data + at + 8, json_len);
    g_autofree char *fmt = g_strdup_printf("\"format\": %d", format);
    g_autoptr(GString) edited = g_string_new(json);
    GString *out = g_string_new_len(data, at + 4);
    const char *f = strstr(json, "\"format\": 1");
    uint8_t be[4];

    g_assert_cmpint(json[0], ==, '{');
    g_assert_nonnull(f);
    g_string_erase(edited, f - json, strlen("\"format\": 1"));
    g_string_insert(edited, f - json, fmt);
    g_string_insert(edited, 1, insert);
    stl_be_p(be, edited->len);
    g_string_append_len(out, (const char *)be, 4);
    g_string_append_len(out, edited->str, edited->len);
    g_string_append_len(out, data + at + 8 + json_len,
                        len - at - 8 - json_len);
    return out;
}

/*
 * A newer source's descriptor: a member this QEMU does not know is
 * ignored; a newer format is refused as such, not as malformed.
 */
static void test_newer_descriptor(void)
{
    g_autofree char *dir = g_dir_make_tmp("nv-vgpu-newer-XXXXXX", NULL);
    g_autofree char *file = g_strdup_printf("%s/vm.state", dir);
    g_autofree char *newer = g_strdup_printf("%s/newer.state", dir);
    g_autofree char *data = NULL, *uri = NULL, *extra = NULL;
    g_autoptr(GString) edited = NULL;
    GpuSnapshot before;
    Gpu modes;
    size_t len;
    Vm *dst;

    if (nvsim_skip_test()) {
        return;
    }
    save_to_file(file, &before, &modes);
    g_assert_true(g_file_get_contents(file, &data, &len, NULL));

    /* format 1 with a member from the future: restores */
    edited = edit_descriptor(data, len, "\"future-member\": {\"kind\": "
                             "[1, 2]}, ", 1);
    g_assert_true(g_file_set_contents(newer, edited->str, edited->len,
                                      NULL));
    uri = g_strdup_printf("file:%s", newer);
    extra = g_strdup_printf("-incoming %s -device nv-vgpu,id=gpu0,"
                            "addr=04.0,parent=nvsim,mdev-type=nvsim-63",
                            uri);
    dst = vm_start(NULL, 0, "", NULL, extra, false);
    dst->ngpus = 1;
    dst->gpu[0].id = "gpu0";
    wait_migration_status(dst->qts, "completed");
    qtest_qmp_assert_success(dst->qts, "{ 'execute': 'cont' }");
    assert_destination_matches(&modes, dst, &before);
    vm_quit(dst);

    /* format 2: refused, saying so */
    g_string_free(edited, true);
    edited = edit_descriptor(data, len, "\"future-member\": 1, ", 2);
    g_assert_true(g_file_set_contents(newer, edited->str, edited->len,
                                      NULL));
    assert_restore_fails(newer, "refusing the incoming vGPU state: "
                         "descriptor format: the source sends 2, this QEMU "
                         "understands up to 1");

    unlink(newer);
    unlink(file);
    rmdir(dir);
}

/* Copy mdev @uuid's sysfs directory into @dir as symlinks */
static void fake_mdev_dir(const char *uuid, const char *dir)
{
    g_autofree char *real = NULL, *path = NULL;
    g_autoptr(GDir) d = NULL;
    const char *name;

    path = g_strdup_printf(MDEV_DEVICES "/%s", uuid);
    real = realpath(path, NULL);
    g_assert_nonnull(real);
    g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
    d = g_dir_open(real, 0, NULL);
    while ((name = g_dir_read_name(d))) {
        g_autofree char *from = g_build_filename(real, name, NULL);
        g_autofree char *to = g_build_filename(dir, name, NULL);
        g_autofree char *target = realpath(from, NULL);

        /* links by their final target: their names are read */
        g_assert_cmpint(symlink(target ? target : from, to), ==, 0);
    }
}

/*
 * A host whose driver reports a version too long for the descriptor
 * (sysfs strings can be a page): migration fails with a message, the
 * source runs on.  The vGPU is a real nvsim mdev seen through a copy of
 * its sysfs directory whose parent has such a driver_version.
 */
static void test_long_driver_version(void)
{
    g_autofree char *root = g_dir_make_tmp("nv-vgpu-long-XXXXXX", NULL);
    g_autofree char *parent = g_build_filename(root, "gpu", NULL);
    g_autofree char *ua = NULL, *mdev = NULL, *extra = NULL;
    g_autofree char *version = NULL, *vpath = NULL, *dlink = NULL;
    g_autofree char *uri = NULL, *status = NULL, *err = NULL;
    GpuSnapshot before[1];
    QDict *rsp;
    Vm *src;

    if (nvsim_skip_test()) {
        return;
    }
    ua = mdev_with_plane("region");
    mdev = g_build_filename(parent, ua, NULL);
    fake_mdev_dir(ua, mdev);
    version = g_strnfill(4000, '7');
    memcpy(version, "550.", 4);
    vpath = g_build_filename(parent, "driver_version", NULL);
    g_assert_true(g_file_set_contents(vpath, version, -1, NULL));
    dlink = g_build_filename(parent, "driver", NULL);
    g_assert_cmpint(symlink("/sys/bus/mdev/drivers/nvsim", dlink), ==, 0);

    extra = g_strdup_printf("-device nv-vgpu,id=gpu0,addr=04.0,"
                            "sysfsdev=%s", mdev);
    src = vm_start(NULL, 0, "", NULL, extra, false);
    src->ngpus = 1;
    src->gpu[0].id = "gpu0";
    vm_attach(src);
    gpu_set_mode(&src->gpu[0], 640, 480, FMT_XRGB8888, 0, 0);
    gpu_draw(&src->gpu[0], 5);
    snapshot(&src->gpu[0], &before[0]);
    rsp = qtest_qmp(src->qts, "{ 'execute': 'query-vgpu-descriptor', "
                    "'arguments': { 'id': 'gpu0' } }");
    g_assert_cmpstr(qdict_get_str(qdict_get_qdict(rsp, "return"),
                                  "driver-version"), ==, version);
    qobject_unref(rsp);

    uri = g_strdup_printf("file:%s/vm.state", root);
    qtest_qmp_assert_success(src->qts, "{ 'execute': 'migrate', "
                             "'arguments': { 'uri': %s } }", uri);
    status = wait_migration_end(src->qts);
    g_assert_cmpstr(status, ==, "failed");
    rsp = qtest_qmp(src->qts, "{ 'execute': 'query-migrate' }");
    err = g_strdup(qdict_get_try_str(qdict_get_qdict(rsp, "return"),
                                     "error-desc"));
    qobject_unref(rsp);
    if (!err || !strstr(err, "nv-vgpu gpu0: cannot migrate: its "
                        "descriptor takes") ||
        !strstr(err, "a 4000-byte driver version")) {
        g_error("migration error '%s' does not explain", err);
    }
    assert_running(src->qts);
    assert_vgpu_state(src->qts, 0, "running");
    assert_unchanged(&src->gpu[0], &before[0], "after the refused save");
    vm_quit(src);

    unlink(vpath);
    unlink(dlink);
    {
        g_autoptr(GDir) d = g_dir_open(mdev, 0, NULL);
        const char *name;

        while ((name = g_dir_read_name(d))) {
            g_autofree char *link = g_build_filename(mdev, name, NULL);

            unlink(link);
        }
    }
    rmdir(mdev);
    rmdir(parent);
    g_free(uri);
    uri = g_strdup_printf("%s/vm.state", root);
    unlink(uri);
    rmdir(root);
    nvsim_remove(ua);
}

int main(int argc, char **argv)
{
    /*
     * Not stop_copy on the source: when entering STOP_COPY fails as the
     * VM stops, vfio-pci resets the device (see the documentation).
     */
    static const DriverFault faults[] = {
        { "pre_copy", false, false, "load of migration failed",
          "Failed setting device state to PRE_COPY" },
        { "read", false, false, "load of migration failed",
          "Input/output error" },
        { "resuming", true, false,
          "Failed setting device state to RESUMING", "" },
        { "write", true, false, "load of migration failed: Input/output error",
          "Sibling indicated error" },
        { "resume_end", true, false,
          "the host driver refused the incoming vGPU state: ",
          "Sibling indicated error" },
        /* multifd: the end of RESUMING, in VFIO's load thread */
        { "resume_end", true, true,
          "the host driver refused the incoming vGPU state: ",
          "Sibling indicated error" },
    };
    static const bool main_stream = false, multifd = true;
    int i;

    g_test_init(&argc, &argv, NULL);
    qtest_add_data_func("/nv-vgpu/migration/live", &main_stream, test_live);
    qtest_add_data_func("/nv-vgpu/migration/two-vgpus", &main_stream,
                        test_two_vgpus);
    qtest_add_data_func("/nv-vgpu/migration/multifd/live", &multifd,
                        test_live);
    qtest_add_data_func("/nv-vgpu/migration/multifd/two-vgpus", &multifd,
                        test_two_vgpus);
    qtest_add_func("/nv-vgpu/migration/multifd/stop-copy",
                   test_multifd_stop_copy);
    qtest_add_func("/nv-vgpu/migration/no-vfio-migration",
                   test_no_vfio_migration);
    qtest_add_func("/nv-vgpu/migration/plain-vfio-source",
                   test_plain_vfio_source);
    qtest_add_func("/nv-vgpu/migration/newer-descriptor",
                   test_newer_descriptor);
    qtest_add_func("/nv-vgpu/migration/long-driver-version",
                   test_long_driver_version);
    qtest_add_func("/nv-vgpu/migration/save-restore", test_save_restore);
    qtest_add_func("/nv-vgpu/migration/ramfb", test_ramfb);
    qtest_add_func("/nv-vgpu/migration/refused-type", test_refused_type);
    qtest_add_func("/nv-vgpu/migration/refused-branch", test_refused_branch);
    qtest_add_func("/nv-vgpu/migration/ask-first", test_ask_first);
    qtest_add_func("/nv-vgpu/migration/cancel", test_cancel);
    qtest_add_func("/nv-vgpu/migration/dest-killed", test_dest_killed);
    for (i = 0; i < G_N_ELEMENTS(faults); i++) {
        g_autofree char *path = g_strdup_printf(
            "/nv-vgpu/migration/%sdriver-fails/%s/%s",
            faults[i].multifd ? "multifd/" : "",
            faults[i].on_dest ? "destination" : "source", faults[i].step);

        qtest_add_data_func(path, &faults[i], test_driver_fails);
    }
    qtest_add_func("/nv-vgpu/migration/bad-files", test_bad_files);
    return g_test_run();
}
