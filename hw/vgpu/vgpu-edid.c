/*
 * nv-vgpu: the monitor the guest sees on head 0 (VFIO EDID region)
 *
 * The vGPU's host driver takes an EDID blob through the VFIO GFX EDID
 * region and shows it to the guest as the monitor on head 0.  Its
 * preferred mode is xres/yres (or the EDID generator's default), or with
 * monitor-follows-viewer=on the size a display client asks for, and is
 * capped at the profile's maximum resolution.  Changing it
 * unplugs the monitor, rewrites the blob and plugs it back in shortly
 * after, as a real monitor change would.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <linux/vfio.h>
#include "qapi/error.h"
#include "qemu/error-report.h"
#include "hw/display/edid.h"
#include "hw/vgpu/vgpu-edid.h"
#include "trace.h"

/* EDID base block plus extensions: 256 blocks at most */
#define VGPU_EDID_MAX_BLOB  (256 * 128)
/* How long the monitor stays unplugged while its EDID changes */
#define VGPU_EDID_REPLUG_MS 100
/* what qemu_edid_generate() makes of a preferred mode of 0x0 */
#define VGPU_EDID_DEFAULT_XRES  1280
#define VGPU_EDID_DEFAULT_YRES  800

static bool vgpu_edid_write(VgpuEdid *edid, uint64_t off, const void *buf,
                            size_t len)
{
    ssize_t ret = pwrite(edid->vbasedev->fd, buf, len,
                         edid->region_offset + off);

    if (ret != len) {
        warn_report_once("nv-vgpu %s: cannot write the EDID region: %s",
                         edid->vbasedev->name,
                         ret < 0 ? strerror(errno) : "short write");
        return false;
    }
    return true;
}

static bool vgpu_edid_set_link(VgpuEdid *edid, uint32_t state)
{
    trace_vgpu_edid_link(edid->vbasedev->name,
                         state == VFIO_DEVICE_GFX_LINK_STATE_UP);
    return vgpu_edid_write(edid, offsetof(struct vfio_region_gfx_edid,
                                          link_state),
                           &state, sizeof(state));
}

static void vgpu_edid_link_up(void *opaque)
{
    vgpu_edid_set_link(opaque, VFIO_DEVICE_GFX_LINK_STATE_UP);
}

/* Write the EDID for @width x @height; the link must be down. */
static bool vgpu_edid_write_mode(VgpuEdid *edid, uint32_t width,
                                 uint32_t height)
{
    qemu_edid_info info = {
        .prefx = width,
        .prefy = height,
        .maxx = edid->max_xres,
        .maxy = edid->max_yres,
    };
    uint32_t size;

    memset(edid->blob, 0, edid->blob_max);
    qemu_edid_generate(edid->blob, edid->blob_max, &info);
    size = qemu_edid_size(edid->blob);
    edid->cur_xres = info.prefx;
    edid->cur_yres = info.prefy;
    trace_vgpu_edid_mode(edid->vbasedev->name, info.prefx, info.prefy, size);
    return vgpu_edid_write(edid, edid->blob_offset, edid->blob, size) &&
           vgpu_edid_write(edid, offsetof(struct vfio_region_gfx_edid,
                                          edid_size),
                           &size, sizeof(size));
}

/* The preferred mode for a request of @width x @height (0: the default) */
static void vgpu_edid_pick_mode(VgpuEdid *edid, uint32_t *width,
                                uint32_t *height)
{
    if (!*width || !*height) {
        *width = edid->xres;
        *height = edid->yres;
    }
    /* The EDID generator's default mode must obey the limits too. */
    if ((!*width || !*height) &&
        ((edid->max_xres && edid->max_xres < VGPU_EDID_DEFAULT_XRES) ||
         (edid->max_yres && edid->max_yres < VGPU_EDID_DEFAULT_YRES))) {
        *width = VGPU_EDID_DEFAULT_XRES;
        *height = VGPU_EDID_DEFAULT_YRES;
    }
    if (edid->max_xres && *width > edid->max_xres) {
        *width = edid->max_xres;
    }
    if (edid->max_yres && *height > edid->max_yres) {
        *height = edid->max_yres;
    }
}

bool vgpu_edid_init(VgpuEdid *edid, VFIODevice *vbasedev,
                    uint32_t max_xres, uint32_t max_yres,
                    uint32_t xres, uint32_t yres, Error **errp)
{
    g_autofree struct vfio_region_info *info = NULL;
    struct vfio_region_gfx_edid hdr;
    uint32_t width = 0, height = 0;
    ssize_t ret;

    memset(edid, 0, sizeof(*edid));
    edid->vbasedev = vbasedev;
    if (vfio_get_dev_region_info(vbasedev, VFIO_REGION_TYPE_GFX,
                                 VFIO_REGION_SUBTYPE_GFX_EDID, &info)) {
        trace_vgpu_edid_none(vbasedev->name);
        return true;
    }

    /* Nothing the driver says about its region is taken on trust. */
    if (!(info->flags & VFIO_REGION_INFO_FLAG_READ) ||
        !(info->flags & VFIO_REGION_INFO_FLAG_WRITE) ||
        info->size < sizeof(hdr)) {
        error_setg(errp, "the vGPU's EDID region is not a readable and "
                   "writable region of at least %zu bytes", sizeof(hdr));
        return false;
    }
    ret = pread(vbasedev->fd, &hdr, sizeof(hdr), info->offset);
    if (ret != sizeof(hdr)) {
        error_setg_errno(errp, ret < 0 ? errno : EIO,
                         "cannot read the vGPU's EDID region");
        return false;
    }
    if (hdr.edid_max_size < 128 || hdr.edid_offset < sizeof(hdr) ||
        hdr.edid_offset > info->size ||
        hdr.edid_max_size > info->size - hdr.edid_offset) {
        error_setg(errp, "the vGPU's EDID region is malformed: a %u-byte "
                   "blob at offset %u does not fit its %llu bytes",
                   hdr.edid_max_size, hdr.edid_offset,
                   (unsigned long long)info->size);
        return false;
    }

    edid->region_offset = info->offset;
    edid->blob_offset = hdr.edid_offset;
    edid->blob_max = MIN(hdr.edid_max_size, VGPU_EDID_MAX_BLOB);
    edid->max_xres = max_xres;
    edid->max_yres = max_yres;
    if (hdr.max_xres && (!max_xres || hdr.max_xres < max_xres)) {
        edid->max_xres = hdr.max_xres;
    }
    if (hdr.max_yres && (!max_yres || hdr.max_yres < max_yres)) {
        edid->max_yres = hdr.max_yres;
    }
    /* 0 picks the EDID generator's default mode, 1280x800 */
    edid->xres = xres;
    edid->yres = yres;
    edid->blob = g_malloc0(edid->blob_max);
    edid->link_up_timer = timer_new_ms(QEMU_CLOCK_REALTIME,
                                       vgpu_edid_link_up, edid);

    /* The guest has not started yet: no need to unplug first. */
    vgpu_edid_pick_mode(edid, &width, &height);
    if (!vgpu_edid_set_link(edid, VFIO_DEVICE_GFX_LINK_STATE_DOWN) ||
        !vgpu_edid_write_mode(edid, width, height) ||
        !vgpu_edid_set_link(edid, VFIO_DEVICE_GFX_LINK_STATE_UP)) {
        error_setg(errp, "cannot write the vGPU's EDID");
        vgpu_edid_finalize(edid);
        return false;
    }
    return true;
}

void vgpu_edid_set_mode(VgpuEdid *edid, uint32_t width, uint32_t height)
{
    if (!edid->blob) {
        return;
    }
    vgpu_edid_pick_mode(edid, &width, &height);
    if ((!width || width == edid->cur_xres) &&
        (!height || height == edid->cur_yres)) {
        return;                 /* same monitor: no replug */
    }
    timer_del(edid->link_up_timer);
    if (!vgpu_edid_set_link(edid, VFIO_DEVICE_GFX_LINK_STATE_DOWN) ||
        !vgpu_edid_write_mode(edid, width, height)) {
        return;
    }
    timer_mod(edid->link_up_timer, qemu_clock_get_ms(QEMU_CLOCK_REALTIME) +
              VGPU_EDID_REPLUG_MS);
}

void vgpu_edid_finalize(VgpuEdid *edid)
{
    if (edid->link_up_timer) {
        timer_free(edid->link_up_timer);
        edid->link_up_timer = NULL;
    }
    g_clear_pointer(&edid->blob, g_free);
}
