/*
 * vGPUs made ahead of their hot-plug (QMP vgpu-create)
 *
 * A device_add runs in the main loop, so a vGPU made inside it stalls the
 * monitor for as long as the host driver takes, even with the BQL dropped.
 * vgpu-create makes the vGPU in a thread of its own instead and announces
 * it with VGPU_CREATED; the device_add that names its UUID takes it over.
 * Until then it is kept here, and removed by vgpu-discard or, through its
 * removal helper, when QEMU ends.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/qapi-commands-vgpu.h"
#include "qapi/qapi-events-vgpu.h"
#include "block/aio.h"
#include "qemu/main-loop.h"
#include "qemu/thread.h"
#include "qemu/uuid.h"
#include "hw/qdev-core.h"
#include "hw/vgpu/vgpu-prepare.h"
#include "hw/vgpu/vgpu-sysfs.h"
#include "trace.h"

typedef struct VgpuPrepared {
    /* Set before the thread starts, constant after */
    char *uuid;
    char *parent;
    char *type;
    QemuThread thread;
    QemuEvent done;         /* the thread has set host and err */

    /* Written by the thread until done, then by the main loop */
    VgpuHost host;
    Error *err;             /* why it could not be made */
    char *sysfs_path;       /* where it was made, for VGPU_CREATED */

    /* Main loop (BQL) */
    bool joined;            /* done_bh has run: no thread any more */
    bool taken;             /* off the list: done_bh frees it */
} VgpuPrepared;

/* vGPUs asked for and not taken yet; BQL */
static GSList *vgpu_prepared;

static VgpuPrepared *vgpu_prepared_find(const char *uuid)
{
    GSList *l;

    for (l = vgpu_prepared; l; l = l->next) {
        VgpuPrepared *p = l->data;

        if (!strcmp(p->uuid, uuid)) {
            return p;
        }
    }
    return NULL;
}

static void vgpu_prepared_free(VgpuPrepared *p)
{
    if (p->host.ops) {
        vgpu_host_release(&p->host);
    }
    error_free(p->err);
    g_free(p->sysfs_path);
    qemu_event_destroy(&p->done);
    g_free(p->uuid);
    g_free(p->parent);
    g_free(p->type);
    g_free(p);
}

static void vgpu_prepared_done_bh(void *opaque)
{
    VgpuPrepared *p = opaque;

    qemu_thread_join(&p->thread);
    p->joined = true;
    trace_vgpu_prepared_done(p->uuid, p->err ? error_get_pretty(p->err)
                                             : "made");
    qapi_event_send_vgpu_created(p->uuid, p->parent, p->type, p->sysfs_path,
                                 p->err ? error_get_pretty(p->err) : NULL);
    if (p->taken) {
        vgpu_prepared_free(p);
    }
}

/*
 * Runs without the BQL: create() touches only p->host, host files and a
 * child process (see nv_vgpu_create() for why that is safe); nothing else
 * reads p->host or p->err before p->done is set.
 */
static void *vgpu_prepared_thread(void *opaque)
{
    VgpuPrepared *p = opaque;

    VgpuRequest req = {
        .parent = p->parent, .type = p->type, .uuid = p->uuid,
    };

    if (p->host.ops->create(&p->host, &req, &p->err)) {
        p->sysfs_path = vgpu_host_path(p->host.root, "%s",
                                       p->host.sysfsdev);
    }
    qemu_event_set(&p->done);
    aio_bh_schedule_oneshot(qemu_get_aio_context(), vgpu_prepared_done_bh,
                            p);
    return NULL;
}

VgpuCreateInfo *qmp_vgpu_create(const char *parent, const char *mdev_type,
                                const char *uuid, Error **errp)
{
    VgpuCreateInfo *info;
    VgpuPrepared *p;
    QemuUUID u;

    if (uuid) {
        if (qemu_uuid_parse(uuid, &u) < 0) {
            error_setg(errp, "uuid '%s' is not a UUID: expected 32 hex "
                       "digits as 8-4-4-4-12", uuid);
            return NULL;
        }
    } else {
        qemu_uuid_generate(&u);
    }
    if (!*parent || !*mdev_type) {
        error_setg(errp, "vgpu-create needs a parent GPU and a vGPU type");
        return NULL;
    }

    p = g_new0(VgpuPrepared, 1);
    p->uuid = qemu_uuid_unparse_strdup(&u);     /* lower case, as sysfs */
    if (vgpu_prepared_find(p->uuid)) {
        error_setg(errp, "vGPU %s is already being made by vgpu-create or "
                   "waits for a device_add; vgpu-discard removes it",
                   p->uuid);
        g_free(p->uuid);
        g_free(p);
        return NULL;
    }
    p->parent = g_strdup(parent);
    p->type = g_strdup(mdev_type);
    vgpu_host_init(&p->host, &vgpu_mdev_backend, NULL);
    qemu_event_init(&p->done, false);
    vgpu_prepared = g_slist_prepend(vgpu_prepared, p);
    trace_vgpu_prepared_start(p->uuid, p->parent, p->type);
    qemu_thread_create(&p->thread, "vgpu-create", vgpu_prepared_thread, p,
                       QEMU_THREAD_JOINABLE);

    info = g_new0(VgpuCreateInfo, 1);
    info->uuid = g_strdup(p->uuid);
    return info;
}

void qmp_vgpu_discard(const char *uuid, Error **errp)
{
    QemuUUID u;
    g_autofree char *lower = NULL;
    VgpuPrepared *p = NULL;

    if (qemu_uuid_parse(uuid, &u) == 0) {
        lower = qemu_uuid_unparse_strdup(&u);
        p = vgpu_prepared_find(lower);
    }
    if (!p) {
        error_setg(errp, "no vGPU %s made by vgpu-create waits for a "
                   "device_add", uuid);
        return;
    }
    if (!p->joined) {
        error_setg(errp, "vGPU %s is still being made; discard it after "
                   "its VGPU_CREATED event", p->uuid);
        return;
    }
    vgpu_prepared = g_slist_remove(vgpu_prepared, p);
    trace_vgpu_prepared_discard(p->uuid);
    vgpu_prepared_free(p);      /* removes it, if it was made */
}

int vgpu_prepared_take(const char *uuid, const char *parent,
                       const char *type, VgpuHost *h, Error **errp)
{
    ERRP_GUARD();
    VgpuPrepared *p = vgpu_prepared_find(uuid);
    bool unlock;

    if (!p) {
        return 0;
    }
    if (strcmp(p->parent, parent) || strcmp(p->type, type)) {
        error_setg(errp, "vGPU %s was asked of vgpu-create as type %s on "
                   "%s, not as %s on %s", uuid, p->type, p->parent, type,
                   parent);
        return -1;
    }
    /* As in nv_vgpu_create(): the vCPUs go on while we wait. */
    unlock = phase_check(PHASE_MACHINE_READY) && bql_locked();
    if (unlock) {
        bql_unlock();
    }
    qemu_event_wait(&p->done);
    if (unlock) {
        bql_lock();
    }

    vgpu_prepared = g_slist_remove(vgpu_prepared, p);
    if (p->err) {
        error_setg(errp, "vgpu-create could not make vGPU %s: %s", uuid,
                   error_get_pretty(p->err));
    } else {
        /* h holds only what vgpu_host_init() gave it */
        vgpu_host_release(h);
        *h = p->host;
        memset(&p->host, 0, sizeof(p->host));
        trace_vgpu_prepared_taken(uuid);
    }
    if (p->joined) {
        vgpu_prepared_free(p);
    } else {
        p->taken = true;
    }
    return *errp ? -1 : 1;
}
