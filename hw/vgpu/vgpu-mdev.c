/*
 * vGPU backend for VFIO mediated devices (mdevs)
 *
 * A vGPU mdev lives in sysfs as
 *   /sys/class/mdev_bus/PARENT/mdev_supported_types/TYPE/{name,description,
 *       available_instances,device_api,create}
 *   /sys/bus/mdev/devices/UUID -> .../PARENT/UUID/{mdev_type,iommu_group,
 *       remove}
 * and is opened through its VFIO group, /dev/vfio/N.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/cutils.h"
#include "qemu/uuid.h"
#include "hw/vgpu/vgpu-backend.h"
#include "hw/vgpu/vgpu-sysfs.h"
#include "hw/vgpu/vgpu-reaper.h"
#include "qemu/error-report.h"

#define MDEV_DEVICES    "/sys/bus/mdev/devices"
#define MDEV_PARENTS    "/sys/class/mdev_bus"

/*
 * The kernel creates the device before the write to "create" returns; the
 * short wait only covers trees that are not the kernel's (tests).
 */
#define MDEV_APPEAR_WAIT_MS     1000

/* "nvidia-289 (GRID P4-8C, 1 free), ..." for an error message. */
static char *mdev_describe_types(const char *root, const char *parent)
{
    g_autofree char *dir = vgpu_host_path(root, MDEV_PARENTS
                                          "/%s/mdev_supported_types", parent);
    g_auto(GStrv) types = vgpu_sysfs_list(dir);
    GString *s = g_string_new(NULL);
    size_t i;

    for (i = 0; types && types[i]; i++) {
        g_autofree char *name_path = g_strdup_printf("%s/%s/name", dir,
                                                     types[i]);
        g_autofree char *avail_path =
            g_strdup_printf("%s/%s/available_instances", dir, types[i]);
        g_autofree char *name = vgpu_sysfs_read_opt(name_path);
        g_autofree char *avail = vgpu_sysfs_read_opt(avail_path);

        g_string_append_printf(s, "%s%s (%s, %s free)", i ? ", " : "",
                               types[i], name ? name : "no name",
                               avail ? avail : "?");
    }
    if (!s->len) {
        g_string_append(s, "none");
    }
    return g_string_free(s, false);
}

/* Read the attributes of the type directory @dir into @p. */
static bool mdev_read_type(const char *dir, const char *type_id,
                           VgpuProfile *p, Error **errp)
{
    g_autofree char *name_path = g_strdup_printf("%s/name", dir);
    g_autofree char *desc_path = g_strdup_printf("%s/description", dir);
    g_autofree char *api_path = g_strdup_printf("%s/device_api", dir);
    g_autofree char *avail_path = g_strdup_printf("%s/available_instances",
                                                  dir);
    g_autofree char *avail = NULL;
    int64_t n;

    vgpu_profile_clear(p);
    p->type_id = g_strdup(type_id);
    if (!vgpu_sysfs_read(api_path, &p->device_api, errp)) {
        return false;
    }
    p->name = vgpu_sysfs_read_opt(name_path);
    p->description = vgpu_sysfs_read_opt(desc_path);
    avail = vgpu_sysfs_read_opt(avail_path);
    if (avail && qemu_strtoi64(avail, NULL, 10, &n) == 0 && n >= 0) {
        p->available = n;
    }
    if (!vgpu_profile_parse_description(p, p->description, errp)) {
        error_prepend(errp, "mdev type %s: ", type_id);
        return false;
    }
    return true;
}

/* Find the type of @parent whose id or profile name is @type. */
static char *mdev_find_type(const char *root, const char *parent,
                            const char *type, Error **errp)
{
    g_autofree char *dir = vgpu_host_path(root, MDEV_PARENTS
                                          "/%s/mdev_supported_types", parent);
    g_auto(GStrv) types = vgpu_sysfs_list(dir);
    g_autofree char *known = NULL;
    size_t i;

    for (i = 0; types && types[i]; i++) {
        if (!strcmp(types[i], type)) {
            return g_strdup(types[i]);
        }
    }
    for (i = 0; types && types[i]; i++) {
        g_autofree char *path = g_strdup_printf("%s/%s/name", dir, types[i]);
        g_autofree char *name = vgpu_sysfs_read_opt(path);

        if (name && !g_ascii_strcasecmp(name, type)) {
            return g_strdup(types[i]);
        }
    }
    known = mdev_describe_types(root, parent);
    error_setg(errp, "mdev parent %s has no vGPU type or profile '%s'; "
               "its types are: %s", parent, type, known);
    return NULL;
}

static bool mdev_check_parent(const char *root, const char *parent,
                              Error **errp)
{
    g_autofree char *dir = vgpu_host_path(root, MDEV_PARENTS);
    g_autofree char *path = g_strdup_printf("%s/%s", dir, parent);
    g_auto(GStrv) parents = NULL;
    g_autofree char *all = NULL;

    if (!*parent || strchr(parent, '/') || parent[0] == '.') {
        error_setg(errp, "parent=%s is not a device name such as "
                   "0000:83:00.0", parent);
        return false;
    }
    if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
        return true;
    }
    parents = vgpu_sysfs_list(dir);
    if (!parents || !parents[0]) {
        error_setg(errp, "mdev parent %s not found: this host has no mdev "
                   "parent devices at all; is the vGPU host driver loaded?",
                   parent);
        return false;
    }
    all = g_strjoinv(", ", parents);
    error_setg(errp, "mdev parent %s not found; the mdev parents on this "
               "host are: %s", parent, all);
    return false;
}

/* The type and the parent of the existing mdev at @devpath. */
static bool mdev_identify(const char *devpath, char **type_id, char **parent)
{
    g_autofree char *type_link = g_strdup_printf("%s/mdev_type", devpath);
    g_autofree char *real = realpath(devpath, NULL);
    g_autofree char *up = NULL;

    *type_id = vgpu_sysfs_link_name(type_link);
    if (!*type_id || !real) {
        g_clear_pointer(type_id, g_free);
        return false;
    }
    up = g_path_get_dirname(real);
    *parent = g_path_get_basename(up);
    return true;
}

/*
 * Can this process open the vGPU's VFIO group?  Checked before vfio-pci
 * tries, so that the two common failures get an error that says what to do.
 */
static bool mdev_check_vfio(VgpuHost *h, const char *devpath, Error **errp)
{
    g_autofree char *link = g_strdup_printf("%s/iommu_group", devpath);
    g_autofree char *group = vgpu_sysfs_link_name(link);
    g_autofree char *node = NULL;
    int fd;

    if (!group) {
        error_setg(errp, "vGPU %s has no IOMMU group: is the vfio module "
                   "loaded and the vGPU's host driver bound?", h->sysfsdev);
        return false;
    }
    node = vgpu_host_path(h->root, "/dev/vfio/%s", group);
    fd = open(node, O_RDWR | O_CLOEXEC);
    if (fd >= 0) {
        close(fd);
        return true;
    }
    switch (errno) {
    case EACCES:
    case EPERM:
        error_setg(errp, "permission denied opening %s, the VFIO group of "
                   "vGPU %s: run QEMU as root or give its user read-write "
                   "access to it and to /dev/vfio/vfio; with libvirt, pass "
                   "the vGPU as a <hostdev type='mdev'> with a "
                   "<qemu:override> of its driver to nv-vgpu, and libvirt "
                   "grants both", node, h->id);
        break;
    case EBUSY:
        error_setg(errp, "vGPU %s is already in use: its VFIO group %s is "
                   "open in another process (another VM?); stop that VM or "
                   "choose another vGPU", h->id, node);
        break;
    case ENOENT:
        error_setg(errp, "%s does not exist: load the vfio and "
                   "vfio_iommu_type1 modules", node);
        break;
    default:
        error_setg_errno(errp, errno, "cannot open %s, the VFIO group of "
                         "vGPU %s", node, h->id);
        break;
    }
    return false;
}

static bool mdev_open_checked(VgpuHost *h, const char *sysfsdev, Error **errp)
{
    g_autofree char *path = g_strdup(sysfsdev);
    g_autofree char *devpath = vgpu_host_path(h->root, "%s", sysfsdev);
    g_autofree char *subsys_link = g_strdup_printf("%s/subsystem", devpath);
    g_autofree char *subsys = NULL;
    g_autofree char *type_id = NULL;
    g_autofree char *parent = NULL;
    if (!g_file_test(devpath, G_FILE_TEST_IS_DIR)) {
        error_setg(errp, "no vGPU at sysfsdev=%s: create one first (e.g. "
                   "with mdevctl), or let nv-vgpu create it with parent= "
                   "and mdev-type=", sysfsdev);
        return false;
    }
    subsys = vgpu_sysfs_link_name(subsys_link);
    if (g_strcmp0(subsys, "mdev")) {
        error_setg(errp, "sysfsdev=%s is not a mediated device (its bus is "
                   "%s); nv-vgpu takes vGPU mdevs, use vfio-pci for a "
                   "whole GPU", sysfsdev, subsys ? subsys : "unknown");
        return false;
    }
    if (!mdev_identify(devpath, &type_id, &parent)) {
        error_setg(errp, "mdev %s has no mdev_type", sysfsdev);
        return false;
    }

    g_free(h->sysfsdev);
    h->sysfsdev = g_steal_pointer(&path);
    g_free(h->id);
    h->id = g_path_get_basename(h->sysfsdev);
    g_free(h->uuid);
    h->uuid = g_strdup(h->id);
    g_free(h->parent);
    h->parent = g_steal_pointer(&parent);
    return mdev_check_vfio(h, devpath, errp);
}

static bool mdev_open(VgpuHost *h, const char *sysfsdev, Error **errp)
{
    g_autofree char *uuid = g_path_get_basename(sysfsdev);

    /*
     * A vGPU that a QEMU created and is removing is not to be had; an
     * orphan is used as given, and reaped once nobody holds it.
     */
    return vgpu_record_settle(h->root, uuid, false, h->stop_at, errp) &&
           mdev_open_checked(h, sysfsdev, errp);
}

/*
 * The host driver behind the mdev's parent and its version, which decide
 * whether vGPU state can move between hosts: the parent's driver (a PCI
 * GPU bound to "nvidia"), or the class of a parent that is a class device;
 * the version from the parent's driver_version attribute, else from the
 * driver's module.
 */
static void mdev_read_driver(VgpuHost *h)
{
    g_autofree char *dev = vgpu_host_path(h->root, "%s", h->sysfsdev);
    g_autofree char *real = realpath(dev, NULL);
    g_autofree char *parent = real ? g_path_get_dirname(real) : NULL;
    g_autofree char *link = NULL;
    g_autofree char *path = NULL;

    if (!parent) {
        return;
    }
    link = g_build_filename(parent, "driver", NULL);
    h->driver = vgpu_sysfs_link_name(link);
    if (!h->driver) {
        g_free(link);
        link = g_build_filename(parent, "subsystem", NULL);
        h->driver = vgpu_sysfs_link_name(link);
    }
    path = g_build_filename(parent, "driver_version", NULL);
    h->driver_version = vgpu_sysfs_read_opt(path);
    if (!h->driver_version && h->driver) {
        g_free(path);
        path = vgpu_host_path(h->root, "/sys/module/%s/version", h->driver);
        h->driver_version = vgpu_sysfs_read_opt(path);
    }
}

static bool mdev_describe(VgpuHost *h, Error **errp)
{
    g_autofree char *typedir = vgpu_host_path(h->root, "%s/mdev_type",
                                              h->sysfsdev);
    g_autofree char *type_id = vgpu_sysfs_link_name(typedir);

    if (!type_id) {
        error_setg(errp, "mdev %s has no mdev_type", h->sysfsdev);
        return false;
    }
    mdev_read_driver(h);
    return mdev_read_type(typedir, type_id, &h->profile, errp);
}

static void mdev_error_no_instance(VgpuHost *h, const char *parent,
                                   Error **errp)
{
    g_autofree char *summary = vgpu_profile_summary(&h->profile);
    g_autofree char *max = h->profile.max_instance ?
        g_strdup_printf(" (max_instance=%u)", h->profile.max_instance) :
        g_strdup("");

    error_setg(errp, "no free instance of vGPU type %s on %s%s: remove a "
               "vGPU that is not in use or choose a smaller profile",
               summary, parent, max);
}

static bool mdev_wait_for(const char *path)
{
    int waited;

    for (waited = 0; waited < MDEV_APPEAR_WAIT_MS; waited += 10) {
        if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
            return true;
        }
        g_usleep(10 * 1000);
    }
    return g_file_test(path, G_FILE_TEST_IS_DIR);
}

/* Orphans left on a parent by QEMUs that were killed hold its instances. */
static void mdev_report_reap(const VgpuRecord *r, VgpuRecordState state,
                             bool reaped, const char *why, void *opaque)
{
    if (reaped) {
        warn_report("nv-vgpu: removed vGPU %s, left behind by QEMU process "
                    "%" PRId64 " that was killed", r->uuid, r->owner_pid);
    } else if (why) {
        warn_report("nv-vgpu: %s", why);
    }
}

/* Use the existing mdev at @devpath, which QEMU did not create, if it fits. */
static bool mdev_adopt(VgpuHost *h, const char *parent, const char *type_id,
                       const char *uuid, const char *sysfsdev,
                       const char *devpath, Error **errp)
{
    g_autofree char *etype = NULL;
    g_autofree char *eparent = NULL;

    if (!mdev_identify(devpath, &etype, &eparent) ||
        strcmp(etype, type_id) || strcmp(eparent, parent)) {
        error_setg(errp, "an mdev with uuid %s exists already, of type %s "
                   "on %s; omit uuid= or choose another", uuid,
                   etype ? etype : "unknown", eparent ? eparent : "unknown");
        return false;
    }
    /* Someone else's: use it, leave it in place. */
    return mdev_open_checked(h, sysfsdev, errp);
}

static bool mdev_create(VgpuHost *h, const VgpuRequest *req, Error **errp)
{
    ERRP_GUARD();
    const char *parent = req->parent;
    const char *type = req->type;
    const char *uuid = req->uuid;
    g_autofree char *type_id = NULL;
    g_autofree char *typedir = NULL;
    g_autofree char *create = NULL;
    g_autofree char *devpath = NULL;
    g_autofree char *sysfsdev = NULL;
    g_autofree char *new_uuid = NULL;
    g_autoptr(VgpuRecord) record = NULL;
    Error *err = NULL;
    int ret, tries;

    if (!mdev_check_parent(h->root, parent, errp)) {
        return false;
    }
    vgpu_records_reap(h->root, parent, false, mdev_report_reap, NULL);
    type_id = mdev_find_type(h->root, parent, type, errp);
    if (!type_id) {
        return false;
    }
    typedir = vgpu_host_path(h->root, MDEV_PARENTS
                             "/%s/mdev_supported_types/%s", parent, type_id);
    if (!mdev_read_type(typedir, type_id, &h->profile, errp) ||
        !vgpu_profile_check_pci(&h->profile, errp)) {
        return false;
    }
    if (!uuid) {
        QemuUUID u;

        qemu_uuid_generate(&u);
        new_uuid = qemu_uuid_unparse_strdup(&u);
        uuid = new_uuid;
    }
    sysfsdev = g_strdup_printf(MDEV_DEVICES "/%s", uuid);
    devpath = vgpu_host_path(h->root, "%s", sysfsdev);
    create = g_strdup_printf("%s/create", typedir);

    /*
     * Claim the UUID with a record before anything exists that could leak;
     * a racing QEMU that claimed it first makes us look again.
     */
    for (tries = 0; ; tries++) {
        g_autofree char *remove = NULL;

        if (!vgpu_record_settle(h->root, uuid, true, h->stop_at, errp)) {
            return false;
        }
        if (g_file_test(devpath, G_FILE_TEST_EXISTS)) {
            return mdev_adopt(h, parent, type_id, uuid, sysfsdev, devpath,
                              errp);
        }
        if (h->profile.available == 0) {
            mdev_error_no_instance(h, parent, errp);
            return false;
        }
        if (access(create, W_OK) < 0 && (errno == EACCES || errno == EPERM)) {
            break;      /* refused below, with the kernel's answer */
        }
        remove = g_strdup_printf("%s/remove", sysfsdev);
        record = vgpu_record_new(uuid, "mdev", parent, type_id, sysfsdev,
                                 remove, "1");
        switch (vgpu_record_claim(h->root, record, errp)) {
        case VGPU_RECORD_CLAIMED:
            break;
        case VGPU_RECORD_TAKEN:
            g_clear_pointer(&record, vgpu_record_free);
            if (tries < 3) {
                continue;
            }
            error_setg(errp, "other QEMUs keep claiming vGPU %s; choose "
                       "another uuid", uuid);
            return false;
        case VGPU_RECORD_FAILED:
            return false;
        }
        break;
    }
    if (record) {
        vgpu_test_stop(h->stop_at, "recorded");
        h->reaper = vgpu_reaper_start(h->root, g_steal_pointer(&record),
                                      errp);
        if (!h->reaper) {
            return false;
        }
        vgpu_test_stop(h->stop_at, "armed");
    }

    ret = vgpu_sysfs_write(create, uuid, &err);
    if (ret && h->reaper) {
        /* Nothing was made: the helper must not remove anything. */
        vgpu_reaper_finish(h->reaper, false);
        h->reaper = NULL;
    }
    switch (ret) {
    case 0:
        break;
    case EACCES:
    case EPERM:
        error_free(err);
        error_setg(errp, "permission denied writing %s: creating a vGPU "
                   "needs root; or create the mdev beforehand (e.g. with "
                   "mdevctl) and pass sysfsdev=", create);
        return false;
    case EUSERS:
    case ENOSPC:
    case EDQUOT:
        error_free(err);
        mdev_error_no_instance(h, parent, errp);
        return false;
    case EEXIST:
        error_free(err);
        error_setg(errp, "uuid %s is already used by another mdev; omit "
                   "uuid= or choose another", uuid);
        return false;
    default:
        error_propagate_prepend(errp, err, "cannot create a vGPU of type "
                                "%s on %s: ", type_id, parent);
        return false;
    }
    vgpu_test_stop(h->stop_at, "created");
    /* From here on, release hands whatever appears to the helper. */
    if (!mdev_wait_for(devpath)) {
        error_setg(errp, "the host driver accepted vGPU %s but %s did not "
                   "appear", uuid, sysfsdev);
        return false;
    }

    h->sysfsdev = g_steal_pointer(&sysfsdev);
    h->id = g_strdup(uuid);
    h->uuid = g_strdup(uuid);
    h->parent = g_strdup(parent);
    h->created = true;
    /* If this fails, the caller's vgpu_host_release() removes the mdev. */
    return mdev_open_checked(h, h->sysfsdev, errp);
}

static void mdev_remove(VgpuHost *h)
{
    vgpu_reaper_finish(h->reaper, true);
    h->reaper = NULL;
}

const VgpuBackendOps vgpu_mdev_backend = {
    .name = "mdev",
    .create = mdev_create,
    .open = mdev_open,
    .describe = mdev_describe,
    .remove = mdev_remove,
};
