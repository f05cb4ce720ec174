/*
 * Migration of test VMs with nv-vgpus (nvsim-vm.h): what their guests see
 * before and after, and QMP's view of a migration
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TESTS_QTEST_NVSIM_MIG_H
#define TESTS_QTEST_NVSIM_MIG_H

#include "nvsim-vm.h"

#define REG_SCRATCH     0x0010

/* What the source's guest can see of its vGPU, to compare before/after */
typedef struct GpuSnapshot {
    uint32_t regs[8];
    uint8_t *fb;                /* the scanout */
    size_t fb_len;
} GpuSnapshot;

void snapshot(Gpu *g, GpuSnapshot *s);
/* @g's guest-visible registers and scanout are exactly as in @before */
void assert_unchanged(Gpu *g, GpuSnapshot *before, const char *what);

/* A mode, a picture and a scratch value, set by the guest of each vGPU */
void source_prepare(Vm *vm);

/* return-path and switchover-ack, as nv-vgpu's migrations use them */
void set_caps(QTestState *qts);
/*
 * Start migrating; @bandwidth (bytes/s) 0: let it finish at once, else
 * hold it in pre-copy by limiting the bandwidth.
 */
void vm_migrate(QTestState *src, const char *uri, uint64_t bandwidth);
/* query-migrate's error-desc, or "" */
char *migration_error(QTestState *qts);
char *migration_status(QTestState *qts);
/* Wait until the migration on @qts ends; returns how */
char *wait_migration_end(QTestState *qts);
void wait_migration_status(QTestState *qts, const char *want);
void assert_running(QTestState *qts);

/* The vGPU's VFIO migration state, as query-vgpus reports it */
char *vgpu_state(QTestState *qts, int index, uint64_t *pending);
void assert_vgpu_state(QTestState *qts, int index, const char *want);

/* The source after a failed or cancelled migration: as before, running */
void assert_source_intact(Vm *src, GpuSnapshot *before, const char *what);
/* A destination that fails must exit with status 1, saying @want */
void assert_dest_refused(Vm *dst, const char *want);
/* After migration, the destination's guest sees exactly the source's. */
void assert_destination_matches(const Gpu *modes, Vm *dst,
                                GpuSnapshot *before);

#endif
