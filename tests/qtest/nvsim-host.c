/*
 * Helpers for qtests against the simulated vGPU driver nvsim
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "nvsim-host.h"

bool nvsim_skip_test(void)
{
    if (g_file_test(NVSIM, G_FILE_TEST_IS_DIR)) {
        return false;
    }
    g_test_skip("needs the nvsim vGPU driver: runs in the test host "
                "(tests/vgpu-host/run)");
    return true;
}

int nvsim_available(const char *type)
{
    g_autofree char *path = g_strdup_printf(NVSIM_TYPES "/%s/"
                                            "available_instances", type);
    g_autofree char *s = NULL;

    g_assert_true(g_file_get_contents(path, &s, NULL, NULL));
    return atoi(s);
}

bool mdev_exists(const char *uuid)
{
    g_autofree char *path = g_strdup_printf(MDEV_DEVICES "/%s", uuid);

    return g_file_test(path, G_FILE_TEST_EXISTS);
}

bool mdev_wait_gone(const char *uuid)
{
    int i;

    for (i = 0; i < 1000 && mdev_exists(uuid); i++) {
        g_usleep(10 * 1000);
    }
    return !mdev_exists(uuid);
}

int mdev_count(void)
{
    g_autoptr(GDir) dir = g_dir_open(MDEV_DEVICES, 0, NULL);
    int n = 0;

    while (dir && g_dir_read_name(dir)) {
        n++;
    }
    return n;
}

void sysfs_write(const char *path, const char *value)
{
    int fd = open(path, O_WRONLY);

    if (fd < 0) {
        g_error("open %s: %s", path, strerror(errno));
    }
    if (write(fd, value, strlen(value)) != strlen(value)) {
        g_error("write '%s' to %s: %s", value, path, strerror(errno));
    }
    close(fd);
}

void mdev_attr_write(const char *uuid, const char *attr, const char *value)
{
    g_autofree char *path = g_strdup_printf(MDEV_DEVICES "/%s/%s", uuid,
                                            attr);

    sysfs_write(path, value);
}

char *mdev_attr_read(const char *uuid, const char *attr)
{
    g_autofree char *path = g_strdup_printf(MDEV_DEVICES "/%s/%s", uuid,
                                            attr);
    char *value = NULL;

    g_assert_true(g_file_get_contents(path, &value, NULL, NULL));
    return g_strchomp(value);
}

char *nvsim_create(const char *type)
{
    g_autofree char *create = g_strdup_printf(NVSIM_TYPES "/%s/create", type);
    char *uuid = g_uuid_string_random();

    sysfs_write(create, uuid);
    g_assert_true(mdev_exists(uuid));
    return uuid;
}

void nvsim_remove(const char *uuid)
{
    mdev_attr_write(uuid, "remove", "1");
    g_assert_true(mdev_wait_gone(uuid));
}

QDict *qom_get_dev(QTestState *qts, const char *id, const char *prop)
{
    g_autofree char *path = g_strdup_printf("/machine/peripheral/%s", id);
    QDict *rsp = qtest_qmp(qts, "{ 'execute': 'qom-get', 'arguments': "
                           "{ 'path': %s, 'property': %s } }", path, prop);

    g_assert_true(qdict_haskey(rsp, "return"));
    return rsp;
}

char *qom_get_dev_str(QTestState *qts, const char *id, const char *prop)
{
    QDict *rsp = qom_get_dev(qts, id, prop);
    char *value = g_strdup(qdict_get_str(rsp, "return"));

    qobject_unref(rsp);
    return value;
}

uint64_t qom_get_dev_uint(QTestState *qts, const char *id, const char *prop)
{
    QDict *rsp = qom_get_dev(qts, id, prop);
    uint64_t value = qdict_get_int(rsp, "return");

    qobject_unref(rsp);
    return value;
}

const char *qemu_binary(void)
{
    const char *qemu = g_getenv("QTEST_QEMU_BINARY");

    g_assert_nonnull(qemu);
    return qemu;
}

static void drop_root(gpointer unused)
{
    if (geteuid() == 0 && (setgid(65534) || setuid(65534))) {
        _exit(99);
    }
}

int run_qemu2(const char *dev, const char *dev2, bool unprivileged,
              char **err)
{
    const char *argv[] = {
        "timeout", "-s", "KILL", "60", qemu_binary(),
        "-machine", "q35", "-accel", "qtest", "-display", "none",
        "-nodefaults", "-monitor", "none", "-serial", "none",
        "-device", dev, dev2 ? "-device" : NULL, dev2, NULL
    };
    g_autoptr(GError) gerr = NULL;
    int status;

    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL,
                               G_SPAWN_SEARCH_PATH |
                               G_SPAWN_STDOUT_TO_DEV_NULL,
                               unprivileged ? drop_root : NULL, NULL,
                               NULL, err, &status, &gerr));
    g_assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

int run_qemu(const char *dev, bool unprivileged, char **err)
{
    return run_qemu2(dev, NULL, unprivileged, err);
}

/* QEMU must fail to start, saying @want. */
void assert_refused(const char *dev, bool unprivileged,
                           const char *want)
{
    g_autofree char *err = NULL;
    int status = run_qemu(dev, unprivileged, &err);

    if (status != 1 || !strstr(err, want)) {
        g_error("-device %s: exit status %d, stderr:\n%s\nwanted status 1 "
                "and '%s'", dev, status, err, want);
    }
}

/* ---------------------------------------------------------------------- */
/* The simulated SR-IOV GPU */

const char *sriov_pf(void)
{
    static char *pf;
    g_autoptr(GDir) dir = NULL;
    const char *name;

    if (pf) {
        return pf;
    }
    dir = g_dir_open(PCI_DEVICES, 0, NULL);
    while (dir && (name = g_dir_read_name(dir))) {
        g_autofree char *id = NULL, *total = NULL, *driver = NULL;
        g_autofree char *path = g_strdup_printf(PCI_DEVICES "/%s/device",
                                                name);
        g_autofree char *link = g_strdup_printf(PCI_DEVICES "/%s/driver",
                                                name);

        total = g_strdup_printf(PCI_DEVICES "/%s/sriov_totalvfs", name);
        driver = g_file_read_link(link, NULL);
        if (g_file_get_contents(path, &id, NULL, NULL) &&
            !strcmp(g_strchomp(id), "0x27b8") &&
            g_file_test(total, G_FILE_TEST_EXISTS) &&
            driver && g_str_has_suffix(driver, "/nvsim-sriov")) {
            pf = g_strdup(name);
            return pf;
        }
    }
    g_test_skip("needs the simulated SR-IOV GPU driven by nvsim: runs in "
                "the test host's SR-IOV mode (VGPU_HOST_SRIOV=1)");
    return NULL;
}

void sriov_set_numvfs(const char *pf, int n)
{
    g_autofree char *path = g_strdup_printf(PCI_DEVICES "/%s/sriov_numvfs",
                                            pf);
    g_autofree char *value = g_strdup_printf("%d", n);

    sysfs_write(path, value);
}

char *sriov_vf(const char *pf, int i)
{
    g_autofree char *link = g_strdup_printf(PCI_DEVICES "/%s/virtfn%d", pf,
                                            i);
    g_autofree char *target = g_file_read_link(link, NULL);

    g_assert_nonnull(target);
    return g_path_get_basename(target);
}

char *vf_attr_read(const char *vf, const char *attr)
{
    g_autofree char *path = g_strdup_printf(PCI_DEVICES "/%s/%s", vf, attr);
    char *value = NULL;

    g_assert_true(g_file_get_contents(path, &value, NULL, NULL));
    return g_strchomp(value);
}

void vf_attr_write(const char *vf, const char *attr, const char *value)
{
    g_autofree char *path = g_strdup_printf(PCI_DEVICES "/%s/%s", vf, attr);

    sysfs_write(path, value);
}

int vf_type(const char *vf)
{
    g_autofree char *type = vf_attr_read(vf, "nvidia/current_vgpu_type");

    return atoi(type);
}

bool vf_wait_type(const char *vf, int want)
{
    int i;

    for (i = 0; i < 3000 && vf_type(vf) != want; i++) {
        g_usleep(10 * 1000);
    }
    return vf_type(vf) == want;
}

char *vf_group_node(const char *vf)
{
    g_autofree char *link = g_strdup_printf(PCI_DEVICES "/%s/iommu_group",
                                            vf);
    g_autofree char *target = g_file_read_link(link, NULL);
    g_autofree char *group = NULL;

    g_assert_nonnull(target);
    group = g_path_get_basename(target);
    return g_strdup_printf("/dev/vfio/%s", group);
}

bool pid_holds(int pid, const char *node)
{
    g_autofree char *fds = g_strdup_printf("/proc/%d/fd", pid);
    g_autoptr(GDir) dir = g_dir_open(fds, 0, NULL);
    const char *name;

    while (dir && (name = g_dir_read_name(dir))) {
        g_autofree char *fd = g_build_filename(fds, name, NULL);
        g_autofree char *target = g_file_read_link(fd, NULL);

        if (target && !strcmp(target, node)) {
            return true;
        }
    }
    return false;
}
