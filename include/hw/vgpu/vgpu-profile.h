/*
 * vGPU profiles: what an mdev type promises the guest
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_VGPU_VGPU_PROFILE_H
#define HW_VGPU_VGPU_PROFILE_H

/*
 * One vGPU type as its host driver describes it in sysfs.  The strings are
 * the type's own attributes; the numbers come from NVIDIA's description
 * format ("num_heads=1, frl_config=60, framebuffer=8192M,
 * max_resolution=4096x2160, max_instance=1") and are 0 when the description
 * is in another format or does not give them.
 */
typedef struct VgpuProfile {
    char *type_id;              /* type directory name, e.g. "nvidia-289" */
    char *name;                 /* "GRID P4-8C"; NULL if the type has none */
    char *description;          /* raw description; NULL if none */
    char *device_api;           /* "vfio-pci" for a PCI vGPU */
    int64_t available;          /* free instances; -1 if unknown */

    bool nvidia;                /* description is in NVIDIA's format */
    uint32_t num_heads;
    uint32_t frl_config;        /* frame-rate limit in frames/s */
    uint64_t framebuffer;       /* bytes */
    uint32_t max_xres;
    uint32_t max_yres;
    uint32_t max_instance;
} VgpuProfile;

/*
 * Parse an mdev type description into @p.  A description that is not in
 * NVIDIA's key=value format is not an error: it leaves the numbers 0 and
 * p->nvidia false.  One that is, but has a malformed or repeated value for
 * a key we know, fails with an error naming the key.  Unknown keys are
 * ignored.
 */
bool vgpu_profile_parse_description(VgpuProfile *p, const char *desc,
                                    Error **errp);

/* Fail unless the vGPU is a PCI device, as nv-vgpu needs. */
bool vgpu_profile_check_pci(const VgpuProfile *p, Error **errp);

/* "GRID P4-8C (nvidia-289: 8192 MiB, 1 head, 4096x2160, 60 fps)" */
char *vgpu_profile_summary(const VgpuProfile *p);

void vgpu_profile_clear(VgpuProfile *p);

#endif
