/*
 * vGPUs made ahead of their hot-plug (QMP vgpu-create)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_VGPU_VGPU_PREPARE_H
#define HW_VGPU_VGPU_PREPARE_H

#include "hw/vgpu/vgpu-backend.h"

/*
 * If vgpu-create made (or is making) vGPU @uuid, wait until it is done
 * and move it into @h, which vgpu_host_init() set up: from then on it is
 * @h's, as if create() had made it there.  Returns 1 when @h has it, 0
 * when vgpu-create was not asked for @uuid, and -1 with @errp set when
 * it was asked with another parent or type, or could not make it.
 * Called with the BQL held; it is dropped while waiting during hot-plug.
 */
int vgpu_prepared_take(const char *uuid, const char *parent,
                       const char *type, VgpuHost *h, Error **errp);

#endif
