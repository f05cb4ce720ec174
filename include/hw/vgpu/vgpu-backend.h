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
 * Today both ways to name a vGPU are mdevs; NVIDIA's SR-IOV vGPUs (a VF
 * typed through sysfs) will be a second backend behind the same calls.
 * All calls run before the VFIO device is opened, except remove(), which
 * must only remove the vGPU once no process holds it open any more.
 */
typedef struct VgpuBackendOps {
    const char *name;
    /*
     * Make a vGPU of @type (type id or profile name) on @parent and make
     * h->sysfsdev name it.  @uuid may be NULL (pick one); if a vGPU with
     * that UUID and type exists already and QEMU did not create it, it is
     * used and not removed later.  The removal is armed (vgpu-reaper.h)
     * before the vGPU is made, so that no way QEMU ends leaks it; orphans
     * that earlier QEMUs left on @parent are reaped first.
     */
    bool (*create)(VgpuHost *h, const char *parent, const char *type,
                   const char *uuid, Error **errp);
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
    char *uuid;
    char *parent;
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
};

extern const VgpuBackendOps vgpu_mdev_backend;

static inline void vgpu_host_init(VgpuHost *h, const VgpuBackendOps *ops,
                                  const char *root)
{
    memset(h, 0, sizeof(*h));
    h->ops = ops;
    h->root = g_strdup(root ? root : "");
    h->profile.available = -1;
    h->params_helper = -1;
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
