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
/* Bounds that no real vGPU comes near; they keep garbage out of the math. */
#define VGPU_MAX_HEADS      64
#define VGPU_MAX_FPS        1000
#define VGPU_MAX_DIM        32768
#define VGPU_MAX_FB         (64ULL << 40)

/* Where the numbers of a profile come from */
typedef enum {
    VGPU_PROFILE_FROM_NONE,         /* nowhere: they are 0 */
    VGPU_PROFILE_FROM_DESCRIPTION,  /* the mdev type's description */
    VGPU_PROFILE_FROM_CONFIG,       /* NVIDIA's vgpuConfig.xml */
    VGPU_PROFILE_FROM_NAME,         /* what the profile name says */
} VgpuProfileSource;

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
    VgpuProfileSource source;
} VgpuProfile;

/*
 * Where NVIDIA's vGPU manager keeps the description of every vGPU type it
 * supports (framebuffer, heads, resolution, frame rate limit, vGPUs per
 * GPU).  SR-IOV vGPUs have no mdev type description in sysfs; this file
 * is where their profile is published on a real host.
 */
#define VGPU_CONFIG_XML "/usr/share/nvidia/vgpu/vgpuConfig.xml"

/*
 * Fill the numbers of @p (and p->name, if NULL) from the vgpuType with id
 * @type_id in the vgpuConfig.xml at @path, and max_instance from the
 * entry of the GPU with PCI device id @gpu_device (0: unknown).  Nothing
 * in the file is trusted: false, with the reason in @why and @p
 * unchanged, when the file cannot be read, is not well-formed, has no
 * such type, or has a value out of range.
 */
bool vgpu_profile_from_config(VgpuProfile *p, const char *path,
                              uint32_t type_id, uint32_t gpu_device,
                              char **why);

/*
 * Fill the numbers of @p from what its NVIDIA profile name says, e.g.
 * "NVIDIA L4-4Q": 4 GiB of framebuffer and the heads, resolution and
 * frame rate limit of the Q series.  A guess for when nothing better is
 * published; false (nothing set) when the name is not of that form.
 */
bool vgpu_profile_from_name(VgpuProfile *p);

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
