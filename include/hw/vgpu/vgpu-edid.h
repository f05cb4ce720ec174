/*
 * nv-vgpu: the monitor the guest sees on head 0 (VFIO EDID region)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_VGPU_VGPU_EDID_H
#define HW_VGPU_VGPU_EDID_H

#include "hw/vfio/vfio-common.h"
#include "qemu/timer.h"

typedef struct VgpuEdid {
    VFIODevice *vbasedev;
    uint64_t region_offset;     /* of the EDID region in the device fd */
    uint32_t blob_offset;       /* within the region */
    uint32_t blob_max;
    uint8_t *blob;              /* NULL: the vGPU has no EDID region */
    uint32_t max_xres;          /* profile limit, capped by the driver's */
    uint32_t max_yres;
    uint32_t xres;              /* preferred mode when no UI asks */
    uint32_t yres;
    uint32_t cur_xres;          /* preferred mode the guest was shown */
    uint32_t cur_yres;
    QEMUTimer *link_up_timer;   /* plugs the monitor back in */
} VgpuEdid;

/*
 * Find the vGPU's EDID region and show the guest a monitor whose
 * preferred mode is @xres x @yres (0: the EDID generator's default),
 * capped at @max_xres x @max_yres.  A vGPU without an EDID region is
 * not an error: edid->blob stays NULL.
 */
bool vgpu_edid_init(VgpuEdid *edid, VFIODevice *vbasedev,
                    uint32_t max_xres, uint32_t max_yres,
                    uint32_t xres, uint32_t yres, Error **errp);

/*
 * Re-plug the monitor with preferred mode @width x @height (0x0: back to
 * the default), e.g. when a VNC client asks for its window size.
 */
void vgpu_edid_set_mode(VgpuEdid *edid, uint32_t width, uint32_t height);

void vgpu_edid_finalize(VgpuEdid *edid);

#endif
