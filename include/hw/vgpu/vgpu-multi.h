/*
 * nv-vgpu: the vGPUs of one VM checked against each other (NVIDIA's
 * multi-vGPU rules) and P2P cliques
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_VGPU_VGPU_MULTI_H
#define HW_VGPU_VGPU_MULTI_H

#include "hw/vgpu/nv-vgpu.h"

#define VGPU_P2P_CLIQUE_NONE    (-1)
#define VGPU_P2P_CLIQUE_MAX     15      /* the capability's 4-bit field */

bool vgpu_multi_parse_rules(const char *str, VgpuMultiRules *out,
                            Error **errp);

/*
 * Checks of one device alone (p2p-clique= and its profile), once the
 * host vGPU is described; sets up vfio-pci's GPUDirect capability.
 */
bool vgpu_multi_check_device(NvVgpuState *s, Error **errp);

/* Refuse a vGPU (by UUID) that another device of the VM has already. */
bool vgpu_multi_check_uuid(NvVgpuState *s, const char *uuid, Error **errp);

/*
 * A hot-plugged device against those already in the VM; a cold-plugged
 * one is checked with all the others once the machine is built.
 */
bool vgpu_multi_check_plug(NvVgpuState *s, Error **errp);

/* The set of realized devices that the checks compare. */
void vgpu_multi_add(NvVgpuState *s);
void vgpu_multi_remove(NvVgpuState *s);

#endif
