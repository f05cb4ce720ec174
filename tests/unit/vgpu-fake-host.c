/*
 * A fake host sysfs and /dev/vfio tree for testing vGPU life cycles
 *
 * The layout follows the kernel's: parents in sys/class/mdev_bus, devices
 * in sys/devices/PARENT/UUID with sys/bus/mdev/devices/UUID linking there,
 * and VFIO group nodes in dev/vfio.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <ftw.h>
#include "vgpu-fake-host.h"

struct FakeHost {
    char *root;
    GThread *kernel;
    char *fifo;
    char *parent;
    char *type_id;
    int group;
    GMutex lock;
    GCond cond;
    char *created_uuid;         /* guarded by lock */
    bool served;                /* guarded by lock */
};

static void put(const char *path, const char *content)
{
    g_autofree char *dir = g_path_get_dirname(path);

    g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
    g_assert_true(g_file_set_contents(path, content, -1, NULL));
    g_assert_cmpint(chmod(path, 0644), ==, 0);
}

/* Link @path to @target; takes @target. */
static void link_to(char *target, const char *path)
{
    g_autofree char *dir = g_path_get_dirname(path);

    g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
    g_assert_cmpint(symlink(target, path), ==, 0);
    g_free(target);
}

FakeHost *fake_host_new(void)
{
    FakeHost *fh = g_new0(FakeHost, 1);
    g_autofree char *bus = NULL;

    fh->root = g_dir_make_tmp("vgpu-host-XXXXXX", NULL);
    g_assert_nonnull(fh->root);
    g_assert_cmpint(chmod(fh->root, 0755), ==, 0);
    g_mutex_init(&fh->lock);
    g_cond_init(&fh->cond);

    bus = g_strdup_printf("%s/sys/bus/mdev/devices", fh->root);
    g_assert_cmpint(g_mkdir_with_parents(bus, 0755), ==, 0);
    return fh;
}

const char *fake_host_root(FakeHost *fh)
{
    return fh->root;
}

void fake_host_add_type(FakeHost *fh, const char *parent, const char *type_id,
                        const char *name, const char *desc,
                        const char *device_api, int available)
{
    g_autofree char *pdir = g_strdup_printf("%s/sys/devices/%s", fh->root,
                                            parent);
    g_autofree char *plink = g_strdup_printf("%s/sys/class/mdev_bus/%s",
                                             fh->root, parent);
    g_autofree char *tdir = g_strdup_printf("%s/mdev_supported_types/%s",
                                            pdir, type_id);
    g_autofree char *n = g_strdup_printf("%d\n", available);
    const struct {
        const char *attr, *value;
    } attrs[] = {
        { "name", name }, { "description", desc },
        { "device_api", device_api }, { "available_instances", n },
        { "create", "" },
    };
    size_t i;

    if (!g_file_test(plink, G_FILE_TEST_EXISTS)) {
        g_assert_cmpint(g_mkdir_with_parents(pdir, 0755), ==, 0);
        link_to(g_strdup(pdir), plink);
    }
    for (i = 0; i < G_N_ELEMENTS(attrs); i++) {
        g_autofree char *p = g_strdup_printf("%s/%s", tdir, attrs[i].attr);

        put(p, attrs[i].value);
    }
}

char *fake_host_add_mdev(FakeHost *fh, const char *parent,
                         const char *type_id, const char *uuid, int group)
{
    g_autofree char *dev = g_strdup_printf("%s/sys/devices/%s/%s", fh->root,
                                           parent, uuid);
    g_autofree char *p = NULL;

    p = g_strdup_printf("%s/remove", dev);
    put(p, "");
    g_free(p);
    p = g_strdup_printf("%s/mdev_type", dev);
    link_to(g_strdup_printf("%s/sys/devices/%s/mdev_supported_types/%s",
                            fh->root, parent, type_id), p);
    g_free(p);
    p = g_strdup_printf("%s/subsystem", dev);
    link_to(g_strdup_printf("%s/sys/bus/mdev", fh->root), p);
    g_free(p);
    p = g_strdup_printf("%s/iommu_group", dev);
    link_to(g_strdup_printf("%s/sys/kernel/iommu_groups/%d", fh->root,
                            group), p);
    g_free(p);
    p = g_strdup_printf("%s/sys/bus/mdev/devices/%s", fh->root, uuid);
    link_to(g_strdup(dev), p);
    return g_strdup_printf("/sys/bus/mdev/devices/%s", uuid);
}

void fake_host_add_vfio_group(FakeHost *fh, int group, mode_t mode)
{
    g_autofree char *p = g_strdup_printf("%s/dev/vfio/%d", fh->root, group);

    put(p, "");
    g_assert_cmpint(chmod(p, mode), ==, 0);
}

char *fake_host_vf(const char *pf, int i)
{
    /* first VF offset 1, stride 1: functions of the PF's slot */
    return g_strdup_printf("%.*s%d", (int)strlen(pf) - 1, pf,
                           pf[strlen(pf) - 1] - '0' + i);
}

void fake_host_add_sriov_pf(FakeHost *fh, const char *pf, int total,
                            int enabled, int group_base,
                            const char *creatable)
{
    g_autofree char *pdir = g_strdup_printf("%s/sys/devices/pci0000:40/%s",
                                            fh->root, pf);
    g_autofree char *p = NULL;
    g_autofree char *n = NULL;
    int i;

    g_assert_cmpint(total, <, 8);
    p = g_strdup_printf("%s/sys/bus/pci/devices/%s", fh->root, pf);
    link_to(g_strdup(pdir), p);
    g_free(p);
    p = g_strdup_printf("%s/sriov_totalvfs", pdir);
    n = g_strdup_printf("%d\n", total);
    put(p, n);
    g_free(p);
    g_free(n);
    p = g_strdup_printf("%s/sriov_numvfs", pdir);
    n = g_strdup_printf("%d\n", enabled);
    put(p, n);
    g_free(p);
    p = g_strdup_printf("%s/device", pdir);
    put(p, "0x27b8\n");
    for (i = 1; i <= enabled; i++) {
        g_autofree char *vf = fake_host_vf(pf, i);
        g_autofree char *vdir = g_strdup_printf("%s/sys/devices/pci0000:40/"
                                                "%s", fh->root, vf);
        static const char *const attrs[] = {
            "current_vgpu_type", "gpu_instance_id", "placement_id",
            "vgpu_params",
        };
        static const char *const values[] = { "0\n", "-1\n", "0\n", "\n" };
        size_t a;

        g_free(p);
        p = g_strdup_printf("%s/virtfn%d", pdir, i - 1);
        link_to(g_strdup(vdir), p);
        g_free(p);
        p = g_strdup_printf("%s/sys/bus/pci/devices/%s", fh->root, vf);
        link_to(g_strdup(vdir), p);
        g_free(p);
        p = g_strdup_printf("%s/physfn", vdir);
        link_to(g_strdup(pdir), p);
        g_free(p);
        p = g_strdup_printf("%s/subsystem", vdir);
        link_to(g_strdup_printf("%s/sys/bus/pci", fh->root), p);
        g_free(p);
        p = g_strdup_printf("%s/driver", vdir);
        link_to(g_strdup_printf("%s/sys/bus/pci/drivers/nvidia", fh->root),
                p);
        g_free(p);
        p = g_strdup_printf("%s/iommu_group", vdir);
        link_to(g_strdup_printf("%s/sys/kernel/iommu_groups/%d", fh->root,
                                group_base + i), p);
        fake_host_add_vfio_group(fh, group_base + i, 0666);
        for (a = 0; a < G_N_ELEMENTS(attrs); a++) {
            g_free(p);
            p = g_strdup_printf("%s/nvidia/%s", vdir, attrs[a]);
            put(p, values[a]);
        }
        g_free(p);
        p = g_strdup_printf("%s/nvidia/creatable_vgpu_types", vdir);
        put(p, creatable);
    }
}

void fake_host_set_vf(FakeHost *fh, const char *vf, const char *attr,
                      const char *value)
{
    g_autofree char *p = g_strdup_printf("%s/sys/bus/pci/devices/%s/nvidia/"
                                         "%s", fh->root, vf, attr);

    g_assert_true(g_file_set_contents(p, value, -1, NULL));
    g_assert_cmpint(chmod(p, 0666), ==, 0);
}

void fake_host_add_vfio_cdev(FakeHost *fh, const char *vf, int n,
                             bool keep_group)
{
    g_autofree char *d = g_strdup_printf("%s/sys/bus/pci/devices/%s/"
                                         "vfio-dev/vfio%d/dev", fh->root, vf,
                                         n);
    g_autofree char *node = g_strdup_printf("%s/dev/vfio/devices/vfio%d",
                                            fh->root, n);

    put(d, "511:0\n");
    put(node, "");
    g_assert_cmpint(chmod(node, 0666), ==, 0);
    if (!keep_group) {
        g_autofree char *link = g_strdup_printf("%s/sys/bus/pci/devices/%s/"
                                                "iommu_group", fh->root, vf);
        g_autofree char *group = g_file_read_link(link, NULL);
        g_autofree char *gnode = NULL;

        g_assert_nonnull(group);
        gnode = g_strdup_printf("%s/dev/vfio/%s", fh->root,
                                strrchr(group, '/') + 1);
        g_assert_cmpint(unlink(gnode), ==, 0);
    }
}

static gpointer fake_kernel(gpointer opaque)
{
    FakeHost *fh = opaque;
    char buf[64] = "";
    ssize_t n = 0;
    int fd;

    fd = open(fh->fifo, O_RDONLY);
    if (fd >= 0) {
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
    }
    g_mutex_lock(&fh->lock);
    if (n > 0) {
        buf[n] = '\0';
        g_strchomp(buf);
        g_free(fake_host_add_mdev(fh, fh->parent, fh->type_id, buf,
                                  fh->group));
        fh->created_uuid = g_strdup(buf);
    }
    fh->served = true;
    g_cond_broadcast(&fh->cond);
    g_mutex_unlock(&fh->lock);
    return NULL;
}

void fake_host_serve_create(FakeHost *fh, const char *parent,
                            const char *type_id, int group)
{
    g_assert_null(fh->kernel);
    fh->fifo = g_strdup_printf("%s/sys/devices/%s/mdev_supported_types/%s/"
                               "create", fh->root, parent, type_id);
    fh->parent = g_strdup(parent);
    fh->type_id = g_strdup(type_id);
    fh->group = group;
    g_assert_cmpint(unlink(fh->fifo), ==, 0);
    g_assert_cmpint(mkfifo(fh->fifo, 0666), ==, 0);
    g_assert_cmpint(chmod(fh->fifo, 0666), ==, 0);
    fh->kernel = g_thread_new("fake-kernel", fake_kernel, fh);
}

char *fake_host_created_uuid(FakeHost *fh, int ms)
{
    gint64 end = g_get_monotonic_time() + ms * G_TIME_SPAN_MILLISECOND;
    char *uuid;

    g_mutex_lock(&fh->lock);
    while (!fh->served && g_cond_wait_until(&fh->cond, &fh->lock, end)) {
        /* wait */
    }
    uuid = g_strdup(fh->created_uuid);
    g_mutex_unlock(&fh->lock);
    return uuid;
}

char *fake_host_read(FakeHost *fh, const char *rel)
{
    g_autofree char *p = g_strdup_printf("%s/%s", fh->root, rel);
    char *s = NULL;

    if (!g_file_get_contents(p, &s, NULL, NULL)) {
        return NULL;
    }
    return g_strchomp(s);
}

bool fake_host_wait_for(FakeHost *fh, const char *rel, const char *want,
                        int ms)
{
    gint64 end = g_get_monotonic_time() + ms * G_TIME_SPAN_MILLISECOND;

    do {
        g_autofree char *s = fake_host_read(fh, rel);

        if (s && !strcmp(s, want)) {
            return true;
        }
        g_usleep(10 * 1000);
    } while (g_get_monotonic_time() < end);
    return false;
}

bool fake_host_wait_gone(FakeHost *fh, const char *rel, int ms)
{
    gint64 end = g_get_monotonic_time() + ms * G_TIME_SPAN_MILLISECOND;

    do {
        g_autofree char *s = fake_host_read(fh, rel);

        if (!s) {
            return true;
        }
        g_usleep(10 * 1000);
    } while (g_get_monotonic_time() < end);
    return false;
}

static int rm_entry(const char *path, const struct stat *sb, int flag,
                    struct FTW *ftw)
{
    return remove(path);
}

void fake_host_free(FakeHost *fh)
{
    if (fh->kernel) {
        bool served;

        g_mutex_lock(&fh->lock);
        served = fh->served;
        g_mutex_unlock(&fh->lock);
        while (!served) {
            /*
             * Wake the kernel thread up with an empty write; the open only
             * works once the thread waits in its own open.
             */
            int fd = open(fh->fifo, O_WRONLY | O_NONBLOCK);

            if (fd >= 0) {
                close(fd);
            }
            g_usleep(1000);
            g_mutex_lock(&fh->lock);
            served = fh->served;
            g_mutex_unlock(&fh->lock);
        }
        g_thread_join(fh->kernel);
    }
    nftw(fh->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    g_free(fh->root);
    g_free(fh->fifo);
    g_free(fh->parent);
    g_free(fh->type_id);
    g_free(fh->created_uuid);
    g_mutex_clear(&fh->lock);
    g_cond_clear(&fh->cond);
    g_free(fh);
}

/* A running removal helper of vGPU @uuid, or 0 (argv: see vgpu-reaper.c) */
int vgpu_reaper_pid(const char *uuid)
{
    g_autoptr(GDir) proc = g_dir_open("/proc", 0, NULL);
    const char *name;

    g_assert_nonnull(proc);
    while ((name = g_dir_read_name(proc))) {
        g_autofree char *path = NULL, *argv = NULL;
        bool reaper = false, ours = false;
        gsize len, i;

        if (!g_ascii_isdigit(name[0])) {
            continue;
        }
        path = g_strdup_printf("/proc/%s/cmdline", name);
        if (!g_file_get_contents(path, &argv, &len, NULL)) {
            continue;           /* gone meanwhile */
        }
        for (i = 0; i < len; i += strlen(argv + i) + 1) {
            reaper |= !strcmp(argv + i, "nv-vgpu-reaper");
            ours |= !strcmp(argv + i, uuid);
        }
        if (reaper && ours) {
            return atoi(name);
        }
    }
    return 0;
}

void vgpu_wait_no_reaper(const char *uuid)
{
    int i;

    for (i = 0; i < 6000 && vgpu_reaper_pid(uuid); i++) {
        g_usleep(10 * 1000);
    }
    g_assert_cmpint(vgpu_reaper_pid(uuid), ==, 0);
}
