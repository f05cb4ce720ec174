/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The uapi header (QEMU's copy, new enough for PRE_COPY), then what
 * nvsim uses of the VFIO core.
 */
#ifndef NVSIM_SHIM_VFIO_H
#define NVSIM_SHIM_VFIO_H
#include_next <linux/vfio.h>
#include "kernel-shim.h"

struct vfio_device;
struct vfio_migration_ops {
    struct file *(*migration_set_state)(struct vfio_device *,
                                        enum vfio_device_mig_state);
    int (*migration_get_state)(struct vfio_device *,
                               enum vfio_device_mig_state *);
    int (*migration_get_data_size)(struct vfio_device *, unsigned long *);
};
struct vfio_device {
    const struct vfio_migration_ops *mig_ops;
    u32 migration_flags;
};
int vfio_mig_get_next_state(struct vfio_device *vdev,
                            enum vfio_device_mig_state cur,
                            enum vfio_device_mig_state new,
                            enum vfio_device_mig_state *next);
#define VFIO_PCI_NUM_IRQS 5
#endif
