/*
 * nv-vgpu: the vGPU's error and request interrupts as QMP events
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_VGPU_VGPU_HEALTH_H
#define HW_VGPU_VGPU_HEALTH_H

#include "qapi/qapi-types-vgpu.h"

typedef struct NvVgpuState NvVgpuState;

typedef struct VgpuIrqStats {
    bool present;               /* vfio-pci listens to it */
    uint64_t count;
    int64_t last_us;            /* wall clock of the last one */
} VgpuIrqStats;

typedef struct VgpuHealth {
    VgpuIrqStats error;
    VgpuIrqStats request;
} VgpuHealth;

/*
 * After vfio-pci's realize: take over the interrupts it listens to, so
 * that on-error= and on-request= decide what they do.
 */
void vgpu_health_attach(NvVgpuState *s);

VgpuHealthInfo *vgpu_health_info(NvVgpuState *s);

#endif
