/*
 * A fake host sysfs and /dev/vfio tree for testing vGPU life cycles
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TESTS_VGPU_FAKE_HOST_H
#define TESTS_VGPU_FAKE_HOST_H

typedef struct FakeHost FakeHost;

/* A new empty host tree in a temporary directory that anyone can read. */
FakeHost *fake_host_new(void);
void fake_host_free(FakeHost *fh);
const char *fake_host_root(FakeHost *fh);

/* An mdev type of @parent (the parent is made on first use). */
void fake_host_add_type(FakeHost *fh, const char *parent, const char *type_id,
                        const char *name, const char *desc,
                        const char *device_api, int available);

/* An existing mdev in VFIO group @group; returns its sysfsdev path. */
char *fake_host_add_mdev(FakeHost *fh, const char *parent,
                         const char *type_id, const char *uuid, int group);

/* /dev/vfio/@group as a file with @mode. */
void fake_host_add_vfio_group(FakeHost *fh, int group, mode_t mode);

/*
 * Make "create" of the type a FIFO served by a thread that acts as the
 * kernel: the first UUID written there becomes an mdev in group @group.
 */
void fake_host_serve_create(FakeHost *fh, const char *parent,
                            const char *type_id, int group);

/* The UUID the kernel thread received, or NULL; waits up to @ms. */
char *fake_host_created_uuid(FakeHost *fh, int ms);

/*
 * An NVIDIA SR-IOV GPU (the formats of docs/system/devices/nv-vgpu.rst):
 * PF @pf (e.g. "0000:41:00.0") with sriov_totalvfs @total and @enabled VFs
 * at functions 1, 2, ... of its slot, each bound to nvidia with no type,
 * in IOMMU group @group_base + i with its /dev/vfio node, and the table
 * @creatable in nvidia/creatable_vgpu_types.
 */
void fake_host_add_sriov_pf(FakeHost *fh, const char *pf, int total,
                            int enabled, int group_base,
                            const char *creatable);

/* VF @i (1-based) of @pf: its PCI address. */
char *fake_host_vf(const char *pf, int i);

/* Write nvidia/@attr of @vf (e.g. "current_vgpu_type"), replacing it. */
void fake_host_set_vf(FakeHost *fh, const char *vf, const char *attr,
                      const char *value);

/*
 * Give @vf the VFIO character device vfio@n (vfio-dev/vfioN and
 * /dev/vfio/devices/vfioN), and remove its group node if !@keep_group.
 */
void fake_host_add_vfio_cdev(FakeHost *fh, const char *vf, int n,
                             bool keep_group);

/* Contents of @rel (relative to the root), or NULL if it cannot be read. */
char *fake_host_read(FakeHost *fh, const char *rel);

/* Wait up to @ms for @rel to hold @want (after trailing white space). */
bool fake_host_wait_for(FakeHost *fh, const char *rel, const char *want,
                        int ms);

/* Wait up to @ms for @rel to be gone. */
bool fake_host_wait_gone(FakeHost *fh, const char *rel, int ms);

/* The pid of a removal helper of vGPU @uuid (a VF's name) that runs, or 0 */
int vgpu_reaper_pid(const char *uuid);

/*
 * Wait (up to 60 s, then fail) until no removal helper of vGPU @uuid
 * runs: once QEMU is gone, nothing else would remove it, so a vGPU still
 * there then was left in place for good.
 */
void vgpu_wait_no_reaper(const char *uuid);

#endif
