/*
 * Helpers for qtests against the simulated vGPU driver nvsim
 * (kernel/nvsim), which run in the test host (tests/vgpu-host)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TESTS_QTEST_NVSIM_HOST_H
#define TESTS_QTEST_NVSIM_HOST_H

#include "libqtest.h"
#include "qobject/qdict.h"

#define NVSIM           "/sys/class/mdev_bus/nvsim"
#define NVSIM_TYPES     NVSIM "/mdev_supported_types"
#define MDEV_DEVICES    "/sys/bus/mdev/devices"

/* True, with the test marked skipped, where nvsim is not loaded. */
bool nvsim_skip_test(void);

int nvsim_available(const char *type);
bool mdev_exists(const char *uuid);
bool mdev_wait_gone(const char *uuid);
int mdev_count(void);

/* One write(), as sysfs wants; g_file_set_contents() would rename. */
void sysfs_write(const char *path, const char *value);

/* Write @value to attribute @attr (e.g. "nvsim/plane") of mdev @uuid. */
void mdev_attr_write(const char *uuid, const char *attr, const char *value);

/* The value of attribute @attr of mdev @uuid, without its newline */
char *mdev_attr_read(const char *uuid, const char *attr);

/* Create an mdev of nvsim type @type and return its UUID. */
char *nvsim_create(const char *type);
void nvsim_remove(const char *uuid);

/* qom-get of @prop of the device with id @id. */
QDict *qom_get_dev(QTestState *qts, const char *id, const char *prop);
char *qom_get_dev_str(QTestState *qts, const char *id, const char *prop);
uint64_t qom_get_dev_uint(QTestState *qts, const char *id, const char *prop);

#endif
