/*
 * QTest for nv-vgpu's console: head 0 of the simulated vGPU (nvsim) as
 * screendump and a real VNC client see it, for region and dma-buf
 * planes, with bad planes (and how often they are warned about), several
 * vGPUs, the EDID the guest sees, the frame-rate cap, and vGPUs that
 * lack features (EDID, error irq) or put their plane past num_regions,
 * and the boot display (ramfb=on).  Runs in the test host
 * (tests/vgpu-host); skips where nvsim is not loaded.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "libqos/pci-pc.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "hw/pci/pci_regs.h"
#include "qemu/bswap.h"
#include "qemu/units.h"
#include "nvsim-vm.h"


/* ---------------------------------------------------------------------- */

/* query-vgpus' console-info of the first vGPU (a reference to drop) */
static QDict *console_info(Vm *vm)
{
    QDict *rsp = qtest_qmp(vm->qts, "{ 'execute': 'query-vgpus' }");
    QList *list = qdict_get_qlist(rsp, "return");
    QDict *info;

    g_assert_nonnull(list);
    info = qdict_get_qdict(qobject_to(QDict, qlist_peek(list)),
                           "console-info");
    qobject_ref(info);
    qobject_unref(rsp);
    return info;
}

/* VNC clients of the first vGPU's console, once it is @want (up to 5 s) */
static int64_t console_clients_wait(Vm *vm, int64_t want)
{
    int64_t n = -1;

    for (int i = 0; i < 500; i++) {
        QDict *info = console_info(vm);

        n = qdict_get_int(info, "clients");
        qobject_unref(info);
        if (n == want) {
            break;
        }
        g_usleep(10 * 1000);
    }
    return n;
}

/* dma-buf files QEMU has open ("fd") or mapped ("maps") */
static int count_dmabufs(pid_t pid, const char *what)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/%s", pid, what);
    int n = 0;

    if (!strcmp(what, "maps")) {
        g_autofree char *maps = NULL;
        char *p;

        g_assert_true(g_file_get_contents(path, &maps, NULL, NULL));
        for (p = maps; (p = strstr(p, "dmabuf")); p++) {
            n++;
        }
    } else {
        g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
        const char *name;

        g_assert_nonnull(dir);
        while ((name = g_dir_read_name(dir))) {
            g_autofree char *link = g_build_filename(path, name, NULL);
            g_autofree char *target = g_file_read_link(link, NULL);

            n += target && strstr(target, "dmabuf") != NULL;
        }
    }
    return n;
}

/*
 * Head 0 at two resolutions and three formats, with padded strides and a
 * scanout that moves within the framebuffer: screendump shows exactly
 * what the guest wrote, each time.
 */
static void test_modes(const void *opaque)
{
    const char *plane = opaque;
    g_autofree char *uuid = NULL;
    Gpu *g;
    Vm *vm;

    if (nvsim_skip_test()) {
        return;
    }
    uuid = mdev_with_plane(plane);
    vm = vm_start(&uuid, 1, "console-fps=30", NULL, NULL, true);
    g = &vm->gpu[0];

    gpu_set_mode(g, 640, 480, FMT_XRGB8888, 64, 0);
    gpu_draw(g, 1);
    assert_screendump(vm, g);

    /* a new picture in the same mode */
    gpu_draw(g, 2);
    assert_screendump(vm, g);

    /* mode change: larger, elsewhere in BAR1, another format */
    gpu_set_mode(g, 1280, 720, FMT_XBGR8888, 0, 16 * MiB);
    gpu_draw(g, 3);
    assert_screendump(vm, g);

    gpu_set_mode(g, 320, 200, FMT_RGB565, 32, 4 * MiB);
    gpu_draw(g, 4);
    assert_screendump(vm, g);

    /* back to the first buffer, which still holds picture 2 */
    gpu_set_mode(g, 640, 480, FMT_XRGB8888, 64, 0);
    g->seed = 2;
    assert_screendump(vm, g);
    g_assert_cmpuint(console_counter(g, "x-console-bad-frames"), ==, 0);

    /* four modes later, QEMU holds one dma-buf (or none) and one mapping */
    g_assert_cmpint(count_dmabufs(qtest_pid(vm->qts), "fd"), <=, 1);
    g_assert_cmpint(count_dmabufs(qtest_pid(vm->qts), "maps"), <=, 1);

    vm_quit(vm);
    nvsim_remove(uuid);
}

/*
 * Every bad plane the driver can be made to report: QEMU keeps running,
 * warns once per bad spell, keeps showing the last good frame and shows
 * the next good one.  (The rate limit is off here; see warn-alternating.)
 */
static void test_bad_planes(const void *opaque)
{
    const char *plane = opaque;
    static const struct {
        const char *fault;
        const char *why;
        bool dmabuf_only;
    } faults[] = {
        { "huge", "plane size 65536x65536 is outside", false },
        { "short_stride", "stride 1280 is below width 640 x 4", false },
        { "bad_format", "unsupported DRM format NV?? (0x3f3f564e)", false },
        { "small_dmabuf", "-byte buffer", true },
        { "bad_offset", "cannot get dma-buf", true },
    };
    bool dmabuf = !strcmp(plane, "dmabuf");
    g_autofree char *uuid = NULL;
    g_autofree char *err = NULL;
    uint64_t bad, warned = 0;
    const char *p;
    int i, j, seed = 10;
    Gpu *g;
    Vm *vm;

    if (nvsim_skip_test()) {
        return;
    }
    uuid = mdev_with_plane(plane);
    vm = vm_start(&uuid, 1, "console-fps=30,x-console-warn-interval-ms=0",
                  NULL, NULL, true);
    g = &vm->gpu[0];
    gpu_set_mode(g, 640, 480, FMT_XRGB8888, 0, 0);
    gpu_draw(g, seed);
    assert_screendump(vm, g);

    for (i = 0; i < G_N_ELEMENTS(faults); i++) {
        if (faults[i].dmabuf_only && !dmabuf) {
            continue;
        }
        bad = console_counter(g, "x-console-bad-frames");
        mdev_attr_write(uuid, "nvsim/plane_fault", faults[i].fault);
        /* several polls, one warning; the last good frame stays */
        for (j = 0; j < 3; j++) {
            assert_screendump(vm, g);
        }
        g_assert_cmpuint(console_counter(g, "x-console-bad-frames"), >=,
                         bad + 3);
        warned++;

        mdev_attr_write(uuid, "nvsim/plane_fault", "none");
        gpu_draw(g, ++seed);
        assert_screendump(vm, g);
    }

    err = vm_stderr(vm);
    for (i = 0, p = err; (p = strstr(p, "dropping frames")); i++, p++) {
        /* count */
    }
    if (i != warned) {
        g_error("%" PRIu64 " bad spells, %d warnings:\n%s", warned, i, err);
    }
    for (i = 0; i < G_N_ELEMENTS(faults); i++) {
        if ((!faults[i].dmabuf_only || dmabuf) &&
            !strstr(err, faults[i].why)) {
            g_error("no warning says '%s' for plane_fault=%s:\n%s",
                    faults[i].why, faults[i].fault, err);
        }
    }
    vm_quit(vm);
    nvsim_remove(uuid);
}

static int count_str(const char *haystack, const char *needle)
{
    const char *p;
    int n;

    for (n = 0, p = haystack; (p = strstr(p, needle)); n++, p++) {
        /* count */
    }
    return n;
}

/* Screendumps until the console has dropped one more frame */
static void screendump_until_bad(Vm *vm, Gpu *g)
{
    uint64_t bad = console_counter(g, "x-console-bad-frames");
    int i;

    for (i = 0; i < 500; i++) {
        g_free(screendump(vm, g));
        if (console_counter(g, "x-console-bad-frames") > bad) {
            return;
        }
    }
    g_error("no frame of %s was dropped in 500 screendumps", g->id);
}

/* Screendumps until the console has shown a good frame */
static void screendump_until_good(Vm *vm, Gpu *g)
{
    uint64_t polls = console_counter(g, "x-console-polls");
    uint64_t bad = console_counter(g, "x-console-bad-frames");
    int i;

    for (i = 0; i < 500; i++) {
        g_free(screendump(vm, g));
        if (console_counter(g, "x-console-polls") -
            (console_counter(g, "x-console-bad-frames") - bad) > polls) {
            return;
        }
    }
    g_error("no good frame of %s in 500 screendumps", g->id);
}

/*
 * A vGPU alternating good and bad planes: a bad spell every other frame,
 * but at most one warning every 5 s (the default), the picture kept.
 */
static void test_warn_alternating(void)
{
    const int spells = 12;
    g_autofree char *uuid = NULL;
    g_autofree char *err = NULL;
    uint64_t bad;
    gint64 start;
    double secs;
    int i, n;
    Gpu *g;
    Vm *vm;

    if (nvsim_skip_test()) {
        return;
    }
    uuid = mdev_with_plane("region");
    vm = vm_start(&uuid, 1, "console-fps=30", NULL, NULL, true);
    g = &vm->gpu[0];
    gpu_set_mode(g, 640, 480, FMT_XRGB8888, 0, 0);
    gpu_draw(g, 50);
    assert_screendump(vm, g);

    bad = console_counter(g, "x-console-bad-frames");
    start = g_get_monotonic_time();
    for (i = 0; i < spells; i++) {
        mdev_attr_write(uuid, "nvsim/plane_fault", "short_stride");
        screendump_until_bad(vm, g);
        mdev_attr_write(uuid, "nvsim/plane_fault", "none");
        screendump_until_good(vm, g);
    }
    secs = (g_get_monotonic_time() - start) / 1e6;
    g_assert_cmpuint(console_counter(g, "x-console-bad-frames") - bad, >=,
                     spells);
    assert_screendump(vm, g);

    err = vm_stderr(vm);
    n = count_str(err, "dropping frames");
    g_test_message("%d bad spells in %.1f s: %d warnings", spells, secs, n);
    if (n < 1 || n > 1 + (int)(secs / 5)) {
        g_error("%d bad spells in %.1f s gave %d warnings, want 1 to %d:\n%s",
                spells, secs, n, 1 + (int)(secs / 5), err);
    }
    /* a later warning counts the spells held back */
    if (n > 1 && !strstr(err, "earlier bad spells since the last warning")) {
        g_error("no count of the spells held back:\n%s", err);
    }
    vm_quit(vm);
    nvsim_remove(uuid);
}

/*
 * A transient error (the driver short of memory while it comes up), then
 * another one in the same bad spell: both are warned about, the second
 * once the rate limit lets it through.
 */
static void test_warn_reason_change(void)
{
    g_autofree char *uuid = NULL;
    g_autofree char *err = NULL;
    g_autofree char *fault = NULL;
    g_autofree char *path = NULL;
    gint64 deadline;
    Gpu *g;
    Vm *vm;

    if (nvsim_skip_test()) {
        return;
    }
    uuid = mdev_with_plane("region");
    vm = vm_start(&uuid, 1, "console-fps=30", NULL, NULL, true);
    g = &vm->gpu[0];
    gpu_set_mode(g, 640, 480, FMT_XRGB8888, 0, 0);
    gpu_draw(g, 51);
    assert_screendump(vm, g);

    mdev_attr_write(uuid, "nvsim/plane_fault", "enomem_once");
    screendump_until_bad(vm, g);
    path = g_strdup_printf(MDEV_DEVICES "/%s/nvsim/plane_fault", uuid);
    g_assert_true(g_file_get_contents(path, &fault, NULL, NULL));
    g_assert_cmpstr(g_strchomp(fault), ==, "none");

    /* no good frame in between: the same bad spell */
    mdev_attr_write(uuid, "nvsim/plane_fault", "bad_format");
    deadline = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
    for (;;) {
        g_free(err);
        err = vm_stderr(vm);
        if (strstr(err, "unsupported DRM format")) {
            break;
        }
        if (g_get_monotonic_time() > deadline) {
            g_error("the second reason was never warned about:\n%s", err);
        }
        g_free(screendump(vm, g));
    }
    g_assert_cmpint(count_str(err, "VFIO_DEVICE_QUERY_GFX_PLANE failed: "
                              "Cannot allocate memory"), ==, 1);
    g_assert_cmpint(count_str(err, "unsupported DRM format"), ==, 1);
    g_assert_cmpint(count_str(err, "dropping frames"), ==, 2);

    mdev_attr_write(uuid, "nvsim/plane_fault", "none");
    gpu_draw(g, 52);
    assert_screendump(vm, g);
    vm_quit(vm);
    nvsim_remove(uuid);
}

/*
 * The driver puts its display region at index 16, past num_regions, as
 * device-specific regions may be: the console shows it.
 */
static void test_region_past_num_regions(void)
{
    g_autofree char *uuid = NULL;
    Gpu *g;
    Vm *vm;

    if (nvsim_skip_test()) {
        return;
    }
    uuid = mdev_with_plane("region");
    mdev_attr_write(uuid, "nvsim/plane_region", "16");
    vm = vm_start(&uuid, 1, "console-fps=30", NULL, NULL, true);
    g = &vm->gpu[0];
    gpu_set_mode(g, 800, 600, FMT_XRGB8888, 0, 0);
    gpu_draw(g, 53);
    assert_screendump(vm, g);
    gpu_set_mode(g, 1024, 768, FMT_XBGR8888, 0, 8 * MiB);
    gpu_draw(g, 54);
    assert_screendump(vm, g);
    g_assert_cmpuint(console_counter(g, "x-console-bad-frames"), ==, 0);
    vm_quit(vm);
    mdev_attr_write(uuid, "nvsim/plane_region", "10");
    nvsim_remove(uuid);
}

/* QEMU with nv-vgpu on @uuid and @props must exit 1 saying @msg */
static void assert_start_fails(const char *uuid, const char *props,
                               const char *msg)
{
    g_autofree char *cmd = NULL;
    g_autofree char *err = NULL;
    int status;

    cmd = g_strdup_printf("timeout -s KILL 60 %s -machine q35 -accel qtest "
                          "-nodefaults -display none -device nv-vgpu,"
                          "sysfsdev=" MDEV_DEVICES "/%s,%s",
                          g_getenv("QTEST_QEMU_BINARY"), uuid, props);
    g_assert_true(g_spawn_command_line_sync(cmd, NULL, &err, &status, NULL));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 1 ||
        !strstr(err, msg)) {
        g_error("%s: want exit 1 with '%s', got status 0x%x: %s", props, msg,
                status, err);
    }
}

/*
 * A vGPU without an EDID region (nvsim/edid=0): the console works, the
 * default monitor just goes without, an explicit xres= is refused, and
 * monitor-follows-viewer=on is warned about.
 */
static void test_no_edid(const void *opaque)
{
    const char *plane = opaque;
    g_autofree char *uuid = NULL;
    g_autofree char *err = NULL;
    Gpu *g;
    Vm *vm;

    if (nvsim_skip_test()) {
        return;
    }
    uuid = mdev_with_plane(plane);
    mdev_attr_write(uuid, "nvsim/edid", "0");
    vm = vm_start(&uuid, 1, "console-fps=30", NULL, NULL, true);
    g = &vm->gpu[0];
    /* nobody wrote a monitor: the guest reads none */
    g_assert_cmpuint(qpci_io_readl(g->dev, g->bar0, REG_EDID_SIZE), ==, 0);
    gpu_set_mode(g, 800, 600, FMT_XRGB8888, 0, 0);
    gpu_draw(g, 55);
    assert_screendump(vm, g);
    g_assert_cmpuint(console_counter(g, "x-console-bad-frames"), ==, 0);
    err = vm_stderr(vm);
    g_assert_null(strstr(err, "EDID"));
    vm_quit(vm);

    assert_start_fails(uuid, "xres=1600,yres=900",
                       "xres=1600,yres=900 cannot be shown to the guest: the "
                       "vGPU has no VFIO EDID region");

    vm = vm_start(&uuid, 1, "monitor-follows-viewer=on", NULL, NULL, true);
    g = &vm->gpu[0];
    gpu_set_mode(g, 640, 480, FMT_XRGB8888, 0, 0);
    gpu_draw(g, 56);
    assert_screendump(vm, g);
    g_free(err);
    err = vm_stderr(vm);
    if (count_str(err, "monitor-follows-viewer=on has no effect: the vGPU "
                  "has no VFIO EDID region") != 1) {
        g_error("monitor-follows-viewer=on without EDID: %s", err);
    }
    vm_quit(vm);
    mdev_attr_write(uuid, "nvsim/edid", "1");
    nvsim_remove(uuid);
}

/* A vGPU without an error interrupt (nvsim/err_irq=0) starts and shows */
static void test_no_err_irq(void)
{
    g_autofree char *uuid = NULL;
    g_autofree char *err = NULL;
    Gpu *g;
    Vm *vm;

    if (nvsim_skip_test()) {
        return;
    }
    uuid = mdev_with_plane("dmabuf");
    mdev_attr_write(uuid, "nvsim/err_irq", "0");
    vm = vm_start(&uuid, 1, "console-fps=30", NULL, NULL, true);
    g = &vm->gpu[0];
    gpu_set_mode(g, 1024, 768, FMT_XRGB8888, 0, 0);
    gpu_draw(g, 57);
    assert_screendump(vm, g);
    assert_guest_edid(g, 1280, 800);
    /* vfio-pci says so once, as documented */
    err = vm_stderr(vm);
    g_assert_cmpint(count_str(err, "Could not enable error recovery for the "
                              "device"), ==, 1);
    vm_quit(vm);
    mdev_attr_write(uuid, "nvsim/err_irq", "1");
    nvsim_remove(uuid);
}

/* ---------------------------------------------------------------------- */
/* The boot display (ramfb=on) */

/* The head-0-off notice, not a picture: a placeholder surface */
static void assert_no_picture(Vm *vm, Gpu *g, const Ramfb *r)
{
    g_autofree char *path = screendump(vm, g);
    g_autofree uint8_t *rgb = NULL;
    uint32_t w, h;

    rgb = read_ppm(path, &w, &h);
    if (w == r->width && h == r->height) {
        Gpu as_ramfb = {
            .width = w, .height = h, .stride = w * 4,
            .format = FMT_XRGB8888, .seed = r->seed,
        };
        g_autofree uint8_t *want = expected_rgb(&as_ramfb);

        g_assert_true(memcmp(rgb, want, (size_t)w * h * 3));
    }
}

/*
 * The firmware's framebuffer shows while head 0 is off, head 0 takes
 * over when the guest's driver sets a mode and gives it back when the
 * head goes off; the guest's changes show, bad configurations are
 * refused and logged, a reset clears it.  For region and dma-buf planes.
 */
static void test_ramfb(const void *opaque)
{
    const char *plane = opaque;
    g_autofree char *uuid = NULL;
    g_autofree char *err = NULL;
    Ramfb r = { .fb = RAMFB_FB, .width = 640, .height = 480 };
    uint64_t tiles;
    Gpu *g;
    Vm *vm;

    if (nvsim_skip_test()) {
        return;
    }
    uuid = mdev_with_plane(plane);
    vm = vm_start(&uuid, 1, "console-fps=30,ramfb=on", NULL,
                  "-d guest_errors", true);
    g = &vm->gpu[0];

    /* before the firmware: the notice */
    assert_no_picture(vm, g, &r);
    ramfb_draw(vm->qts, &r, 71);
    ramfb_config(vm->qts, r.fb, FMT_XRGB8888, r.width, r.height, 0);
    assert_ramfb_screendump(vm, g, &r);

    /* the firmware draws: only what changed is copied */
    tiles = console_counter(g, "x-console-tiles");
    qtest_writel(vm->qts, r.fb, 0x00123456);
    ramfb_draw(vm->qts, &r, 72);
    assert_ramfb_screendump(vm, g, &r);
    g_assert_cmpuint(console_counter(g, "x-console-tiles"), >, tiles);
    tiles = console_counter(g, "x-console-tiles");
    assert_ramfb_screendump(vm, g, &r);
    g_assert_cmpuint(console_counter(g, "x-console-tiles"), ==, tiles);

    /* the guest's driver sets a mode: head 0 takes over */
    gpu_set_mode(g, 800, 600, FMT_XRGB8888, 0, 0);
    gpu_draw(g, 73);
    assert_screendump(vm, g);
    /* same size as the boot display: still a full redraw */
    gpu_set_mode(g, 640, 480, FMT_XRGB8888, 0, 0);
    gpu_draw(g, 74);
    assert_screendump(vm, g);

    /* head 0 off: the boot display is back, and head 0 after it again */
    qpci_io_writel(g->dev, g->bar0, REG_HEAD0_ENABLE, 0);
    assert_ramfb_screendump(vm, g, &r);
    qpci_io_writel(g->dev, g->bar0, REG_HEAD0_ENABLE, 1);
    assert_screendump(vm, g);
    qpci_io_writel(g->dev, g->bar0, REG_HEAD0_ENABLE, 0);
    assert_ramfb_screendump(vm, g, &r);

    /* configurations the guest must not get away with */
    ramfb_config(vm->qts, 0xfee00000, FMT_XRGB8888, 640, 480, 0);
    assert_no_picture(vm, g, &r);
    ramfb_config(vm->qts, 128 * MiB - 4096, FMT_XRGB8888, 640, 480, 0);
    assert_no_picture(vm, g, &r);
    ramfb_config(vm->qts, r.fb, FMT_XRGB8888, 100000, 480, 0);
    ramfb_config(vm->qts, r.fb, FMT_XRGB8888, 640, 480, 100);
    ramfb_config(vm->qts, r.fb, 0x31313131, 640, 480, 0);
    ramfb_config(vm->qts, UINT64_MAX - 4095, FMT_XRGB8888, 640, 480, 0);
    assert_no_picture(vm, g, &r);
    err = vm_stderr(vm);
    g_assert_cmpint(count_str(err, "nv-vgpu gpu0: boot display "
                              "configuration refused: "), ==, 6);
    g_assert_nonnull(strstr(err, "0xfee00000 is not guest "));
    g_assert_nonnull(strstr(err, "run past the end of guest RAM"));
    g_assert_nonnull(strstr(err, "plane size 100000x480 is outside"));
    g_assert_nonnull(strstr(err, "stride 100 is below width 640"));
    g_assert_nonnull(strstr(err, "unsupported DRM format 1111"));
    g_assert_nonnull(strstr(err, "wraps around"));

    /* a good one again, then a reset: the firmware must set it up anew */
    ramfb_config(vm->qts, r.fb, FMT_XRGB8888, r.width, r.height, 0);
    assert_ramfb_screendump(vm, g, &r);
    qtest_qmp_assert_success(vm->qts, "{ 'execute': 'system_reset' }");
    assert_no_picture(vm, g, &r);
    vm_quit(vm);
    nvsim_remove(uuid);
}

/* QEMU with @devices (-device options) exits 1 saying @want */
static void assert_start_refused(const char *devices, const char *want)
{
    g_autofree char *cmd = NULL, *err = NULL;
    int status;

    cmd = g_strdup_printf("timeout -s KILL 60 %s -machine q35 -accel qtest "
                          "-nodefaults -display none %s",
                          g_getenv("QTEST_QEMU_BINARY"), devices);
    g_assert_true(g_spawn_command_line_sync(cmd, NULL, &err, &status, NULL));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 1 || !strstr(err, want)) {
        g_error("%s: status 0x%x, wanted exit 1 saying '%s':\n%s", devices,
                status, want, err);
    }
}

/*
 * One boot display per VM, only at start-up, only with a console: each
 * refusal says why, and none leaves a vGPU QEMU created behind.
 */
static void test_ramfb_refused(void)
{
    g_autofree char *u0 = NULL, *u1 = NULL, *devs = NULL;
    QTestState *qts;
    QDict *rsp;
    int mdevs;

    if (nvsim_skip_test()) {
        return;
    }
    u0 = nvsim_create(TYPE_1Q);
    u1 = nvsim_create(TYPE_1Q);
    mdevs = mdev_count();

    devs = g_strdup_printf("-device nv-vgpu,id=gpu0,sysfsdev=" MDEV_DEVICES
                           "/%s,ramfb=on -device nv-vgpu,id=gpu1,sysfsdev="
                           MDEV_DEVICES "/%s,ramfb=on", u0, u1);
    assert_start_refused(devs, "nv-vgpu: ramfb=on: nv-vgpu gpu0 has the VM's "
                         "boot display already");
    assert_start_refused("-device nv-vgpu,id=gpu0,parent=nvsim,mdev-type="
                         TYPE_1Q ",ramfb=on,display=off",
                         "ramfb=on shows the boot display on head 0's "
                         "console, which display=off turns off");

    /* no console at all: the host driver has it off */
    mdev_attr_write(u0, "nvidia/vgpu_params", "disable_vnc=1");
    g_free(devs);
    devs = g_strdup_printf("-device nv-vgpu,id=gpu0,sysfsdev=" MDEV_DEVICES
                           "/%s,ramfb=on", u0);
    assert_start_refused(devs, "ramfb=on, but the vGPU offers no display "
                         "plane");
    mdev_attr_write(u0, "nvidia/vgpu_params", "");
    g_assert_cmpint(mdev_count(), ==, mdevs);

    /* hot-plug: refused before any vGPU is made */
    qts = qtest_init("-machine q35 -nodefaults -device pcie-root-port,"
                     "id=rp0,bus=pcie.0,chassis=1");
    rsp = qtest_qmp(qts, "{ 'execute': 'device_add', 'arguments': "
                    "{ 'driver': 'nv-vgpu', 'id': 'hp', 'bus': 'rp0', "
                    "'parent': 'nvsim', 'mdev-type': %s, 'ramfb': true } }",
                    TYPE_1Q);
    if (!strstr(qdict_get_str(qdict_get_qdict(rsp, "error"), "desc"),
                "ramfb=on cannot be hot-plugged")) {
        g_error("hot-plugged ramfb=on: %s",
                qdict_get_str(qdict_get_qdict(rsp, "error"), "desc"));
    }
    qobject_unref(rsp);
    g_assert_cmpint(mdev_count(), ==, mdevs);
    qtest_quit(qts);

    nvsim_remove(u0);
    nvsim_remove(u1);
}

/* Two vGPUs, one of each plane kind, each with its own console */
static void test_two_vgpus(void)
{
    g_autofree char *u0 = NULL, *u1 = NULL;
    char *uuids[2];
    Vm *vm;

    if (nvsim_skip_test()) {
        return;
    }
    uuids[0] = u0 = mdev_with_plane("region");
    uuids[1] = u1 = mdev_with_plane("dmabuf");
    vm = vm_start(uuids, 2, "console-fps=30", NULL, NULL, true);

    gpu_set_mode(&vm->gpu[0], 800, 600, FMT_XRGB8888, 0, 0);
    gpu_set_mode(&vm->gpu[1], 1024, 768, FMT_XRGB8888, 0, 0);
    gpu_draw(&vm->gpu[0], 21);
    gpu_draw(&vm->gpu[1], 22);
    assert_screendump(vm, &vm->gpu[0]);
    assert_screendump(vm, &vm->gpu[1]);

    vm_quit(vm);
    nvsim_remove(u0);
    nvsim_remove(u1);
}

/* display=off: no console; display=on with the console disabled: refused */
static void test_display_off(void)
{
    g_autofree char *uuid = NULL;
    g_autofree char *path = NULL;
    g_autofree char *dev = NULL;
    g_autofree char *err = NULL;
    QTestState *qts;
    QDict *rsp;
    int status;

    if (nvsim_skip_test()) {
        return;
    }
    uuid = nvsim_create(TYPE_1Q);
    qts = qtest_initf("-machine q35 -nodefaults -device nv-vgpu,id=gpu0,"
                      "sysfsdev=" MDEV_DEVICES "/%s,display=off", uuid);
    path = g_strdup_printf("%s/nv-vgpu-off.ppm", g_get_tmp_dir());
    rsp = qtest_qmp(qts, "{ 'execute': 'screendump', 'arguments': "
                    "{ 'filename': %s, 'device': 'gpu0' } }", path);
    g_assert_nonnull(strstr(qdict_get_str(qdict_get_qdict(rsp, "error"),
                                          "desc"),
                            "is not bound to a QemuConsole"));
    qobject_unref(rsp);
    g_assert_cmpuint(qom_get_dev_uint(qts, "gpu0", "x-console-polls"), ==, 0);
    qtest_quit(qts);

    /* the host driver has the console off: auto starts, on is refused */
    mdev_attr_write(uuid, "nvidia/vgpu_params", "disable_vnc=1");
    qts = qtest_initf("-machine q35 -nodefaults -device nv-vgpu,id=gpu0,"
                      "sysfsdev=" MDEV_DEVICES "/%s", uuid);
    rsp = qtest_qmp(qts, "{ 'execute': 'screendump', 'arguments': "
                    "{ 'filename': %s, 'device': 'gpu0' } }", path);
    g_assert_true(qdict_haskey(rsp, "error"));
    qobject_unref(rsp);
    qtest_quit(qts);

    dev = g_strdup_printf("timeout -s KILL 60 %s -machine q35 -accel qtest "
                          "-nodefaults -display none -device nv-vgpu,"
                          "sysfsdev=" MDEV_DEVICES "/%s,display=on",
                          g_getenv("QTEST_QEMU_BINARY"), uuid);
    g_assert_true(g_spawn_command_line_sync(dev, NULL, &err, &status, NULL));
    g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 1);
    /* said before the open, from the parameters in force */
    if (!strstr(err, "display=on asks for a console, but the vGPU's plugin "
                "parameters have disable_vnc=1, which switches its console "
                "off; drop one of them")) {
        g_error("display=on with disable_vnc=1: %s", err);
    }
    mdev_attr_write(uuid, "nvidia/vgpu_params", "");
    nvsim_remove(uuid);
}

static void test_edid(void)
{
    g_autofree char *uuid = NULL;
    Vm *vm;

    if (nvsim_skip_test()) {
        return;
    }
    uuid = nvsim_create(TYPE_1Q);
    vm = vm_start(&uuid, 1, "xres=1600,yres=900", NULL, NULL, true);
    assert_guest_edid(&vm->gpu[0], 1600, 900);
    vm_quit(vm);

    vm = vm_start(&uuid, 1, "display=auto", NULL, NULL, true);
    assert_guest_edid(&vm->gpu[0], 1280, 800);
    vm_quit(vm);
    nvsim_remove(uuid);
}

/* A VNC client asks for a @size window; returns once QEMU has seen it */
static void vnc_resize(Vm *vm, const char *client, const char *size)
{
    g_autofree char *server = g_strdup_printf("unix:%s", vm->vnc);
    g_autofree char *path = g_strdup_printf("%s/resize.ppm", vm->dir);
    g_autofree char *out = NULL, *err = NULL;
    const char *argv[] = {
        client, "--resize", size, "--quiet-ms", "300", "--snapshot", path,
        server, NULL
    };
    int status;

    /* the client ends after a full frame it asked for after the resize */
    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, 0, NULL, NULL,
                               &out, &err, &status, NULL));
    if (!WIFEXITED(status) || WEXITSTATUS(status)) {
        g_error("%s: %s%s", client, out, err);
    }
}

/* The guest's monitor follows the VNC client's window, capped */
static void assert_edid_after_resize(Vm *vm, const char *client,
                                     const char *size, uint32_t width,
                                     uint32_t height)
{
    int i;

    vnc_resize(vm, client, size);
    /* the monitor is unplugged for 100 ms while its EDID changes */
    for (i = 0; i < 100; i++) {
        if (qpci_io_readl(vm->gpu[0].dev, vm->gpu[0].bar0,
                          REG_EDID_LINK) == 1) {
            break;
        }
        g_usleep(20 * 1000);
    }
    assert_guest_edid(&vm->gpu[0], width, height);
}

/* Every EDID register the guest can read: link, size and the blob window */
static GByteArray *guest_edid_regs(Gpu *g)
{
    GByteArray *regs = g_byte_array_new();
    uint32_t v, off;

    v = qpci_io_readl(g->dev, g->bar0, REG_EDID_LINK);
    g_byte_array_append(regs, (uint8_t *)&v, 4);
    v = qpci_io_readl(g->dev, g->bar0, REG_EDID_SIZE);
    g_byte_array_append(regs, (uint8_t *)&v, 4);
    for (off = 0; off < 0x400; off += 4) {
        v = qpci_io_readl(g->dev, g->bar0, REG_EDID_DATA + off);
        g_byte_array_append(regs, (uint8_t *)&v, 4);
    }
    return regs;
}

static void test_edid_follows_vnc(void)
{
    const char *client = vnc_client();
    g_autofree char *uuid = NULL;
    Vm *vm;

    if (nvsim_skip_test() || !client) {
        return;
    }
    /* GRID P4-1B goes up to 2560x1600 */
    uuid = nvsim_create("nvsim-157");
    vm = vm_start(&uuid, 1, "monitor-follows-viewer=on", NULL, NULL, true);
    assert_guest_edid(&vm->gpu[0], 1280, 800);
    assert_edid_after_resize(vm, client, "1920x1080", 1920, 1080);
    assert_edid_after_resize(vm, client, "3000x2000", 2560, 1600);
    vm_quit(vm);
    nvsim_remove(uuid);
}

/* By default a viewer's window changes nothing the guest sees */
static void test_edid_ignores_vnc(void)
{
    const char *client = vnc_client();
    g_autofree char *uuid = NULL;
    g_autoptr(GByteArray) before = NULL, after = NULL;
    Vm *vm;

    if (nvsim_skip_test() || !client) {
        return;
    }
    uuid = nvsim_create("nvsim-157");
    vm = vm_start(&uuid, 1, "xres=1600,yres=900", NULL, NULL, true);
    assert_guest_edid(&vm->gpu[0], 1600, 900);
    before = guest_edid_regs(&vm->gpu[0]);
    vnc_resize(vm, client, "1920x1080");
    after = guest_edid_regs(&vm->gpu[0]);
    g_assert_cmpmem(after->data, after->len, before->data, before->len);
    vm_quit(vm);

    vm = vm_start(&uuid, 1, "", NULL, NULL, true);
    assert_guest_edid(&vm->gpu[0], 1280, 800);
    g_byte_array_unref(before);
    g_byte_array_unref(after);
    before = guest_edid_regs(&vm->gpu[0]);
    vnc_resize(vm, client, "1024x768");
    after = guest_edid_regs(&vm->gpu[0]);
    g_assert_cmpmem(after->data, after->len, before->data, before->len);
    vm_quit(vm);
    nvsim_remove(uuid);
}

/*
 * A VNC client sending SetPixelFormat (which invalidates the console)
 * and full update requests every 10 ms cannot make it poll faster than
 * console-fps; the frames the cap allows are drawn in full, and the
 * client gets the whole picture.
 */
static void test_frame_cap_storm(const void *opaque)
{
    const char *plane = opaque;
    const char *client = vnc_client();
    g_autofree char *uuid = NULL;
    g_autofree char *server = NULL, *path = NULL;
    g_autofree char *out = NULL, *err = NULL;
    g_autofree uint8_t *rgb = NULL;
    const char *argv[10];
    unsigned long long sent = 0;
    uint64_t polls, tiles;
    uint32_t w, h;
    gint64 start;
    double secs;
    int status, i = 0;
    Gpu *g;
    Vm *vm;

    if (nvsim_skip_test() || !client) {
        return;
    }
    uuid = mdev_with_plane(plane);
    vm = vm_start(&uuid, 1, "console-fps=5", NULL, NULL, true);
    g = &vm->gpu[0];
    gpu_set_mode(g, 640, 480, FMT_XRGB8888, 0, 0);
    gpu_draw(g, 58);
    g_usleep(250 * 1000);       /* past the cap, for the screendump */
    assert_screendump(vm, g);
    /* the picture does not change from here on */
    tiles = console_counter(g, "x-console-tiles");

    server = g_strdup_printf("unix:%s", vm->vnc);
    path = g_strdup_printf("%s/storm.ppm", vm->dir);
    argv[i++] = client;
    argv[i++] = "--storm-ms";
    argv[i++] = "3000";
    argv[i++] = "--timeout-ms";
    argv[i++] = "60000";
    argv[i++] = "--snapshot";
    argv[i++] = path;
    argv[i++] = server;
    argv[i] = NULL;
    polls = console_counter(g, "x-console-polls");
    start = g_get_monotonic_time();
    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, 0, NULL, NULL,
                               &out, &err, &status, NULL));
    secs = (g_get_monotonic_time() - start) / 1e6;
    polls = console_counter(g, "x-console-polls") - polls;
    tiles = console_counter(g, "x-console-tiles") - tiles;
    if (!WIFEXITED(status) || WEXITSTATUS(status) ||
        sscanf(out, "storm %llu", &sent) != 1) {
        g_error("%s: %s%s", client, out, err);
    }
    g_test_message("%llu SetPixelFormat messages in %.1f s: %" PRIu64
                   " polls at console-fps=5, %" PRIu64 " tiles", sent, secs,
                   polls, tiles);
    g_assert_cmpuint(sent, >=, 50);
    {
        /* the storm redrew at the cap: query-vgpus counts those frames */
        QDict *info = console_info(vm);

        g_test_message("query-vgpus: %" PRId64 " frames/s, %" PRId64
                       " shown", qdict_get_int(info, "fps"),
                       qdict_get_int(info, "frames-shown"));
        g_assert_cmpint(qdict_get_int(info, "fps"), >=, 1);
        g_assert_cmpint(qdict_get_int(info, "fps"), <=, 5);
        g_assert_cmpint(qdict_get_int(info, "frames-shown"), >=, polls / 2);
        qobject_unref(info);
    }
    if (polls > 2 + (uint64_t)(secs * 5)) {
        g_error("%llu SetPixelFormat messages in %.1f s made %" PRIu64
                " polls at console-fps=5", sent, secs, polls);
    }
    /* a still picture, yet redrawn in full (10x8 tiles) after invalidation */
    g_assert_cmpuint(tiles, >=, 80);
    rgb = read_ppm(path, &w, &h);
    assert_picture(g, rgb, w, h, "VNC picture after the storm");
    vm_quit(vm);
    nvsim_remove(uuid);
}

/* One screendump of gpu0, through the console's refresh */
static void screendump_null(Vm *vm)
{
    QDict *rsp = qtest_qmp(vm->qts, "{ 'execute': 'screendump', "
                           "'arguments': { 'filename': '/dev/null', "
                           "'device': 'gpu0' } }");

    g_assert_true(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
}

/*
 * No display client, no polling; screendumps in a burst are capped at
 * console-fps (two polls a slot on a static screen).
 */
static void test_frame_cap(void)
{
    g_autofree char *uuid = NULL;
    gint64 start;
    double secs;
    uint64_t polls;
    Gpu *g;
    Vm *vm;
    int i;

    if (nvsim_skip_test()) {
        return;
    }
    uuid = mdev_with_plane("region");
    vm = vm_start(&uuid, 1, "console-fps=5", NULL, NULL, true);
    g = &vm->gpu[0];
    gpu_set_mode(g, 640, 480, FMT_XRGB8888, 0, 0);
    gpu_draw(g, 5);
    /* VNC is listening, but nobody is connected */
    g_usleep(1500 * 1000);
    g_assert_cmpuint(console_counter(g, "x-console-polls"), ==, 0);

    start = g_get_monotonic_time();
    for (i = 0; i < 20; i++) {
        screendump_null(vm);
    }
    secs = (g_get_monotonic_time() - start) / 1e6;
    polls = console_counter(g, "x-console-polls");
    g_assert_cmpuint(polls, >=, 1);
    /* a static screen: at most one extra poll per slot */
    g_assert_cmpuint(polls, <=, 2 * (1 + (uint64_t)(secs * 5)) + 1);
    vm_quit(vm);
    nvsim_remove(uuid);
}

/*
 * The cap and idle screens, refreshed by screendumps at console-fps=1
 * (slots of a second): a change on a screen that was static for a slot
 * is shown at once, by an extra poll, which starts a new slot; a second
 * change in that slot is held back (also past the end of the slot the
 * early poll came in), but not lost: a timer shows it when the slot
 * ends, although nothing refreshes the console again.
 */
static void test_frame_cap_slots(void)
{
    g_autofree char *uuid = NULL;
    uint64_t tiles, polls, early, capped;
    Gpu *g;
    Vm *vm;
    int i;

    if (nvsim_skip_test()) {
        return;
    }
    uuid = mdev_with_plane("region");
    vm = vm_start(&uuid, 1, "console-fps=1", NULL, NULL, true);
    g = &vm->gpu[0];
    gpu_set_mode(g, 320, 256, FMT_XRGB8888, 0, 0);
    gpu_draw(g, 7);
    screendump_null(vm);                /* slot 1: the first frame */
    g_usleep(1100 * 1000);              /* past slot 1 */
    screendump_null(vm);                /* slot 2 starts: a static poll */
    polls = console_counter(g, "x-console-polls");
    tiles = console_counter(g, "x-console-tiles");
    g_assert_cmpuint(polls, ==, 2);
    g_assert_cmpuint(console_counter(g, "x-console-early-polls"), ==, 0);

    /* the screen was static for a slot: this change is shown at once */
    g_usleep(600 * 1000);
    qtest_memset(vm->qts, g->fb, 0x11, TILE * 4);
    screendump_null(vm);
    early = console_counter(g, "x-console-early-polls");
    g_assert_cmpuint(early, ==, 1);
    g_assert_cmpuint(console_counter(g, "x-console-polls"), ==, polls + 1);
    g_assert_cmpuint(console_counter(g, "x-console-tiles"), ==, tiles + 1);
    capped = console_counter(g, "x-console-capped");

    /*
     * A frame was just shown (1.7 s in), and a new slot began with it: a
     * change 0.5 s later, past where slot 2 ended before (2 s), still waits.
     */
    g_usleep(500 * 1000);
    qtest_memset(vm->qts, g->fb + 2 * TILE * 4, 0x22, TILE * 4);
    screendump_null(vm);
    g_assert_cmpuint(console_counter(g, "x-console-capped"), ==, capped + 1);
    g_assert_cmpuint(console_counter(g, "x-console-early-polls"), ==, early);
    g_assert_cmpuint(console_counter(g, "x-console-tiles"), ==, tiles + 1);
    /* ... and is shown then, with no refresh asking for it */
    for (i = 0; i < 500; i++) {
        if (console_counter(g, "x-console-tiles") > tiles + 1) {
            break;
        }
        g_usleep(10 * 1000);
    }
    g_assert_cmpuint(console_counter(g, "x-console-tiles"), ==, tiles + 2);
    g_assert_cmpuint(console_counter(g, "x-console-polls"), ==, polls + 2);
    vm_quit(vm);
    nvsim_remove(uuid);
}

/*
 * With a VNC client at the default cap (10 frames/s), a change every
 * 100 ms reaches the console as (nearly) every change: refreshes the cap
 * turns away must not make VNC back off.  Each change rewrites one band
 * of tiles (10 tiles at 640 pixels), so tiles/10 counts changes shown.
 *
 * Nested under TCG, the test's writes and QEMU's timers run late now and
 * then, and a change that lands in its neighbour's slot is lost: working,
 * 85-100% of the changes were shown in 15 runs.  With VNC backing off
 * (capped refreshes arming no timer) it was 70-75% in 7, so the bar is 80%.
 */
static void test_frame_delivery(void)
{
    const char *client = vnc_client();
    g_autofree char *uuid = NULL;
    g_autofree char *server = NULL;
    const char *argv[8];
    uint64_t tiles, capped;
    const int changes = 40;
    gint64 next;
    GPid pid;
    int i = 0, status;
    Gpu *g;
    Vm *vm;

    if (nvsim_skip_test() || !client) {
        return;
    }
    uuid = mdev_with_plane("region");
    vm = vm_start(&uuid, 1, "display=on", NULL, NULL, true);
    g = &vm->gpu[0];
    gpu_set_mode(g, 640, 480, FMT_XRGB8888, 0, 0);
    gpu_draw(g, 3);

    server = g_strdup_printf("unix:%s", vm->vnc);
    argv[i++] = client;
    argv[i++] = "--watch";
    argv[i++] = "--quiet-ms";
    argv[i++] = "60000";
    argv[i++] = "--timeout-ms";
    argv[i++] = "60000";
    argv[i++] = server;
    argv[i] = NULL;
    g_assert_true(g_spawn_async(NULL, (char **)argv, NULL,
                                G_SPAWN_DO_NOT_REAP_CHILD |
                                G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                                &pid, NULL));
    g_assert_cmpint(console_clients_wait(vm, 1), ==, 1);
    g_usleep(500 * 1000);               /* the first full frame */
    tiles = console_counter(g, "x-console-tiles");
    capped = console_counter(g, "x-console-capped");
    next = g_get_monotonic_time();
    for (i = 0; i < changes; i++) {
        qtest_memset(vm->qts, g->fb + 2 * TILE * g->stride, 0x20 + i,
                     TILE * g->stride);
        next += 100 * 1000;
        if (next > g_get_monotonic_time()) {
            g_usleep(next - g_get_monotonic_time());
        }
    }
    g_usleep(300 * 1000);               /* the last change's slot */
    tiles = console_counter(g, "x-console-tiles") - tiles;
    capped = console_counter(g, "x-console-capped") - capped;
    g_test_message("%d changes 100 ms apart at console-fps=10: %" PRIu64
                   " tiles shown (10 a change), %" PRIu64 " refreshes "
                   "held back", changes, tiles, capped);
    kill(pid, SIGTERM);
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    g_spawn_close_pid(pid);
    /* VNC refreshes faster than the cap: some were held back */
    g_assert_cmpuint(capped, >=, 1);
    g_assert_cmpuint(tiles, >=, 10 * (changes * 8 / 10));
    g_assert_cmpuint(tiles, <=, 10 * changes);
    vm_quit(vm);
    nvsim_remove(uuid);
}

/* ---------------------------------------------------------------------- */
/* A real VNC client (tests/vnc/vgpu-vnc-client, on libvncclient) */

/* A line of the client's output, or NULL at its end */
static char *read_line(GIOChannel *ch)
{
    char *line = NULL;

    if (g_io_channel_read_line(ch, &line, NULL, NULL, NULL) !=
        G_IO_STATUS_NORMAL) {
        return NULL;
    }
    g_strchomp(line);
    return line;
}

/*
 * The client sees exactly the guest's picture; a change inside one tile
 * reaches it as an update of that tile, not of the whole screen.
 */
static void test_vnc(const void *opaque)
{
    const char *plane = opaque;
    const char *client = vnc_client();
    const uint32_t tx = 3 * TILE, ty = 2 * TILE;
    g_autofree char *uuid = NULL;
    g_autofree char *server = NULL, *final = NULL;
    g_autofree uint8_t *rgb = NULL;
    g_autoptr(GIOChannel) ch = NULL;
    uint32_t x0 = UINT32_MAX, y0 = UINT32_MAX, x1 = 0, y1 = 0, w, h;
    uint64_t area = 0, tiles;
    const char *argv[8];
    uint8_t row[TILE * 4];
    g_autofree uint8_t *band = NULL;
    char *line;
    GPid pid;
    int out, status, y, i, rects = 0;
    Gpu *g;
    Vm *vm;

    if (nvsim_skip_test() || !client) {
        return;
    }
    uuid = mdev_with_plane(plane);
    vm = vm_start(&uuid, 1, "console-fps=30", NULL, NULL, true);
    g = &vm->gpu[0];
    gpu_set_mode(g, 1024, 768, FMT_XRGB8888, 0, 0);
    gpu_draw(g, 31);
    assert_vnc_snapshot(vm, g, client);

    server = g_strdup_printf("unix:%s", vm->vnc);
    final = g_strdup_printf("%s/final.ppm", vm->dir);
    i = 0;
    argv[i++] = client;
    argv[i++] = "--watch";
    argv[i++] = "--quiet-ms";
    argv[i++] = "1500";
    argv[i++] = "--snapshot";
    argv[i++] = final;
    argv[i++] = server;
    argv[i] = NULL;
    g_assert_true(g_spawn_async_with_pipes(NULL, (char **)argv, NULL,
                                           G_SPAWN_DO_NOT_REAP_CHILD, NULL,
                                           NULL, &pid, NULL, &out, NULL,
                                           NULL));
    ch = g_io_channel_unix_new(out);
    g_io_channel_set_close_on_unref(ch, true);
    line = read_line(ch);
    g_assert_nonnull(line);
    g_assert_cmpstr(line, ==, "ready 1024x768");
    g_free(line);
    tiles = console_counter(g, "x-console-tiles");
    {
        /* query-vgpus sees the console as the client does */
        QDict *info = console_info(vm);

        g_assert_cmpstr(qdict_get_str(info, "plane"), ==, plane);
        g_assert_cmpstr(qdict_get_str(info, "mode"), ==, "1024x768");
        g_assert_cmpstr(qdict_get_str(info, "format"), ==, "XR24");
        g_assert_cmpint(qdict_get_int(info, "frame-cap"), ==, 30);
        g_assert_cmpint(qdict_get_int(info, "frames-shown"), >=, 1);
        g_assert_cmpint(qdict_get_int(info, "fps"), <=, 30);
        qobject_unref(info);
        g_assert_cmpint(console_clients_wait(vm, 1), ==, 1);
    }

    /*
     * One tile turns white, in one qtest command, so that no poll sees
     * it half-written (64 writes take long enough in TCG for several).
     */
    band = g_malloc((size_t)TILE * g->stride);
    qtest_bufread(vm->qts, g->fb + (uint64_t)ty * g->stride, band,
                  (size_t)TILE * g->stride);
    memset(row, 0xff, sizeof(row));
    for (y = 0; y < TILE; y++) {
        memcpy(band + (size_t)y * g->stride + tx * 4, row, sizeof(row));
    }
    qtest_bufwrite(vm->qts, g->fb + (uint64_t)ty * g->stride, band,
                   (size_t)TILE * g->stride);
    while ((line = read_line(ch))) {
        uint32_t rx, ry, rw, rh;

        if (sscanf(line, "rect %u %u %u %u", &rx, &ry, &rw, &rh) == 4) {
            x0 = MIN(x0, rx);
            y0 = MIN(y0, ry);
            x1 = MAX(x1, rx + rw);
            y1 = MAX(y1, ry + rh);
            area += (uint64_t)rw * rh;
            rects++;
        }
        g_free(line);
    }
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    g_spawn_close_pid(pid);
    g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    /* the updates cover that tile, and only it */
    g_assert_cmpint(rects, >=, 1);
    g_assert_cmpuint(x0, ==, tx);
    g_assert_cmpuint(y0, ==, ty);
    g_assert_cmpuint(x1, ==, tx + TILE);
    g_assert_cmpuint(y1, ==, ty + TILE);
    g_assert_cmpuint(area, <=, 2 * TILE * TILE);

    /* and the client's picture is the guest's, white tile included */
    rgb = read_ppm(final, &w, &h);
    g_assert_cmpuint(w, ==, g->width);
    g_assert_cmpuint(h, ==, g->height);
    for (y = 0; y < TILE; y++) {
        uint8_t *p = rgb + ((size_t)(ty + y) * w + tx) * 3;

        for (i = 0; i < TILE * 3; i++) {
            g_assert_cmphex(p[i], ==, 0xff);
        }
        memset(p, 0, TILE * 3);         /* compare the rest below */
    }
    {
        g_autofree uint8_t *want = expected_rgb(g);

        for (y = 0; y < TILE; y++) {
            memset(want + ((size_t)(ty + y) * w + tx) * 3, 0, TILE * 3);
        }
        g_assert_cmpmem(rgb, (size_t)w * h * 3, want, (size_t)w * h * 3);
    }
    /* the console copied that one tile */
    tiles = console_counter(g, "x-console-tiles") - tiles;
    g_assert_cmpuint(tiles, ==, 1);
    g_assert_cmpint(console_clients_wait(vm, 0), ==, 0);

    vm_quit(vm);
    nvsim_remove(uuid);
}

/* -vnc ...,display=gpu1 shows the second vGPU */
static void test_vnc_display_id(void)
{
    const char *client = vnc_client();
    g_autofree char *u0 = NULL, *u1 = NULL;
    char *uuids[2];
    Vm *vm;

    if (nvsim_skip_test() || !client) {
        return;
    }
    uuids[0] = u0 = mdev_with_plane("dmabuf");
    uuids[1] = u1 = mdev_with_plane("region");
    vm = vm_start(uuids, 2, "console-fps=30", ",display=gpu1", NULL, true);
    gpu_set_mode(&vm->gpu[0], 640, 480, FMT_XRGB8888, 0, 0);
    gpu_set_mode(&vm->gpu[1], 800, 600, FMT_XRGB8888, 0, 0);
    gpu_draw(&vm->gpu[0], 41);
    gpu_draw(&vm->gpu[1], 42);
    assert_vnc_snapshot(vm, &vm->gpu[1], client);
    assert_screendump(vm, &vm->gpu[0]);

    vm_quit(vm);
    nvsim_remove(u0);
    nvsim_remove(u1);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_data_func("/nv-vgpu/display/region/modes", "region",
                        test_modes);
    qtest_add_data_func("/nv-vgpu/display/dmabuf/modes", "dmabuf",
                        test_modes);
    qtest_add_data_func("/nv-vgpu/display/region/bad-planes", "region",
                        test_bad_planes);
    qtest_add_data_func("/nv-vgpu/display/dmabuf/bad-planes", "dmabuf",
                        test_bad_planes);
    qtest_add_data_func("/nv-vgpu/display/region/vnc", "region", test_vnc);
    qtest_add_data_func("/nv-vgpu/display/dmabuf/vnc", "dmabuf", test_vnc);
    qtest_add_func("/nv-vgpu/display/two-vgpus", test_two_vgpus);
    qtest_add_func("/nv-vgpu/display/vnc-display-id", test_vnc_display_id);
    qtest_add_func("/nv-vgpu/display/off", test_display_off);
    qtest_add_func("/nv-vgpu/display/edid", test_edid);
    qtest_add_func("/nv-vgpu/display/edid-follows-vnc",
                   test_edid_follows_vnc);
    qtest_add_func("/nv-vgpu/display/edid-ignores-vnc",
                   test_edid_ignores_vnc);
    qtest_add_func("/nv-vgpu/display/frame-cap", test_frame_cap);
    qtest_add_func("/nv-vgpu/display/frame-cap-slots", test_frame_cap_slots);
    qtest_add_func("/nv-vgpu/display/frame-delivery", test_frame_delivery);
    qtest_add_data_func("/nv-vgpu/display/region/frame-cap-storm", "region",
                        test_frame_cap_storm);
    qtest_add_data_func("/nv-vgpu/display/dmabuf/frame-cap-storm", "dmabuf",
                        test_frame_cap_storm);
    qtest_add_func("/nv-vgpu/display/warn-alternating",
                   test_warn_alternating);
    qtest_add_func("/nv-vgpu/display/warn-reason-change",
                   test_warn_reason_change);
    qtest_add_func("/nv-vgpu/display/region-past-num-regions",
                   test_region_past_num_regions);
    qtest_add_data_func("/nv-vgpu/display/region/no-edid", "region",
                        test_no_edid);
    qtest_add_data_func("/nv-vgpu/display/dmabuf/no-edid", "dmabuf",
                        test_no_edid);
    qtest_add_func("/nv-vgpu/display/no-err-irq", test_no_err_irq);
    qtest_add_data_func("/nv-vgpu/display/region/ramfb", "region",
                        test_ramfb);
    qtest_add_data_func("/nv-vgpu/display/dmabuf/ramfb", "dmabuf",
                        test_ramfb);
    qtest_add_func("/nv-vgpu/display/ramfb-refused", test_ramfb_refused);
    return g_test_run();
}
