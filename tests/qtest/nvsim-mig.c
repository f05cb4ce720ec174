/*
 * Migration of test VMs with nv-vgpus: what their guests see before and
 * after, and QMP's view of a migration
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "qemu/units.h"
#include "nvsim-mig.h"

static const uint32_t snapshot_regs[] = {
    REG_SCRATCH, REG_HEAD0_ENABLE, REG_HEAD0_WIDTH, REG_HEAD0_HEIGHT,
    REG_HEAD0_STRIDE, REG_HEAD0_FORMAT, REG_HEAD0_FB_OFFSET_LO,
    REG_HEAD0_FB_OFFSET_HI,
};

void snapshot(Gpu *g, GpuSnapshot *s)
{
    int i;

    for (i = 0; i < G_N_ELEMENTS(snapshot_regs); i++) {
        s->regs[i] = qpci_io_readl(g->dev, g->bar0, snapshot_regs[i]);
    }
    s->fb_len = (size_t)g->stride * g->height;
    s->fb = g_malloc(s->fb_len);
    qtest_memread(g->qts, g->fb + g->offset, s->fb, s->fb_len);
}

/* @g's guest-visible registers and scanout are exactly as in @before */
void assert_unchanged(Gpu *g, GpuSnapshot *before, const char *what)
{
    GpuSnapshot now;
    int i;

    snapshot(g, &now);
    for (i = 0; i < G_N_ELEMENTS(snapshot_regs); i++) {
        if (now.regs[i] != before->regs[i]) {
            g_error("%s: %s register 0x%x is 0x%x, was 0x%x", what, g->id,
                    snapshot_regs[i], now.regs[i], before->regs[i]);
        }
    }
    if (memcmp(now.fb, before->fb, now.fb_len)) {
        g_error("%s: %s's framebuffer changed", what, g->id);
    }
    g_free(now.fb);
    g_free(before->fb);
}

void source_prepare(Vm *vm)
{
    int i;

    for (i = 0; i < vm->ngpus; i++) {
        Gpu *g = &vm->gpu[i];

        gpu_set_mode(g, 800 + 224 * i, 600, FMT_XRGB8888, 0, i * 8 * MiB);
        gpu_draw(g, 50 + i);
        qpci_io_writel(g->dev, g->bar0, REG_SCRATCH, 0x5c000000 | i);
    }
}

void set_caps(QTestState *qts)
{
    qtest_qmp_assert_success(qts, "{ 'execute': 'migrate-set-capabilities',"
        " 'arguments': { 'capabilities': ["
        "   { 'capability': 'return-path', 'state': true },"
        "   { 'capability': 'switchover-ack', 'state': true } ] } }");
}

/*
 * Start migrating; @bandwidth (bytes/s) 0: let it finish at once, else
 * hold it in pre-copy by limiting the bandwidth.
 */
void vm_migrate(QTestState *src, const char *uri, uint64_t bandwidth)
{
    if (bandwidth) {
        qtest_qmp_assert_success(src, "{ 'execute': 'migrate-set-parameters',"
                                 " 'arguments': { 'max-bandwidth': %" PRIu64
                                 " } }", bandwidth);
    } else {
        /* an idle qtest VM measures no bandwidth: tell QEMU what it has */
        qtest_qmp_assert_success(src, "{ 'execute': 'migrate-set-parameters',"
                                 " 'arguments': { 'avail-switchover-"
                                 "bandwidth': %" PRIu64 " } }",
                                 (uint64_t)GiB);
    }
    qtest_qmp_assert_success(src, "{ 'execute': 'migrate', 'arguments': "
                             "{ 'uri': %s } }", uri);
}

/* query-migrate's error-desc, or "" */
char *migration_error(QTestState *qts)
{
    QDict *rsp = qtest_qmp(qts, "{ 'execute': 'query-migrate' }");
    QDict *ret = qdict_get_qdict(rsp, "return");
    char *err = g_strdup(qdict_haskey(ret, "error-desc") ?
                         qdict_get_str(ret, "error-desc") : "");

    qobject_unref(rsp);
    return err;
}

char *migration_status(QTestState *qts)
{
    QDict *rsp = qtest_qmp(qts, "{ 'execute': 'query-migrate' }");
    QDict *ret = qdict_get_qdict(rsp, "return");
    char *status = g_strdup(qdict_haskey(ret, "status") ?
                            qdict_get_str(ret, "status") : "none");

    if (qdict_haskey(ret, "error-desc")) {
        g_test_message("migration %s: %s", status,
                       qdict_get_str(ret, "error-desc"));
    }

    qobject_unref(rsp);
    return status;
}

/* Wait until the migration on @qts ends; returns how */
char *wait_migration_end(QTestState *qts)
{
    int i;

    for (i = 0; i < 1200; i++) {
        char *status = migration_status(qts);

        if (!strcmp(status, "completed") || !strcmp(status, "failed") ||
            !strcmp(status, "cancelled")) {
            return status;
        }
        g_free(status);
        g_usleep(50 * 1000);
    }
    g_error("migration did not end in 60 s");
}

void wait_migration_status(QTestState *qts, const char *want)
{
    int i;

    for (i = 0; i < 1200; i++) {
        g_autofree char *status = migration_status(qts);

        if (!strcmp(status, want)) {
            return;
        }
        g_usleep(50 * 1000);
    }
    g_error("migration did not reach %s in 60 s", want);
}

void assert_running(QTestState *qts)
{
    QDict *rsp = qtest_qmp(qts, "{ 'execute': 'query-status' }");

    g_assert_true(qdict_get_bool(qdict_get_qdict(rsp, "return"), "running"));
    qobject_unref(rsp);
}

/* The vGPU's VFIO migration state, as query-vgpus reports it */
char *vgpu_state(QTestState *qts, int index, uint64_t *pending)
{
    QDict *rsp = qtest_qmp(qts, "{ 'execute': 'query-vgpus' }");
    QList *list = qdict_get_qlist(rsp, "return");
    QDict *vgpu = qobject_to(QDict, qlist_peek(list));
    QDict *mig;
    char *state;
    int i;

    for (i = 0; i < index; i++) {
        qlist_pop(list);
        vgpu = qobject_to(QDict, qlist_peek(list));
    }
    g_assert_nonnull(vgpu);
    mig = qdict_get_qdict(vgpu, "migration");
    state = g_strdup(qdict_haskey(mig, "state") ?
                     qdict_get_str(mig, "state") : "none");
    if (pending) {
        *pending = qdict_get_int(mig, "pending-initial") +
                   qdict_get_int(mig, "pending-dirty");
    }
    qobject_unref(rsp);
    return state;
}

void assert_vgpu_state(QTestState *qts, int index, const char *want)
{
    g_autofree char *state = vgpu_state(qts, index, NULL);

    g_assert_cmpstr(state, ==, want);
}

/* The source after a failed or cancelled migration: as before, running */
void assert_source_intact(Vm *src, GpuSnapshot *before,
                                 const char *what)
{
    int i;

    assert_running(src->qts);
    for (i = 0; i < src->ngpus; i++) {
        assert_vgpu_state(src->qts, i, "running");
        assert_unchanged(&src->gpu[i], &before[i], what);
    }
}

/* A destination that fails must exit with status 1, saying @want */
void assert_dest_refused(Vm *dst, const char *want)
{
    g_autofree char *err = NULL;

    qtest_set_expected_status(dst->qts, 1);
    qtest_wait_qemu(dst->qts);
    err = vm_stderr(dst);
    if (!strstr(err, want)) {
        g_error("destination stderr lacks '%s':\n%s", want, err);
    }
    vm_quit(dst);
}

/* After migration, the destination's guest sees exactly the source's. */
void assert_destination_matches(const Gpu *modes, Vm *dst,
                                       GpuSnapshot *before)
{
    int i;

    vm_attach(dst);
    for (i = 0; i < dst->ngpus; i++) {
        Gpu *g = &dst->gpu[i];

        /* the mode and picture the source's guest set */
        g->width = modes[i].width;
        g->height = modes[i].height;
        g->stride = modes[i].stride;
        g->format = modes[i].format;
        g->offset = modes[i].offset;
        g->seed = modes[i].seed;
        assert_unchanged(g, &before[i], "destination");
        assert_screendump(dst, g);
        assert_vgpu_state(dst->qts, i, "running");
    }
}
