/*
 * nv-vgpu: head 0 of the vGPU as a QEMU graphic console
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_VGPU_VGPU_DISPLAY_H
#define HW_VGPU_VGPU_DISPLAY_H

#include "hw/vgpu/vgpu-edid.h"
#include "hw/vgpu/vgpu-profile.h"
#include "hw/vgpu/vgpu-ramfb.h"
#include "qapi/qapi-types-common.h"
#include "ui/console.h"
#include "ui/dmabuf-surface.h"
#include "ui/scanout-shadow.h"

/* Default and ceiling of console-fps; see docs/system/devices/nv-vgpu.rst */
#define VGPU_DISPLAY_DEFAULT_FPS 10
#define VGPU_DISPLAY_MAX_FPS     60
/* Dropped-frame warnings: at most one this often */
/* (x-console-warn-interval-ms) */
#define VGPU_DISPLAY_WARN_INTERVAL_MS 5000

/* How head 0's console is set up; see docs/system/devices/nv-vgpu.rst */
typedef struct VgpuDisplayConfig {
    OnOffAuto mode;             /* display= */
    uint32_t fps;               /* console-fps= */
    uint32_t xres;              /* xres=, yres=: 0 unless given */
    uint32_t yres;
    bool follow_viewer;         /* monitor-follows-viewer= */
    uint32_t warn_interval_ms;  /* x-console-warn-interval-ms= */
    bool ramfb;                 /* ramfb=: the VM's boot display here */
    const char *owner;          /* the device, in messages */
} VgpuDisplayConfig;

typedef struct VgpuDisplay {
    VFIODevice *vbasedev;
    QemuConsole *con;           /* NULL: no console */
    uint32_t plane_type;        /* VFIO_GFX_PLANE_TYPE_REGION or _DMABUF */
    bool use_gl;                /* dma-bufs go to an OpenGL display */
    uint32_t max_width;         /* largest plane shown: the profile's */
    uint32_t max_height;
    int64_t min_interval_ns;    /* 1 s / console-fps */
    int64_t last_poll_ns;       /* start of the current slot */
    int64_t last_frame_ns;      /* the last poll that changed the picture */
    bool early_poll;            /* this slot's extra poll after idle used */
    /* A refresh or invalidate the cap held back: poll at the next slot */
    QEMUTimer *redraw_timer;

    /* Region planes: the mapped region and its shadow */
    uint32_t region_index;      /* valid while region_map is set */
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
    VgpuRamfb *ramfb;           /* shown while head 0 is off; or NULL */

    /*
     * Dropped frames are warned about once per bad spell (frames dropped
     * since the last good or blank one) and again when the reason
     * changes, but at most once per warn_interval_ns.
     */
    int64_t warn_interval_ns;
    int64_t last_warn_ns;       /* 0: never warned */
    bool bad_spell;
    char *warned_reason;        /* of this spell; NULL: not warned yet */
    uint64_t quiet_spells;      /* bad spells not warned about since */
    bool blank;                 /* head 0 is off and a notice is shown */

    /* The last frame shown (query-vgpus); width 0: none, or head 0 off */
    uint32_t shown_width;
    uint32_t shown_height;
    uint32_t shown_format;
    uint64_t frames_shown;
    /* Frames per second, counted over windows of one second */
    int64_t fps_window_ns;      /* start of the current window */
    uint64_t fps_window_frames; /* frames_shown at its start */
    uint32_t fps;               /* of the last full window */

    /* Counters for tests and benchmarks */
    uint64_t polls;             /* plane queries */
    uint64_t tiles;             /* tiles copied and reported */
    uint64_t bad_frames;        /* frames dropped as invalid */
    uint64_t capped;            /* refreshes the cap turned away */
    uint64_t early_polls;       /* polls allowed early, after idle */
} VgpuDisplay;

/*
 * Give the vGPU behind @vbasedev a console for head 0 if it offers a
 * display plane.  @cfg->mode OFF: none; AUTO: none is fine; ON: none is
 * an error.  Planes are polled at most @cfg->fps times a second, and only
 * while a display client looks at the console.  The guest's monitor is
 * @cfg->xres x @cfg->yres (0: the default), and follows the viewer's
 * window only with @cfg->follow_viewer.  With @cfg->ramfb the console
 * shows the VM's boot display while head 0 is off.
 */
bool vgpu_display_init(VgpuDisplay *d, DeviceState *dev,
                       VFIODevice *vbasedev, const VgpuDisplayConfig *cfg,
                       const VgpuProfile *profile, Error **errp);

void vgpu_display_finalize(VgpuDisplay *d);

/* Frames shown per second over the last full second, 0 if idle since. */
uint32_t vgpu_display_fps(const VgpuDisplay *d);

#endif
