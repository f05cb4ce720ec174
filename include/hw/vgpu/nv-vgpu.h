/*
 * nv-vgpu: an NVIDIA vGPU (VFIO mediated device) as a vfio-pci device
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_VGPU_NV_VGPU_H
#define HW_VGPU_NV_VGPU_H

#include "hw/vfio/pci.h"
#include "hw/vgpu/vgpu-backend.h"
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

    VgpuHost host;
};

struct NvVgpuClass {
    PCIDeviceClass parent_class;

    DeviceRealize parent_realize;
};

#endif
