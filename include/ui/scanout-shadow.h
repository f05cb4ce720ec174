/*
 * Scanout shadow: show a CPU-readable scanout buffer on a console,
 * copying and reporting only the tiles that changed
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef UI_SCANOUT_SHADOW_H
#define UI_SCANOUT_SHADOW_H

#include "ui/console.h"

/* Damage is tracked in tiles of this many pixels square. */
#define SCANOUT_SHADOW_TILE 64

/*
 * One frame as a device or kernel driver describes it.  Nothing in it is
 * trusted: scanout_frame_check() validates it against the buffer that is
 * really readable at @data.
 */
typedef struct ScanoutFrame {
    const uint8_t *data;        /* mapped buffer that holds the plane */
    uint64_t data_size;         /* bytes readable from @data */
    uint64_t offset;            /* plane start within @data */
    uint32_t width;
    uint32_t height;
    uint32_t stride;            /* bytes per line */
    uint32_t drm_format;        /* DRM fourcc, linear layout */
} ScanoutFrame;

typedef struct ScanoutShadow ScanoutShadow;

/*
 * Pixman format and bytes per pixel of a DRM fourcc that a shadow can
 * show, or 0 if it cannot.
 */
pixman_format_code_t scanout_drm_format_to_pixman(uint32_t drm_format,
                                                  unsigned int *bpp);

/*
 * Check that @f is a plane we can show and that all of it lies inside
 * the readable buffer; planes larger than @max_width x @max_height (0: no
 * limit but the console's own) are refused too.
 */
bool scanout_frame_check(const ScanoutFrame *f, uint32_t max_width,
                         uint32_t max_height, Error **errp);

/* A shadow owns no surface: the console does. */
ScanoutShadow *scanout_shadow_new(QemuConsole *con);
void scanout_shadow_free(ScanoutShadow *s);

/*
 * Show a checked frame: on a new size or format the console gets a new
 * surface and a full update; otherwise only tiles that differ from what
 * the console shows are copied and reported with dpy_gfx_update().
 * Returns the number of tiles that changed.
 */
unsigned int scanout_shadow_update(ScanoutShadow *s, const ScanoutFrame *f);

/* Show @msg instead of a frame (e.g. while the head is off). */
void scanout_shadow_blank(ScanoutShadow *s, const char *msg);

/* Make the next update copy and report the whole frame. */
void scanout_shadow_invalidate(ScanoutShadow *s);

#endif
