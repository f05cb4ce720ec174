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
#include "hw/vgpu/vgpu-params.h"
#include "hw/vgpu/vgpu-sysfs.h"
#ifdef CONFIG_VNC
#include "qapi/qapi-commands-ui.h"
#endif

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

static VgpuParamList *vgpu_param_list(GStrv items)
{
    VgpuParamList *head = NULL, **tail = &head;

    for (char **p = items; p && *p; p++) {
        VgpuParam *param = g_new0(VgpuParam, 1);
        const char *eq = strchr(*p, '=');

        param->key = eq ? g_strndup(*p, eq - *p) : g_strdup(*p);
        param->value = g_strdup(eq ? eq + 1 : "");
        QAPI_LIST_APPEND(tail, param);
    }
    return head;
}

static VgpuParamsInfo *vgpu_params_info(NvVgpuState *s)
{
    VgpuParamsInfo *info = g_new0(VgpuParamsInfo, 1);
    g_auto(GStrv) in_force = vgpu_params_split(s->host.params_in_force);

    info->supported = s->host.params_supported;
    info->in_force = vgpu_param_list(in_force);
    info->requested = vgpu_param_list(s->params);
    info->restore = g_strdup(s->host.params_restore);
    return info;
}

static VgpuParentInfo *vgpu_parent_info(NvVgpuState *s)
{
    VgpuParentInfo *info = g_new0(VgpuParentInfo, 1);
    strList **tail = &info->remote_memory;

    info->name = g_strdup(s->host.parent ?: "");
    info->numa_node = s->locality.node;
    info->local_cpus = g_strdup(s->locality.local_cpus ?: "");
    for (char **p = s->locality.remote_memory; p && *p; p++) {
        QAPI_LIST_APPEND(tail, g_strdup(*p));
    }
    return info;
}

/* VNC clients looking at @con: of servers bound to it, or to console 0 */
static uint32_t vgpu_console_clients(QemuConsole *con, DeviceState *dev)
{
    uint32_t n = 0;
#ifdef CONFIG_VNC
    g_autoptr(VncInfo2List) servers = NULL;

    if (!con) {
        return 0;
    }
    servers = qmp_query_vnc_servers(NULL);
    for (VncInfo2List *l = servers; l; l = l->next) {
        bool ours = l->value->display ?
                    dev->id && !strcmp(l->value->display, dev->id) :
                    qemu_console_get_index(con) == 0;

        if (ours) {
            for (VncClientInfoList *c = l->value->clients; c; c = c->next) {
                n++;
            }
        }
    }
#endif
    return n;
}

static VgpuConsoleInfo *vgpu_console_info(NvVgpuState *s)
{
    const VgpuDisplay *d = &s->display;
    VgpuConsoleInfo *info = g_new0(VgpuConsoleInfo, 1);
    uint32_t f = d->shown_format;

    info->plane = !d->con ? VGPU_PLANE_KIND_NONE :
                  d->plane_type == VFIO_GFX_PLANE_TYPE_DMABUF ?
                  VGPU_PLANE_KIND_DMABUF : VGPU_PLANE_KIND_REGION;
    if (d->con && d->shown_width) {
        info->mode = g_strdup_printf("%ux%u", d->shown_width,
                                     d->shown_height);
        info->format = g_strdup_printf("%c%c%c%c", f & 0xff, (f >> 8) & 0xff,
                                       (f >> 16) & 0xff, f >> 24);
    } else {
        info->mode = g_strdup("");
        info->format = g_strdup("");
    }
    info->frame_cap = s->console_fps;
    info->frames_shown = d->frames_shown;
    info->fps = vgpu_display_fps(d);
    info->clients = vgpu_console_clients(d->con, DEVICE(s));
    return info;
}

static char *vgpu_sysfs_path(NvVgpuState *s)
{
    g_autofree char *path = vgpu_host_path(s->host.root, "%s",
                                           s->host.sysfsdev);
    g_autofree char *real = realpath(path, NULL);
    size_t rootlen = strlen(s->host.root);

    if (!real) {
        return g_strdup(s->host.sysfsdev);
    }
    /* as the host names it, without x-host-root's prefix */
    if (rootlen && g_str_has_prefix(real, s->host.root)) {
        return g_strdup(real + rootlen);
    }
    return g_steal_pointer(&real);
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
    info->uuid = g_strdup(s->host.id ?: "");
    info->sysfs_path = vgpu_sysfs_path(s);
    info->parent = vgpu_parent_info(s);
    info->descriptor = vgpu_descriptor_new(s);
    info->created = s->host.created;
    info->console = s->display.con != NULL;
    info->console_info = vgpu_console_info(s);
    info->params = vgpu_params_info(s);
    info->migration = vgpu_migration_info(s);
    info->health = vgpu_health_info(s);
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
                       d->driver,
                       *d->driver_version ? d->driver_version : "(version "
                       "unknown)",
                       v->created ? ", created by QEMU" : "",
                       v->console ? ", console" : "");
        VgpuParentInfo *p = v->parent;
        VgpuConsoleInfo *c = v->console_info;
        VgpuParamsInfo *pp = v->params;
        VgpuHealthInfo *h = v->health;
        strList *r;

        monitor_printf(mon, "  sysfs: %s\n", v->sysfs_path);
        monitor_printf(mon, "  parent: %s, NUMA node %" PRId64 ", local CPUs "
                       "%s\n", p->name, p->numa_node,
                       *p->local_cpus ? p->local_cpus : "unknown");
        for (r = p->remote_memory; r; r = r->next) {
            monitor_printf(mon, "  memory backend %s: guest RAM kept off the "
                           "GPU's node\n", r->value);
        }
        if (v->has_p2p_clique) {
            monitor_printf(mon, "  P2P clique: %u\n", v->p2p_clique);
        }
        if (*d->guest_resolution) {
            monitor_printf(mon, "  guest monitor: %s\n", d->guest_resolution);
        }
        monitor_printf(mon, "  console: %s plane", VgpuPlaneKind_str(c->plane));
        if (*c->mode) {
            monitor_printf(mon, ", %s %s", c->mode, c->format);
        }
        monitor_printf(mon, ", at most %u frames/s, %u frames/s now, %"
                       PRIu64 " shown, %u clients\n", c->frame_cap, c->fps,
                       c->frames_shown, c->clients);
        if (!pp->supported) {
            monitor_printf(mon, "  plugin parameters: not supported\n");
        } else {
            VgpuParamList *q;

            monitor_printf(mon, "  plugin parameters:");
            for (q = pp->in_force; q; q = q->next) {
                monitor_printf(mon, " %s=%s", q->value->key, q->value->value);
            }
            monitor_printf(mon, "%s%s%s%s\n", pp->in_force ? "" : " none",
                           pp->restore ? " (put back on release: '" : "",
                           pp->restore ? pp->restore : "",
                           pp->restore ? "')" : "");
        }
        monitor_printf(mon, "  health: on-error=%s, on-request=%s, errors %s"
                       "%" PRIu64 ", requests %s%" PRIu64 "\n",
                       VgpuErrorPolicy_str(h->on_error),
                       VgpuRequestPolicy_str(h->on_request),
                       h->error->present ? "" : "(no interrupt) ",
                       h->error->count,
                       h->request->present ? "" : "(no interrupt) ",
                       h->request->count);
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
