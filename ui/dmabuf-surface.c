/*
 * Show dma-buf scanouts on displays without OpenGL
 *
 * A dma-buf scanout normally goes to an OpenGL display, which imports it
 * as a texture.  Headless hosts (VNC, screendump) have no OpenGL; there
 * the dma-buf is mapped for reading instead, bracketed by
 * DMA_BUF_IOCTL_SYNC so that exporters with caches can flush, and shown
 * through a scanout shadow.  The exporter's claims are checked against
 * the dma-buf's real size, which lseek() reports, so a plane that claims
 * more than its buffer holds is refused instead of faulting.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/host-utils.h"
#include "standard-headers/drm/drm_fourcc.h"
#include "ui/dmabuf-surface.h"

#ifdef CONFIG_LINUX
#include <linux/dma-buf.h>
#include <sys/ioctl.h>
#endif

struct DmabufSurface {
    ScanoutShadow *shadow;
    QemuDmaBuf *mapped_buf;     /* whose fd is mapped, not owned */
    void *map;
    uint64_t map_size;
    unsigned int last_tiles;
};

DmabufSurface *dmabuf_surface_new(QemuConsole *con)
{
    DmabufSurface *d = g_new0(DmabufSurface, 1);

    d->shadow = scanout_shadow_new(con);
    return d;
}

void dmabuf_surface_release(DmabufSurface *d)
{
    if (d->map) {
        munmap(d->map, d->map_size);
    }
    d->map = NULL;
    d->map_size = 0;
    d->mapped_buf = NULL;
}

void dmabuf_surface_free(DmabufSurface *d)
{
    if (!d) {
        return;
    }
    dmabuf_surface_release(d);
    scanout_shadow_free(d->shadow);
    g_free(d);
}

uint64_t dmabuf_real_size(int fd, Error **errp)
{
    off_t size = lseek(fd, 0, SEEK_END);

    if (size <= 0) {
        error_setg_errno(errp, size < 0 ? errno : EINVAL,
                         "cannot tell the size of the dma-buf");
        return 0;
    }
    return size;
}

static bool dmabuf_surface_map(DmabufSurface *d, QemuDmaBuf *dmabuf,
                               Error **errp)
{
    int fd = qemu_dmabuf_get_fd(dmabuf);
    uint64_t size;
    void *map;

    dmabuf_surface_release(d);
    size = dmabuf_real_size(fd, errp);
    if (!size) {
        return false;
    }
    if (size > SIZE_MAX) {
        error_setg(errp, "a dma-buf of %" PRIu64 " bytes is too big to map",
                   size);
        return false;
    }
    map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
        error_setg_errno(errp, errno, "the dma-buf's exporter does not let "
                         "QEMU map it for reading; showing it needs a "
                         "display with OpenGL (e.g. -display egl-headless)");
        return false;
    }
    d->map = map;
    d->map_size = size;
    d->mapped_buf = dmabuf;
    return true;
}

static bool dmabuf_surface_sync(DmabufSurface *d, bool start, Error **errp)
{
#ifdef CONFIG_LINUX
    struct dma_buf_sync sync = {
        .flags = DMA_BUF_SYNC_READ |
                 (start ? DMA_BUF_SYNC_START : DMA_BUF_SYNC_END),
    };
    int fd = qemu_dmabuf_get_fd(d->mapped_buf);

    while (ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync) < 0) {
        if (errno != EINTR && errno != EAGAIN) {
            error_setg_errno(errp, errno, "DMA_BUF_IOCTL_SYNC %s failed",
                             start ? "start" : "end");
            return false;
        }
    }
#endif
    return true;
}

bool dmabuf_surface_frame(QemuDmaBuf *dmabuf, ScanoutFrame *f, Error **errp)
{
    uint32_t x = qemu_dmabuf_get_x(dmabuf);
    uint32_t y = qemu_dmabuf_get_y(dmabuf);
    uint64_t modifier = qemu_dmabuf_get_modifier(dmabuf);
    unsigned int bpp;

    *f = (ScanoutFrame) {
        .width = qemu_dmabuf_get_backing_width(dmabuf),
        .height = qemu_dmabuf_get_backing_height(dmabuf),
        .stride = qemu_dmabuf_get_stride(dmabuf),
        .drm_format = qemu_dmabuf_get_fourcc(dmabuf),
    };
    if (!f->width || !f->height) {
        /* no separate visible rectangle: show the whole buffer */
        f->width = qemu_dmabuf_get_width(dmabuf);
        f->height = qemu_dmabuf_get_height(dmabuf);
    }
    if (modifier != DRM_FORMAT_MOD_LINEAR &&
        modifier != DRM_FORMAT_MOD_INVALID) {
        error_setg(errp, "dma-buf layout modifier 0x%" PRIx64 " is not "
                   "linear; showing it needs a display with OpenGL",
                   modifier);
        return false;
    }
    if (!scanout_drm_format_to_pixman(f->drm_format, &bpp)) {
        /* let scanout_frame_check() name the format */
        bpp = 0;
    }
    /*
     * The visible rectangle starts at (x, y) of the buffer.  Both come
     * from the exporter: an offset that wraps around would pass for a
     * small one.
     */
    if (uadd64_overflow((uint64_t)y * f->stride, (uint64_t)x * bpp,
                        &f->offset)) {
        error_setg(errp, "the visible rectangle at (%u, %u) with stride %u "
                   "starts past the end of any buffer", x, y, f->stride);
        return false;
    }
    return true;
}

bool dmabuf_surface_show(DmabufSurface *d, QemuDmaBuf *dmabuf,
                         uint32_t max_width, uint32_t max_height,
                         Error **errp)
{
    ScanoutFrame f;
    bool ok;

    d->last_tiles = 0;
    if (!dmabuf_surface_frame(dmabuf, &f, errp)) {
        return false;
    }

    if (d->mapped_buf != dmabuf && !dmabuf_surface_map(d, dmabuf, errp)) {
        return false;
    }
    f.data = d->map;
    f.data_size = d->map_size;
    if (!scanout_frame_check(&f, max_width, max_height, errp)) {
        return false;
    }

    if (!dmabuf_surface_sync(d, true, errp)) {
        return false;
    }
    d->last_tiles = scanout_shadow_update(d->shadow, &f);
    ok = dmabuf_surface_sync(d, false, errp);
    return ok;
}

void dmabuf_surface_invalidate(DmabufSurface *d)
{
    scanout_shadow_invalidate(d->shadow);
}

void dmabuf_surface_blank(DmabufSurface *d, const char *msg)
{
    scanout_shadow_blank(d->shadow, msg);
}

unsigned int dmabuf_surface_last_tiles(DmabufSurface *d)
{
    return d->last_tiles;
}
