/*
 * QTest for nv-vgpu on SR-IOV vGPUs, end to end: QEMU against nvsim's VF
 * front (kernel/nvsim/nvsim-sriov.c) on the simulated SR-IOV GPU, with
 * real SR-IOV, real IOMMU groups and real kernel VFIO.  Types given and
 * released, refusals, release after a failed start and after SIGKILL
 * (never of another owner's type), the console, migration between VFs.
 * Runs in the test host's SR-IOV mode (fork/vgpu-sriov-tests.sh); skips
 * elsewhere.
 *
 * Every test starts and ends with all VFs of the GPU enabled and without
 * a type, and checks that at its end: a type left behind fails the test
 * that left it, not the next one.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <sys/wait.h>
#include "libqtest.h"
#include "libqos/pci-pc.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "qemu/units.h"
#include "../unit/vgpu-fake-host.h"
#include "nvsim-mig.h"

#define NUM_VFS         4
#define RECORDS         "/run/nv-vgpu"

/* nvsim's BAR0 registers (kernel/nvsim/nvsim-regs.h) */
#define REG_TYPE        0x0008
#define REG_FB_MB       0x000c

static const char *pf;
static char *vf[NUM_VFS];

static bool record_exists(const char *name)
{
    g_autofree char *path = g_strdup_printf(RECORDS "/%s", name);

    return g_file_test(path, G_FILE_TEST_EXISTS);
}

/*
 * The GPU with all its VFs enabled and none typed; false (skipped) where
 * there is no simulated SR-IOV GPU.
 */
static bool sriov_setup(void)
{
    g_autofree char *numvfs = NULL;
    g_autofree char *path = NULL;
    int i;

    pf = sriov_pf();
    if (!pf) {
        return false;
    }
    path = g_strdup_printf(PCI_DEVICES "/%s/sriov_numvfs", pf);
    g_assert_true(g_file_get_contents(path, &numvfs, NULL, NULL));
    if (atoi(numvfs) != NUM_VFS) {
        g_assert_cmpint(atoi(numvfs), ==, 0);
        sriov_set_numvfs(pf, NUM_VFS);
    }
    for (i = 0; i < NUM_VFS; i++) {
        g_free(vf[i]);
        vf[i] = sriov_vf(pf, i);
        if (vf_type(vf[i])) {
            g_error("VF %s has type %d before the test", vf[i],
                    vf_type(vf[i]));
        }
    }
    return true;
}

/*
 * Once no release helper of @v runs and its record is gone, nothing will
 * touch the VF's type any more: it must be @type then.
 */
static void assert_type_final(const char *v, int type)
{
    g_autofree char *path = g_strdup_printf(RECORDS "/%s", v);
    g_autofree char *record = NULL;

    int i;

    vgpu_wait_no_reaper(v);
    /* the helper's last step, exec rm, no longer looks like the helper */
    for (i = 0; i < 1000 && record_exists(v); i++) {
        g_usleep(10 * 1000);
    }
    if (g_file_get_contents(path, &record, NULL, NULL)) {
        g_error("VF %s: QEMU's record of it is left behind:\n%s", v, record);
    }
    if (vf_type(v) != type) {
        g_error("VF %s has type %d, want %d", v, vf_type(v), type);
    }
}

/* QEMU released the type it gave @v. */
static void assert_released(const char *v)
{
    if (!vf_wait_type(v, 0)) {
        g_error("VF %s kept type %d: not released", v, vf_type(v));
    }
    assert_type_final(v, 0);
}

/* The test types @v itself, as another owner (an admin, another stack) */
static void vf_set_type(const char *v, int type)
{
    g_autofree char *s = g_strdup_printf("%d", type);

    vf_attr_write(v, "nvidia/current_vgpu_type", s);
    g_assert_cmpint(vf_type(v), ==, type);
}

/* Every VF untyped, as the next test wants it */
static void sriov_teardown(void)
{
    int i;

    for (i = 0; i < NUM_VFS; i++) {
        assert_type_final(vf[i], 0);
    }
}

static QTestState *start_on(const char *vgpu)
{
    return qtest_initf("-machine q35 -nodefaults -device nv-vgpu,id=gpu0,%s",
                       vgpu);
}

/* ---------------------------------------------------------------------- */
/* Types given and released */

/* The vGPU on @qts is VF @v with type @type (profile @name, unless NULL) */
static void assert_vgpu_on(QTestState *qts, const char *v, int type,
                           const char *name)
{
    g_autofree char *got_vf = qom_get_dev_str(qts, "gpu0", "vgpu-vf");
    g_autofree char *got_type = qom_get_dev_str(qts, "gpu0", "vgpu-type");
    g_autofree char *got_name = qom_get_dev_str(qts, "gpu0", "vgpu-profile");
    g_autofree char *want_type = g_strdup_printf("%d", type);

    g_assert_cmpstr(got_vf, ==, v);
    g_assert_cmpstr(got_type, ==, want_type);
    if (name) {
        g_assert_cmpstr(got_name, ==, name);
    }
    g_assert_cmpint(vf_type(v), ==, type);
}

/* host=VF with a type id: the VF gets it, the guest sees it, it goes. */
static void test_by_id(void)
{
    g_autofree char *vgpu = NULL;
    const char *vgpus[1];
    QDict *rsp;
    Vm *vm;

    if (!sriov_setup()) {
        return;
    }
    vgpu = g_strdup_printf("host=%s,profile=1060", vf[0]);
    vgpus[0] = vgpu;
    vm = vm_start_vgpus(vgpus, 1, "", NULL, NULL, true);
    assert_vgpu_on(vm->qts, vf[0], 1060, "NVIDIA L4-1Q");
    g_assert_true(qtest_qom_get_bool(vm->qts, "/machine/peripheral/gpu0",
                                     "vgpu-created"));
    g_assert_true(record_exists(vf[0]));
    /* the driver branch, from the VF driver's module version */
    rsp = qtest_qmp(vm->qts, "{ 'execute': 'query-vgpu-descriptor',"
                    " 'arguments': { 'id': 'gpu0' } }");
    g_assert_cmpstr(qdict_get_str(qdict_get_qdict(rsp, "return"),
                                  "driver-version"), ==, "550.127.05");
    qobject_unref(rsp);
    /* the guest's view: nvsim's vGPU of that type, through the VF */
    g_assert_cmpuint(qpci_io_readl(vm->gpu[0].dev, vm->gpu[0].bar0,
                                   REG_FB_MB), ==, 1024);
    g_assert_cmpuint(qpci_io_readl(vm->gpu[0].dev, vm->gpu[0].bar0,
                                   REG_TYPE), ==, 1060);
    vm_quit(vm);
    assert_released(vf[0]);
    sriov_teardown();
}

/* The size of BAR @bar of the guest's NVIDIA device, from query-pci */
static uint64_t guest_bar_size(QTestState *qts, int bar)
{
    QDict *rsp = qtest_qmp(qts, "{ 'execute': 'query-pci' }");
    QList *buses = qdict_get_qlist(rsp, "return");
    uint64_t size = 0;
    QListEntry *b, *d, *r;

    QLIST_FOREACH_ENTRY(buses, b) {
        QList *devs = qdict_get_qlist(qobject_to(QDict, b->value), "devices");

        QLIST_FOREACH_ENTRY(devs, d) {
            QDict *dev = qobject_to(QDict, d->value);
            QDict *id = qdict_get_qdict(dev, "id");

            if (qdict_get_int(id, "vendor") != 0x10de) {
                continue;
            }
            QLIST_FOREACH_ENTRY(qdict_get_qlist(dev, "regions"), r) {
                QDict *region = qobject_to(QDict, r->value);

                if (qdict_get_int(region, "bar") == bar) {
                    size = qdict_get_int(region, "size");
                }
            }
        }
    }
    qobject_unref(rsp);
    return size;
}

/*
 * A framebuffer that is not a power of two (L4-12Q, 12 GiB): the driver
 * offers a 16 GiB BAR1 of which the framebuffer is mmapped; the guest
 * sees that BAR and the console shows what it draws there.
 */
static void test_framebuffer_not_pow2(void)
{
    g_autofree char *vgpu = NULL;
    const char *vgpus[1];
    QDict *rsp;
    Vm *vm;

    if (!sriov_setup()) {
        return;
    }
    vgpu = g_strdup_printf("host=%s,profile='NVIDIA L4-12Q'", vf[0]);
    vgpus[0] = vgpu;
    vm = vm_start_vgpus(vgpus, 1, "", NULL, NULL, true);
    assert_vgpu_on(vm->qts, vf[0], 1065, "NVIDIA L4-12Q");
    rsp = qtest_qmp(vm->qts, "{ 'execute': 'qom-get', 'arguments': {"
                    " 'path': '/machine/peripheral/gpu0',"
                    " 'property': 'vgpu-framebuffer' } }");
    g_assert_cmpuint(qdict_get_int(rsp, "return"), ==, 12 * GiB);
    qobject_unref(rsp);
    g_assert_cmpuint(guest_bar_size(vm->qts, 1), ==, 16 * GiB);
    g_assert_cmpuint(qpci_io_readl(vm->gpu[0].dev, vm->gpu[0].bar0,
                                   REG_FB_MB), ==, 12288);
    gpu_set_mode(&vm->gpu[0], 1024, 768, FMT_XRGB8888, 0, 11 * GiB);
    gpu_draw(&vm->gpu[0], 12);
    assert_screendump(vm, &vm->gpu[0]);
    vm_quit(vm);
    assert_released(vf[0]);
    sriov_teardown();
}

/*
 * A type by name (in any case), on host=VF and on parent=PF, which takes
 * the first free VF: VF0 is typed by someone else, so VF1.
 */
static void test_by_name(void)
{
    QTestState *qts;

    if (!sriov_setup()) {
        return;
    }
    qts = qtest_initf("-machine q35 -nodefaults -device nv-vgpu,id=gpu0,"
                      "host=%s,profile='nvidia l4-2q'", vf[0]);
    assert_vgpu_on(qts, vf[0], 1061, "NVIDIA L4-2Q");
    qtest_quit(qts);
    assert_released(vf[0]);

    vf_set_type(vf[0], 1061);
    qts = qtest_initf("-machine q35 -nodefaults -device nv-vgpu,id=gpu0,"
                      "parent=%s,profile='NVIDIA L4-2Q'", pf);
    assert_vgpu_on(qts, vf[1], 1061, "NVIDIA L4-2Q");
    qtest_quit(qts);
    assert_released(vf[1]);
    assert_type_final(vf[0], 1061);
    vf_set_type(vf[0], 0);
    sriov_teardown();
}

/*
 * A VF typed by someone else, as host=VF, as host=VF with the type it has
 * and as sysfsdev=: used as it is, and left typed.
 */
static void test_typed_by_other(void)
{
    const char *forms[] = {
        "host=%s", "host=%s,profile=1060", "sysfsdev=" PCI_DEVICES "/%s",
    };
    int i;

    if (!sriov_setup()) {
        return;
    }
    vf_set_type(vf[1], 1060);
    for (i = 0; i < G_N_ELEMENTS(forms); i++) {
        g_autofree char *vgpu = g_strdup_printf(forms[i], vf[1]);
        QTestState *qts = start_on(vgpu);

        /* the name from the other VFs' creatable_vgpu_types */
        assert_vgpu_on(qts, vf[1], 1060, "NVIDIA L4-1Q");
        g_assert_false(qtest_qom_get_bool(qts, "/machine/peripheral/gpu0",
                                          "vgpu-created"));
        g_assert_false(record_exists(vf[1]));
        qtest_quit(qts);
        assert_type_final(vf[1], 1060);
    }
    vf_set_type(vf[1], 0);
    sriov_teardown();
}

/* ---------------------------------------------------------------------- */
/* Refusals */

static char *dev_str(const char *fmt, const char *a, const char *b)
{
    g_autofree char *props = g_strdup_printf(fmt, a, b);

    return g_strdup_printf("nv-vgpu,%s", props);
}

/*
 * A VF of type 1062 makes 1062 the only type the others can take: other
 * types are refused with the list of what is creatable; the typed VF
 * refuses another type.
 */
static void test_not_creatable(void)
{
    g_autofree char *d1 = NULL, *d2 = NULL, *d3 = NULL, *d4 = NULL;
    g_autofree char *w1 = NULL, *w2 = NULL, *w3 = NULL, *w4 = NULL;

    if (!sriov_setup()) {
        return;
    }
    vf_set_type(vf[0], 1062);
    d1 = dev_str("host=%s,profile=1060", vf[1], NULL);
    w1 = g_strdup_printf("vGPU type '1060' cannot be made on VF %s now; the "
                         "types it can take now are: 1062 (NVIDIA L4-4Q)",
                         vf[1]);
    d2 = dev_str("parent=%s,profile=NVIDIA L4-8Q", pf, NULL);
    w2 = g_strdup_printf("vGPU type 'NVIDIA L4-8Q' cannot be made on GPU %s "
                         "now; the types its free VFs can take now are: "
                         "1062 (NVIDIA L4-4Q)", pf);
    d3 = dev_str("host=%s,profile=4242", vf[1], NULL);
    w3 = g_strdup_printf("vGPU type '4242' cannot be made on VF %s now",
                         vf[1]);
    d4 = dev_str("host=%s,profile=1060", vf[0], NULL);
    w4 = g_strdup_printf("VF %s has vGPU type 1062 already, not 1060: pass "
                         "host=%s without a type", vf[0], vf[0]);
    assert_refused(d1, false, w1);
    assert_refused(d2, false, w2);
    assert_refused(d3, false, w3);
    assert_refused(d4, false, w4);
    assert_type_final(vf[1], 0);
    assert_type_final(vf[0], 1062);
    vf_set_type(vf[0], 0);
    sriov_teardown();
}

/*
 * A full GPU (three 8Q vGPUs, one of them QEMU's): no VF takes a type, and
 * the error says the GPU is full.
 */
static void test_full(void)
{
    g_autofree char *d1 = NULL, *d2 = NULL, *d3 = NULL;
    g_autofree char *w1 = NULL, *w2 = NULL, *w3 = NULL;
    g_autofree char *creatable = NULL;
    QTestState *qts;

    if (!sriov_setup()) {
        return;
    }
    qts = qtest_initf("-machine q35 -nodefaults -device nv-vgpu,id=gpu0,"
                      "parent=%s,profile=1064", pf);
    assert_vgpu_on(qts, vf[0], 1064, "NVIDIA L4-8Q");
    vf_set_type(vf[1], 1064);
    vf_set_type(vf[2], 1064);
    creatable = vf_attr_read(vf[3], "nvidia/creatable_vgpu_types");
    g_assert_cmpstr(creatable, ==, "ID    : vGPU Name");

    d1 = dev_str("host=%s,profile=1064", vf[3], NULL);
    w1 = g_strdup_printf("no vGPU can be made on VF %s: its GPU %s is full",
                         vf[3], pf);
    d2 = dev_str("parent=%s,profile=1064", pf, NULL);
    w2 = g_strdup_printf("no vGPU can be made on GPU %s: it is full", pf);
    d3 = dev_str("host=%s", vf[3], NULL);
    w3 = g_strdup_printf("VF %s has no vGPU type: give it one with "
                         "profile=TYPE (type id or name; it can take now: "
                         "none, its GPU is full)", vf[3]);
    assert_refused(d1, false, w1);
    assert_refused(d2, false, w2);
    assert_refused(d3, false, w3);
    assert_type_final(vf[3], 0);

    qtest_quit(qts);
    assert_released(vf[0]);
    assert_type_final(vf[1], 1064);
    assert_type_final(vf[2], 1064);
    vf_set_type(vf[1], 0);
    vf_set_type(vf[2], 0);
    sriov_teardown();
}

/*
 * A VF held by another QEMU is refused in every form, naming the process:
 * by its record when that QEMU typed it, by its open VFIO group when the
 * VF was typed by someone else.  parent= passes both over for the next
 * free VF.  No QEMU's end releases another's VF.
 */
static void test_held_by_other_qemu(void)
{
    g_autofree char *group = NULL, *d1 = NULL, *d2 = NULL, *d3 = NULL;
    g_autofree char *d4 = NULL, *w1 = NULL, *w4 = NULL;
    QTestState *a, *a2, *b;

    if (!sriov_setup()) {
        return;
    }
    a = qtest_initf("-machine q35 -nodefaults -device nv-vgpu,id=gpu0,"
                    "host=%s,profile=1060", vf[0]);
    d1 = dev_str("host=%s", vf[0], NULL);
    d2 = dev_str("host=%s,profile=1060", vf[0], NULL);
    d3 = dev_str("host=%s,profile=1061", vf[0], NULL);
    w1 = g_strdup_printf("VF %s is in use by another QEMU (pid %d), which "
                         "gave it its vGPU type; stop that VM or choose "
                         "another VF", vf[0], (int)qtest_pid(a));
    assert_refused(d1, false, w1);
    assert_refused(d2, false, w1);
    assert_refused(d3, false, w1);

    vf_set_type(vf[1], 1060);
    a2 = qtest_initf("-machine q35 -nodefaults -device nv-vgpu,id=gpu0,"
                     "host=%s", vf[1]);
    group = vf_group_node(vf[1]);
    g_assert_true(pid_holds(qtest_pid(a2), group));
    d4 = dev_str("host=%s", vf[1], NULL);
    w4 = g_strdup_printf("VF %s is in use: %s is open in process %d (",
                         vf[1], group, (int)qtest_pid(a2));
    assert_refused(d4, false, w4);

    b = qtest_initf("-machine q35 -nodefaults -device nv-vgpu,id=gpu0,"
                    "parent=%s,profile=1060", pf);
    assert_vgpu_on(b, vf[2], 1060, "NVIDIA L4-1Q");
    qtest_quit(b);
    assert_released(vf[2]);
    g_assert_cmpint(vf_type(vf[0]), ==, 1060);
    qtest_quit(a2);
    assert_type_final(vf[1], 1060);
    qtest_quit(a);
    assert_released(vf[0]);
    vf_set_type(vf[1], 0);
    sriov_teardown();
}

/* SR-IOV off (sriov_numvfs 0): how to enable it; the VFs are gone. */
static void test_not_enabled(void)
{
    g_autofree char *d1 = NULL, *d2 = NULL, *v0 = NULL;
    g_autofree char *w1 = NULL, *w2 = NULL;

    if (!sriov_setup()) {
        return;
    }
    v0 = g_strdup(vf[0]);
    sriov_set_numvfs(pf, 0);
    d1 = dev_str("parent=%s,profile=1060", pf, NULL);
    w1 = g_strdup_printf("SR-IOV is not enabled on GPU %s (sriov_numvfs is "
                         "0): enable its virtual functions first, with "
                         "'/usr/lib/nvidia/sriov-manage -e %s' or 'echo %d > "
                         PCI_DEVICES "/%s/sriov_numvfs'", pf, pf, NUM_VFS,
                         pf);
    d2 = dev_str("host=%s,profile=1060", v0, NULL);
    w2 = g_strdup_printf("VF %s not found", v0);
    assert_refused(d1, false, w1);
    assert_refused(d2, false, w2);
    g_assert_true(sriov_setup());
    sriov_teardown();
}

/* ---------------------------------------------------------------------- */
/* Release after a failed start, after SIGKILL, never another's type */

/*
 * The start fails after QEMU typed the VF: in realize before VFIO opens
 * (a frame rate beyond the profile's), and after vfio-pci opened it
 * (migration required of a VF whose driver offers none).
 */
static void test_failed_start_releases(void)
{
    g_autofree char *d1 = NULL, *d2 = NULL;

    if (!sriov_setup()) {
        return;
    }
    d1 = dev_str("host=%s,profile=1060,console-fps=200", vf[0], NULL);
    assert_refused(d1, false, "console-fps=200 is outside 1 to 60, the frame "
                   "rate limit of vGPU profile");
    assert_released(vf[0]);

    /* parent= takes VF0, free again */
    vf_attr_write(vf[0], "nvsim/migration", "0");
    d2 = dev_str("parent=%s,profile=1061,enable-migration=on", pf, NULL);
    assert_refused(d2, false, "enable-migration=on, but the host driver of "
                   "vGPU");
    vf_attr_write(vf[0], "nvsim/migration", "1");
    assert_released(vf[0]);
    sriov_teardown();
}

/* QEMU on VF0 with nv-vgpu properties @props, started in the background */
static GPid spawn_qemu(const char *props)
{
    g_autofree char *dev = g_strdup_printf("nv-vgpu,host=%s,%s", vf[0],
                                           props);
    const char *argv[] = {
        qemu_binary(), "-machine", "q35", "-accel", "qtest", "-display",
        "none", "-nodefaults", "-monitor", "none", "-serial", "none",
        "-device", dev, NULL
    };
    g_autoptr(GError) gerr = NULL;
    GPid pid;

    g_assert_true(g_spawn_async(NULL, (char **)argv, NULL,
                                G_SPAWN_DO_NOT_REAP_CHILD |
                                G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                                &pid, &gerr));
    return pid;
}

/* State of process @pid (R, S, T...), 0 once it is gone */
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

static void kill_qemu(GPid pid)
{
    int status;

    g_assert_cmpint(kill(pid, SIGKILL), ==, 0);
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    g_assert_true(WIFSIGNALED(status));
    g_spawn_close_pid(pid);
}

/* QEMU stopped itself at x-stop-at=created: VF0 typed, VFIO not open */
static GPid qemu_stopped_after_typing(void)
{
    GPid pid = spawn_qemu("profile=1060,x-stop-at=created");
    int i;

    for (i = 0; i < 6000 && proc_state(pid) != 'T'; i++) {
        g_usleep(10 * 1000);
    }
    g_assert_cmpint(proc_state(pid), ==, 'T');
    g_assert_cmpint(vf_type(vf[0]), ==, 1060);
    g_assert_true(record_exists(vf[0]));
    return pid;
}

/*
 * SIGKILL of a running QEMU (VFIO open: the helper waits for its files to
 * close) and of one that had typed the VF but not opened it.
 */
static void test_sigkill_releases(void)
{
    g_autofree char *group = NULL;
    GPid pid;
    int i;

    if (!sriov_setup()) {
        return;
    }
    group = vf_group_node(vf[0]);
    pid = spawn_qemu("profile=1060");
    for (i = 0; i < 6000 && !pid_holds(pid, group); i++) {
        g_usleep(10 * 1000);
    }
    g_assert_true(pid_holds(pid, group));
    g_assert_cmpint(vf_type(vf[0]), ==, 1060);
    kill_qemu(pid);
    assert_released(vf[0]);

    kill_qemu(qemu_stopped_after_typing());
    assert_released(vf[0]);
    sriov_teardown();
}

/*
 * After QEMU typed VF0, another owner released it and typed it again for
 * its own use, with another type; then QEMU is killed.  Its release must
 * leave the VF alone.
 */
static void test_never_another_owners_type(void)
{
    GPid pid;

    if (!sriov_setup()) {
        return;
    }
    pid = qemu_stopped_after_typing();
    vf_set_type(vf[0], 0);
    vf_set_type(vf[0], 1061);
    kill_qemu(pid);
    assert_type_final(vf[0], 1061);
    vf_set_type(vf[0], 0);
    sriov_teardown();
}

/*
 * The same with the same type at another placement: QEMU's VF had
 * placement 0; then VF1 takes slot 0 and VF0 comes back at slot 1.
 */
static void test_never_another_owners_placement(void)
{
    g_autofree char *placement = NULL;
    GPid pid;

    if (!sriov_setup()) {
        return;
    }
    pid = qemu_stopped_after_typing();
    placement = vf_attr_read(vf[0], "nvidia/placement_id");
    g_assert_cmpstr(placement, ==, "0");
    vf_set_type(vf[0], 0);
    vf_set_type(vf[1], 1060);
    vf_set_type(vf[0], 1060);
    g_free(placement);
    placement = vf_attr_read(vf[0], "nvidia/placement_id");
    g_assert_cmpstr(placement, ==, "1");
    kill_qemu(pid);
    assert_type_final(vf[0], 1060);
    assert_type_final(vf[1], 1060);
    vf_set_type(vf[0], 0);
    vf_set_type(vf[1], 0);
    sriov_teardown();
}

/* nv-vgpu-reap, next to QEMU in the build tree; its exit status */
static int run_reap(const char *arg, char **out)
{
    g_autofree char *dir = g_path_get_dirname(qemu_binary());
    g_autofree char *reap = g_build_filename(dir, "tools", "vgpu",
                                             "nv-vgpu-reap", NULL);
    const char *argv[] = { reap, arg, NULL };
    g_autoptr(GError) gerr = NULL;
    int status;

    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL,
                               G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
                               out, NULL, &status, &gerr));
    g_assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

/*
 * QEMU and its release helper both SIGKILLed, as by systemd's final
 * kill: VF0 keeps its type, and QEMU's record says whose it is.
 */
static void make_orphan(void)
{
    GPid pid = qemu_stopped_after_typing();
    int helper = vgpu_reaper_pid(vf[0]);
    int i;

    g_assert_cmpint(helper, >, 0);
    g_assert_cmpint(kill(helper, SIGKILL), ==, 0);
    for (i = 0; i < 6000 && vgpu_reaper_pid(vf[0]); i++) {
        g_usleep(10 * 1000);
    }
    kill_qemu(pid);
    g_assert_cmpint(vgpu_reaper_pid(vf[0]), ==, 0);
    g_assert_cmpint(vf_type(vf[0]), ==, 1060);
    g_assert_true(record_exists(vf[0]));
}

/*
 * The orphan is released by nv-vgpu-reap (--list names it and releases
 * nothing), or else by the next QEMU that starts, on another VF.
 */
static void test_orphan_reaped(void)
{
    g_autofree char *out = NULL, *vgpu = NULL;
    const char *vgpus[1];
    Vm *vm;

    if (!sriov_setup()) {
        return;
    }
    make_orphan();
    g_assert_cmpint(run_reap("--list", &out), ==, 0);
    if (!strstr(out, vf[0]) || !strstr(out, "orphan")) {
        g_error("nv-vgpu-reap --list does not name orphan VF %s:\n%s",
                vf[0], out);
    }
    g_assert_cmpint(vf_type(vf[0]), ==, 1060);
    g_free(out);
    g_assert_cmpint(run_reap(NULL, &out), ==, 0);
    if (!strstr(out, "1 removed")) {
        g_error("nv-vgpu-reap did not release VF %s:\n%s", vf[0], out);
    }
    assert_type_final(vf[0], 0);

    make_orphan();
    vgpu = g_strdup_printf("host=%s,profile=1060", vf[1]);
    vgpus[0] = vgpu;
    vm = vm_start_vgpus(vgpus, 1, "", NULL, NULL, false);
    assert_type_final(vf[0], 0);
    g_assert_cmpint(vf_type(vf[1]), ==, 1060);
    vm_quit(vm);
    assert_released(vf[1]);
    sriov_teardown();
}

/* Unplugging a VF's vGPU releases the VF's type; QEMU runs on. */
static void test_unplug_releases(void)
{
    QTestState *qts;

    if (!sriov_setup()) {
        return;
    }
    qts = qtest_initf("-machine pc -nodefaults -device nv-vgpu,id=gpu0,"
                      "bus=pci.0,addr=05.0,host=%s,profile=1060", vf[0]);
    g_assert_cmpint(vf_type(vf[0]), ==, 1060);
    qpci_unplug_acpi_device_test(qts, "gpu0", 5);
    assert_released(vf[0]);
    qtest_qmp_assert_success(qts, "{ 'execute': 'query-status' }");
    qtest_quit(qts);
    sriov_teardown();
}

/* ---------------------------------------------------------------------- */
/* Several vGPUs in one VM */

/* QEMU with nv-vgpu devices @d1 and @d2 must fail to start, saying @want */
static void assert_pair_refused(const char *d1, const char *d2,
                                const char *want)
{
    g_autofree char *err = NULL;
    int status = run_qemu2(d1, d2, false, &err);

    if (status != 1 || !strstr(err, want)) {
        g_error("-device %s -device %s: exit status %d, stderr:\n%s\n"
                "wanted status 1 and '%s'", d1, d2, status, err, want);
    }
}

/*
 * Two VFs of one GPU in one VM: each is its own vGPU to the guest, and
 * both are released.  NVIDIA's rules hold across the backends: an L4
 * vGPU and a P4 one (an mdev) are refused, and so are two from one GPU
 * with multi-vgpu=full; nothing is left typed or created.
 */
static void test_multi(void)
{
    g_autofree char *v0 = NULL, *v1 = NULL, *d1 = NULL, *d2 = NULL;
    g_autofree char *want = NULL;
    const char *vgpus[2];
    int before, i;
    Vm *vm;

    if (!sriov_setup() || nvsim_skip_test()) {
        return;
    }
    v0 = g_strdup_printf("host=%s,profile=1060", vf[0]);
    v1 = g_strdup_printf("parent=%s,profile=1060", pf);
    vgpus[0] = v0;
    vgpus[1] = v1;
    vm = vm_start_vgpus(vgpus, 2, "", NULL, NULL, true);
    for (i = 0; i < 2; i++) {
        g_assert_cmpuint(qpci_io_readl(vm->gpu[i].dev, vm->gpu[i].bar0,
                                       REG_TYPE), ==, 1060);
        g_assert_cmpint(vf_type(vf[i]), ==, 1060);
    }
    vm_quit(vm);
    assert_released(vf[0]);
    assert_released(vf[1]);

    before = nvsim_available("nvsim-63");
    d1 = dev_str("id=gpu0,host=%s,profile=1060", vf[0], NULL);
    d2 = g_strdup("nv-vgpu,id=gpu1,parent=nvsim,mdev-type=nvsim-63");
    want = g_strdup_printf("nv-vgpu gpu1 (GRID P4-1Q on nvsim) and nv-vgpu "
                           "gpu0 (NVIDIA L4-1Q on %s) are vGPUs of board P4 "
                           "series Q and of board L4 series Q: NVIDIA allows "
                           "several vGPUs in one VM only of one board and "
                           "one series", pf);
    assert_pair_refused(d1, d2, want);
    assert_released(vf[0]);
    /* the mdev QEMU created goes too (its helper removes it) */
    for (i = 0; i < 6000 && nvsim_available("nvsim-63") != before; i++) {
        g_usleep(10 * 1000);
    }
    g_assert_cmpint(nvsim_available("nvsim-63"), ==, before);

    g_free(d1);
    g_free(d2);
    d1 = dev_str("id=gpu0,host=%s,profile=1060,multi-vgpu=full", vf[0], NULL);
    d2 = dev_str("id=gpu1,host=%s,profile=1060,multi-vgpu=full", vf[1], NULL);
    g_free(want);
    want = g_strdup_printf("are both on physical GPU %s: with multi-vgpu=full",
                           pf);
    assert_pair_refused(d1, d2, want);
    assert_released(vf[0]);
    assert_released(vf[1]);
    sriov_teardown();
}

/* ---------------------------------------------------------------------- */
/* The console */

/*
 * Head 0 of a VF's vGPU, pixel-exact in a screendump and over VNC, with
 * the VF's planes of kind @opaque ("region" or "dmabuf").
 */
static void test_console(const void *opaque)
{
    const char *plane = opaque;
    const char *client = vnc_client();
    g_autofree char *vgpu = NULL;
    const char *vgpus[1];
    Gpu *g;
    Vm *vm;

    if (!client || !sriov_setup()) {
        return;
    }
    vf_attr_write(vf[0], "nvsim/plane", plane);
    vgpu = g_strdup_printf("host=%s,profile=1060", vf[0]);
    vgpus[0] = vgpu;
    vm = vm_start_vgpus(vgpus, 1, "console-fps=30", NULL, NULL, true);
    g = &vm->gpu[0];
    gpu_set_mode(g, 1024, 768, FMT_XRGB8888, 0, 0);
    gpu_draw(g, 31);
    assert_screendump(vm, g);
    assert_vnc_snapshot(vm, g, client);
    /* a new mode and picture at an offset: the console follows */
    gpu_set_mode(g, 800, 600, FMT_XBGR8888, 64, 4 * MiB);
    gpu_draw(g, 77);
    assert_vnc_snapshot(vm, g, client);
    assert_screendump(vm, g);
    vm_quit(vm);
    vf_attr_write(vf[0], "nvsim/plane", "region");
    assert_released(vf[0]);
    sriov_teardown();
}

/* ---------------------------------------------------------------------- */
/* Migration between VFs */

/* A source VM on host=VF0 with type 1060, its guest's state set */
static Vm *source_on_vf0(GpuSnapshot *before)
{
    g_autofree char *vgpu = g_strdup_printf("host=%s,profile=1060", vf[0]);
    const char *vgpus[] = { vgpu };
    Vm *vm = vm_start_vgpus(vgpus, 1, "", NULL, NULL, true);

    source_prepare(vm);
    snapshot(&vm->gpu[0], before);
    return vm;
}

/* A destination with parent=PF: it picks its own VF, here VF1. */
static Vm *dest_on_pf(const char *incoming)
{
    g_autofree char *vgpu = g_strdup_printf("parent=%s,profile=1060", pf);
    const char *vgpus[] = { vgpu };
    Vm *vm = vm_start_vgpus(vgpus, 1, "", NULL, incoming, false);
    g_autofree char *got = qom_get_dev_str(vm->qts, "gpu0", "vgpu-vf");

    g_assert_cmpstr(got, ==, vf[1]);
    return vm;
}

/* Live, over a UNIX socket: VF0's vGPU arrives on VF1 as it was. */
static void test_live(void)
{
    g_autofree char *uri = NULL, *status = NULL;
    GpuSnapshot before[1];
    Vm *src, *dst;

    if (!sriov_setup()) {
        return;
    }
    src = source_on_vf0(before);
    dst = dest_on_pf("-incoming defer");
    uri = g_strdup_printf("unix:%s/migration.sock", dst->dir);
    set_caps(src->qts);
    set_caps(dst->qts);
    qtest_qmp_assert_success(dst->qts, "{ 'execute': 'migrate-incoming', "
                             "'arguments': { 'uri': %s } }", uri);
    vm_migrate(src->qts, uri, 0);
    status = wait_migration_end(src->qts);
    g_assert_cmpstr(status, ==, "completed");
    assert_vgpu_state(src->qts, 0, "stop");
    assert_destination_matches(src->gpu, dst, before);
    vm_quit(src);
    assert_released(vf[0]);
    g_assert_cmpint(vf_type(vf[1]), ==, 1060);
    vm_quit(dst);
    assert_released(vf[1]);
    sriov_teardown();
}

/*
 * Save to a file and restore (virsh save / restore), onto VF1, picked by
 * parent= while VF0, released by the saved VM, has been typed by someone
 * else meanwhile.
 */
static void test_save_restore(void)
{
    g_autofree char *dir = g_dir_make_tmp("nv-vgpu-save-XXXXXX", NULL);
    g_autofree char *file = g_strdup_printf("%s/vm.state", dir);
    g_autofree char *uri = g_strdup_printf("file:%s", file);
    g_autofree char *incoming = g_strdup_printf("-incoming %s", uri);
    g_autofree char *status = NULL;
    GpuSnapshot before[1];
    Gpu modes;
    Vm *src, *dst;

    if (!sriov_setup()) {
        return;
    }
    src = source_on_vf0(before);
    modes = src->gpu[0];
    qtest_qmp_assert_success(src->qts, "{ 'execute': 'stop' }");
    vm_migrate(src->qts, uri, 0);
    status = wait_migration_end(src->qts);
    g_assert_cmpstr(status, ==, "completed");
    vm_quit(src);
    assert_released(vf[0]);

    vf_set_type(vf[0], 1060);
    dst = dest_on_pf(incoming);
    wait_migration_status(dst->qts, "completed");
    qtest_qmp_assert_success(dst->qts, "{ 'execute': 'cont' }");
    assert_destination_matches(&modes, dst, before);
    vm_quit(dst);
    assert_released(vf[1]);
    assert_type_final(vf[0], 1060);
    vf_set_type(vf[0], 0);
    unlink(file);
    rmdir(dir);
    sriov_teardown();
}

/*
 * An mdev vGPU's state offered to a VF's (another type space): the
 * destination refuses before anything moves, the source runs on as it
 * was, and the destination's VF is released.
 */
static void test_refused_kind(void)
{
    g_autofree char *uuid = NULL, *vgpu = NULL, *uri = NULL;
    g_autofree char *status = NULL, *err = NULL, *extra = NULL;
    const char *vgpus[1];
    GpuSnapshot before[1];
    Vm *src, *dst;

    if (!sriov_setup() || nvsim_skip_test()) {
        return;
    }
    uuid = mdev_with_plane("region");
    src = vm_start(&uuid, 1, "", NULL, NULL, true);
    source_prepare(src);
    snapshot(&src->gpu[0], &before[0]);
    uri = g_strdup_printf("unix:%s/m.sock", src->dir);
    extra = g_strdup_printf("-incoming %s", uri);
    vgpu = g_strdup_printf("host=%s,profile=1060", vf[0]);
    vgpus[0] = vgpu;
    dst = vm_start_vgpus(vgpus, 1, "", NULL, extra, false);
    set_caps(src->qts);
    set_caps(dst->qts);
    vm_migrate(src->qts, uri, 0);
    status = wait_migration_end(src->qts);
    g_assert_cmpstr(status, ==, "failed");
    err = migration_error(src->qts);
    g_assert_nonnull(strstr(err, "Sibling indicated error"));
    assert_dest_refused(dst, "nv-vgpu gpu0: refusing the incoming vGPU "
                        "state: vGPU kind: the source is an mdev vGPU, this "
                        "one an sriov vGPU");
    assert_source_intact(src, before, "after a refused migration");
    vm_quit(src);
    nvsim_remove(uuid);
    assert_released(vf[0]);
    sriov_teardown();
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/nv-vgpu/sriov-vf/by-id", test_by_id);
    qtest_add_func("/nv-vgpu/sriov-vf/by-name", test_by_name);
    qtest_add_func("/nv-vgpu/sriov-vf/framebuffer-not-power-of-2",
                   test_framebuffer_not_pow2);
    qtest_add_func("/nv-vgpu/sriov-vf/typed-by-other", test_typed_by_other);
    qtest_add_func("/nv-vgpu/sriov-vf/not-creatable", test_not_creatable);
    qtest_add_func("/nv-vgpu/sriov-vf/full", test_full);
    qtest_add_func("/nv-vgpu/sriov-vf/held-by-other-qemu",
                   test_held_by_other_qemu);
    qtest_add_func("/nv-vgpu/sriov-vf/not-enabled", test_not_enabled);
    qtest_add_func("/nv-vgpu/sriov-vf/failed-start-releases",
                   test_failed_start_releases);
    qtest_add_func("/nv-vgpu/sriov-vf/sigkill-releases",
                   test_sigkill_releases);
    qtest_add_func("/nv-vgpu/sriov-vf/never-another-owners-type",
                   test_never_another_owners_type);
    qtest_add_func("/nv-vgpu/sriov-vf/never-another-owners-placement",
                   test_never_another_owners_placement);
    qtest_add_func("/nv-vgpu/sriov-vf/orphan-reaped", test_orphan_reaped);
    qtest_add_func("/nv-vgpu/sriov-vf/unplug-releases", test_unplug_releases);
    qtest_add_func("/nv-vgpu/sriov-vf/multi-vgpu", test_multi);
    qtest_add_data_func("/nv-vgpu/sriov-vf/console/region", "region",
                        test_console);
    qtest_add_data_func("/nv-vgpu/sriov-vf/console/dmabuf", "dmabuf",
                        test_console);
    qtest_add_func("/nv-vgpu/sriov-vf/migration/live", test_live);
    qtest_add_func("/nv-vgpu/sriov-vf/migration/save-restore",
                   test_save_restore);
    qtest_add_func("/nv-vgpu/sriov-vf/migration/refused-kind",
                   test_refused_kind);
    return g_test_run();
}
