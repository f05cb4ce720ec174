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
