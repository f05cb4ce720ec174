/*
 * nv-vgpu: the migration descriptor, parsed and compared without a device
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/qapi-visit-vgpu.h"
#include "qapi/qobject-input-visitor.h"
#include "qapi/qobject-output-visitor.h"
#include "qobject/qdict.h"
#include "qobject/qjson.h"
#include "qobject/qnum.h"
#include "qobject/qobject.h"
#include "hw/vgpu/vgpu-descriptor.h"
#include "trace.h"

static bool vgpu_check_format(uint64_t format, Error **errp)
{
    if (format > VGPU_MIGRATION_FORMAT) {
        error_setg(errp, "descriptor format: the source sends %" PRIu64
                   ", this QEMU understands up to %u", format,
                   VGPU_MIGRATION_FORMAT);
        return false;
    }
    return true;
}

QDict *vgpu_descriptor_to_qdict(VgpuDescriptor *d)
{
    QObject *obj = NULL;
    Visitor *v = qobject_output_visitor_new(&obj);

    visit_type_VgpuDescriptor(v, NULL, &d, &error_abort);
    visit_complete(v, &obj);
    visit_free(v);
    return qobject_to(QDict, obj);
}

/*
 * A descriptor from anywhere (the stream, QMP), trusting nothing in it.
 * The format decides first whether this QEMU can read it at all, so that
 * a newer source is told so and not that its descriptor is malformed;
 * then members this QEMU does not know, added by a newer nv-vgpu without
 * a format change, are dropped before the strict check of the rest.
 */
VgpuDescriptor *vgpu_descriptor_parse(QObject *obj, const char **field,
                                      Error **errp)
{
    VgpuDescriptor empty = {
        .type = (char *)"", .profile = (char *)"",
        .max_resolution = (char *)"", .device_api = (char *)"",
        .driver = (char *)"", .driver_version = (char *)"",
        .guest_resolution = (char *)"",
        .has_boot_display = true,
        .type_space = (char *)"",
        .has_gpu_instance = true,
    };
    g_autoptr(QDict) known = NULL;
    g_autoptr(QDict) copy = NULL;
    QDict *dict = qobject_to(QDict, obj);
    VgpuDescriptor *d = NULL;
    const QDictEntry *e;
    QNum *format;
    uint64_t fmt;
    Visitor *v;

    *field = NULL;
    if (!dict) {
        error_setg(errp, "the vGPU descriptor is malformed: not a JSON "
                   "object");
        return NULL;
    }
    format = qobject_to(QNum, qdict_get(dict, "format"));
    if (!format || !qnum_get_try_uint(format, &fmt)) {
        error_setg(errp, "the vGPU descriptor is malformed: no unsigned "
                   "integer 'format'");
        return NULL;
    }
    if (!vgpu_check_format(fmt, errp)) {
        *field = "format";
        return NULL;
    }

    /* the members this QEMU knows: those of an empty descriptor */
    known = vgpu_descriptor_to_qdict(&empty);
    copy = qdict_new();
    for (e = qdict_first(dict); e; e = qdict_next(dict, e)) {
        if (qdict_haskey(known, e->key)) {
            qdict_put_obj(copy, e->key, qobject_ref(e->value));
        } else {
            trace_vgpu_migration_unknown_member(e->key);
        }
    }

    v = qobject_input_visitor_new(QOBJECT(copy));
    if (!visit_type_VgpuDescriptor(v, NULL, &d, errp)) {
        error_prepend(errp, "the vGPU descriptor is malformed: ");
    }
    visit_free(v);
    return d;
}

bool vgpu_descriptor_header_check(uint32_t magic, uint32_t len,
                                  Error **errp)
{
    if (magic != VGPU_DESCRIPTOR_MAGIC || !len ||
        len > VGPU_DESCRIPTOR_MAX) {
        error_setg(errp, "no valid vGPU descriptor in the stream (magic "
                   "0x%08x, %u bytes)", magic, len);
        return false;
    }
    return true;
}

VgpuDescriptor *vgpu_descriptor_from_json(const char *json, size_t len,
                                          Error **errp)
{
    const char *field;
    VgpuDescriptor *d;
    QObject *obj;

    if (strnlen(json, len) != len) {
        error_setg(errp, "the vGPU descriptor holds a NUL byte");
        return NULL;
    }
    obj = qobject_from_json(json, errp);
    if (!obj) {
        error_prepend(errp, "the vGPU descriptor is not valid JSON: ");
        return NULL;
    }
    d = vgpu_descriptor_parse(obj, &field, errp);
    qobject_unref(obj);
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

/* A vGPU on a GPU instance (MIG), not time-sliced; older sources: no */
static bool vgpu_mig_backed(const VgpuDescriptor *d)
{
    return d->has_gpu_instance && d->gpu_instance >= 0;
}

bool vgpu_descriptor_compare(const VgpuDescriptor *src,
                             const VgpuDescriptor *mine,
                             uint32_t max_xres, uint32_t max_yres,
                             VgpuDriverMatch driver_match,
                             const char **field, Error **errp)
{
    const char *failed = NULL;
    uint32_t w, h;
    bool ok;

    if (!vgpu_check_format(src->format, errp)) {
        failed = "format";
        ok = false;
    } else if (strcmp(src->type_space ?: "mdev", mine->type_space ?: "mdev")) {
        failed = "type-space";
        error_setg(errp, "vGPU kind: the source is an %s vGPU, this one an "
                   "%s vGPU; NVIDIA's vGPU state moves only between vGPUs "
                   "of one kind", src->type_space ?: "mdev",
                   mine->type_space ?: "mdev");
        ok = false;
    } else if (vgpu_mig_backed(src) != vgpu_mig_backed(mine)) {
        failed = "gpu-instance";
        error_setg(errp, "GPU instance: the source is a%s vGPU (GPU "
                   "instance %" PRId64 "), this one a%s vGPU (GPU instance "
                   "%" PRId64 ")",
                   vgpu_mig_backed(src) ? " MIG-backed" : " time-sliced",
                   src->has_gpu_instance ? src->gpu_instance : -1,
                   vgpu_mig_backed(mine) ? " MIG-backed" : " time-sliced",
                   mine->has_gpu_instance ? mine->gpu_instance : -1);
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

    if (ok && driver_match != VGPU_DRIVER_MATCH_ANY) {
        g_autofree char *sb = vgpu_driver_branch(src->driver_version);
        g_autofree char *mb = vgpu_driver_branch(mine->driver_version);

        if (driver_match == VGPU_DRIVER_MATCH_VERSION) {
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
         !w || !h || (max_xres &&
                      (w > max_xres ||
                       h > max_yres)))) {
        failed = "guest-resolution";
        error_setg(errp, "guest resolution: the source showed '%s', beyond "
                   "this vGPU's '%s'", src->guest_resolution,
                   mine->max_resolution);
        ok = false;
    }

    /* The firmware's picture needs a boot display to go to. */
    if (ok && src->has_boot_display && src->boot_display &&
        !mine->boot_display) {
        failed = "boot-display";
        error_setg(errp, "boot display: the source has ramfb=on, this vGPU "
                   "ramfb=off; start the destination with ramfb=on");
        ok = false;
    }

    if (field) {
        *field = failed;
    }
    return ok;
}
