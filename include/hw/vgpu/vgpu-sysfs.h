/*
 * Small sysfs helpers for the vGPU backends
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_VGPU_VGPU_SYSFS_H
#define HW_VGPU_VGPU_SYSFS_H

/*
 * Every host path the backends touch (/sys/..., /dev/vfio/...) goes through
 * vgpu_host_path(), which puts @root in front.  @root is "" on a real host;
 * tests point it at a fake tree (nv-vgpu's x-host-root property).
 */
char *vgpu_host_path(const char *root, const char *fmt, ...)
    G_GNUC_PRINTF(2, 3);

/* Read a sysfs attribute; trailing white space is removed. */
bool vgpu_sysfs_read(const char *path, char **value, Error **errp);

/* Like vgpu_sysfs_read(), but NULL when the attribute does not exist. */
char *vgpu_sysfs_read_opt(const char *path);

/*
 * Write @value to a sysfs attribute in one write(), as the kernel expects.
 * On failure, returns the errno (so that callers can explain it) and sets
 * @errp; returns 0 on success.
 */
int vgpu_sysfs_write(const char *path, const char *value, Error **errp);

/* The last path component of the target of symlink @path, or NULL. */
char *vgpu_sysfs_link_name(const char *path);

/* The entries of directory @path, sorted; NULL if it cannot be read. */
GStrv vgpu_sysfs_list(const char *path);

/*
 * A process (other than none) that holds @path open, by a look through
 * /proc/PID/fd: its pid, or 0 when none is seen.  Only processes whose fds
 * this process may read are seen (all of them as root).
 */
int64_t vgpu_file_holder(const char *path);

#endif
