/*
 * Records of the vGPUs that QEMU created (see vgpu-record.h)
 *
 * A record is "key=value" lines; "state=" comes last so that letting go
 * is one write at its offset.  It is written under a temporary name,
 * locked, and linked into place, so that nobody ever sees an unlocked
 * record of a live owner, and link() decides between two QEMUs racing for
 * one UUID.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/cutils.h"
#include "qemu/error-report.h"
#include <sys/file.h>
#include "hw/vgpu/vgpu-record.h"
#include "hw/vgpu/vgpu-sysfs.h"
#include "trace.h"

#define STATE_OWNED     "state=owned\n"
#define STATE_REMOVING  "state=removing\n"

VgpuRecord *vgpu_record_new(const char *uuid, const char *backend,
                            const char *parent, const char *type,
                            const char *device, const char *remove,
                            const char *remove_value)
{
    VgpuRecord *r = g_new0(VgpuRecord, 1);

    r->fd = -1;
    r->uuid = g_strdup(uuid);
    r->backend = g_strdup(backend);
    r->parent = g_strdup(parent);
    r->type = g_strdup(type);
    r->device = g_strdup(device);
    r->remove = g_strdup(remove);
    r->remove_value = g_strdup(remove_value);
    r->owner_pid = getpid();
    r->guards = g_ptr_array_new_with_free_func(g_free);
    r->idle = g_ptr_array_new_with_free_func(g_free);
    return r;
}

void vgpu_record_free(VgpuRecord *r)
{
    if (!r) {
        return;
    }
    if (r->fd >= 0) {
        close(r->fd);
    }
    g_free(r->path);
    g_free(r->uuid);
    g_free(r->backend);
    g_free(r->parent);
    g_free(r->type);
    g_free(r->device);
    g_free(r->remove);
    g_free(r->remove_value);
    g_ptr_array_unref(r->guards);
    g_ptr_array_unref(r->idle);
    g_free(r);
}

/* Field 22 of /proc/PID/stat, the start time in clock ticks; 0: none. */
static uint64_t proc_start_time(int64_t pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%" PRId64 "/stat", pid);
    g_autofree char *stat = NULL;
    g_auto(GStrv) fields = NULL;
    const char *end;
    uint64_t start = 0;

    if (pid <= 0 || !g_file_get_contents(path, &stat, NULL, NULL)) {
        return 0;
    }
    /* The command name (field 2) may hold spaces and ')'. */
    end = strrchr(stat, ')');
    if (!end) {
        return 0;
    }
    fields = g_strsplit(end + 1, " ", 0);
    /* fields[0] is empty, [1] is field 3 (state), so field 22 is [20] */
    if (g_strv_length(fields) <= 20 ||
        qemu_strtou64(fields[20], NULL, 10, &start) < 0) {
        return 0;
    }
    return start;
}

bool vgpu_record_owner_alive(const VgpuRecord *r)
{
    uint64_t start = proc_start_time(r->owner_pid);

    return start && start == r->owner_start;
}

static char *record_text(const VgpuRecord *r)
{
    GString *s = g_string_new(NULL);
    guint i;

    g_string_printf(s, "uuid=%s\nbackend=%s\nparent=%s\ntype=%s\n"
                    "device=%s\nremove=%s\nremove-value=%s\n"
                    "owner-pid=%" PRId64 "\nowner-start=%" PRIu64 "\n",
                    r->uuid, r->backend, r->parent, r->type, r->device,
                    r->remove, r->remove_value, r->owner_pid,
                    r->owner_start);
    for (i = 0; i < r->guards->len; i++) {
        g_string_append_printf(s, "guard=%s\n",
                               (char *)g_ptr_array_index(r->guards, i));
    }
    for (i = 0; i < r->idle->len; i++) {
        g_string_append_printf(s, "idle=%s\n",
                               (char *)g_ptr_array_index(r->idle, i));
    }
    /* last, see vgpu_record_set_removing() */
    g_string_append(s, r->removing ? STATE_REMOVING : STATE_OWNED);
    return g_string_free(s, false);
}

static bool write_all(int fd, const char *buf, size_t len, off_t off)
{
    while (len) {
        ssize_t n = RETRY_ON_EINTR(pwrite(fd, buf, len, off));

        if (n <= 0) {
            return false;
        }
        buf += n;
        len -= n;
        off += n;
    }
    return true;
}

VgpuRecordClaim vgpu_record_claim(const char *root, VgpuRecord *r,
                                  Error **errp)
{
    g_autofree char *dir = vgpu_host_path(root, VGPU_RECORDS_DIR);
    g_autofree char *tmp = NULL;
    g_autofree char *text = NULL;
    int fd, err;

    if (g_mkdir_with_parents(dir, 0755) < 0) {
        error_setg_errno(errp, errno, "cannot make %s, where QEMU keeps the "
                         "records of the vGPUs it creates", dir);
        return VGPU_RECORD_FAILED;
    }
    g_free(r->path);
    r->path = g_strdup_printf("%s/%s", dir, r->uuid);
    r->owner_pid = getpid();
    r->owner_start = proc_start_time(r->owner_pid);
    r->removing = false;

    tmp = g_strdup_printf("%s/.%s.%d.tmp", dir, r->uuid, (int)getpid());
    fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 && errno == EEXIST) {
        /* A leftover of ours from a pid before: nobody else uses it. */
        unlink(tmp);
        fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    }
    if (fd < 0) {
        error_setg_errno(errp, errno, "cannot write %s, the record of vGPU "
                         "%s", tmp, r->uuid);
        return VGPU_RECORD_FAILED;
    }
    text = record_text(r);
    if (flock(fd, LOCK_EX | LOCK_NB) < 0 ||
        !write_all(fd, text, strlen(text), 0)) {
        err = errno ? errno : EIO;
        close(fd);
        unlink(tmp);
        error_setg_errno(errp, err, "cannot write %s, the record of vGPU %s",
                         tmp, r->uuid);
        return VGPU_RECORD_FAILED;
    }
    if (link(tmp, r->path) < 0) {
        err = errno;
        close(fd);
        unlink(tmp);
        if (err == EEXIST) {
            return VGPU_RECORD_TAKEN;
        }
        error_setg_errno(errp, err, "cannot write %s, the record of vGPU %s",
                         r->path, r->uuid);
        return VGPU_RECORD_FAILED;
    }
    unlink(tmp);
    r->fd = fd;
    trace_vgpu_record_claim(r->uuid, r->path);
    return VGPU_RECORD_CLAIMED;
}

/* Rewrite our locked record after a change; it only ever grows. */
static void record_rewrite(VgpuRecord *r)
{
    g_autofree char *text = NULL;

    if (r->fd < 0) {
        return;
    }
    text = record_text(r);
    if (!write_all(r->fd, text, strlen(text), 0)) {
        warn_report("nv-vgpu: cannot update %s: %s", r->path,
                    strerror(errno));
    }
}

void vgpu_record_add_guard(VgpuRecord *r, const char *path,
                           const char *value)
{
    g_ptr_array_add(r->guards, g_strdup_printf("%s %s", value, path));
    record_rewrite(r);
}

void vgpu_record_add_idle(VgpuRecord *r, const char *node)
{
    g_ptr_array_add(r->idle, g_strdup(node));
    record_rewrite(r);
}

bool vgpu_record_guards_hold(const char *root, const VgpuRecord *r,
                             char **why)
{
    guint i;

    for (i = 0; i < r->guards->len; i++) {
        const char *g = g_ptr_array_index(r->guards, i);
        const char *sp = strchr(g, ' ');
        g_autofree char *want = sp ? g_strndup(g, sp - g) : NULL;
        g_autofree char *path = sp ? vgpu_host_path(root, "%s", sp + 1)
                                   : NULL;
        g_autofree char *have = path ? vgpu_sysfs_read_opt(path) : NULL;

        if (!want || g_strcmp0(have, want)) {
            *why = g_strdup_printf("%s reads '%s', not '%s' as QEMU left "
                                   "it", sp ? sp + 1 : g,
                                   have ? have : "(nothing)",
                                   want ? want : "?");
            return false;
        }
    }
    return true;
}

void vgpu_record_set_removing(VgpuRecord *r)
{
    g_autofree char *text = NULL;
    const char *state;

    if (r->fd < 0 || r->removing) {
        return;
    }
    text = record_text(r);
    state = strstr(text, STATE_OWNED);
    r->removing = true;
    /* One write at the offset of the state: readers see either. */
    if (!write_all(r->fd, STATE_REMOVING, strlen(STATE_REMOVING),
                   state - text)) {
        warn_report("nv-vgpu: cannot update %s: %s", r->path,
                    strerror(errno));
    }
}

void vgpu_record_drop(VgpuRecord *r)
{
    if (r->fd >= 0) {
        trace_vgpu_record_drop(r->uuid, r->path);
        unlink(r->path);
        close(r->fd);
        r->fd = -1;
    }
}

/* The string members of a record file, by key */
static const struct {
    const char *key;
    size_t offset;
} record_strings[] = {
    { "uuid", offsetof(VgpuRecord, uuid) },
    { "backend", offsetof(VgpuRecord, backend) },
    { "parent", offsetof(VgpuRecord, parent) },
    { "type", offsetof(VgpuRecord, type) },
    { "device", offsetof(VgpuRecord, device) },
    { "remove", offsetof(VgpuRecord, remove) },
    { "remove-value", offsetof(VgpuRecord, remove_value) },
};

/* Set string member @key of @r to @v; false if @key is not one. */
static bool record_set_string(VgpuRecord *r, const char *key, const char *v)
{
    size_t i;

    for (i = 0; i < ARRAY_SIZE(record_strings); i++) {
        if (!strcmp(key, record_strings[i].key)) {
            char **field = (char **)((char *)r + record_strings[i].offset);

            g_free(*field);
            *field = g_strdup(v);
            return true;
        }
    }
    return false;
}

static VgpuRecord *record_parse(const char *path, const char *text)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", 0);
    VgpuRecord *r = g_new0(VgpuRecord, 1);
    size_t i;

    r->fd = -1;
    r->path = g_strdup(path);
    r->guards = g_ptr_array_new_with_free_func(g_free);
    r->idle = g_ptr_array_new_with_free_func(g_free);
    for (i = 0; lines[i]; i++) {
        char *eq = strchr(lines[i], '=');
        const char *v;

        if (!eq) {
            continue;
        }
        *eq = '\0';
        v = eq + 1;
        if (record_set_string(r, lines[i], v)) {
            continue;
        } else if (!strcmp(lines[i], "owner-pid")) {
            qemu_strtoi64(v, NULL, 10, &r->owner_pid);
        } else if (!strcmp(lines[i], "owner-start")) {
            qemu_strtou64(v, NULL, 10, &r->owner_start);
        } else if (!strcmp(lines[i], "guard")) {
            g_ptr_array_add(r->guards, g_strdup(v));
        } else if (!strcmp(lines[i], "idle")) {
            g_ptr_array_add(r->idle, g_strdup(v));
        } else if (!strcmp(lines[i], "state")) {
            r->removing = !strcmp(v, "removing");
        }
    }
    return r;
}

/*
 * Only absolute paths without ".." are trusted from a record: it names
 * what a reaper writes to, as root.
 */
static bool record_path_ok(const char *path, const char *prefix)
{
    return path && g_str_has_prefix(path, prefix) &&
           !strstr(path, "/../") && !g_str_has_suffix(path, "/..");
}

static bool record_paths_ok(const VgpuRecord *r)
{
    guint i;

    if (!record_path_ok(r->device, "/sys/") ||
        !record_path_ok(r->remove, "/sys/")) {
        return false;
    }
    for (i = 0; i < r->guards->len; i++) {
        const char *sp = strchr(g_ptr_array_index(r->guards, i), ' ');

        if (!sp || !record_path_ok(sp + 1, "/sys/")) {
            return false;
        }
    }
    for (i = 0; i < r->idle->len; i++) {
        if (!record_path_ok(g_ptr_array_index(r->idle, i), "/dev/")) {
            return false;
        }
    }
    return r->uuid && r->remove_value;
}

/* Read the record at @path, locked (ORPHAN, STRAY) or not (HELD). */
static VgpuRecordState record_look_path(const char *path, VgpuRecord **out)
{
    g_autofree char *text = NULL;
    struct stat st_fd, st_path;
    VgpuRecord *r;
    int fd;

    *out = NULL;
    for (;;) {
        fd = open(path, O_RDWR | O_CLOEXEC);
        if (fd < 0) {
            return VGPU_RECORD_NONE;
        }
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
            g_file_get_contents(path, &text, NULL, NULL);
            close(fd);
            *out = record_parse(path, text ? text : "");
            return VGPU_RECORD_HELD;
        }
        /* Locked: but is it still the record, or one its reaper deleted? */
        if (fstat(fd, &st_fd) == 0 && stat(path, &st_path) == 0 &&
            st_fd.st_ino == st_path.st_ino && st_fd.st_dev == st_path.st_dev) {
            break;
        }
        close(fd);
    }
    g_file_get_contents(path, &text, NULL, NULL);
    r = record_parse(path, text ? text : "");
    r->fd = fd;
    *out = r;
    if (!r->removing && vgpu_record_owner_alive(r)) {
        return VGPU_RECORD_STRAY;
    }
    return VGPU_RECORD_ORPHAN;
}

VgpuRecordState vgpu_record_look(const char *root, const char *uuid,
                                 VgpuRecord **out)
{
    g_autofree char *path = vgpu_host_path(root, VGPU_RECORDS_DIR "/%s",
                                           uuid);

    return record_look_path(path, out);
}

/* Can the vGPU be opened, i.e. does no process hold its VFIO group? */
static bool record_vgpu_held(const char *root, const VgpuRecord *r)
{
    g_autofree char *link = vgpu_host_path(root, "%s/iommu_group",
                                           r->device);
    g_autofree char *group = vgpu_sysfs_link_name(link);
    g_autofree char *node = NULL;
    int fd;

    if (!group) {
        return false;
    }
    node = vgpu_host_path(root, "/dev/vfio/%s", group);
    fd = open(node, O_RDWR | O_CLOEXEC);
    if (fd >= 0) {
        close(fd);
        return false;
    }
    return errno == EBUSY;
}

bool vgpu_record_reap(const char *root, VgpuRecord *r, Error **errp)
{
    g_autofree char *device = NULL;
    g_autofree char *remove = NULL;

    assert(r->fd >= 0);
    if (!record_paths_ok(r)) {
        error_setg(errp, "%s is not a record of a vGPU; left alone",
                   r->path);
        return false;
    }
    device = vgpu_host_path(root, "%s", r->device);
    if (g_file_test(device, G_FILE_TEST_EXISTS)) {
        g_autofree char *why = NULL;
        guint i;

        if (!vgpu_record_guards_hold(root, r, &why)) {
            /* A VF that another owner has typed again: not ours. */
            trace_vgpu_record_not_ours(r->uuid, why);
            vgpu_record_drop(r);
            return true;
        }
        for (i = 0; i < r->idle->len; i++) {
            g_autofree char *node =
                vgpu_host_path(root, "%s",
                               (char *)g_ptr_array_index(r->idle, i));
            int64_t pid = vgpu_file_holder(node);

            if (pid) {
                error_setg(errp, "vGPU %s, made by QEMU process %" PRId64
                           " that is gone, is held open by process %"
                           PRId64 " (%s); left in place", r->uuid,
                           r->owner_pid, pid, node);
                return false;
            }
        }
        if (record_vgpu_held(root, r)) {
            error_setg(errp, "vGPU %s, created by QEMU process %" PRId64
                       " that is gone, is held open by another process; "
                       "left in place", r->uuid, r->owner_pid);
            return false;
        }
        remove = vgpu_host_path(root, "%s", r->remove);
        if (vgpu_sysfs_write(remove, r->remove_value, errp) &&
            g_file_test(device, G_FILE_TEST_EXISTS)) {
            error_prepend(errp, "cannot remove vGPU %s: ", r->uuid);
            return false;
        }
    }
    trace_vgpu_record_reap(r->uuid, r->owner_pid);
    vgpu_record_drop(r);
    return true;
}

void vgpu_test_stop(const char *stop_at, const char *step)
{
    if (stop_at && !strcmp(stop_at, step)) {
        trace_vgpu_test_stop(step);
        raise(SIGSTOP);
    }
}

bool vgpu_record_settle(const char *root, const char *uuid, bool reap,
                        const char *stop_at, Error **errp)
{
    gint64 end = g_get_monotonic_time() +
                 VGPU_REMOVAL_WAIT_MS * G_TIME_SPAN_MILLISECOND;
    bool waited = false;

    for (;;) {
        g_autoptr(VgpuRecord) r = NULL;

        switch (vgpu_record_look(root, uuid, &r)) {
        case VGPU_RECORD_NONE:
            return true;
        case VGPU_RECORD_ORPHAN:
            return !reap || vgpu_record_reap(root, r, errp);
        case VGPU_RECORD_STRAY:
            error_setg(errp, "vGPU %s was created by QEMU process %" PRId64
                       ", which still runs but has let go of its record "
                       "%s; choose another uuid", uuid, r->owner_pid,
                       r->path);
            return false;
        case VGPU_RECORD_HELD:
            break;
        }
        if (!r->removing && vgpu_record_owner_alive(r)) {
            /* A VF's record is named by the VF, an mdev's by its UUID */
            bool vf = !g_strcmp0(r->backend, "sriov");

            error_setg(errp, "%s %s is in use by %s (pid %" PRId64 "), "
                       "which %s; stop that VM or choose another %s",
                       vf ? "VF" : "vGPU", uuid, r->owner_pid == getpid() ?
                       "another nv-vgpu device of this QEMU" :
                       "another QEMU", r->owner_pid,
                       vf ? "gave it its vGPU type" : "created it",
                       vf ? "VF" : "uuid");
            return false;
        }
        if (!waited) {
            /* The creator let go or is gone: its removal is pending. */
            trace_vgpu_record_wait(uuid, r->owner_pid);
            vgpu_test_stop(stop_at, "removal-pending");
            waited = true;
        }
        if (g_get_monotonic_time() >= end) {
            error_setg(errp, "vGPU %s is still being removed by the QEMU "
                       "that created it (pid %" PRId64 ") after %d s; try "
                       "again later or choose another uuid", uuid,
                       r->owner_pid, VGPU_REMOVAL_WAIT_MS / 1000);
            return false;
        }
        g_usleep(10 * 1000);
    }
}

int vgpu_records_reap(const char *root, const char *parent, bool list_only,
                      VgpuRecordReport *report, void *opaque)
{
    g_autofree char *dir = vgpu_host_path(root, VGPU_RECORDS_DIR);
    g_auto(GStrv) names = vgpu_sysfs_list(dir);
    int failed = 0;
    size_t i;

    for (i = 0; names && names[i]; i++) {
        g_autofree char *path = g_strdup_printf("%s/%s", dir, names[i]);
        g_autoptr(VgpuRecord) r = NULL;
        g_autoptr(Error) err = NULL;
        VgpuRecordState state;
        bool reaped = false;

        if (names[i][0] == '.') {
            /* A claim cut short: its writer held it locked. */
            int fd = open(path, O_RDWR | O_CLOEXEC);

            if (!list_only && fd >= 0 && g_str_has_suffix(names[i], ".tmp") &&
                flock(fd, LOCK_EX | LOCK_NB) == 0) {
                unlink(path);
            }
            if (fd >= 0) {
                close(fd);
            }
            continue;
        }
        state = record_look_path(path, &r);
        if (state == VGPU_RECORD_NONE ||
            (parent && g_strcmp0(r->parent, parent))) {
            continue;
        }
        if (state == VGPU_RECORD_ORPHAN && !list_only) {
            reaped = vgpu_record_reap(root, r, &err);
            failed += !reaped;
        }
        if (report) {
            report(r, state, reaped, err ? error_get_pretty(err) : NULL,
                   opaque);
        }
    }
    return failed;
}
