/*
 * The helper that removes a vGPU QEMU created once QEMU lets go of it
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_VGPU_VGPU_REAPER_H
#define HW_VGPU_VGPU_REAPER_H

#include "hw/vgpu/vgpu-record.h"

typedef struct VgpuReaper VgpuReaper;

/*
 * Start the helper for the vGPU of @record (claimed, locked), before the
 * vGPU is created: from then on, however QEMU ends, the helper removes the
 * vGPU if it exists, then deletes the record.  Takes @record, and deletes
 * it on failure.
 */
VgpuReaper *vgpu_reaper_start(const char *root, VgpuRecord *record,
                              Error **errp);

/* Add a guard to the record (see vgpu_record_add_guard()). */
void vgpu_reaper_add_guard(VgpuReaper *r, const char *path,
                           const char *value);

/* Is the helper still there? */
bool vgpu_reaper_alive(VgpuReaper *r);

/* Start a new helper if the old one died (someone killed it). */
bool vgpu_reaper_rearm(VgpuReaper *r, Error **errp);

/* Re-arm from the main loop whenever the helper dies. */
void vgpu_reaper_watch(VgpuReaper *r);

/*
 * Let go of the vGPU: the helper removes it (@remove), or it is not ours
 * after all and stays (!@remove).  Frees @r.
 */
void vgpu_reaper_finish(VgpuReaper *r, bool remove);

/*
 * In a helper child of QEMU, between fork and exec (async-signal-safe):
 * leave QEMU's session and ignore the signals that end QEMU's process
 * group, so that the helper outlives them, and unblock the rest.
 */
void vgpu_helper_detach(void);

#endif
