/*
 * nv-vgpu: head 0 of the vGPU as a QEMU graphic console
 *
 * The host driver describes head 0 through VFIO_DEVICE_QUERY_GFX_PLANE,
 * either as a region plane (the scanout is a mappable VFIO region; what
 * NVIDIA's drivers offer) or as a dma-buf plane (VFIO_DEVICE_GET_GFX_DMABUF
 * exports it).  Dma-bufs go to an OpenGL display when there is one; all
 * other planes are shown by CPU copies of what changed, so VNC and
 * screendump work on headless hosts too.
 *
 * This is a management console, not the guest's remote desktop: planes are
 * polled at most console-fps times a second, only when a display client
 * refreshes the console (VNC does not while no client is connected), and
 * a frame that did not change costs a compare and no update.  Nothing the
 * driver reports is trusted; a bad frame is dropped with one warning.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <linux/vfio.h>
#include <sys/ioctl.h>
#include "qapi/error.h"
#include "qemu/error-report.h"
#include "qemu/timer.h"
#include "system/system.h"
#include "hw/vgpu/vgpu-display.h"
#include "trace.h"

/* enum drm_plane_type, as the VFIO GFX uAPI uses it */
#define VGPU_DRM_PLANE_PRIMARY 1

static void vgpu_display_bad_frame(VgpuDisplay *d, Error *err)
{
    d->bad_frames++;
    trace_vgpu_display_bad_frame(d->vbasedev->name, error_get_pretty(err));
    if (!d->bad_frame_warned) {
        /* once until a good frame comes: the driver may repeat it often */
        warn_reportf_err(err, "nv-vgpu %s: head 0: dropping frames until "
                         "the vGPU reports a valid plane: ",
                         d->vbasedev->name);
        d->bad_frame_warned = true;
    } else {
        error_free(err);
    }
}

/* ---------------------------------------------------------------------- */
/* Region planes */

static void vgpu_display_unmap_region(VgpuDisplay *d)
{
    if (d->region_map) {
        munmap(d->region_map, d->region_size);
    }
    d->region_map = NULL;
    d->region_size = 0;
    d->region_index = -1;
}

static bool vgpu_display_map_region(VgpuDisplay *d, uint32_t index,
                                    Error **errp)
{
    g_autofree struct vfio_region_info *info = NULL;
    void *map;

    vgpu_display_unmap_region(d);
    if (index >= d->vbasedev->num_regions) {
        error_setg(errp, "plane names region %u, but the vGPU has %u",
                   index, d->vbasedev->num_regions);
        return false;
    }
    if (vfio_get_region_info(d->vbasedev, index, &info)) {
        error_setg(errp, "cannot get the info of plane region %u", index);
        return false;
    }
    if (!(info->flags & VFIO_REGION_INFO_FLAG_READ) ||
        !(info->flags & VFIO_REGION_INFO_FLAG_MMAP) ||
        !info->size || info->size > SIZE_MAX) {
        error_setg(errp, "plane region %u is not a readable, mappable "
                   "region (flags 0x%x, %llu bytes)", index, info->flags,
                   (unsigned long long)info->size);
        return false;
    }
    map = mmap(NULL, info->size, PROT_READ, MAP_SHARED, d->vbasedev->fd,
               info->offset);
    if (map == MAP_FAILED) {
        error_setg_errno(errp, errno, "cannot map plane region %u", index);
        return false;
    }
    d->region_map = map;
    d->region_size = info->size;
    d->region_index = index;
    trace_vgpu_display_map_region(d->vbasedev->name, index, info->size);
    return true;
}

static bool vgpu_display_show_region(VgpuDisplay *d,
                                     const struct vfio_device_gfx_plane_info *p,
                                     Error **errp)
{
    ScanoutFrame f = {
        .width = p->width,
        .height = p->height,
        .stride = p->stride,
        .drm_format = p->drm_format,
    };

    if (d->region_index != p->region_index &&
        !vgpu_display_map_region(d, p->region_index, errp)) {
        return false;
    }
    if (p->size > d->region_size) {
        error_setg(errp, "plane claims %llu bytes, but region %u has %" PRIu64,
                   (unsigned long long)p->size, p->region_index,
                   d->region_size);
        return false;
    }
    f.data = d->region_map;
    f.data_size = d->region_size;
    if (!scanout_frame_check(&f, d->max_width, d->max_height, errp)) {
        return false;
    }
    d->tiles += scanout_shadow_update(d->shadow, &f);
    return true;
}

/* ---------------------------------------------------------------------- */
/* Dma-buf planes */

static void vgpu_dmabuf_close_free(QemuDmaBuf *buf)
{
    qemu_dmabuf_close(buf);
    qemu_dmabuf_free(buf);
}

static void vgpu_display_drop_dmabuf(VgpuDisplay *d, QemuDmaBuf *buf)
{
    if (!buf) {
        return;
    }
    if (d->use_gl) {
        dpy_gl_release_dmabuf(d->con, buf);
    }
    vgpu_dmabuf_close_free(buf);
}

/*
 * Make d->dmabuf the dma-buf of plane @p.  The previous one goes, except
 * that an OpenGL display keeps showing it (d->gl_prev) until the new one
 * has been checked and replaces it.
 */
static bool vgpu_display_get_dmabuf(VgpuDisplay *d,
                                    const struct vfio_device_gfx_plane_info *p,
                                    Error **errp)
{
    uint32_t id = p->dmabuf_id;
    int fd;

    if (d->dmabuf && d->dmabuf_id == id) {
        return true;
    }
    if (d->dmabuf_view) {
        dmabuf_surface_release(d->dmabuf_view);
    }
    if (d->gl_shown) {
        vgpu_display_drop_dmabuf(d, d->gl_prev);
        d->gl_prev = d->dmabuf;
        d->gl_shown = false;
    } else {
        vgpu_display_drop_dmabuf(d, d->dmabuf);
    }
    d->dmabuf = NULL;

    fd = ioctl(d->vbasedev->fd, VFIO_DEVICE_GET_GFX_DMABUF, &id);
    if (fd < 0) {
        error_setg_errno(errp, errno, "cannot get dma-buf %u of the plane",
                         id);
        return false;
    }
    trace_vgpu_display_dmabuf(d->vbasedev->name, id, p->width, p->height,
                              p->stride, p->drm_format);
    d->dmabuf = qemu_dmabuf_new(p->width, p->height, p->stride, 0, 0,
                                p->width, p->height, p->drm_format,
                                p->drm_format_mod, fd, false, false);
    d->dmabuf_id = id;
    return true;
}

/* The GL path never maps the dma-buf, but still checks it is big enough. */
static bool vgpu_display_show_gl(VgpuDisplay *d, Error **errp)
{
    QemuDmaBuf *buf = d->dmabuf;
    uint32_t width = qemu_dmabuf_get_width(buf);
    uint32_t height = qemu_dmabuf_get_height(buf);
    ScanoutFrame f = {
        .width = width,
        .height = height,
        .stride = qemu_dmabuf_get_stride(buf),
        .drm_format = qemu_dmabuf_get_fourcc(buf),
    };

    f.data_size = dmabuf_real_size(qemu_dmabuf_get_fd(buf), errp);
    if (!f.data_size ||
        !scanout_frame_check(&f, d->max_width, d->max_height, errp)) {
        return false;
    }
    if (!d->gl_shown) {
        qemu_console_resize(d->con, width, height);
        dpy_gl_scanout_dmabuf(d->con, buf);
        d->gl_shown = true;
        vgpu_display_drop_dmabuf(d, d->gl_prev);
        d->gl_prev = NULL;
    }
    dpy_gl_update(d->con, 0, 0, width, height);
    return true;
}

static bool vgpu_display_show_dmabuf(VgpuDisplay *d,
                                     const struct vfio_device_gfx_plane_info *p,
                                     Error **errp)
{
    if (!vgpu_display_get_dmabuf(d, p, errp)) {
        return false;
    }
    if (d->use_gl) {
        return vgpu_display_show_gl(d, errp);
    }
    if (!dmabuf_surface_show(d->dmabuf_view, d->dmabuf, d->max_width,
                             d->max_height, errp)) {
        return false;
    }
    d->tiles += dmabuf_surface_last_tiles(d->dmabuf_view);
    return true;
}

/* ---------------------------------------------------------------------- */
/* The console */

static void vgpu_display_blank(VgpuDisplay *d)
{
    static const char msg[] = "vGPU display head 0 is off";

    if (d->blank) {
        return;
    }
    d->blank = true;
    trace_vgpu_display_blank(d->vbasedev->name);
    if (d->use_gl) {
        if (d->gl_shown || d->gl_prev) {
            dpy_gl_scanout_disable(d->con);
        }
        d->gl_shown = false;
        vgpu_display_drop_dmabuf(d, d->gl_prev);
        d->gl_prev = NULL;
    } else if (d->dmabuf_view) {
        dmabuf_surface_blank(d->dmabuf_view, msg);
    } else {
        scanout_shadow_blank(d->shadow, msg);
    }
}

static void vgpu_display_gfx_update(void *opaque)
{
    VgpuDisplay *d = opaque;
    struct vfio_device_gfx_plane_info plane = {
        .argsz = sizeof(plane),
        .flags = d->plane_type,
        .drm_plane_type = VGPU_DRM_PLANE_PRIMARY,
    };
    ScanoutFrame geometry = { .data_size = UINT64_MAX };
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_REALTIME);
    Error *err = NULL;
    bool ok;

    /* Display clients refresh at their own rate; we cap it. */
    if (d->polls && now - d->last_poll_ns < d->min_interval_ns) {
        return;
    }
    d->last_poll_ns = now;
    d->polls++;

    if (ioctl(d->vbasedev->fd, VFIO_DEVICE_QUERY_GFX_PLANE, &plane) < 0) {
        error_setg_errno(&err, errno, "VFIO_DEVICE_QUERY_GFX_PLANE failed");
        vgpu_display_bad_frame(d, err);
        return;
    }
    trace_vgpu_display_plane(d->vbasedev->name, plane.drm_format,
                             plane.width, plane.height, plane.stride,
                             plane.size);
    if (!plane.drm_format || !plane.size) {
        vgpu_display_blank(d);
        d->bad_frame_warned = false;
        return;
    }

    /* Format, size and stride first; where it lies is checked later. */
    geometry.width = plane.width;
    geometry.height = plane.height;
    geometry.stride = plane.stride;
    geometry.drm_format = plane.drm_format;
    if (!scanout_frame_check(&geometry, d->max_width, d->max_height, &err)) {
        ok = false;
    } else if (d->plane_type == VFIO_GFX_PLANE_TYPE_REGION) {
        ok = vgpu_display_show_region(d, &plane, &err);
    } else {
        ok = vgpu_display_show_dmabuf(d, &plane, &err);
    }
    if (!ok) {
        vgpu_display_bad_frame(d, err);
        return;
    }
    d->blank = false;
    d->bad_frame_warned = false;
}

static void vgpu_display_invalidate(void *opaque)
{
    VgpuDisplay *d = opaque;

    if (d->shadow) {
        scanout_shadow_invalidate(d->shadow);
    }
    d->last_poll_ns = 0;
}

static void vgpu_display_ui_info(void *opaque, uint32_t head,
                                 QemuUIInfo *info)
{
    VgpuDisplay *d = opaque;

    vgpu_edid_set_mode(&d->edid, info->width, info->height);
}

static int vgpu_display_get_flags(void *opaque)
{
    VgpuDisplay *d = opaque;

    return d->use_gl ? GRAPHIC_FLAGS_GL | GRAPHIC_FLAGS_DMABUF
                     : GRAPHIC_FLAGS_NONE;
}

static const GraphicHwOps vgpu_display_ops = {
    .get_flags = vgpu_display_get_flags,
    .invalidate = vgpu_display_invalidate,
    .gfx_update = vgpu_display_gfx_update,
    .ui_info = vgpu_display_ui_info,
};

/* Which plane type does the vGPU offer, if any?  0: none. */
static uint32_t vgpu_display_probe(VFIODevice *vbasedev, int *err)
{
    static const uint32_t types[] = {
        VFIO_GFX_PLANE_TYPE_DMABUF, VFIO_GFX_PLANE_TYPE_REGION,
    };
    size_t i;

    *err = 0;
    for (i = 0; i < ARRAY_SIZE(types); i++) {
        struct vfio_device_gfx_plane_info probe = {
            .argsz = sizeof(probe),
            .flags = VFIO_GFX_PLANE_TYPE_PROBE | types[i],
        };

        if (!ioctl(vbasedev->fd, VFIO_DEVICE_QUERY_GFX_PLANE, &probe)) {
            return types[i];
        }
        *err = errno;
    }
    return 0;
}

bool vgpu_display_init(VgpuDisplay *d, DeviceState *dev,
                       VFIODevice *vbasedev, OnOffAuto mode, uint32_t fps,
                       const VgpuProfile *profile, uint32_t xres,
                       uint32_t yres, Error **errp)
{
    int err;

    memset(d, 0, sizeof(*d));
    d->vbasedev = vbasedev;
    d->region_index = -1;
    if (mode == ON_OFF_AUTO_OFF) {
        return true;
    }

    d->plane_type = vgpu_display_probe(vbasedev, &err);
    if (!d->plane_type) {
        trace_vgpu_display_none(vbasedev->name, err);
        if (mode == ON_OFF_AUTO_AUTO) {
            return true;
        }
        error_setg(errp, "display=on, but the vGPU offers no display plane "
                   "(VFIO_DEVICE_QUERY_GFX_PLANE probe: %s); its host "
                   "driver may have the console turned off (NVIDIA: "
                   "vgpu_params disable_vnc=1)", strerror(err));
        return false;
    }

    d->use_gl = d->plane_type == VFIO_GFX_PLANE_TYPE_DMABUF &&
                display_opengl;
    d->max_width = profile->max_xres;
    d->max_height = profile->max_yres;
    d->min_interval_ns = NANOSECONDS_PER_SECOND / fps;

    if (!vgpu_edid_init(&d->edid, vbasedev, profile->max_xres,
                        profile->max_yres, xres, yres, errp)) {
        return false;
    }

    d->con = graphic_console_init(dev, 0, &vgpu_display_ops, d);
    if (d->plane_type == VFIO_GFX_PLANE_TYPE_REGION) {
        d->shadow = scanout_shadow_new(d->con);
    } else if (!d->use_gl) {
        d->dmabuf_view = dmabuf_surface_new(d->con);
    }
    trace_vgpu_display_init(vbasedev->name, d->plane_type, d->use_gl, fps);
    return true;
}

void vgpu_display_finalize(VgpuDisplay *d)
{
    if (d->con) {
        graphic_console_close(d->con);
        d->con = NULL;
    }
    if (d->dmabuf_view) {
        dmabuf_surface_free(d->dmabuf_view);
        d->dmabuf_view = NULL;
    }
    g_clear_pointer(&d->gl_prev, vgpu_dmabuf_close_free);
    g_clear_pointer(&d->dmabuf, vgpu_dmabuf_close_free);
    vgpu_display_unmap_region(d);
    scanout_shadow_free(d->shadow);
    d->shadow = NULL;
    vgpu_edid_finalize(&d->edid);
}
