/*
 * nv-vgpu: what travels with a vGPU's migration besides its VFIO state,
 * and the compatibility check before any of it moves
 *
 * The vGPU's own state moves through VFIO migration v2, which nv-vgpu
 * inherits from vfio-pci.  Before it, in the setup phase, nv-vgpu sends a
 * descriptor of the vGPU (type, profile, framebuffer, host driver, the
 * guest's monitor): its handler registers before vfio-pci's, so its
 * section comes first in the stream.  The destination compares the
 * descriptor with its own vGPU and fails the migration on a mismatch,
 * naming the field and both values.  With the switchover-ack capability
 * the source does not stop its vCPUs until the destination has accepted
 * the descriptor, so a refused migration never costs the source VM.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <linux/vfio.h>
#include "qapi/error.h"
#include "qapi/qapi-visit-vgpu.h"
#include "qapi/qobject-input-visitor.h"
#include "qapi/qobject-output-visitor.h"
#include "qemu/error-report.h"
#include "qobject/qjson.h"
#include "qobject/qobject.h"
#include "migration/misc.h"
#include "migration/migration.h"    /* migrate_set_error() */
#include "migration/qemu-file-types.h"
#include "migration/register.h"
#include "migration/savevm.h"
#include "migration/vmstate.h"
#include "hw/vgpu/vgpu-migration.h"
#include "trace.h"

#define VGPU_DESCRIPTOR_MAGIC   0x4e564744      /* "NVGD" */
#define VGPU_DESCRIPTOR_MAX     4096            /* bytes of JSON */

bool vgpu_driver_match_parse(const char *value, VgpuDriverMatch *match,
                             Error **errp)
{
    if (!value || !strcmp(value, "branch")) {
        *match = VGPU_DRIVER_MATCH_BRANCH;
    } else if (!strcmp(value, "version")) {
        *match = VGPU_DRIVER_MATCH_VERSION;
    } else if (!strcmp(value, "any")) {
        *match = VGPU_DRIVER_MATCH_ANY;
    } else {
        error_setg(errp, "migration-driver-match=%s: expected branch (the "
                   "same driver branch, the default), version (the same "
                   "version) or any", value);
        return false;
    }
    return true;
}

static char *vgpu_resolution(uint32_t width, uint32_t height)
{
    return width ? g_strdup_printf("%ux%u", width, height) : g_strdup("");
}

VgpuDescriptor *vgpu_descriptor_new(NvVgpuState *s)
{
    const VgpuHost *h = &s->host;
    const VgpuProfile *p = &h->profile;
    VgpuDescriptor *d = g_new0(VgpuDescriptor, 1);

    d->format = VGPU_MIGRATION_FORMAT;
    d->type = g_strdup(p->type_id ?: "");
    d->profile = g_strdup(p->name ?: "");
    d->framebuffer = p->framebuffer;
    d->heads = p->num_heads;
    d->max_resolution = vgpu_resolution(p->max_xres, p->max_yres);
    d->device_api = g_strdup(p->device_api ?: "");
    d->driver = g_strdup(h->driver ?: "");
    d->driver_version = g_strdup(h->driver_version ?: "");
    d->guest_resolution = vgpu_resolution(s->display.edid.cur_xres,
                                          s->display.edid.cur_yres);
    return d;
}

/* The driver branch: "550" of "550.127.05" */
static char *vgpu_driver_branch(const char *version)
{
    return g_strndup(version, strcspn(version, "."));
}

static bool vgpu_check_str(const char *field, const char *what,
                           const char *src, const char *mine,
                           const char **failed, Error **errp)
{
    if (!strcmp(src, mine)) {
        return true;
    }
    *failed = field;
    error_setg(errp, "%s: the source has '%s', this vGPU '%s'", what, src,
               mine);
    return false;
}

static bool vgpu_check_num(const char *field, const char *what,
                           uint64_t src, uint64_t mine,
                           const char **failed, Error **errp)
{
    if (src == mine) {
        return true;
    }
    *failed = field;
    error_setg(errp, "%s: the source has %" PRIu64 ", this vGPU %" PRIu64,
               what, src, mine);
    return false;
}

bool vgpu_descriptor_check(NvVgpuState *s, const VgpuDescriptor *src,
                           const char **field, Error **errp)
{
    g_autoptr(VgpuDescriptor) mine = vgpu_descriptor_new(s);
    const char *failed = NULL;
    uint32_t w, h;
    bool ok;

    if (src->format > VGPU_MIGRATION_FORMAT) {
        failed = "format";
        error_setg(errp, "descriptor format: the source sends %u, this "
                   "QEMU understands up to %u", src->format,
                   VGPU_MIGRATION_FORMAT);
        ok = false;
    } else if (strcmp(src->type, mine->type)) {
        failed = "type";
        error_setg(errp, "vGPU type: the source has %s (%s), this vGPU %s "
                   "(%s)", src->type, src->profile, mine->type,
                   mine->profile);
        ok = false;
    } else {
        ok = vgpu_check_str("profile", "vGPU profile", src->profile,
                            mine->profile, &failed, errp) &&
             vgpu_check_num("framebuffer", "framebuffer bytes",
                            src->framebuffer, mine->framebuffer, &failed,
                            errp) &&
             vgpu_check_num("heads", "display heads", src->heads,
                            mine->heads, &failed, errp) &&
             vgpu_check_str("max-resolution", "maximum resolution",
                            src->max_resolution, mine->max_resolution,
                            &failed, errp) &&
             vgpu_check_str("device-api", "device API", src->device_api,
                            mine->device_api, &failed, errp) &&
             vgpu_check_str("driver", "host driver", src->driver,
                            mine->driver, &failed, errp);
    }

    if (ok && s->driver_match != VGPU_DRIVER_MATCH_ANY) {
        g_autofree char *sb = vgpu_driver_branch(src->driver_version);
        g_autofree char *mb = vgpu_driver_branch(mine->driver_version);

        if (s->driver_match == VGPU_DRIVER_MATCH_VERSION) {
            ok = vgpu_check_str("driver-version", "host driver version "
                                "(migration-driver-match=version)",
                                src->driver_version, mine->driver_version,
                                &failed, errp);
        } else if (strcmp(sb, mb)) {
            failed = "driver-version";
            error_setg(errp, "host driver branch: the source runs %s %s "
                       "(branch %s), this host %s %s (branch %s); "
                       "migration-driver-match=any allows it",
                       src->driver, src->driver_version, sb, mine->driver,
                       mine->driver_version, mb);
            ok = false;
        }
    }

    /* What the guest was shown must be a mode this vGPU can show. */
    if (ok && *src->guest_resolution &&
        (sscanf(src->guest_resolution, "%ux%u", &w, &h) != 2 ||
         !w || !h || (s->host.profile.max_xres &&
                      (w > s->host.profile.max_xres ||
                       h > s->host.profile.max_yres)))) {
        failed = "guest-resolution";
        error_setg(errp, "guest resolution: the source showed '%s', beyond "
                   "this vGPU's '%s'", src->guest_resolution,
                   mine->max_resolution);
        ok = false;
    }

    if (field) {
        *field = failed;
    }
    return ok;
}

/* ---------------------------------------------------------------------- */
/* The descriptor in the stream: magic, length, JSON */

static int vgpu_save_setup(QEMUFile *f, void *opaque, Error **errp)
{
    NvVgpuState *s = opaque;
    g_autoptr(VgpuDescriptor) d = vgpu_descriptor_new(s);
    g_autoptr(GString) json = NULL;
    QObject *obj = NULL;
    Visitor *v = qobject_output_visitor_new(&obj);

    visit_type_VgpuDescriptor(v, NULL, &d, &error_abort);
    visit_complete(v, &obj);
    visit_free(v);
    json = qobject_to_json(obj);
    qobject_unref(obj);
    assert(json->len <= VGPU_DESCRIPTOR_MAX);

    trace_vgpu_migration_send(s->host.uuid, json->str);
    qemu_put_be32(f, VGPU_DESCRIPTOR_MAGIC);
    qemu_put_be32(f, json->len);
    qemu_put_buffer(f, (const uint8_t *)json->str, json->len);
    return qemu_file_get_error(f);
}

/* Read the descriptor, trusting nothing in it. */
static VgpuDescriptor *vgpu_read_descriptor(QEMUFile *f, Error **errp)
{
    g_autofree char *json = NULL;
    VgpuDescriptor *d = NULL;
    uint32_t magic, len;
    QObject *obj;
    Visitor *v;

    magic = qemu_get_be32(f);
    len = qemu_get_be32(f);
    if (qemu_file_get_error(f)) {
        error_setg(errp, "the stream ends before the vGPU descriptor");
        return NULL;
    }
    if (magic != VGPU_DESCRIPTOR_MAGIC || !len ||
        len > VGPU_DESCRIPTOR_MAX) {
        error_setg(errp, "no valid vGPU descriptor in the stream (magic "
                   "0x%08x, %u bytes)", magic, len);
        return NULL;
    }
    json = g_malloc0(len + 1);
    if (qemu_get_buffer(f, (uint8_t *)json, len) != len ||
        qemu_file_get_error(f)) {
        error_setg(errp, "the stream ends inside the vGPU descriptor");
        return NULL;
    }
    if (strlen(json) != len) {
        error_setg(errp, "the vGPU descriptor holds a NUL byte");
        return NULL;
    }
    obj = qobject_from_json(json, errp);
    if (!obj) {
        error_prepend(errp, "the vGPU descriptor is not valid JSON: ");
        return NULL;
    }
    v = qobject_input_visitor_new(obj);
    if (!visit_type_VgpuDescriptor(v, NULL, &d, errp)) {
        error_prepend(errp, "the vGPU descriptor is malformed: ");
    }
    visit_free(v);
    qobject_unref(obj);
    return d;
}

static int vgpu_load_state(QEMUFile *f, void *opaque, int version_id)
{
    NvVgpuState *s = opaque;
    g_autoptr(VgpuDescriptor) d = NULL;
    Error *err = NULL;
    int ret;

    d = vgpu_read_descriptor(f, &err);
    if (!d || !vgpu_descriptor_check(s, d, NULL, &err)) {
        error_prepend(&err, "nv-vgpu %s: refusing the incoming vGPU state: ",
                      DEVICE(s)->id ?: s->host.uuid);
        /*
         * The first error set is the one query-migrate reports on this
         * side, and so what management (virsh migrate, virsh restore)
         * prints, instead of "load of migration failed".
         */
        migrate_set_error(migrate_get_current(), err);
        error_report_err(err);
        return -EINVAL;
    }
    trace_vgpu_migration_accept(s->host.uuid, d->type, d->driver_version);
    if (migrate_switchover_ack()) {
        ret = qemu_loadvm_approve_switchover();
        if (ret) {
            error_report("nv-vgpu %s: cannot approve the switchover: %s",
                         DEVICE(s)->id ?: s->host.uuid, strerror(-ret));
            return ret;
        }
    }
    return 0;
}

/* Until the destination has accepted us, the source must not stop. */
static bool vgpu_switchover_ack_needed(void *opaque)
{
    return true;
}

static const SaveVMHandlers vgpu_migration_handlers = {
    .save_setup = vgpu_save_setup,
    .load_state = vgpu_load_state,
    .switchover_ack_needed = vgpu_switchover_ack_needed,
};

/*
 * Sections are found by name and instance: use the device id, which
 * management layers keep the same on both sides, so that with several
 * vGPUs each descriptor meets its own device whatever the creation order.
 */
static char *vgpu_migration_idstr(NvVgpuState *s, uint32_t *instance)
{
    const char *id = DEVICE(s)->id;

    *instance = id ? 0 : VMSTATE_INSTANCE_ID_ANY;
    return id ? g_strdup_printf("nv-vgpu/%s", id) : g_strdup("nv-vgpu");
}

void vgpu_migration_init(NvVgpuState *s)
{
    uint32_t instance;

    g_free(s->migration_idstr);
    s->migration_idstr = vgpu_migration_idstr(s, &instance);
    register_savevm_live(s->migration_idstr, instance, 1,
                         &vgpu_migration_handlers, s);
}

void vgpu_migration_exit(NvVgpuState *s)
{
    if (s->migration_idstr) {
        unregister_savevm(NULL, s->migration_idstr, s);
        g_clear_pointer(&s->migration_idstr, g_free);
    }
}

/* ---------------------------------------------------------------------- */
/* nv-vgpu's own device state, in subsections so old streams still load */

static bool vgpu_monitor_needed(void *opaque)
{
    NvVgpuState *s = opaque;

    return s->display.edid.blob != NULL;
}

static int vgpu_monitor_post_load(void *opaque, int version_id)
{
    NvVgpuState *s = opaque;
    VgpuEdid *edid = &s->display.edid;
    uint32_t w = s->migrated_xres, h = s->migrated_yres;

    /* Show the guest the monitor it had, as far as this vGPU can. */
    if (edid->blob && w && h && w <= 16384 && h <= 16384) {
        vgpu_edid_set_mode(edid, w, h);
    }
    return 0;
}

static int vgpu_monitor_pre_save(void *opaque)
{
    NvVgpuState *s = opaque;

    s->migrated_xres = s->display.edid.cur_xres;
    s->migrated_yres = s->display.edid.cur_yres;
    return 0;
}

static const VMStateDescription vmstate_nv_vgpu_monitor = {
    .name = "nv-vgpu/monitor",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = vgpu_monitor_needed,
    .pre_save = vgpu_monitor_pre_save,
    .post_load = vgpu_monitor_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(migrated_xres, NvVgpuState),
        VMSTATE_UINT32(migrated_yres, NvVgpuState),
        VMSTATE_END_OF_LIST()
    },
};

/*
 * nv-vgpu's section comes after the vGPU's VFIO state.  vfio-pci would
 * take the vGPU out of RESUMING only when the VM starts, after the
 * migration has been declared a success, and reset it if the driver
 * refuses the state then: the guest would run on a blank vGPU while the
 * source has given up its own.  Ending RESUMING here instead lets a
 * refused state fail the migration, so that the source runs on.
 */
static int vgpu_post_load(void *opaque, int version_id)
{
    NvVgpuState *s = opaque;
    VFIODevice *vbasedev = &VFIO_PCI(s)->vbasedev;
    Error *err = NULL;
    int ret;

    if (!vbasedev->migration ||
        vbasedev->migration->device_state != VFIO_DEVICE_STATE_RESUMING) {
        return 0;
    }
    ret = vfio_migration_set_state(vbasedev, VFIO_DEVICE_STATE_STOP,
                                   VFIO_DEVICE_STATE_ERROR, &err);
    if (ret) {
        error_reportf_err(err, "nv-vgpu %s: the host driver refused the "
                          "incoming vGPU state: ",
                          DEVICE(s)->id ?: s->host.uuid);
    }
    return ret;
}

const VMStateDescription vmstate_nv_vgpu = {
    .name = "nv-vgpu",
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = vgpu_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_END_OF_LIST()
    },
    .subsections = (const VMStateDescription * const []) {
        &vmstate_nv_vgpu_monitor,
        NULL
    },
};
