/*
 * Fuzz target: the scanout plane a vGPU's driver reports (the geometry
 * check, ui/scanout-shadow.c) and the dma-buf it hands over (its visible
 * rectangle and real size, ui/dmabuf-surface.c)
 *
 * The input is a plane as the kernel reports it.  Whatever the check
 * accepts must lie inside the buffer: the target then reads the first
 * and the last byte of every line from a buffer of exactly the accepted
 * size, so AddressSanitizer sees any overrun.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "standard-headers/drm/drm_fourcc.h"
#include "ui/dmabuf-surface.h"
#include "ui/scanout-shadow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct QEMU_PACKED PlaneInput {
    uint8_t mode;               /* even: a region plane; odd: a dma-buf */
    uint8_t format_pick;        /* a known format, or @drm_format */
    uint32_t drm_format;
    uint32_t width, height, stride;
    uint32_t x, y, backing_width, backing_height;
    uint64_t modifier;
    uint64_t offset;            /* region planes: where the plane starts */
    uint32_t buffer_size;       /* the region's or dma-buf's real size */
    uint16_t max_width, max_height;
} PlaneInput;

static const uint32_t formats[] = {
    DRM_FORMAT_XRGB8888, DRM_FORMAT_ARGB8888, DRM_FORMAT_XBGR8888,
    DRM_FORMAT_ABGR8888, DRM_FORMAT_RGB565,
};

/* Touch every line of an accepted frame, in a buffer of just its size. */
static void read_frame(const ScanoutFrame *f)
{
    unsigned int bpp;
    uint8_t *buf = g_malloc(f->data_size);
    uint8_t sum = 0;
    uint32_t row;

    assert(scanout_drm_format_to_pixman(f->drm_format, &bpp));
    for (row = 0; row < f->height; row++) {
        const uint8_t *line = buf + f->offset + (uint64_t)row * f->stride;

        sum += line[0] + line[(uint64_t)f->width * bpp - 1];
    }
    /* keep the reads */
    asm volatile("" : : "r"(sum));
    g_free(buf);
}

/* The accepted frame must fit its buffer in exact arithmetic. */
static void check_fits(const ScanoutFrame *f, __uint128_t true_offset)
{
    unsigned int bpp;
    __uint128_t end;

    assert(scanout_drm_format_to_pixman(f->drm_format, &bpp));
    end = true_offset + (__uint128_t)f->stride * (f->height - 1) +
          (__uint128_t)f->width * bpp;
    assert(f->width && f->height && f->width <= 16384 && f->height <= 16384);
    assert(f->stride >= (uint64_t)f->width * bpp);
    assert(end <= f->data_size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    PlaneInput in;
    ScanoutFrame f;
    Error *err = NULL;
    __uint128_t true_offset;

    if (size < sizeof(in)) {
        return 0;
    }
    memcpy(&in, data, sizeof(in));
    if (in.format_pick < 2 * ARRAY_SIZE(formats)) {
        in.drm_format = formats[in.format_pick % ARRAY_SIZE(formats)];
    }
    /* real buffers are in memory: keep them to what a test can allocate */
    in.buffer_size %= 64 << 20;

    if (!(in.mode & 1)) {
        /* a region plane: geometry first, then where it lies */
        f = (ScanoutFrame) {
            .width = in.width, .height = in.height, .stride = in.stride,
            .drm_format = in.drm_format, .data_size = UINT64_MAX,
        };
        if (!scanout_frame_check(&f, in.max_width, in.max_height, &err)) {
            assert(err);
            error_free(err);
            return 0;
        }
        f.offset = in.offset;
        f.data_size = in.buffer_size;
        true_offset = in.offset;
    } else {
        QemuDmaBuf *buf = qemu_dmabuf_new(in.width, in.height, in.stride,
                                          in.x, in.y, in.backing_width,
                                          in.backing_height, in.drm_format,
                                          in.modifier, -1, false, false);
        unsigned int bpp;
        bool ok = dmabuf_surface_frame(buf, &f, &err);

        qemu_dmabuf_free(buf);
        if (!ok) {
            assert(err);
            error_free(err);
            return 0;
        }
        if (!scanout_drm_format_to_pixman(f.drm_format, &bpp)) {
            bpp = 0;
        }
        true_offset = (__uint128_t)in.y * f.stride + (__uint128_t)in.x * bpp;
        f.data_size = in.buffer_size;   /* what lseek() said */
    }
    if (!scanout_frame_check(&f, in.max_width, in.max_height, &err)) {
        assert(err);
        error_free(err);
        return 0;
    }
    check_fits(&f, true_offset);
    if (f.data_size <= (4 << 20)) {
        read_frame(&f);
    }
    return 0;
}
