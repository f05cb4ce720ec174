/*
 * nv-vgpu: what travels with a vGPU's migration besides its VFIO state,
 * and the compatibility check before any of it moves
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_VGPU_VGPU_MIGRATION_H
#define HW_VGPU_VGPU_MIGRATION_H

#include "hw/vgpu/nv-vgpu.h"
#include "hw/vgpu/vgpu-descriptor.h"

bool vgpu_driver_match_parse(const char *value, VgpuDriverMatch *match,
                             Error **errp);

/* The descriptor of @s, as its migration sends it */
VgpuDescriptor *vgpu_descriptor_new(NvVgpuState *s);

/*
 * Would @s accept state from the vGPU that @src describes?  If not, the
 * error names the field (also returned in @field) and both values.
 */
bool vgpu_descriptor_check(NvVgpuState *s, const VgpuDescriptor *src,
                           const char **field, Error **errp);

/* From nv-vgpu's instance_init: end RESUMING once VFIO has loaded all. */
void vgpu_migration_instance_init(NvVgpuState *s);

/* Send the descriptor first in every migration of @s, and check it. */
void vgpu_migration_init(NvVgpuState *s);
void vgpu_migration_exit(NvVgpuState *s);

extern const VMStateDescription vmstate_nv_vgpu;

#endif
