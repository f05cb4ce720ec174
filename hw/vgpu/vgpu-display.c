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
 * a frame that did not change costs a compare and no update; no display
 * client can make it poll faster (a static screen: one extra poll a slot,
 * so that a change after an idle spell is shown at once).  A refresh the
 * cap turns away arms a timer for the next slot, so that the frame is not
 * lost and VNC does not take the screen for idle.  Nothing the driver
 * reports is trusted; a bad frame is dropped, with rate-limited warnings.
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

/*
 * A frame was dropped because of @err.  The driver may repeat a bad plane
 * on every poll, or a guest may alternate good and bad ones: warn once per
 * bad spell, again only when the reason changes (a transient error while
 * the driver comes up must not hide the one that follows), and never more
 * than once per warn_interval_ns.  A reason held back by the rate limit is
 * warned about once the interval is over, if the spell lasts that long.
 */
static void vgpu_display_bad_frame(VgpuDisplay *d, Error *err)
{
    const char *why = error_get_pretty(err);
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_REALTIME);

    d->bad_frames++;
    trace_vgpu_display_bad_frame(d->vbasedev->name, why);
    d->bad_spell = true;
    if ((d->warned_reason && !strcmp(d->warned_reason, why)) ||
        (d->last_warn_ns && now - d->last_warn_ns < d->warn_interval_ns)) {
        error_free(err);
        return;
    }
    if (d->quiet_spells) {
        warn_report("nv-vgpu %s: head 0: dropping frames until the vGPU "
                    "reports a valid plane: %s (and %" PRIu64 " earlier bad "
                    "spells since the last warning, not reported)",
                    d->vbasedev->name, why, d->quiet_spells);
    } else {
        warn_report("nv-vgpu %s: head 0: dropping frames until the vGPU "
                    "reports a valid plane: %s", d->vbasedev->name, why);
    }
    d->last_warn_ns = now;
    d->quiet_spells = 0;
    g_free(d->warned_reason);
    d->warned_reason = g_strdup(why);
    error_free(err);
}

/* A good or blank frame ends a bad spell. */
static void vgpu_display_spell_end(VgpuDisplay *d)
{
    if (!d->bad_spell) {
        return;
    }
    if (!d->warned_reason) {
        d->quiet_spells++;
    }
    d->bad_spell = false;
    g_clear_pointer(&d->warned_reason, g_free);
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
    d->region_index = 0;
}

/*
 * The plane may name any region the driver answers
 * VFIO_DEVICE_GET_REGION_INFO for: device-specific regions may sit past
 * num_regions, so the kernel's answer (size, flags, mmap) is what counts.
 */
static bool vgpu_display_map_region(VgpuDisplay *d, uint32_t index,
                                    Error **errp)
{
    g_autofree struct vfio_region_info *info = NULL;
    void *map;
    int ret;

    vgpu_display_unmap_region(d);
    if (index > INT_MAX) {
        error_setg(errp, "plane names region %u, which is not a VFIO "
                   "region index", index);
        return false;
    }
    ret = vfio_get_region_info(d->vbasedev, index, &info);
    if (ret) {
        error_setg_errno(errp, -ret, "the vGPU has no plane region %u "
                         "(VFIO_DEVICE_GET_REGION_INFO)", index);
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

    if ((!d->region_map || d->region_index != p->region_index) &&
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

/* Stop showing a dma-buf through OpenGL, before a surface is shown. */
static void vgpu_display_stop_gl(VgpuDisplay *d)
{
    if (d->gl_shown || d->gl_prev) {
        dpy_gl_scanout_disable(d->con);
    }
    d->gl_shown = false;
    vgpu_display_drop_dmabuf(d, d->gl_prev);
    d->gl_prev = NULL;
}

static void vgpu_display_blank(VgpuDisplay *d)
{
    static const char msg[] = "vGPU display head 0 is off";

    if (d->blank) {
        return;
    }
    d->blank = true;
    trace_vgpu_display_blank(d->vbasedev->name);
    if (d->use_gl) {
        vgpu_display_stop_gl(d);
    } else if (d->dmabuf_view) {
        dmabuf_surface_blank(d->dmabuf_view, msg);
    } else {
        scanout_shadow_blank(d->shadow, msg);
    }
}

static void vgpu_display_count_frame(VgpuDisplay *d,
                                     const struct vfio_device_gfx_plane_info *p,
                                     int64_t now)
{
    d->shown_width = p->width;
    d->shown_height = p->height;
    d->shown_format = p->drm_format;
    d->frames_shown++;
    if (now - d->fps_window_ns >= NANOSECONDS_PER_SECOND) {
        if (d->fps_window_ns) {
            /* frames of the window that ended, this one not included */
            d->fps = (d->frames_shown - 1 - d->fps_window_frames) *
                     NANOSECONDS_PER_SECOND / (now - d->fps_window_ns);
        }
        d->fps_window_ns = now;
        d->fps_window_frames = d->frames_shown - 1;
    }
}

uint32_t vgpu_display_fps(const VgpuDisplay *d)
{
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_REALTIME);

    /* Nothing shown for two windows: the rate is 0, not the old one. */
    if (!d->fps_window_ns ||
        now - d->fps_window_ns >= 2 * NANOSECONDS_PER_SECOND) {
        return 0;
    }
    return d->fps;
}

/*
 * Head 0 is off: show the boot display if the firmware set one up, else
 * a notice.  The boot display has a shadow of its own, and each shadow
 * redraws in full when it finds the console showing another's surface.
 */
static void vgpu_display_head_off(VgpuDisplay *d)
{
    unsigned int tiles;

    if (d->ramfb) {
        if (d->use_gl) {
            vgpu_display_stop_gl(d);
        }
        if (vgpu_ramfb_show(d->ramfb, &tiles)) {
            d->tiles += tiles;
            d->blank = false;
            return;
        }
    }
    vgpu_display_blank(d);
}

/*
 * May a display refresh at @now poll the plane?  The cap allows one poll
 * per slot of min_interval_ns.  A refresh it turns away must not lose the
 * frame: VNC takes a refresh that brings nothing for an idle screen and
 * backs off, so a 10 Hz change would reach its clients at 6 frames/s.
 * The refresh arms a timer for the next slot instead, which polls then
 * and leaves the damage for the display's next refresh to send.
 *
 * A change on a screen that was static for a slot need not wait for the
 * next slot: one extra poll per slot is allowed then, so a static screen
 * costs at most two compares per slot and a changing one stays at the cap.
 * An early poll that finds a frame starts a new slot (see
 * vgpu_display_frame_seen()).
 */
static bool vgpu_display_may_poll(VgpuDisplay *d, int64_t now)
{
    int64_t next_slot = d->last_poll_ns + d->min_interval_ns;

    if (!d->polls || now >= next_slot) {
        /*
         * Slots stay on their grid: a timer or refresh that runs late
         * must not push every later slot back, or a guest changing at
         * the cap loses a frame each time the lateness adds up to a slot.
         * A late poll may then be followed closely by the next slot's,
         * but there is still one per slot.  After a gap of more than a
         * slot, the grid starts again here.
         */
        d->last_poll_ns = d->polls && now - next_slot < d->min_interval_ns ?
                          next_slot : now;
        d->early_poll = false;
        return true;
    }
    if (!d->early_poll && now - d->last_frame_ns >= d->min_interval_ns) {
        d->early_poll = true;
        d->early_polls++;
        return true;
    }
    d->capped++;
    if (!timer_pending(d->redraw_timer)) {
        timer_mod_ns(d->redraw_timer, d->last_poll_ns + d->min_interval_ns);
    }
    trace_vgpu_display_capped(d->vbasedev->name,
                              d->last_poll_ns + d->min_interval_ns - now);
    return false;
}

/*
 * A poll at @now found a new frame.  If it was the early poll, the slot
 * starts again here: there is still one frame per slot (the early poll
 * needs the last frame a slot back), and polls follow the guest's own
 * rhythm instead of landing just before each of its changes, which would
 * cost two compares per frame (the slot poll finding nothing, then the
 * early one) and a slot of latency.
 */
static void vgpu_display_frame_seen(VgpuDisplay *d, int64_t now)
{
    d->last_frame_ns = now;
    if (d->early_poll) {
        d->last_poll_ns = now;
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
    uint64_t tiles = d->tiles;
    bool blank = d->blank;

    if (!vgpu_display_may_poll(d, now)) {
        return;
    }
    d->polls++;
    timer_del(d->redraw_timer);

    if (ioctl(d->vbasedev->fd, VFIO_DEVICE_QUERY_GFX_PLANE, &plane) < 0) {
        error_setg_errno(&err, errno, "VFIO_DEVICE_QUERY_GFX_PLANE failed");
        vgpu_display_bad_frame(d, err);
        return;
    }
    trace_vgpu_display_plane(d->vbasedev->name, plane.drm_format,
                             plane.width, plane.height, plane.stride,
                             plane.size);
    if (!plane.drm_format || !plane.size) {
        d->shown_width = d->shown_height = d->shown_format = 0;
        vgpu_display_head_off(d);
        vgpu_display_spell_end(d);
        if (d->tiles != tiles || blank != d->blank) {
            vgpu_display_frame_seen(d, now);
        }
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
    vgpu_display_count_frame(d, &plane, now);
    vgpu_display_spell_end(d);
    if (d->tiles != tiles || blank || d->use_gl) {
        vgpu_display_frame_seen(d, now);
    }
}

static void vgpu_display_redraw(void *opaque)
{
    VgpuDisplay *d = opaque;

    graphic_hw_update(d->con);
}

/*
 * A display client lost track of the picture (a VNC client's
 * SetPixelFormat, a console switch): the next frame is drawn in full.
 * That is the next frame the cap allows, not an extra one, or any client
 * could make us poll as fast as it sends; if none is due before, a timer
 * asks for it once the cap allows.
 */
static void vgpu_display_invalidate(void *opaque)
{
    VgpuDisplay *d = opaque;
    int64_t due = d->last_poll_ns + d->min_interval_ns;

    if (d->shadow) {
        scanout_shadow_invalidate(d->shadow);
    }
    if (d->dmabuf_view) {
        dmabuf_surface_invalidate(d->dmabuf_view);
    }
    if (d->ramfb) {
        vgpu_ramfb_invalidate(d->ramfb);
    }
    if (d->polls && !timer_pending(d->redraw_timer)) {
        timer_mod_ns(d->redraw_timer, due);
    }
}

/* Only with monitor-follows-viewer=on: the viewer's window sets the mode. */
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

/*
 * Without ui_info, display clients learn that the device does not take
 * their size (VNC answers SetDesktopSize with "invalid screen layout")
 * and scale or scroll instead; the guest's monitor stays as configured.
 */
static const GraphicHwOps vgpu_display_ops = {
    .get_flags = vgpu_display_get_flags,
    .invalidate = vgpu_display_invalidate,
    .gfx_update = vgpu_display_gfx_update,
};

static const GraphicHwOps vgpu_display_follow_ops = {
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

/*
 * A vGPU without an EDID region shows the guest whatever monitor its
 * driver makes up.  Asking for a mode (xres=, yres=) there is an error:
 * the guest would not get it.  Following the viewer's window only
 * changes what the viewer does, so it gets a warning; the defaults just
 * go without.
 */
static bool vgpu_display_check_edid(VgpuDisplay *d,
                                    const VgpuDisplayConfig *cfg,
                                    Error **errp)
{
    if (d->edid.blob) {
        return true;
    }
    if (cfg->xres || cfg->yres) {
        error_setg(errp, "xres=%u,yres=%u cannot be shown to the guest: the "
                   "vGPU has no VFIO EDID region, so its host driver alone "
                   "chooses the guest's monitor; drop xres= and yres=",
                   cfg->xres, cfg->yres);
        return false;
    }
    if (cfg->follow_viewer) {
        warn_report("nv-vgpu %s: monitor-follows-viewer=on has no effect: "
                    "the vGPU has no VFIO EDID region, so viewers' window "
                    "sizes cannot reach the guest", d->vbasedev->name);
    }
    return true;
}

bool vgpu_display_init(VgpuDisplay *d, DeviceState *dev,
                       VFIODevice *vbasedev, const VgpuDisplayConfig *cfg,
                       const VgpuProfile *profile, Error **errp)
{
    const GraphicHwOps *ops = &vgpu_display_ops;
    int err;

    memset(d, 0, sizeof(*d));
    d->vbasedev = vbasedev;
    if (cfg->mode == ON_OFF_AUTO_OFF) {
        return true;
    }

    d->plane_type = vgpu_display_probe(vbasedev, &err);
    if (!d->plane_type) {
        trace_vgpu_display_none(vbasedev->name, err);
        if (cfg->ramfb) {
            error_setg(errp, "ramfb=on, but the vGPU offers no display "
                       "plane (VFIO_DEVICE_QUERY_GFX_PLANE probe: %s), so "
                       "there is no console to show the boot display on",
                       strerror(err));
            return false;
        }
        if (cfg->mode == ON_OFF_AUTO_AUTO) {
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
    d->min_interval_ns = NANOSECONDS_PER_SECOND / cfg->fps;
    d->warn_interval_ns = (int64_t)cfg->warn_interval_ms * SCALE_MS;

    if (!vgpu_edid_init(&d->edid, vbasedev, profile->max_xres,
                        profile->max_yres, cfg->xres, cfg->yres, errp) ||
        !vgpu_display_check_edid(d, cfg, errp)) {
        return false;
    }
    if (cfg->follow_viewer && d->edid.blob) {
        ops = &vgpu_display_follow_ops;
    }

    d->redraw_timer = timer_new_ns(QEMU_CLOCK_REALTIME, vgpu_display_redraw,
                                   d);
    d->con = graphic_console_init(dev, 0, ops, d);
    if (d->plane_type == VFIO_GFX_PLANE_TYPE_REGION) {
        d->shadow = scanout_shadow_new(d->con);
    } else if (!d->use_gl) {
        d->dmabuf_view = dmabuf_surface_new(d->con);
    }
    if (cfg->ramfb) {
        d->ramfb = vgpu_ramfb_claim(cfg->owner, d->con, d->max_width,
                                    d->max_height, errp);
        if (!d->ramfb) {
            return false;
        }
    }
    trace_vgpu_display_init(vbasedev->name, d->plane_type, d->use_gl,
                            cfg->fps);
    return true;
}

void vgpu_display_finalize(VgpuDisplay *d)
{
    if (d->redraw_timer) {
        timer_free(d->redraw_timer);
        d->redraw_timer = NULL;
    }
    g_clear_pointer(&d->warned_reason, g_free);
    vgpu_ramfb_release(d->ramfb);
    d->ramfb = NULL;
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
