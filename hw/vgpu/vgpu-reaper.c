/*
 * The helper that removes a vGPU QEMU created once QEMU lets go of it
 *
 * Removing a vGPU blocks until every file that refers to its VFIO device
 * is closed, and QEMU only closes them when vfio-pci is finalized or the
 * process ends, on whatever path, SIGKILL included.  So removal is left to
 * a tiny helper (/bin/sh) that waits for the end of a socket whose other
 * end only QEMU holds (close-on-exec): when nv-vgpu lets go of the vGPU,
 * or QEMU exits or dies, the helper writes the remove attribute, then
 * deletes the vGPU's record (vgpu-record.h).  It inherits the record's
 * locked file, so the record stays locked until the removal is over.
 *
 * The helper must outlive QEMU under every way an operator stops it:
 * it runs in a session and process group of its own (Ctrl-C, kill --
 * -PGID, timeout(1) do not reach it) and ignores SIGHUP, SIGINT, SIGQUIT
 * and SIGTERM (systemd's KillMode=control-group sends SIGTERM to every
 * process of the unit; the helper is done as soon as QEMU has exited).
 * A SIGKILL of both, e.g. systemd's final one, leaves the record, which
 * the next nv-vgpu start on the parent or nv-vgpu-reap deals with.  QEMU
 * notices a helper that died (the socket reads EOF) and starts a new one.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/error-report.h"
#include "qemu/main-loop.h"
#include "qemu/sockets.h"
#include <poll.h>
#include "hw/vgpu/vgpu-reaper.h"
#include "hw/vgpu/vgpu-sysfs.h"
#include "trace.h"

struct VgpuReaper {
    char *root;
    VgpuRecord *record;     /* ours, locked; the helper has the same file */
    int sock;               /* our end of the helper's stdin; -1: none */
    bool watched;
};

/*
 * $1 UUID (to tell helpers apart), $2 record, $3 device, $4 remove
 * attribute, $5 value, $6 host root.  "keep" on the socket: the vGPU is
 * not ours.  read is a builtin: no other process holds the socket.
 *
 * The record's guard= and idle= lines (vgpu-record.h) are checked before
 * each try: a guard that fails means that someone else has the vGPU (a
 * VF typed again), which stays.  The kernel closes a killed QEMU's files
 * in no particular order, so an idle node or a refused write is retried
 * for up to 5 s before the record is left for nv-vgpu-reap.
 */
static const char reaper_script[] =
    "trap '' HUP INT QUIT TERM; keep=; "
    "while read -r m; do [ \"$m\" != keep ] || keep=1; done; "
    "[ -z \"$keep\" ] || exit 0; "
    "i=0; "
    "while [ -e \"$3\" ]; do "
    "busy=; "
    "while IFS= read -r l; do case $l in "
    "guard=*) g=${l#guard=}; want=${g%% *}; p=$6${g#* }; have=; "
    "read -r have <\"$p\" 2>/dev/null; "
    "[ \"$have\" = \"$want\" ] || { echo \"nv-vgpu: vGPU $1 is not the one "
    "QEMU made any more ($p reads '$have', not '$want'); left in place\" "
    ">&2; exec /bin/rm -f -- \"$2\"; };; "
    "idle=*) n=$6${l#idle=}; for f in /proc/[0-9]*/fd/*; do "
    "[ ! \"$f\" -ef \"$n\" ] || busy=1; done;; "
    "esac; done <\"$2\"; "
    "if [ -z \"$busy\" ] && { echo \"$5\" >\"$4\"; } 2>/dev/null; then "
    "break; fi; "
    "i=$((i + 1)); if [ $i -ge 100 ]; then "
    "echo \"nv-vgpu: could not remove vGPU $1 at $3; its record $2 stays "
    "for nv-vgpu-reap\" >&2; exit 1; fi; sleep 0.05; "
    "done; "
    "exec /bin/rm -f -- \"$2\"";

void vgpu_helper_detach(void)
{
    struct sigaction ign = { .sa_handler = SIG_IGN };
    sigset_t none;

    setsid();
    sigaction(SIGHUP, &ign, NULL);
    sigaction(SIGINT, &ign, NULL);
    sigaction(SIGQUIT, &ign, NULL);
    sigaction(SIGTERM, &ign, NULL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

/* In the helper, between fork and exec: only async-signal-safe calls. */
static void reaper_child_setup(gpointer opaque)
{
    int record_fd = GPOINTER_TO_INT(opaque);

    vgpu_helper_detach();
    /* glib marks every other fd close-on-exec; keep the record's lock. */
    fcntl(record_fd, F_SETFD, 0);
}

static bool reaper_spawn(VgpuReaper *r, Error **errp)
{
    VgpuRecord *rec = r->record;
    g_autofree char *device = vgpu_host_path(r->root, "%s", rec->device);
    g_autofree char *remove = vgpu_host_path(r->root, "%s", rec->remove);
    const char *argv[] = {
        "/bin/sh", "-c", reaper_script, "nv-vgpu-reaper", rec->uuid,
        rec->path, device, remove, rec->remove_value, r->root, NULL
    };
    g_autoptr(GError) gerr = NULL;
    int fds[2];

    if (qemu_socketpair(AF_UNIX, SOCK_STREAM, 0, fds) < 0) {
        error_setg_errno(errp, errno, "cannot make a socket pair");
        return false;
    }
    /*
     * Without G_SPAWN_DO_NOT_REAP_CHILD glib forks twice: the helper is
     * not our child, and never a zombie of ours.
     */
    if (!g_spawn_async_with_fds(NULL, (char **)argv, NULL,
                                G_SPAWN_STDOUT_TO_DEV_NULL,
                                reaper_child_setup,
                                GINT_TO_POINTER(rec->fd), NULL,
                                fds[1], -1, -1, &gerr)) {
        close(fds[0]);
        close(fds[1]);
        error_setg(errp, "cannot start the helper that removes vGPU %s "
                   "when QEMU is done with it: %s", rec->uuid, gerr->message);
        return false;
    }
    close(fds[1]);
    r->sock = fds[0];
    trace_vgpu_reaper_start(rec->uuid);
    return true;
}

VgpuReaper *vgpu_reaper_start(const char *root, VgpuRecord *record,
                              Error **errp)
{
    VgpuReaper *r = g_new0(VgpuReaper, 1);

    r->root = g_strdup(root);
    r->record = record;
    r->sock = -1;
    if (!reaper_spawn(r, errp)) {
        /* Nothing was created yet: the record goes too. */
        vgpu_record_drop(record);
        vgpu_record_free(record);
        g_free(r->root);
        g_free(r);
        return NULL;
    }
    return r;
}

void vgpu_reaper_add_guard(VgpuReaper *r, const char *path,
                           const char *value)
{
    /* The helper reads the guards from the record when it is time. */
    vgpu_record_add_guard(r->record, path, value);
}

bool vgpu_reaper_alive(VgpuReaper *r)
{
    struct pollfd pfd = { .fd = r->sock, .events = POLLIN };
    char c;

    if (r->sock < 0) {
        return false;
    }
    /* The helper never writes: readable means it has gone. */
    if (RETRY_ON_EINTR(poll(&pfd, 1, 0)) <= 0) {
        return true;
    }
    return recv(r->sock, &c, 1, MSG_PEEK | MSG_DONTWAIT) < 0 &&
           errno == EAGAIN;
}

static void reaper_unwatch(VgpuReaper *r)
{
    if (r->watched) {
        qemu_set_fd_handler(r->sock, NULL, NULL, NULL);
        r->watched = false;
    }
}

bool vgpu_reaper_rearm(VgpuReaper *r, Error **errp)
{
    bool watched = r->watched;

    if (vgpu_reaper_alive(r)) {
        return true;
    }
    trace_vgpu_reaper_died(r->record->uuid);
    reaper_unwatch(r);
    if (r->sock >= 0) {
        close(r->sock);
        r->sock = -1;
    }
    if (!reaper_spawn(r, errp)) {
        return false;
    }
    if (watched) {
        vgpu_reaper_watch(r);
    }
    return true;
}

static void reaper_readable(void *opaque)
{
    VgpuReaper *r = opaque;
    Error *err = NULL;

    if (vgpu_reaper_alive(r)) {
        return;
    }
    if (!vgpu_reaper_rearm(r, &err)) {
        /* Stop polling a dead socket; finish() removes it by itself. */
        error_report_err(err);
        warn_report("nv-vgpu: if QEMU is killed now, vGPU %s stays; its "
                    "record %s lets nv-vgpu-reap remove it",
                    r->record->uuid, r->record->path);
    } else {
        warn_report("nv-vgpu: the helper that removes vGPU %s when QEMU "
                    "ends has died (killed?); started a new one",
                    r->record->uuid);
    }
}

void vgpu_reaper_watch(VgpuReaper *r)
{
    if (r->sock >= 0 && !r->watched) {
        qemu_set_fd_handler(r->sock, reaper_readable, NULL, r);
        r->watched = true;
    }
}

void vgpu_reaper_finish(VgpuReaper *r, bool remove)
{
    VgpuRecord *rec = r->record;
    Error *err = NULL;

    reaper_unwatch(r);
    if (!remove) {
        if (r->sock >= 0 &&
            RETRY_ON_EINTR(send(r->sock, "keep\n", 5, MSG_NOSIGNAL)) != 5) {
            /* It died: nobody is left to remove the vGPU anyway. */
        }
        vgpu_record_drop(rec);
    } else {
        vgpu_record_set_removing(rec);
        if (vgpu_reaper_alive(r) || vgpu_reaper_rearm(r, &err)) {
            /* The helper keeps the record locked until it is done. */
            trace_vgpu_reaper_hand_over(rec->uuid);
        } else {
            /* QEMU has closed the vGPU by now: remove it ourselves. */
            error_free(err);
            err = NULL;
            if (!vgpu_record_reap(r->root, rec, &err)) {
                error_report_err(err);
            }
        }
    }
    if (r->sock >= 0) {
        close(r->sock);
    }
    vgpu_record_free(rec);
    g_free(r->root);
    g_free(r);
}
