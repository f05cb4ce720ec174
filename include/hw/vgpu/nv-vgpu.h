/*
 * nv-vgpu: an NVIDIA vGPU (VFIO mediated device) as a vfio-pci device
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_VGPU_NV_VGPU_H
#define HW_VGPU_NV_VGPU_H

#include "hw/vfio/pci.h"
#include "hw/vgpu/vgpu-backend.h"
#include "hw/vgpu/vgpu-descriptor.h"
#include "hw/vgpu/vgpu-display.h"
#include "hw/vgpu/vgpu-health.h"
#include "hw/vgpu/vgpu-numa.h"
#include "qom/object.h"

#define TYPE_NV_VGPU "nv-vgpu"


/* multi-vgpu=: how strictly a VM's vGPUs are checked, strictest first */
typedef enum {
    VGPU_MULTI_FULL,        /* 1:1 profiles only (vGPU 8.0) */
    VGPU_MULTI_FRACTIONAL,  /* any size, same board and series: default */
    VGPU_MULTI_ANY,         /* only the same vGPU twice is refused */
} VgpuMultiRules;

OBJECT_DECLARE_TYPE(NvVgpuState, NvVgpuClass, NV_VGPU)

struct NvVgpuState {
    VFIOPCIDevice parent_obj;

    /*
     * Properties: parent= and profile= (and uuid=) make the vGPU; host= (a
     * VF) and profile= type the VF; mdev-type= is profile='s old name.
     */
    char *mdev_parent;
    char *vgpu_type_req;        /* profile= (or mdev-type=) */
    char *mdev_type;
    char *mdev_uuid;
    char *host_vf;              /* the VF of host=, or of sysfsdev= + type */
    char *host_vf_path;         /* its sysfs path, without root */
    char *host_root;            /* x-host-root, for tests only */
    char *stop_at;              /* x-stop-at, for tests only */
    uint32_t console_fps;       /* console-fps: head 0 polls per second */
    bool monitor_follows_viewer; /* monitor-follows-viewer */
    uint32_t console_warn_interval_ms; /* x-console-warn-interval-ms */
    char *driver_match_str;     /* migration-driver-match */
    VgpuErrorPolicy on_error;   /* on-error */
    VgpuRequestPolicy on_request; /* on-request */
    char *params_str;           /* vgpu-params */
    OnOffAuto frame_rate_limiter; /* frame-rate-limiter */
    bool ramfb;                 /* ramfb: the VM's boot display */
    char *multi_rules_str;      /* multi-vgpu */
    int32_t p2p_clique;         /* p2p-clique, -1: none */
    bool create_with_bql;       /* x-create-with-bql, for benchmarks */

    VgpuHost host;
    VgpuDisplay display;
    VgpuHealth health;
    VgpuLocality locality;
    GStrv params;               /* "key=value" asked for, in order */
    VgpuDriverMatch driver_match;
    VgpuMultiRules multi_rules;
    char *migration_idstr;      /* of the descriptor's savevm handlers */
    uint32_t migrated_xres;     /* the guest's monitor, in the stream */
    uint32_t migrated_yres;
    bool monitor_pending;       /* loaded, replug once out of RESUMING */
    VgpuRamfbConfig migrated_ramfb; /* the boot display, in the stream */
};

struct NvVgpuClass {
    PCIDeviceClass parent_class;

    DeviceRealize parent_realize;
    DeviceUnrealize parent_unrealize;
    void (*parent_reset)(DeviceState *dev);
};

#endif
