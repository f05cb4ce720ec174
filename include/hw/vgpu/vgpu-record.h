/*
 * Records of the vGPUs that QEMU created, which outlive QEMU
 *
 * Every vGPU that nv-vgpu creates has a small file ROOT/run/nv-vgpu/UUID,
 * written (and locked) before the vGPU is created and deleted once it is
 * removed.  Whoever is responsible for removing the vGPU, the QEMU that
 * created it and its removal helper (vgpu-reaper.c), holds an flock on
 * that file, so for a UUID:
 *   - no record: QEMU did not create the vGPU (mdevctl, libvirt, ...), and
 *     QEMU never removes it;
 *   - a locked record: the vGPU is in use by its creator, or its removal
 *     is pending;
 *   - a record that nobody locks: an orphan, left when the creator and its
 *     helper were both killed (systemd's final SIGKILL of a cgroup); it is
 *     removed at the next nv-vgpu start on its parent and by nv-vgpu-reap,
 *     unless a process holds the vGPU open.
 * Nothing here is specific to mdevs: a record names the vGPU's sysfs
 * device and the attribute that removes it.  An SR-IOV vGPU is a VF that
 * other VMs use again after us, so its record also has guards: what the
 * VF must still show (the type and placement QEMU gave it) and the VFIO
 * nodes that no process may hold open, for the removal to go ahead; a VF
 * that fails a guard is someone else's now and is left alone.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_VGPU_VGPU_RECORD_H
#define HW_VGPU_VGPU_RECORD_H

#define VGPU_RECORDS_DIR        "/run/nv-vgpu"

/* How long a start waits for another process's pending removal. */
#define VGPU_REMOVAL_WAIT_MS    30000

typedef struct VgpuRecord {
    char *path;             /* the record file, with the host root */
    int fd;                 /* open and locked while we hold it, else -1 */
    char *uuid;
    char *backend;          /* "mdev" */
    char *parent;
    char *type;
    char *device;           /* the vGPU's sysfs directory, without root */
    char *remove;           /* the attribute that removes it, without root */
    char *remove_value;     /* what to write there */
    int64_t owner_pid;      /* the QEMU that created it */
    uint64_t owner_start;   /* its start time: /proc/PID/stat field 22 */
    bool removing;          /* the owner has let go; only removal is left */
    GPtrArray *guards;      /* "VALUE PATH": PATH must read VALUE */
    GPtrArray *idle;        /* nodes that no process may hold open */
} VgpuRecord;

VgpuRecord *vgpu_record_new(const char *uuid, const char *backend,
                            const char *parent, const char *type,
                            const char *device, const char *remove,
                            const char *remove_value);
void vgpu_record_free(VgpuRecord *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VgpuRecord, vgpu_record_free)

typedef enum {
    VGPU_RECORD_CLAIMED,    /* written and locked: the UUID is ours */
    VGPU_RECORD_TAKEN,      /* another process has a record of this UUID */
    VGPU_RECORD_FAILED,     /* could not be written; see errp */
} VgpuRecordClaim;

/* Write @r under @root and lock it, unless a record of its UUID exists. */
VgpuRecordClaim vgpu_record_claim(const char *root, VgpuRecord *r,
                                  Error **errp);

/*
 * Remove the vGPU only while the attribute @path (without root) reads
 * @value; written to the record at once if it is claimed already.
 */
void vgpu_record_add_guard(VgpuRecord *r, const char *path,
                           const char *value);

/* Remove the vGPU only while no process holds @node (without root) open. */
void vgpu_record_add_idle(VgpuRecord *r, const char *node);

/*
 * Does the vGPU still pass the guards of @r?  False, with the reason in
 * @why, if not.
 */
bool vgpu_record_guards_hold(const char *root, const VgpuRecord *r,
                             char **why);

/* Note in our record that we let go and only the removal is left. */
void vgpu_record_set_removing(VgpuRecord *r);

/* Delete our record (nothing is left to remove) and close it. */
void vgpu_record_drop(VgpuRecord *r);

typedef enum {
    VGPU_RECORD_NONE,       /* no record */
    VGPU_RECORD_HELD,       /* locked by its creator or its helper */
    VGPU_RECORD_ORPHAN,     /* nobody holds it; now locked by the caller */
    VGPU_RECORD_STRAY,      /* not locked, yet its owner still runs */
} VgpuRecordState;

/*
 * What the record of @uuid says; *@out gets the record unless NONE (its
 * fd locked for ORPHAN, so that only the caller reaps it).
 */
VgpuRecordState vgpu_record_look(const char *root, const char *uuid,
                                 VgpuRecord **out);

/* Is the process that created @r still running (pid and start time)? */
bool vgpu_record_owner_alive(const VgpuRecord *r);

/*
 * Remove the vGPU of the orphan @r (locked by vgpu_record_look()) unless a
 * process holds it open, and delete the record.  False, with the reason,
 * when the vGPU stays.
 */
bool vgpu_record_reap(const char *root, VgpuRecord *r, Error **errp);

/*
 * Make @uuid free to use: wait out another process's pending removal of
 * it (up to VGPU_REMOVAL_WAIT_MS), and reap it if it is an orphan and
 * @reap.  False when the vGPU is in use by the QEMU that created it, or
 * its removal did not end.
 */
bool vgpu_record_settle(const char *root, const char *uuid, bool reap,
                        const char *stop_at, Error **errp);

typedef void VgpuRecordReport(const VgpuRecord *r, VgpuRecordState state,
                              bool reaped, const char *why, void *opaque);

/*
 * Look at every record under @root (of @parent only, unless NULL) and reap
 * the orphans, unless @list_only; @report (may be NULL) hears about each.
 * Returns how many orphans could not be reaped.
 */
int vgpu_records_reap(const char *root, const char *parent, bool list_only,
                      VgpuRecordReport *report, void *opaque);

/*
 * Test hook (nv-vgpu's x-stop-at): stop this process with SIGSTOP when
 * @step is @stop_at, so that a test can kill it at exactly that point.
 */
void vgpu_test_stop(const char *stop_at, const char *step);

#endif
