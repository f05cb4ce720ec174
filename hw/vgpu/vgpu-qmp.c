/*
 * nv-vgpu: QMP and HMP commands (query-vgpus, query-vgpu-descriptor,
 * vgpu-check-descriptor, info vgpus)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <linux/vfio.h>
#include "qapi/error.h"
#include "qapi/qapi-commands-vgpu.h"
#include "qobject/qdict.h"
#include "monitor/hmp.h"
#include "monitor/monitor.h"
#include "hw/qdev-core.h"
#include "hw/vgpu/vgpu-migration.h"

static NvVgpuState *vgpu_find(const char *id, Error **errp)
{
    Object *peripheral = machine_get_container("peripheral");
    Object *obj = object_resolve_path_component(peripheral, id);

    if (!obj) {
        error_setg(errp, "no device with id '%s'", id);
        return NULL;
    }
    if (!object_dynamic_cast(obj, TYPE_NV_VGPU)) {
        error_setg(errp, "device '%s' is a %s, not an nv-vgpu", id,
                   object_get_typename(obj));
        return NULL;
    }
    return NV_VGPU(obj);
}

VgpuDescriptor *qmp_query_vgpu_descriptor(const char *id, Error **errp)
{
    NvVgpuState *s = vgpu_find(id, errp);

    return s ? vgpu_descriptor_new(s) : NULL;
}

VgpuCompatibility *qmp_vgpu_check_descriptor(const char *id,
                                             QObject *descriptor,
                                             Error **errp)
{
    NvVgpuState *s = vgpu_find(id, errp);
    g_autoptr(VgpuDescriptor) d = NULL;
    VgpuCompatibility *c;
    const char *field = NULL;
    Error *why = NULL;

    if (!s) {
        return NULL;
    }
    d = vgpu_descriptor_parse(descriptor, &field, &why);
    if (!d && !field) {
        error_propagate(errp, why);     /* malformed: a bad request */
        return NULL;
    }
    c = g_new0(VgpuCompatibility, 1);
    c->compatible = d && vgpu_descriptor_check(s, d, &field, &why);
    if (!c->compatible) {
        c->field = g_strdup(field);
        c->reason = g_strdup(error_get_pretty(why));
        error_free(why);
    }
    return c;
}

/* VFIO's device states as QAPI names them; false for ERROR and unknown */
static bool vgpu_mig_state(uint32_t state, QapiVfioMigrationState *out)
{
    switch (state) {
    case VFIO_DEVICE_STATE_STOP:
        *out = QAPI_VFIO_MIGRATION_STATE_STOP;
        return true;
    case VFIO_DEVICE_STATE_RUNNING:
        *out = QAPI_VFIO_MIGRATION_STATE_RUNNING;
        return true;
    case VFIO_DEVICE_STATE_STOP_COPY:
        *out = QAPI_VFIO_MIGRATION_STATE_STOP_COPY;
        return true;
    case VFIO_DEVICE_STATE_RESUMING:
        *out = QAPI_VFIO_MIGRATION_STATE_RESUMING;
        return true;
    case VFIO_DEVICE_STATE_RUNNING_P2P:
        *out = QAPI_VFIO_MIGRATION_STATE_RUNNING_P2P;
        return true;
    case VFIO_DEVICE_STATE_PRE_COPY:
        *out = QAPI_VFIO_MIGRATION_STATE_PRE_COPY;
        return true;
    case VFIO_DEVICE_STATE_PRE_COPY_P2P:
        *out = QAPI_VFIO_MIGRATION_STATE_PRE_COPY_P2P;
        return true;
    }
    return false;
}

static VgpuMigrationInfo *vgpu_migration_info(NvVgpuState *s)
{
    VFIODevice *vbasedev = &VFIO_PCI(s)->vbasedev;
    VFIOMigration *mig = vbasedev->migration;
    VgpuMigrationInfo *info = g_new0(VgpuMigrationInfo, 1);

    info->vfio_transferred = vfio_mig_bytes_transferred();
    if (vbasedev->migration_blocker) {
        info->blocker =
            g_strdup(error_get_pretty(vbasedev->migration_blocker));
    }
    if (mig) {
        info->has_state = vgpu_mig_state(mig->device_state, &info->state);
        if (mig->device_state == VFIO_DEVICE_STATE_PRE_COPY ||
            mig->device_state == VFIO_DEVICE_STATE_PRE_COPY_P2P) {
            info->pending_initial = mig->precopy_init_size;
            info->pending_dirty = mig->precopy_dirty_size;
        }
    } else if (!info->blocker) {
        info->blocker = g_strdup("the vGPU does not support VFIO migration");
    }
    return info;
}

static int vgpu_collect(Object *obj, void *opaque)
{
    VgpuInfoList ***tail = opaque;
    NvVgpuState *s;
    VgpuInfo *info;

    if (!object_dynamic_cast(obj, TYPE_NV_VGPU) ||
        !DEVICE(obj)->realized) {
        return 0;
    }
    s = NV_VGPU(obj);
    info = g_new0(VgpuInfo, 1);
    info->id = g_strdup(DEVICE(s)->id ?: "");
    info->qom_path = object_get_canonical_path(obj);
    info->uuid = g_strdup(s->host.uuid ?: "");
    info->descriptor = vgpu_descriptor_new(s);
    info->created = s->host.created;
    info->console = s->display.con != NULL;
    info->migration = vgpu_migration_info(s);
    info->has_p2p_clique = s->p2p_clique >= 0;
    info->p2p_clique = info->has_p2p_clique ? s->p2p_clique : 0;
    QAPI_LIST_APPEND(*tail, info);
    return 0;
}

VgpuInfoList *qmp_query_vgpus(Error **errp)
{
    VgpuInfoList *head = NULL, **tail = &head;

    object_child_foreach_recursive(object_get_root(), vgpu_collect, &tail);
    return head;
}

void hmp_info_vgpus(Monitor *mon, const QDict *qdict)
{
    g_autoptr(VgpuInfoList) list = qmp_query_vgpus(NULL);
    VgpuInfoList *l;

    if (!list) {
        monitor_printf(mon, "No nv-vgpu devices\n");
        return;
    }
    for (l = list; l; l = l->next) {
        VgpuInfo *v = l->value;
        VgpuDescriptor *d = v->descriptor;
        VgpuMigrationInfo *m = v->migration;

        monitor_printf(mon, "%s: vGPU %s, %s (%s), %" PRIu64 " MiB, "
                       "%s driver %s %s%s%s\n",
                       *v->id ? v->id : v->qom_path, v->uuid, d->profile,
                       d->type, d->framebuffer >> 20, d->device_api,
                       d->driver, d->driver_version,
                       v->created ? ", created by QEMU" : "",
                       v->console ? ", console" : "");
        if (v->has_p2p_clique) {
            monitor_printf(mon, "  P2P clique: %u\n", v->p2p_clique);
        }
        if (*d->guest_resolution) {
            monitor_printf(mon, "  guest monitor: %s\n", d->guest_resolution);
        }
        if (m->blocker) {
            monitor_printf(mon, "  migration: blocked: %s\n", m->blocker);
        } else {
            monitor_printf(mon, "  migration: %s, pending %" PRIu64
                           " initial + %" PRIu64 " dirty bytes, VFIO sent %"
                           PRIu64 " bytes\n",
                           m->has_state ?
                           QapiVfioMigrationState_str(m->state) : "error",
                           m->pending_initial, m->pending_dirty,
                           m->vfio_transferred);
        }
    }
}
