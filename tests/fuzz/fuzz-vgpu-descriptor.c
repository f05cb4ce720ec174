/*
 * Fuzz target: the migration descriptor as a destination reads it from
 * the stream (magic, length, JSON) and as QMP's vgpu-check-descriptor
 * takes it, then the compatibility check against this host's vGPU
 * (hw/vgpu/vgpu-descriptor.c)
 *
 * The input is the stream's bytes.  What a refused descriptor must do is
 * fail with an error; what an accepted one must do is match this vGPU in
 * every field the check compares, and survive a round trip through JSON.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/qapi-visit-vgpu.h"
#include "qemu/bswap.h"
#include "qobject/qdict.h"
#include "qobject/qjson.h"
#include "hw/vgpu/vgpu-descriptor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* This host's vGPU: a GRID P4-8C, driver 550.127.05, ramfb=on */
static const VgpuDescriptor mine = {
    .format = VGPU_MIGRATION_FORMAT,
    .type = (char *)"nvidia-289",
    .profile = (char *)"GRID P4-8C",
    .framebuffer = 8ULL << 30,
    .heads = 1,
    .max_resolution = (char *)"4096x2160",
    .device_api = (char *)"vfio-pci",
    .driver = (char *)"nvidia",
    .driver_version = (char *)"550.127.05",
    .guest_resolution = (char *)"1280x800",
    .has_boot_display = true,
    .boot_display = true,
};

static void check_accepted(const VgpuDescriptor *d, VgpuDriverMatch match)
{
    unsigned w, h;

    assert(d->format <= VGPU_MIGRATION_FORMAT);
    assert(!strcmp(d->type, mine.type));
    assert(!strcmp(d->profile, mine.profile));
    assert(d->framebuffer == mine.framebuffer && d->heads == mine.heads);
    assert(!strcmp(d->max_resolution, mine.max_resolution));
    assert(!strcmp(d->device_api, mine.device_api));
    assert(!strcmp(d->driver, mine.driver));
    /* an mdev, time-sliced: so must the source be */
    assert(!d->type_space || !strcmp(d->type_space, "mdev"));
    assert(!d->has_gpu_instance || d->gpu_instance < 0);
    if (match == VGPU_DRIVER_MATCH_VERSION) {
        assert(!strcmp(d->driver_version, mine.driver_version));
    } else if (match == VGPU_DRIVER_MATCH_BRANCH) {
        assert(g_str_has_prefix(d->driver_version, "550") &&
               (!d->driver_version[3] || d->driver_version[3] == '.'));
    }
    if (*d->guest_resolution) {
        assert(sscanf(d->guest_resolution, "%ux%u", &w, &h) == 2);
        assert(w && h && w <= 4096 && h <= 2160);
    }
}

/* What the source would send for @d must read back as @d. */
static void check_round_trip(VgpuDescriptor *d)
{
    g_autoptr(QDict) dict = vgpu_descriptor_to_qdict(d);
    g_autoptr(GString) json = qobject_to_json(QOBJECT(dict));
    g_autoptr(VgpuDescriptor) back = NULL;

    back = vgpu_descriptor_from_json(json->str, json->len, &error_abort);
    assert(back->format == d->format && !strcmp(back->type, d->type) &&
           !strcmp(back->driver_version, d->driver_version) &&
           !strcmp(back->guest_resolution, d->guest_resolution) &&
           back->framebuffer == d->framebuffer &&
           back->has_boot_display == d->has_boot_display &&
           back->boot_display == d->boot_display &&
           !g_strcmp0(back->type_space, d->type_space) &&
           back->has_gpu_instance == d->has_gpu_instance &&
           back->gpu_instance == d->gpu_instance);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(VgpuDescriptor) d = NULL;
    g_autofree char *json = NULL;
    Error *err = NULL;
    uint32_t magic, len;
    int m;

    /* as vgpu_read_descriptor() reads the stream */
    if (size < 8) {
        return 0;               /* "the stream ends before the descriptor" */
    }
    magic = ldl_be_p(data);
    len = ldl_be_p(data + 4);
    if (!vgpu_descriptor_header_check(magic, len, &err)) {
        assert(err);
        error_free(err);
        return 0;
    }
    assert(magic == VGPU_DESCRIPTOR_MAGIC && len && len <= 4096);
    if (size - 8 < len) {
        return 0;               /* "the stream ends inside the descriptor" */
    }
    json = g_malloc0(len + 1);
    memcpy(json, data + 8, len);
    d = vgpu_descriptor_from_json(json, len, &err);
    if (!d) {
        assert(err);
        error_free(err);
        return 0;
    }
    assert(!err);
    check_round_trip(d);

    for (m = VGPU_DRIVER_MATCH_BRANCH; m <= VGPU_DRIVER_MATCH_ANY; m++) {
        const char *field = NULL;

        if (vgpu_descriptor_compare(d, &mine, 4096, 2160, m, &field, &err)) {
            assert(!err && !field);
            check_accepted(d, m);
        } else {
            /* refused: the field and a reason */
            assert(err && field && *error_get_pretty(err));
            error_free(err);
            err = NULL;
        }
    }
    return 0;
}
