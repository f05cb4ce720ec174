/*
 * Small sysfs helpers for the vGPU backends
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/vgpu/vgpu-sysfs.h"

char *vgpu_host_path(const char *root, const char *fmt, ...)
{
    g_autofree char *rel = NULL;
    va_list ap;

    va_start(ap, fmt);
    rel = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    return g_strconcat(root ? root : "", rel, NULL);
}

bool vgpu_sysfs_read(const char *path, char **value, Error **errp)
{
    g_autoptr(GError) err = NULL;
    char *s;

    if (!g_file_get_contents(path, &s, NULL, &err)) {
        error_setg(errp, "cannot read %s: %s", path, err->message);
        return false;
    }
    *value = g_strchomp(s);
    return true;
}

char *vgpu_sysfs_read_opt(const char *path)
{
    char *s = NULL;

    if (!g_file_get_contents(path, &s, NULL, NULL)) {
        return NULL;
    }
    return g_strchomp(s);
}

int vgpu_sysfs_write(const char *path, const char *value, Error **errp)
{
    size_t len = strlen(value);
    ssize_t n;
    int fd, err;

    /* O_TRUNC as a shell's '>' does: sysfs ignores it, plain files need it */
    fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0) {
        err = errno;
        error_setg_errno(errp, err, "cannot open %s", path);
        return err;
    }
    n = RETRY_ON_EINTR(write(fd, value, len));
    err = n < 0 ? errno : (size_t)n != len ? EIO : 0;
    close(fd);
    if (err) {
        error_setg_errno(errp, err, "cannot write '%s' to %s", value, path);
    }
    return err;
}

char *vgpu_sysfs_link_name(const char *path)
{
    g_autofree char *target = g_file_read_link(path, NULL);

    return target ? g_path_get_basename(target) : NULL;
}

static gint compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

GStrv vgpu_sysfs_list(const char *path)
{
    g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
    GPtrArray *names;
    const char *name;

    if (!dir) {
        return NULL;
    }
    names = g_ptr_array_new();
    while ((name = g_dir_read_name(dir))) {
        g_ptr_array_add(names, g_strdup(name));
    }
    g_ptr_array_sort(names, compare_names);
    g_ptr_array_add(names, NULL);
    return (GStrv)g_ptr_array_free(names, false);
}

/* Is @a the file @b: the same inode, or the same character device? */
static bool same_file(const struct stat *a, const struct stat *b)
{
    if (S_ISCHR(a->st_mode) && S_ISCHR(b->st_mode)) {
        return a->st_rdev == b->st_rdev;
    }
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

int64_t vgpu_file_holder(const char *path)
{
    g_autoptr(GDir) proc = g_dir_open("/proc", 0, NULL);
    struct stat want;
    const char *pid;

    if (!proc || stat(path, &want) < 0) {
        return 0;
    }
    while ((pid = g_dir_read_name(proc))) {
        g_autofree char *fddir = NULL;
        g_autoptr(GDir) fds = NULL;
        const char *fd;

        if (!g_ascii_isdigit(pid[0])) {
            continue;
        }
        fddir = g_strdup_printf("/proc/%s/fd", pid);
        fds = g_dir_open(fddir, 0, NULL);
        while (fds && (fd = g_dir_read_name(fds))) {
            g_autofree char *link = g_strdup_printf("%s/%s", fddir, fd);
            struct stat st;

            if (stat(link, &st) == 0 && same_file(&st, &want)) {
                return g_ascii_strtoll(pid, NULL, 10);
            }
        }
    }
    return 0;
}
