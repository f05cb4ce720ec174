/*
 * nv-vgpu-reap: list the vGPUs that QEMU created, and remove the ones
 * left behind by QEMUs that were killed together with their removal
 * helpers (e.g. by systemd's final SIGKILL of a unit).
 *
 * A vGPU is removed only when its record (/run/nv-vgpu/UUID) is locked by
 * nobody, the QEMU that created it is gone, and no process holds the vGPU
 * open; vGPUs that QEMU did not create (mdevctl, libvirt) have no record
 * and are never touched.  See docs/system/devices/nv-vgpu.rst.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/vgpu/vgpu-record.h"

typedef struct ReapCounts {
    int reaped, in_use, left;
} ReapCounts;

static void report(const VgpuRecord *r, VgpuRecordState state, bool reaped,
                   const char *why, void *opaque)
{
    ReapCounts *c = opaque;
    const char *what;

    switch (state) {
    case VGPU_RECORD_HELD:
        what = r->removing || !vgpu_record_owner_alive(r) ?
               "being removed" : "in use";
        c->in_use++;
        break;
    case VGPU_RECORD_STRAY:
        what = "owner runs, record not held: left alone";
        c->left++;
        break;
    case VGPU_RECORD_ORPHAN:
        what = reaped ? "orphan: removed" : why ? "orphan: NOT removed" :
               "orphan";
        if (reaped) {
            c->reaped++;
        } else {
            c->left++;
        }
        break;
    default:
        return;
    }
    printf("%s %s %s %s pid %" PRId64 ": %s%s%s\n",
           r->uuid ? r->uuid : "?", r->backend ? r->backend : "?",
           r->parent ? r->parent : "?", r->type ? r->type : "?",
           r->owner_pid, what, why ? ": " : "", why ? why : "");
}

int main(int argc, char **argv)
{
    g_autofree char *root = NULL;
    g_autofree char *parent = NULL;
    gboolean list = false;
    GOptionEntry entries[] = {
        { "list", 'l', 0, G_OPTION_ARG_NONE, &list,
          "Only list the records, remove nothing", NULL },
        { "parent", 'p', 0, G_OPTION_ARG_STRING, &parent,
          "Only the vGPUs of this parent GPU", "PARENT" },
        { "root", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_FILENAME, &root,
          "Prefix of every host path (for tests)", "DIR" },
        { NULL }
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);
    g_autoptr(GError) gerr = NULL;
    ReapCounts c = { 0 };
    int failed;

    g_option_context_set_summary(ctx,
        "Remove the vGPUs that QEMU (nv-vgpu) created and that were left\n"
        "behind when QEMU and its removal helper were killed.  Prints one\n"
        "line per record in " VGPU_RECORDS_DIR ": UUID BACKEND PARENT TYPE\n"
        "pid OWNER: STATE.  Exit status 0 when no orphan was left, 1 when\n"
        "one could not be removed (e.g. held open), 2 on bad usage.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &gerr) || argc > 1) {
        fprintf(stderr, "nv-vgpu-reap: %s\n",
                gerr ? gerr->message : "unexpected argument");
        return 2;
    }
    failed = vgpu_records_reap(root ? root : "", parent, list, report, &c);
    printf("nv-vgpu-reap: %d removed, %d in use, %d left\n", c.reaped,
           c.in_use, c.left);
    return failed ? 1 : 0;
}
