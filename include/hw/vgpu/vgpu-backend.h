/*
 * vGPU backends: how a host vGPU is found, made, described and removed
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_VGPU_VGPU_BACKEND_H
#define HW_VGPU_VGPU_BACKEND_H

#include "hw/vgpu/vgpu-profile.h"
#include "hw/vgpu/vgpu-params.h"

typedef struct VgpuHost VgpuHost;
typedef struct VgpuReaper VgpuReaper;

/*
 * What nv-vgpu asks a backend to make.  mdevs are made on a parent GPU,
 * under a UUID; NVIDIA's SR-IOV vGPUs are made by giving a type to a
 * virtual function (VF), either one that the user named or a free one of
 * the parent (the physical function, PF).
 */
typedef struct VgpuRequest {
    const char *parent;     /* mdev parent or SR-IOV PF; NULL with device */
    const char *device;     /* SR-IOV: the VF (PCI address) to type */
    const char *type;       /* type id or profile name */
    const char *uuid;       /* mdev: the UUID to use; NULL: a new one */
} VgpuRequest;

/*
 * The two backends: mdevs (vgpu-mdev.c) and NVIDIA's SR-IOV vGPUs, VFs
 * typed through sysfs (vgpu-sriov.c).  All calls run before the VFIO
 * device is opened, except remove(), which must only remove the vGPU once
 * no process holds it open any more.
 */
typedef struct VgpuBackendOps {
    const char *name;
    /*
     * Make the vGPU that @req asks for and make h->sysfsdev name it.  A
     * vGPU that exists already as asked (an mdev with that UUID and type,
     * a VF that has that type) and that QEMU did not make is used and not
     * removed later.  The removal is armed (vgpu-reaper.h) before the vGPU
     * is made, so that no way QEMU ends leaks it; orphans that earlier
     * QEMUs left on the parent are reaped first.
     */
    bool (*create)(VgpuHost *h, const VgpuRequest *req, Error **errp);
    /*
     * Check that the existing vGPU @sysfsdev can be opened through VFIO,
     * once a pending removal of it (by the QEMU that created it) is over.
     */
    bool (*open)(VgpuHost *h, const char *sysfsdev, Error **errp);
    /*
     * Fill h->profile from the host driver's description of the vGPU, and
     * h->driver and h->driver_version.
     */
    bool (*describe)(VgpuHost *h, Error **errp);
    /* Undo create(): hand the vGPU to its removal helper. */
    void (*remove)(VgpuHost *h);
} VgpuBackendOps;

struct VgpuHost {
    const VgpuBackendOps *ops;
    char *root;             /* prefix of every host path; "" on a real host */
    char *sysfsdev;         /* the vGPU in sysfs, without root */
    /*
     * What names the vGPU on this host, in messages, traces, events and
     * records: the mdev's UUID, or the VF's PCI address.
     */
    char *id;
    char *uuid;             /* the mdev's UUID; NULL for a VF */
    char *parent;           /* mdev parent or SR-IOV PF */
    bool created;           /* create() made it, so remove() removes it */
    VgpuReaper *reaper;     /* removes what create() made; NULL: nothing */
    char *stop_at;          /* test hook, see vgpu_test_stop() */
    VgpuProfile profile;
    char *driver;           /* host driver of the parent, e.g. "nvidia" */
    char *driver_version;   /* its version, e.g. "550.127.05"; NULL: unknown */
    /* Plugin parameters (vgpu-params.h) */
    bool params_supported;  /* the vGPU has nvidia/vgpu_params */
    char *params_in_force;  /* as the driver showed them before the open */
    char *params_path;      /* with params_restore: where to write it */
    char *params_restore;   /* found on a vGPU not ours; NULL: nothing */
    int params_helper;      /* socket to the helper that restores it; -1 */
    /* SR-IOV only: the VF's place on its GPU, as the driver shows them */
    int64_t gpu_instance;   /* nvidia/gpu_instance_id; -1: time-sliced */
    int64_t placement;      /* nvidia/placement_id; -1: unknown */
};

extern const VgpuBackendOps vgpu_mdev_backend;
extern const VgpuBackendOps vgpu_sriov_backend;

/*
 * Which backend a GPU or a device belongs to, by what sysfs shows under
 * @root: an mdev parent (/sys/class/mdev_bus/NAME, mdev_supported_types)
 * or an SR-IOV PF (sriov_totalvfs, virtfn* links); a VF with nvidia/ or a
 * PCI device path.  NULL when it is neither (the caller's error).
 */
const VgpuBackendOps *vgpu_backend_for_parent(const char *root,
                                              const char *parent);
const VgpuBackendOps *vgpu_backend_for_device(const char *root,
                                              const char *sysfsdev);

static inline void vgpu_host_init(VgpuHost *h, const VgpuBackendOps *ops,
                                  const char *root)
{
    memset(h, 0, sizeof(*h));
    h->ops = ops;
    h->root = g_strdup(root ? root : "");
    h->profile.available = -1;
    h->params_helper = -1;
    h->gpu_instance = -1;
    h->placement = -1;
}

/*
 * Remove the vGPU if we created it, or put back the plugin parameters of
 * one we did not, and forget it.
 */
static inline void vgpu_host_release(VgpuHost *h)
{
    vgpu_host_restore_params(h);
    if (h->reaper) {
        h->ops->remove(h);
    }
    h->created = false;
    g_clear_pointer(&h->root, g_free);
    g_clear_pointer(&h->sysfsdev, g_free);
    g_clear_pointer(&h->id, g_free);
    g_clear_pointer(&h->uuid, g_free);
    g_clear_pointer(&h->parent, g_free);
    g_clear_pointer(&h->driver, g_free);
    g_clear_pointer(&h->driver_version, g_free);
    g_clear_pointer(&h->stop_at, g_free);
    g_clear_pointer(&h->params_in_force, g_free);
    g_clear_pointer(&h->params_path, g_free);
    g_clear_pointer(&h->params_restore, g_free);
    vgpu_profile_clear(&h->profile);
}

#endif
