/*
 * nv-vgpu: what travels with a vGPU's migration besides its VFIO state,
 * and the compatibility check before any of it moves
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_VGPU_VGPU_MIGRATION_H
#define HW_VGPU_VGPU_MIGRATION_H

#include "hw/vgpu/nv-vgpu.h"
#include "qapi/qapi-types-vgpu.h"

/*
 * Version of the descriptor and of what nv-vgpu adds to the stream.  It
 * changes only with something that a destination must understand to take
 * the vGPU: a destination refuses a newer format.  A member can be added
 * without changing it; destinations that do not know the member ignore
 * it, and one that does must take its absence (an older source) as the
 * old behaviour.
 */
#define VGPU_MIGRATION_FORMAT 1

bool vgpu_driver_match_parse(const char *value, VgpuDriverMatch *match,
                             Error **errp);

/* The descriptor of @s, as its migration sends it */
VgpuDescriptor *vgpu_descriptor_new(NvVgpuState *s);

/*
 * The descriptor in @obj (from a stream or from QMP), or NULL with an
 * error; @field is set to "format" when the format is what refused it.
 */
VgpuDescriptor *vgpu_descriptor_parse(QObject *obj, const char **field,
                                      Error **errp);

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
