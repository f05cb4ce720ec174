/*
 * Scanout shadow: show a CPU-readable scanout buffer on a console,
 * copying and reporting only the tiles that changed
 *
 * Devices whose scanout lives in memory that QEMU maps but does not own
 * (a VFIO display region, a dma-buf) cannot hand it to the console as it
 * is: the console would then re-read and re-compare the whole buffer on
 * every refresh.  The shadow is the console's surface itself; each update
 * compares the buffer with it line by line, and only in lines that differ
 * tile by tile, copies what differs and reports those tiles.  An
 * unchanged frame costs one memcmp() per line and no update at all.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bitmap.h"
#include "qapi/error.h"
#include "standard-headers/drm/drm_fourcc.h"
#include "ui/scanout-shadow.h"

/* Pixman takes int sizes; stay far below what would overflow them. */
#define SCANOUT_MAX_DIM 16384

struct ScanoutShadow {
    QemuConsole *con;
    DisplaySurface *surface;    /* ours while the console shows it */
    uint32_t drm_format;
    unsigned int bpp;
    bool full;                  /* next update copies everything */
    char *blank_msg;            /* what the placeholder says, if shown */
    unsigned long *band_dirty;  /* tile columns changed in one band */
    uint32_t band_cols;
};

pixman_format_code_t scanout_drm_format_to_pixman(uint32_t drm_format,
                                                  unsigned int *bpp)
{
    /* DRM formats are little endian, pixman's are host endian. */
    switch (drm_format) {
    case DRM_FORMAT_XRGB8888:
        *bpp = 4;
        return PIXMAN_LE_x8r8g8b8;
    case DRM_FORMAT_ARGB8888:
        *bpp = 4;
        return PIXMAN_LE_a8r8g8b8;
    case DRM_FORMAT_XBGR8888:
        *bpp = 4;
        return PIXMAN_LE_x8b8g8r8;
    case DRM_FORMAT_ABGR8888:
        *bpp = 4;
        return PIXMAN_LE_a8b8g8r8;
#if !HOST_BIG_ENDIAN
    case DRM_FORMAT_RGB565:
        *bpp = 2;
        return PIXMAN_r5g6b5;
#endif
    }
    *bpp = 0;
    return 0;
}

/* "XR24", or the number when the code is not printable */
static char *scanout_fourcc_name(uint32_t code)
{
    char c[4];
    int i;

    for (i = 0; i < 4; i++) {
        c[i] = code >> (8 * i);
        if (!g_ascii_isprint(c[i])) {
            return g_strdup_printf("0x%08x", code);
        }
    }
    return g_strdup_printf("%.4s (0x%08x)", c, code);
}

bool scanout_frame_check(const ScanoutFrame *f, uint32_t max_width,
                         uint32_t max_height, Error **errp)
{
    unsigned int bpp;
    uint64_t need;

    if (!scanout_drm_format_to_pixman(f->drm_format, &bpp)) {
        g_autofree char *name = scanout_fourcc_name(f->drm_format);

        error_setg(errp, "unsupported DRM format %s", name);
        return false;
    }
    if (!max_width || max_width > SCANOUT_MAX_DIM) {
        max_width = SCANOUT_MAX_DIM;
    }
    if (!max_height || max_height > SCANOUT_MAX_DIM) {
        max_height = SCANOUT_MAX_DIM;
    }
    if (!f->width || !f->height ||
        f->width > max_width || f->height > max_height) {
        error_setg(errp, "plane size %ux%u is outside 1x1 to %ux%u",
                   f->width, f->height, max_width, max_height);
        return false;
    }
    if (f->stride < (uint64_t)f->width * bpp) {
        error_setg(errp, "stride %u is below width %u x %u bytes per pixel",
                   f->stride, f->width, bpp);
        return false;
    }
    /* No overflow: each factor is below 2^32, the sum below 2^63. */
    need = (uint64_t)f->stride * (f->height - 1) + (uint64_t)f->width * bpp;
    if (f->offset > f->data_size || need > f->data_size - f->offset) {
        error_setg(errp, "a %ux%u plane with stride %u at offset %" PRIu64
                   " needs %" PRIu64 " bytes, past the end of its %" PRIu64
                   "-byte buffer", f->width, f->height, f->stride, f->offset,
                   need, f->data_size);
        return false;
    }
    return true;
}

ScanoutShadow *scanout_shadow_new(QemuConsole *con)
{
    ScanoutShadow *s = g_new0(ScanoutShadow, 1);

    s->con = con;
    return s;
}

void scanout_shadow_free(ScanoutShadow *s)
{
    if (!s) {
        return;
    }
    g_free(s->blank_msg);
    g_free(s->band_dirty);
    g_free(s);
}

void scanout_shadow_invalidate(ScanoutShadow *s)
{
    s->full = true;
}

/* Is the console still showing our surface?  Something else may replace it. */
static bool scanout_shadow_is_shown(ScanoutShadow *s)
{
    return s->surface && qemu_console_surface(s->con) == s->surface;
}

static void scanout_shadow_new_surface(ScanoutShadow *s, const ScanoutFrame *f,
                                       pixman_format_code_t format,
                                       unsigned int bpp)
{
    pixman_image_t *image;

    /* pixman allocates (and frees) the bits; strides are 4-byte aligned */
    image = pixman_image_create_bits(format, f->width, f->height, NULL,
                                     ROUND_UP(f->width * bpp, 4));
    s->surface = qemu_create_displaysurface_pixman(image);
    pixman_image_unref(image);

    s->drm_format = f->drm_format;
    s->bpp = bpp;
    s->band_cols = DIV_ROUND_UP(f->width, SCANOUT_SHADOW_TILE);
    g_free(s->band_dirty);
    s->band_dirty = bitmap_new(s->band_cols);
    g_clear_pointer(&s->blank_msg, g_free);
    s->full = true;
    /* The console owns the surface from here on. */
    dpy_gfx_replace_surface(s->con, s->surface);
}

/* Report the runs of changed tiles of the band at line @y, @h lines high. */
static unsigned int scanout_shadow_flush_band(ScanoutShadow *s, uint32_t y,
                                              uint32_t h, uint32_t width)
{
    unsigned long first = 0, end;
    unsigned int tiles = 0;

    for (;;) {
        first = find_next_bit(s->band_dirty, s->band_cols, first);
        if (first >= s->band_cols) {
            break;
        }
        end = find_next_zero_bit(s->band_dirty, s->band_cols, first);
        tiles += end - first;
        dpy_gfx_update(s->con, first * SCANOUT_SHADOW_TILE, y,
                       MIN(end * SCANOUT_SHADOW_TILE, width) -
                       first * SCANOUT_SHADOW_TILE, h);
        first = end;
    }
    bitmap_zero(s->band_dirty, s->band_cols);
    return tiles;
}

unsigned int scanout_shadow_update(ScanoutShadow *s, const ScanoutFrame *f)
{
    const uint8_t *src = f->data + f->offset;
    pixman_format_code_t format;
    size_t line_bytes, tile_bytes;
    unsigned int bpp, tiles = 0;
    uint32_t band, y, col;
    uint8_t *dst;
    int dst_stride;

    format = scanout_drm_format_to_pixman(f->drm_format, &bpp);
    assert(format);             /* callers check frames first */

    if (!scanout_shadow_is_shown(s) ||
        surface_width(s->surface) != f->width ||
        surface_height(s->surface) != f->height ||
        s->drm_format != f->drm_format) {
        scanout_shadow_new_surface(s, f, format, bpp);
    }

    dst = surface_data(s->surface);
    dst_stride = surface_stride(s->surface);
    line_bytes = (size_t)f->width * bpp;

    if (s->full) {
        for (y = 0; y < f->height; y++) {
            memcpy(dst + (size_t)y * dst_stride,
                   src + (size_t)y * f->stride, line_bytes);
        }
        s->full = false;
        dpy_gfx_update_full(s->con);
        tiles = s->band_cols * DIV_ROUND_UP(f->height, SCANOUT_SHADOW_TILE);
        return tiles;
    }

    tile_bytes = SCANOUT_SHADOW_TILE * bpp;
    for (band = 0; band < f->height; band += SCANOUT_SHADOW_TILE) {
        uint32_t band_end = MIN(band + SCANOUT_SHADOW_TILE, f->height);
        bool changed = false;

        for (y = band; y < band_end; y++) {
            const uint8_t *sl = src + (size_t)y * f->stride;
            uint8_t *dl = dst + (size_t)y * dst_stride;

            if (!memcmp(sl, dl, line_bytes)) {
                continue;
            }
            for (col = 0; col < s->band_cols; col++) {
                size_t off = col * tile_bytes;
                size_t len = MIN(tile_bytes, line_bytes - off);

                if (memcmp(sl + off, dl + off, len)) {
                    memcpy(dl + off, sl + off, len);
                    set_bit(col, s->band_dirty);
                    changed = true;
                }
            }
        }
        if (changed) {
            tiles += scanout_shadow_flush_band(s, band, band_end - band,
                                               f->width);
        }
    }
    return tiles;
}

void scanout_shadow_blank(ScanoutShadow *s, const char *msg)
{
    DisplaySurface *cur = qemu_console_surface(s->con);
    int w = cur ? surface_width(cur) : 640;
    int h = cur ? surface_height(cur) : 480;

    if (s->blank_msg && !strcmp(s->blank_msg, msg) &&
        cur && surface_is_placeholder(cur)) {
        return;
    }
    g_free(s->blank_msg);
    s->blank_msg = g_strdup(msg);
    s->surface = NULL;
    dpy_gfx_replace_surface(s->con, qemu_create_placeholder_surface(w, h, msg));
}
