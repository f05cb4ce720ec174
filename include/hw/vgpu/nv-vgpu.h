/*
 * nv-vgpu: an NVIDIA vGPU (VFIO mediated device) as a vfio-pci device
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_VGPU_NV_VGPU_H
#define HW_VGPU_NV_VGPU_H

#include "hw/vfio/pci.h"
#include "hw/vgpu/vgpu-backend.h"
#include "hw/vgpu/vgpu-display.h"
#include "qom/object.h"

#define TYPE_NV_VGPU "nv-vgpu"
OBJECT_DECLARE_TYPE(NvVgpuState, NvVgpuClass, NV_VGPU)

struct NvVgpuState {
    VFIOPCIDevice parent_obj;

    /* Properties: parent= and mdev-type= (and uuid=) create the vGPU. */
    char *mdev_parent;
    char *mdev_type;
    char *mdev_uuid;
    char *host_root;            /* x-host-root, for tests only */
    uint32_t console_fps;       /* console-fps: head 0 polls per second */

    VgpuHost host;
    VgpuDisplay display;
};

struct NvVgpuClass {
    PCIDeviceClass parent_class;

    DeviceRealize parent_realize;
    DeviceUnrealize parent_unrealize;
};

#endif
