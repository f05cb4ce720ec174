/*
 * nv-vgpu: head 0 of the vGPU as a QEMU graphic console
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_VGPU_VGPU_DISPLAY_H
#define HW_VGPU_VGPU_DISPLAY_H

#include "hw/vgpu/vgpu-edid.h"
#include "hw/vgpu/vgpu-profile.h"
#include "qapi/qapi-types-common.h"
#include "ui/console.h"
#include "ui/dmabuf-surface.h"
#include "ui/scanout-shadow.h"

/* Default and ceiling of console-fps; see docs/system/devices/nv-vgpu.rst */
#define VGPU_DISPLAY_DEFAULT_FPS 10
#define VGPU_DISPLAY_MAX_FPS     60

typedef struct VgpuDisplay {
    VFIODevice *vbasedev;
    QemuConsole *con;           /* NULL: no console */
    uint32_t plane_type;        /* VFIO_GFX_PLANE_TYPE_REGION or _DMABUF */
    bool use_gl;                /* dma-bufs go to an OpenGL display */
    uint32_t max_width;         /* largest plane shown: the profile's */
    uint32_t max_height;
    int64_t min_interval_ns;    /* 1 s / console-fps */
    int64_t last_poll_ns;

    /* Region planes: the mapped region and its shadow */
    int region_index;           /* -1: none mapped */
    void *region_map;
    uint64_t region_size;
    ScanoutShadow *shadow;

    /* Dma-buf planes: the current one, shown by GL or by CPU copies */
    uint32_t dmabuf_id;
    QemuDmaBuf *dmabuf;
    bool gl_shown;              /* dmabuf is the console's GL scanout */
    QemuDmaBuf *gl_prev;        /* the GL scanout until dmabuf replaces it */
    DmabufSurface *dmabuf_view;

    VgpuEdid edid;

    bool bad_frame_warned;      /* since the last good frame */
    bool blank;                 /* head 0 is off and a notice is shown */

    /* Counters for tests and benchmarks */
    uint64_t polls;             /* plane queries */
    uint64_t tiles;             /* tiles copied and reported */
    uint64_t bad_frames;        /* frames dropped as invalid */
} VgpuDisplay;

/*
 * Give the vGPU behind @vbasedev a console for head 0 if it offers a
 * display plane.  @mode OFF: none; AUTO: none is fine; ON: none is an
 * error.  Planes are polled at most @fps times a second, and only while
 * a display client looks at the console.
 */
bool vgpu_display_init(VgpuDisplay *d, DeviceState *dev,
                       VFIODevice *vbasedev, OnOffAuto mode, uint32_t fps,
                       const VgpuProfile *profile, uint32_t xres,
                       uint32_t yres, Error **errp);

void vgpu_display_finalize(VgpuDisplay *d);

#endif
