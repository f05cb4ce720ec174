/*
 * nv-vgpu: the migration descriptor, parsed and compared without a device
 *
 * The descriptor comes from a migration stream or from QMP: nothing in it
 * is trusted.  These functions need no device, so that they can be tested
 * and fuzzed on their own (tests/fuzz).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_VGPU_VGPU_DESCRIPTOR_H
#define HW_VGPU_VGPU_DESCRIPTOR_H

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

/* In the stream: magic and length (big endian), then that much JSON. */
#define VGPU_DESCRIPTOR_MAGIC   0x4e564744      /* "NVGD" */
#define VGPU_DESCRIPTOR_MAX     4096            /* bytes of JSON */

/* migration-driver-match: which host drivers may exchange vGPU state */
typedef enum {
    VGPU_DRIVER_MATCH_BRANCH,   /* same major version, e.g. 550.x */
    VGPU_DRIVER_MATCH_VERSION,  /* exactly the same version */
    VGPU_DRIVER_MATCH_ANY,      /* any version of the same driver */
} VgpuDriverMatch;

QDict *vgpu_descriptor_to_qdict(VgpuDescriptor *d);

/*
 * The descriptor in @obj (from a stream or from QMP), or NULL with an
 * error; @field is set to "format" when the format is what refused it.
 */
VgpuDescriptor *vgpu_descriptor_parse(QObject *obj, const char **field,
                                      Error **errp);

/* Can a stream's descriptor header announce a descriptor of @len bytes? */
bool vgpu_descriptor_header_check(uint32_t magic, uint32_t len,
                                  Error **errp);

/*
 * The descriptor in the @len bytes at @json (followed by a NUL), or NULL
 * with an error: a NUL inside, JSON that does not parse, or a descriptor
 * that vgpu_descriptor_parse() refuses.
 */
VgpuDescriptor *vgpu_descriptor_from_json(const char *json, size_t len,
                                          Error **errp);

/*
 * Would a vGPU described by @mine, whose profile allows modes up to
 * @max_xres x @max_yres (0: no limit), accept state from the vGPU that
 * @src describes?  If not, the error names the field (also returned in
 * @field, if not NULL) and both values.
 */
bool vgpu_descriptor_compare(const VgpuDescriptor *src,
                             const VgpuDescriptor *mine,
                             uint32_t max_xres, uint32_t max_yres,
                             VgpuDriverMatch driver_match,
                             const char **field, Error **errp);

#endif
