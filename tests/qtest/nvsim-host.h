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

/* QEMU under test ($QTEST_QEMU_BINARY) */
const char *qemu_binary(void);

/*
 * Run QEMU with one nv-vgpu device (-device @dev), as root or (with
 * @unprivileged) as nobody, and return its exit status; its stderr goes
 * to @err.  QEMU is killed after 60 s, in case a device that should have
 * failed started.
 */
int run_qemu(const char *dev, bool unprivileged, char **err);
/* The same with a second device, -device @dev2 (none if NULL) */
int run_qemu2(const char *dev, const char *dev2, bool unprivileged,
              char **err);
/* QEMU must fail to start, saying @want. */
void assert_refused(const char *dev, bool unprivileged, const char *want);

/*
 * The simulated SR-IOV GPU (nvsim-sriov, in the test host's SR-IOV mode):
 * its PF, VFs and their nvidia/ and nvsim/ attributes.
 */
#define PCI_DEVICES     "/sys/bus/pci/devices"

/* The PF's address (e.g. 0000:01:00.0), or NULL with the test skipped */
const char *sriov_pf(void);
void sriov_set_numvfs(const char *pf, int n);
/* The address of VF @i (virtfn@i) of @pf */
char *sriov_vf(const char *pf, int i);
char *vf_attr_read(const char *vf, const char *attr);
void vf_attr_write(const char *vf, const char *attr, const char *value);
/* current_vgpu_type of @vf */
int vf_type(const char *vf);
/* Wait up to 30 s for @vf's type to become @want */
bool vf_wait_type(const char *vf, int want);
/* /dev/vfio/N of @vf */
char *vf_group_node(const char *vf);
/* Does process @pid hold file @node open? */
bool pid_holds(int pid, const char *node);

#endif
