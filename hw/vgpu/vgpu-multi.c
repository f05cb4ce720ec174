/*
 * nv-vgpu: the vGPUs of one VM checked against each other, and P2P cliques
 *
 * NVIDIA's vGPU manager refuses some combinations of vGPUs in one VM only
 * once the guest driver loads them; here they are refused before the guest
 * runs.  Every device is checked against those realized before it (so a
 * cold-plugged VM has every pair checked once the last one is realized,
 * and a hot-plugged device against the VM it joins); what needs all of
 * them at once, the size of each P2P clique, is checked when the machine
 * is complete.  The rules and their sources are in
 * docs/system/devices/nv-vgpu.rst, "Several vGPUs in one VM".
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/error-report.h"
#include "hw/qdev-core.h"
#include "system/system.h"
#include "hw/vgpu/vgpu-multi.h"
#include "hw/vgpu/vgpu-sysfs.h"

/* Realized nv-vgpu devices, oldest first. */
static GSList *vgpu_multi_devices;

static const char *const vgpu_multi_rule_names[] = {
    [VGPU_MULTI_FULL] = "full",
    [VGPU_MULTI_FRACTIONAL] = "fractional",
    [VGPU_MULTI_ANY] = "any",
};

bool vgpu_multi_parse_rules(const char *str, VgpuMultiRules *out,
                            Error **errp)
{
    size_t i;

    if (!str) {
        *out = VGPU_MULTI_FRACTIONAL;
        return true;
    }
    for (i = 0; i < ARRAY_SIZE(vgpu_multi_rule_names); i++) {
        if (!strcmp(str, vgpu_multi_rule_names[i])) {
            *out = i;
            return true;
        }
    }
    error_setg(errp, "multi-vgpu=%s: expected full (1:1 vGPUs only), "
               "fractional (vGPUs of any size of one board and series, the "
               "default) or any", str);
    return false;
}

/* "nv-vgpu gpu1 (GRID P4-1Q on nvsim)" */
static char *vgpu_multi_name(NvVgpuState *s)
{
    DeviceState *dev = DEVICE(s);
    g_autofree char *path = NULL;
    const char *who = dev->id;

    if (!who) {
        path = object_get_canonical_path(OBJECT(s));
        who = path ? path : s->host.id;
    }
    return g_strdup_printf("nv-vgpu %s (%s on %s)", who,
                           s->host.profile.name ? s->host.profile.name :
                           s->host.profile.type_id, s->host.parent);
}

/*
 * The board and series of an NVIDIA profile name: "GRID P4-8C" is board
 * P4, series C; "NVIDIA A100-4-20C" (MIG) board A100, series C.  False
 * for a name that is not in that form.
 */
static bool vgpu_multi_board_series(const VgpuProfile *p, char **board,
                                    char **series)
{
    const char *word, *dash, *end;

    if (!p->name) {
        return false;
    }
    word = strrchr(p->name, ' ');
    word = word ? word + 1 : p->name;
    dash = strchr(word, '-');
    end = word + strlen(word);
    if (!dash || dash == word || end == dash + 1 ||
        !g_ascii_isalpha(end[-1])) {
        return false;
    }
    while (end > dash + 1 && g_ascii_isalpha(end[-1])) {
        end--;
    }
    *board = g_strndup(word, dash - word);
    *series = g_strdup(end);
    return true;
}

/* Does @parent say that @peer is one of its NVLink peers?  -1: unknown. */
static int vgpu_multi_nvlink_lists(const char *root, const char *parent,
                                   const char *peer)
{
    g_autofree char *path = vgpu_host_path(root, "/sys/class/mdev_bus/%s/"
                                           "nvlink_peers", parent);
    g_autofree char *peers = vgpu_sysfs_read_opt(path);
    g_auto(GStrv) names = NULL;
    size_t i;

    if (!peers) {
        return -1;
    }
    names = g_strsplit_set(peers, " ,", -1);
    for (i = 0; names[i]; i++) {
        if (!strcmp(names[i], peer)) {
            return 1;
        }
    }
    return 0;
}

static bool vgpu_multi_check_pair(NvVgpuState *a, NvVgpuState *b,
                                  Error **errp)
{
    const VgpuProfile *pa = &a->host.profile, *pb = &b->host.profile;
    g_autofree char *na = vgpu_multi_name(a);
    g_autofree char *nb = vgpu_multi_name(b);
    g_autofree char *board_a = NULL, *series_a = NULL;
    g_autofree char *board_b = NULL, *series_b = NULL;
    VgpuMultiRules rules = MIN(a->multi_rules, b->multi_rules);
    bool same_gpu = !g_strcmp0(a->host.parent, b->host.parent);

    if (!g_strcmp0(a->host.id, b->host.id)) {
        error_setg(errp, "%s and %s are the same vGPU %s: a vGPU can be "
                   "given to a VM only once", na, nb, a->host.id);
        return false;
    }
    if (a->p2p_clique != VGPU_P2P_CLIQUE_NONE &&
        a->p2p_clique == b->p2p_clique) {
        int ab, ba;

        if (same_gpu) {
            error_setg(errp, "%s and %s are both in p2p-clique=%d on the "
                       "same physical GPU %s: the vGPUs of a P2P clique "
                       "must be on different GPUs", na, nb, a->p2p_clique,
                       a->host.parent);
            return false;
        }
        ab = vgpu_multi_nvlink_lists(a->host.root, a->host.parent,
                                     b->host.parent);
        ba = vgpu_multi_nvlink_lists(b->host.root, b->host.parent,
                                     a->host.parent);
        if (ab == 0 || ba == 0) {
            error_setg(errp, "%s and %s are both in p2p-clique=%d, but "
                       "GPUs %s and %s are not NVLink peers (the host's "
                       "nvlink_peers): P2P between vGPUs needs an NVLink",
                       na, nb, a->p2p_clique, a->host.parent,
                       b->host.parent);
            return false;
        }
    }
    if (rules == VGPU_MULTI_ANY) {
        return true;
    }
    if (vgpu_multi_board_series(pa, &board_a, &series_a) &&
        vgpu_multi_board_series(pb, &board_b, &series_b) &&
        (strcmp(board_a, board_b) || strcmp(series_a, series_b))) {
        error_setg(errp, "%s and %s are vGPUs of board %s series %s and of "
                   "board %s series %s: NVIDIA allows several vGPUs in one "
                   "VM only of one board and one series (multi-vgpu=any on "
                   "both devices lifts this)", na, nb, board_a, series_a,
                   board_b, series_b);
        return false;
    }
    if (rules == VGPU_MULTI_FULL) {
        NvVgpuState *frac = pa->max_instance != 1 ? a :
                            pb->max_instance != 1 ? b : NULL;

        if (same_gpu) {
            error_setg(errp, "%s and %s are both on physical GPU %s: with "
                       "multi-vgpu=full (the default) every vGPU of a VM "
                       "needs a GPU of its own; multi-vgpu=fractional on "
                       "both devices allows several from one GPU where the "
                       "driver and GPU support fractional multi-vGPU",
                       na, nb, a->host.parent);
            return false;
        }
        if (frac) {
            const VgpuProfile *pf = &frac->host.profile;
            g_autofree char *per_gpu = pf->max_instance ?
                g_strdup_printf("up to %u", pf->max_instance) :
                g_strdup("an unknown number");

            error_setg(errp, "%s and %s: %s is not a 1:1 vGPU (%s per "
                       "physical GPU), and with multi-vgpu=full several "
                       "vGPUs in one VM must all be 1:1; "
                       "multi-vgpu=fractional (the default) on both "
                       "devices allows it where the driver and GPU support "
                       "fractional multi-vGPU", na, nb,
                       frac == a ? na : nb, per_gpu);
            return false;
        }
    }
    return true;
}

bool vgpu_multi_check_uuid(NvVgpuState *s, const char *uuid, Error **errp)
{
    GSList *l;

    for (l = vgpu_multi_devices; l; l = l->next) {
        NvVgpuState *o = l->data;

        if (!g_strcmp0(o->host.id, uuid)) {
            g_autofree char *other = vgpu_multi_name(o);

            error_setg(errp, "nv-vgpu %s and %s are the same vGPU %s: a "
                       "vGPU can be given to a VM only once",
                       DEVICE(s)->id ? DEVICE(s)->id : "(no id)", other,
                       uuid);
            return false;
        }
    }
    return true;
}

/* How many devices other than @s are in clique @clique. */
static unsigned vgpu_multi_clique_others(NvVgpuState *s, int clique)
{
    unsigned n = 0;
    GSList *l;

    for (l = vgpu_multi_devices; l; l = l->next) {
        NvVgpuState *o = l->data;

        n += o != s && o->p2p_clique == clique;
    }
    return n;
}

static void vgpu_multi_clique_error(NvVgpuState *s, Error **errp)
{
    g_autofree char *name = vgpu_multi_name(s);

    error_setg(errp, "%s is alone in p2p-clique=%d: a P2P clique needs at "
               "least two vGPUs of the VM, on different NVLink-connected "
               "GPUs", name, s->p2p_clique);
}

bool vgpu_multi_check_device(NvVgpuState *s, Error **errp)
{
    VFIOPCIDevice *vdev = VFIO_PCI(s);
    const VgpuProfile *p = &s->host.profile;

    if (s->p2p_clique == VGPU_P2P_CLIQUE_NONE) {
        return true;
    }
    if (s->p2p_clique < 0 || s->p2p_clique > VGPU_P2P_CLIQUE_MAX) {
        error_setg(errp, "p2p-clique=%d is outside 0 to %d",
                   s->p2p_clique, VGPU_P2P_CLIQUE_MAX);
        return false;
    }
    if (vdev->nv_gpudirect_clique != 0xFF) {
        error_setg(errp, "use p2p-clique= or x-nv-gpudirect-clique=, not "
                   "both");
        return false;
    }
    if (p->max_instance != 1) {
        g_autofree char *summary = vgpu_profile_summary(p);

        error_setg(errp, "p2p-clique=%d needs a 1:1 vGPU (one that has a "
                   "physical GPU to itself), but vGPU profile %s is not",
                   s->p2p_clique, summary);
        return false;
    }
    /* vfio-pci's GPUDirect capability carries the clique to the guest. */
    vdev->nv_gpudirect_clique = s->p2p_clique;
    return true;
}

bool vgpu_multi_check_plug(NvVgpuState *s, Error **errp)
{
    GSList *l;

    for (l = vgpu_multi_devices; l; l = l->next) {
        if (!vgpu_multi_check_pair(s, l->data, errp)) {
            return false;
        }
    }
    /* Cold-plugged cliques are counted once all devices are there. */
    if (phase_check(PHASE_MACHINE_READY) &&
        s->p2p_clique != VGPU_P2P_CLIQUE_NONE &&
        !vgpu_multi_clique_others(s, s->p2p_clique)) {
        vgpu_multi_clique_error(s, errp);
        return false;
    }
    return true;
}

static void vgpu_multi_machine_done(Notifier *n, void *data)
{
    Error *err = NULL;
    GSList *l;

    for (l = vgpu_multi_devices; l; l = l->next) {
        NvVgpuState *s = l->data;

        if (s->p2p_clique != VGPU_P2P_CLIQUE_NONE &&
            !vgpu_multi_clique_others(s, s->p2p_clique)) {
            vgpu_multi_clique_error(s, &err);
            error_report_err(err);
            exit(1);
        }
    }
}

static Notifier vgpu_multi_done_notifier = {
    .notify = vgpu_multi_machine_done,
};

void vgpu_multi_add(NvVgpuState *s)
{
    static bool registered;

    if (!registered && !phase_check(PHASE_MACHINE_READY)) {
        qemu_add_machine_init_done_notifier(&vgpu_multi_done_notifier);
        registered = true;
    }
    vgpu_multi_devices = g_slist_append(vgpu_multi_devices, s);
}

void vgpu_multi_remove(NvVgpuState *s)
{
    vgpu_multi_devices = g_slist_remove(vgpu_multi_devices, s);
}
