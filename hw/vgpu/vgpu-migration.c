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
 * the descriptor, so a refused migration never costs the source VM (see
 * vgpu_switchover_ack_needed() for how, without an ack of our own).
 *
 * The descriptor is JSON, so that it can grow: a member this QEMU does not
 * know is ignored, and only @min-format (the oldest format that can take
 * the descriptor, @format when absent) decides whether it can be read.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <linux/vfio.h>
#include "qapi/error.h"
#include "qemu/error-report.h"
#include "qobject/qdict.h"
#include "qobject/qjson.h"
#include "migration/migration.h"
#include "migration/qemu-file.h"
#include "migration/misc.h"
#include "migration/migration.h"    /* migrate_set_error() */
#include "migration/qemu-file-types.h"
#include "migration/register.h"
#include "migration/savevm.h"
#include "migration/vmstate.h"
#include "hw/vgpu/vgpu-migration.h"
#include "trace.h"

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
    d->has_boot_display = true;
    d->boot_display = s->ramfb;
    d->type_space = g_strdup(h->ops ? h->ops->name : "mdev");
    d->has_gpu_instance = true;
    d->gpu_instance = h->gpu_instance;
    return d;
}

bool vgpu_descriptor_check(NvVgpuState *s, const VgpuDescriptor *src,
                           const char **field, Error **errp)
{
    g_autoptr(VgpuDescriptor) mine = vgpu_descriptor_new(s);

    return vgpu_descriptor_compare(src, mine, s->host.profile.max_xres,
                                   s->host.profile.max_yres,
                                   s->driver_match, field, errp);
}

/* ---------------------------------------------------------------------- */
/* The descriptor in the stream: magic, length, JSON */

static int vgpu_save_setup(QEMUFile *f, void *opaque, Error **errp)
{
    NvVgpuState *s = opaque;
    g_autoptr(VgpuDescriptor) d = vgpu_descriptor_new(s);
    g_autoptr(QDict) dict = vgpu_descriptor_to_qdict(d);
    g_autoptr(GString) json = qobject_to_json(QOBJECT(dict));

    /* The host's sysfs strings (name, driver_version) can be that long. */
    if (json->len > VGPU_DESCRIPTOR_MAX) {
        error_setg(errp, "nv-vgpu %s: cannot migrate: its descriptor takes "
                   "%zu bytes, more than the %u a destination accepts; the "
                   "host reports a %zu-byte driver version and a %zu-byte "
                   "profile name", DEVICE(s)->id ?: s->host.id, json->len,
                   VGPU_DESCRIPTOR_MAX, strlen(d->driver_version),
                   strlen(d->profile));
        return -EINVAL;
    }

    trace_vgpu_migration_send(s->host.id, json->str);
    qemu_put_be32(f, VGPU_DESCRIPTOR_MAGIC);
    qemu_put_be32(f, json->len);
    qemu_put_buffer(f, (const uint8_t *)json->str, json->len);
    return qemu_file_get_error(f);
}

/* Read the descriptor, trusting nothing in it. */
static VgpuDescriptor *vgpu_read_descriptor(QEMUFile *f, Error **errp)
{
    g_autofree char *json = NULL;
    uint32_t magic, len;

    magic = qemu_get_be32(f);
    len = qemu_get_be32(f);
    if (qemu_file_get_error(f)) {
        error_setg(errp, "the stream ends before the vGPU descriptor");
        return NULL;
    }
    if (!vgpu_descriptor_header_check(magic, len, errp)) {
        return NULL;
    }
    json = g_malloc0(len + 1);
    if (qemu_get_buffer(f, (uint8_t *)json, len) != len ||
        qemu_file_get_error(f)) {
        error_setg(errp, "the stream ends inside the vGPU descriptor");
        return NULL;
    }
    return vgpu_descriptor_from_json(json, len, errp);
}

static int vgpu_load_state(QEMUFile *f, void *opaque, int version_id)
{
    NvVgpuState *s = opaque;
    g_autoptr(VgpuDescriptor) d = NULL;
    Error *err = NULL;

    d = vgpu_read_descriptor(f, &err);
    if (!d || !vgpu_descriptor_check(s, d, NULL, &err)) {
        error_prepend(&err, "nv-vgpu %s: refusing the incoming vGPU state: ",
                      DEVICE(s)->id ?: s->host.id);
        /*
         * The first error set is the one query-migrate reports on this
         * side, and so what management (virsh migrate, virsh restore)
         * prints, instead of "load of migration failed".
         */
        migrate_set_error(migrate_get_current(), err);
        error_report_err(err);
        return -EINVAL;
    }
    trace_vgpu_migration_accept(s->host.id, d->type, d->driver_version);
    return 0;
}

/*
 * The destination counts the switchover acks it waits for when its load
 * starts, before it has read anything the source sends, so an ack of our
 * own would wait for ever behind a source that sends no descriptor (plain
 * vfio-pci, an nv-vgpu before the descriptor).  It is not needed: the
 * source sends its setup sections in the order their handlers registered,
 * and ours registers before the vGPU's VFIO handler, so the descriptor
 * precedes all of the vGPU's VFIO state in the stream, which the
 * destination loads in order.  A vGPU with PRE_COPY has VFIO ask for an
 * ack itself, given only once the vGPU's initial data has been loaded:
 * after our check.  A refused descriptor therefore fails the load before
 * any switchover ack can leave, and the source never stops its vCPUs for
 * it.  (A vGPU without PRE_COPY has no ack at all: there the refusal can
 * arrive after the source stopped; the migration fails and the source
 * resumes.  No signal in the stream would tell a destination, before the
 * switchover, that such a source sends no descriptor, so an ack there
 * could only be released by a timer: we do not ask for one.)
 */
static const SaveVMHandlers vgpu_migration_handlers = {
    .save_setup = vgpu_save_setup,
    .load_state = vgpu_load_state,
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

/* Is the vGPU out of RESUMING, with the incoming state taken? */
static bool vgpu_resumed(NvVgpuState *s)
{
    VFIOMigration *mig = VFIO_PCI(s)->vbasedev.migration;

    return !mig || (mig->device_state != VFIO_DEVICE_STATE_RESUMING &&
                    mig->device_state != VFIO_DEVICE_STATE_ERROR);
}

/*
 * Show the guest the monitor it had, as far as this vGPU can.  That
 * writes the vGPU's EDID region, which a driver may refuse while the
 * vGPU is RESUMING, so it waits for both the monitor subsection and the
 * end of RESUMING, whichever comes last (both run with the BQL held).
 */
static void vgpu_monitor_replug(NvVgpuState *s)
{
    VgpuEdid *edid = &s->display.edid;
    uint32_t w = s->migrated_xres, h = s->migrated_yres;

    if (!s->monitor_pending || !vgpu_resumed(s)) {
        return;
    }
    s->monitor_pending = false;
    trace_vgpu_migration_monitor(s->host.id, w, h);
    if (edid->blob && w && h && w <= 16384 && h <= 16384) {
        vgpu_edid_set_mode(edid, w, h);
    }
}

static int vgpu_monitor_post_load(void *opaque, int version_id)
{
    NvVgpuState *s = opaque;

    s->monitor_pending = true;
    vgpu_monitor_replug(s);
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

/* The boot display: where the guest's firmware put its framebuffer */
static bool vgpu_ramfb_needed(void *opaque)
{
    NvVgpuState *s = opaque;

    return s->display.ramfb != NULL;
}

static int vgpu_ramfb_pre_save(void *opaque)
{
    NvVgpuState *s = opaque;

    vgpu_ramfb_save(s->display.ramfb, &s->migrated_ramfb);
    return 0;
}

/*
 * A stream with a boot display for a destination without one (ramfb=off
 * there) fails to load: the firmware's picture would be lost.
 */
static int vgpu_ramfb_post_load(void *opaque, int version_id)
{
    NvVgpuState *s = opaque;

    if (!s->display.ramfb) {
        error_report("nv-vgpu %s: the source has ramfb=on, this vGPU "
                     "ramfb=off; start the destination with ramfb=on",
                     DEVICE(s)->id ?: s->host.id);
        return -EINVAL;
    }
    vgpu_ramfb_load(s->display.ramfb, &s->migrated_ramfb);
    return 0;
}

static const VMStateDescription vmstate_nv_vgpu_ramfb = {
    .name = "nv-vgpu/ramfb",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = vgpu_ramfb_needed,
    .pre_save = vgpu_ramfb_pre_save,
    .post_load = vgpu_ramfb_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_BUFFER_UNSAFE(migrated_ramfb, NvVgpuState, 0,
                              sizeof(VgpuRamfbConfig)),
        VMSTATE_END_OF_LIST()
    },
};

/*
 * vfio-pci would take the vGPU out of RESUMING only when the VM starts,
 * after the migration has been declared a success, and reset it if the
 * driver refuses the state then: the guest would run on a blank vGPU
 * while the source has given up its own.  nv-vgpu ends RESUMING as soon
 * as all of the vGPU's VFIO state has been written, so that a refused
 * state fails the migration and the source runs on.
 *
 * The last piece of that state is the device config, and VFIO loads it
 * through the device's load_config op in both of its ways to move state:
 * at the end of its section in the main stream, and, with multifd device
 * state transfer, as the last step of its load thread (with the BQL),
 * which the destination waits for only after every section of the main
 * stream, nv-vgpu's included, has loaded.  So nv-vgpu's devices get a copy
 * of vfio-pci's ops whose load_config chains vfio-pci's and then ends
 * RESUMING; an error fails the load whichever way it came.
 */
static VFIODeviceOps vgpu_vfio_ops;
static const VFIODeviceOps *vgpu_vfio_pci_ops;

static int vgpu_load_config(VFIODevice *vbasedev, QEMUFile *f)
{
    NvVgpuState *s = NV_VGPU(vbasedev->dev);
    Error *err = NULL;
    int ret;

    ret = vgpu_vfio_pci_ops->vfio_load_config(vbasedev, f);
    if (ret || !vbasedev->migration ||
        vbasedev->migration->device_state != VFIO_DEVICE_STATE_RESUMING) {
        return ret;
    }
    ret = vfio_migration_set_state(vbasedev, VFIO_DEVICE_STATE_STOP,
                                   VFIO_DEVICE_STATE_ERROR, &err);
    if (ret) {
        error_reportf_err(err, "nv-vgpu %s: the host driver refused the "
                          "incoming vGPU state: ",
                          DEVICE(s)->id ?: s->host.id);
        /*
         * QEMU 10.0 tells the source whether the load failed by the
         * error of the main stream's file alone, which a failure in
         * VFIO's multifd load thread does not set: the source would
         * declare a success and stop for good.  Set it (with the BQL).
         */
        qemu_file_set_error(migration_incoming_get_current()->from_src_file,
                            ret);
        return ret;
    }
    trace_vgpu_migration_resumed(s->host.id);
    vgpu_monitor_replug(s);
    return 0;
}

void vgpu_migration_instance_init(NvVgpuState *s)
{
    VFIODevice *vbasedev = &VFIO_PCI(s)->vbasedev;

    if (!vgpu_vfio_pci_ops) {
        vgpu_vfio_pci_ops = vbasedev->ops;
        vgpu_vfio_ops = *vbasedev->ops;
        vgpu_vfio_ops.vfio_load_config = vgpu_load_config;
    }
    assert(vbasedev->ops == vgpu_vfio_pci_ops);
    vbasedev->ops = &vgpu_vfio_ops;
}

const VMStateDescription vmstate_nv_vgpu = {
    .name = "nv-vgpu",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_END_OF_LIST()
    },
    .subsections = (const VMStateDescription * const []) {
        &vmstate_nv_vgpu_monitor,
        &vmstate_nv_vgpu_ramfb,
        NULL
    },
};
