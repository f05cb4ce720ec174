/*
 * nv-vgpu: where the vGPU's physical GPU sits in the host's NUMA layout
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_VGPU_VGPU_NUMA_H
#define HW_VGPU_VGPU_NUMA_H

typedef struct VgpuHost VgpuHost;

typedef struct VgpuLocality {
    int node;                   /* parent's numa_node; -1: unknown */
    char *local_cpus;           /* its local_cpulist; "" if unknown */
    GStrv remote_memory;        /* ids of memory backends kept off node */
} VgpuLocality;

/*
 * Read the NUMA node and local CPUs of @h's parent device (the directory
 * above the mdev in sysfs), and warn (naming @dev_name) about each memory
 * backend of the VM whose policy keeps guest RAM away from that node.
 */
void vgpu_locality_init(VgpuLocality *l, const VgpuHost *h,
                        const char *dev_name);
void vgpu_locality_clear(VgpuLocality *l);

#endif
