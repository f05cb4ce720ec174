/*
 * NVIDIA vGPU plugin parameters (nvidia/vgpu_params of a vGPU in sysfs)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_VGPU_VGPU_PARAMS_H
#define HW_VGPU_VGPU_PARAMS_H

#include "qapi/qapi-types-common.h"

typedef struct VgpuHost VgpuHost;

/*
 * Turn vgpu-params= (@list: "key=value" items separated by ':' or ',';
 * NULL or "" for none) and the typed properties (@frame_rate_limiter:
 * AUTO leaves the key alone) into "key=value" items, in order, each key
 * once.  A malformed item, a repeated key or a typed property that
 * contradicts @list is an error naming it.
 */
bool vgpu_params_build(const char *list, OnOffAuto frame_rate_limiter,
                       GStrv *out, Error **errp);

/* The "key=value" items of a vgpu_params value as the driver shows it. */
GStrv vgpu_params_split(const char *value);

/* Is @key set to @value in @params? */
bool vgpu_params_has(GStrv params, const char *key, const char *value);

/*
 * Before the VFIO device is opened: note whether the vGPU has plugin
 * parameters and, if @params is not empty, write them, remembering the
 * previous value of a vGPU QEMU did not create (h->params_restore) and
 * starting a helper that writes it back if QEMU ends without letting go
 * of the vGPU first.  The driver's refusal is an error saying why.
 * h->params_in_force is what the driver shows afterwards.
 */
bool vgpu_host_apply_params(VgpuHost *h, GStrv params, Error **errp);

/*
 * Write back h->params_restore, once the VFIO device is closed, and tell
 * the helper that it is done.
 */
void vgpu_host_restore_params(VgpuHost *h);

#endif
