/*
 * nv-vgpu: a boot display (ramfb) for vGPUs, which have no VBIOS
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_VGPU_VGPU_RAMFB_H
#define HW_VGPU_VGPU_RAMFB_H

#include "ui/console.h"
#include "ui/scanout-shadow.h"

/*
 * What the firmware writes into the fw_cfg file "etc/ramfb" (QEMU's
 * ramfb protocol, which SeaBIOS's vgabios-ramfb and OVMF's QemuRamfbDxe
 * speak): where in guest RAM its framebuffer lies.  Big endian.
 */
typedef struct QEMU_PACKED VgpuRamfbConfig {
    uint64_t addr;
    uint32_t fourcc;            /* DRM fourcc */
    uint32_t flags;             /* none defined */
    uint32_t width;
    uint32_t height;
    uint32_t stride;            /* 0: width times bytes per pixel */
} VgpuRamfbConfig;

typedef struct VgpuRamfb VgpuRamfb;

/*
 * The frame that the guest's @cfg asks for, checked against the limits
 * (0: none) but not yet against guest memory: on success @f has no data
 * yet and @f->data_size is the frame's length in bytes from @addr, which
 * does not wrap around.
 */
bool vgpu_ramfb_geometry(const VgpuRamfbConfig *cfg, uint32_t max_width,
                         uint32_t max_height, ScanoutFrame *f,
                         uint64_t *addr, Error **errp);

/*
 * May a device (@hotplugged or not) have the VM's boot display?  One
 * device per VM can, and only one that is there when the machine starts
 * (the firmware looks for it at boot).
 */
bool vgpu_ramfb_check(bool hotplugged, Error **errp);

/*
 * Take the VM's boot display for @owner's console @con; frames larger
 * than @max_width x @max_height (0: no limit) are refused.  The firmware
 * can configure it from here on.
 */
VgpuRamfb *vgpu_ramfb_claim(const char *owner, QemuConsole *con,
                            uint32_t max_width, uint32_t max_height,
                            Error **errp);

/* Let go of it (the device goes): the guest's writes land nowhere. */
void vgpu_ramfb_release(VgpuRamfb *r);

/*
 * Show the boot framebuffer on the console, copying what changed since
 * the last time.  Returns false if the guest has configured none; else
 * true, with the number of tiles copied in @tiles.
 */
bool vgpu_ramfb_show(VgpuRamfb *r, unsigned int *tiles);

/* Draw the next frame shown in full. */
void vgpu_ramfb_invalidate(VgpuRamfb *r);

/* The configuration as the guest wrote it, for migration */
void vgpu_ramfb_save(VgpuRamfb *r, VgpuRamfbConfig *cfg);
void vgpu_ramfb_load(VgpuRamfb *r, const VgpuRamfbConfig *cfg);

#endif
