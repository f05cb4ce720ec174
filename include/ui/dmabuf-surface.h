/*
 * Show dma-buf scanouts on displays without OpenGL: map the dma-buf,
 * read it between DMA_BUF_IOCTL_SYNC brackets and present it through a
 * scanout shadow as an ordinary surface
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef UI_DMABUF_SURFACE_H
#define UI_DMABUF_SURFACE_H

#include "ui/dmabuf.h"
#include "ui/scanout-shadow.h"

typedef struct DmabufSurface DmabufSurface;

DmabufSurface *dmabuf_surface_new(QemuConsole *con);
void dmabuf_surface_free(DmabufSurface *d);

/*
 * Show the visible rectangle of @dmabuf.  It stays mapped until another
 * dma-buf is shown or dmabuf_surface_release() is called, so the caller
 * must keep its fd open until then.  The geometry is checked against the
 * dma-buf's real size and against @max_width x @max_height (0: none);
 * a frame that fails the check, or a dma-buf that cannot be mapped, is
 * not shown and the reason goes to @errp.
 */
bool dmabuf_surface_show(DmabufSurface *d, QemuDmaBuf *dmabuf,
                         uint32_t max_width, uint32_t max_height,
                         Error **errp);

/*
 * The frame that dmabuf_surface_show() would show of @dmabuf: its visible
 * rectangle, at its offset in the buffer.  Not checked yet: that takes
 * the buffer's real size, and scanout_frame_check().  False (with @errp
 * set) if the layout is not one we can read.
 */
bool dmabuf_surface_frame(QemuDmaBuf *dmabuf, ScanoutFrame *f, Error **errp);

/* Unmap the dma-buf shown last, e.g. before its fd is closed. */
void dmabuf_surface_release(DmabufSurface *d);

/* Size in bytes of the dma-buf behind @fd, or 0 with @errp set. */
uint64_t dmabuf_real_size(int fd, Error **errp);

/* Draw the next frame shown in full, changed or not. */
void dmabuf_surface_invalidate(DmabufSurface *d);

/* Show @msg instead of a frame. */
void dmabuf_surface_blank(DmabufSurface *d, const char *msg);

/* Tiles that changed in the last dmabuf_surface_show() */
unsigned int dmabuf_surface_last_tiles(DmabufSurface *d);

#endif
