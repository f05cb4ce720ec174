/*
 * vGPU backend for NVIDIA's SR-IOV vGPUs (the vendor-specific VFIO
 * framework of vGPU 17 and later, on Ada, Hopper and Blackwell GPUs)
 *
 * The GPU is an SR-IOV physical function (PF); its virtual functions (VFs)
 * stay bound to the NVIDIA driver, which registers each as a VFIO device
 * of its own.  A VF becomes a vGPU when it is given a type:
 *   /sys/bus/pci/devices/PF/{sriov_totalvfs,sriov_numvfs,virtfnN -> VF}
 *   /sys/bus/pci/devices/VF/{physfn -> PF,iommu_group,vfio-dev/vfioN}
 *   /sys/bus/pci/devices/VF/nvidia/creatable_vgpu_types
 *       "ID    : vGPU Name" and "ID : NAME" for each type the VF can take
 *       now; only the header once the GPU is full or the VF has a type
 *   /sys/bus/pci/devices/VF/nvidia/current_vgpu_type
 *       the type id, 0: none; an id makes the vGPU, 0 releases it
 *   /sys/bus/pci/devices/VF/nvidia/{gpu_instance_id,placement_id}
 * and is opened through its VFIO group (/dev/vfio/N) or, with iommufd, its
 * VFIO character device (/dev/vfio/devices/vfioN).
 *
 * A VF is used again by the next VM, unlike an mdev's fresh UUID, so
 * QEMU's record of a VF it typed (vgpu-record.h, named by the VF's PCI
 * address) guards the release: it writes 0 only while the VF still has
 * the type and placement QEMU gave it and no process holds its VFIO nodes.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/cutils.h"
#include "qemu/error-report.h"
#include "hw/vgpu/vgpu-backend.h"
#include "hw/vgpu/vgpu-sysfs.h"
#include "hw/vgpu/vgpu-reaper.h"
#include "trace.h"

#define PCI_DEVICES     "/sys/bus/pci/devices"
#define MDEV_PARENTS    "/sys/class/mdev_bus"

/* More lines than any GPU has types: the rest is not believed. */
#define SRIOV_MAX_TYPES 1024

typedef struct SriovType {
    uint32_t id;
    char *name;
} SriovType;

static void sriov_type_free(gpointer p)
{
    SriovType *t = p;

    g_free(t->name);
    g_free(t);
}

/* A PCI address as sysfs names devices, e.g. 0000:41:00.4, and no path. */
static bool sriov_name_ok(const char *name)
{
    size_t i;

    if (!*name || name[0] == '.' || strlen(name) > 32) {
        return false;
    }
    for (i = 0; name[i]; i++) {
        if (!g_ascii_isxdigit(name[i]) && name[i] != ':' && name[i] != '.') {
            return false;
        }
    }
    return true;
}

static char *sriov_attr(const char *root, const char *dev, const char *attr)
{
    return vgpu_host_path(root, PCI_DEVICES "/%s/%s", dev, attr);
}

static bool sriov_is_vf(const char *root, const char *dev)
{
    g_autofree char *link = sriov_attr(root, dev, "physfn");

    return g_file_test(link, G_FILE_TEST_IS_SYMLINK);
}

static bool sriov_is_pf(const char *root, const char *dev)
{
    g_autofree char *total = sriov_attr(root, dev, "sriov_totalvfs");

    return g_file_test(total, G_FILE_TEST_EXISTS);
}

const VgpuBackendOps *vgpu_backend_for_parent(const char *root,
                                              const char *parent)
{
    g_autofree char *mdev = vgpu_host_path(root, MDEV_PARENTS "/%s", parent);
    g_autofree char *types = sriov_attr(root, parent, "mdev_supported_types");

    if (strchr(parent, '/')) {
        return NULL;
    }
    /* Ampere's vGPUs are mdevs on VFs: mdev_supported_types decides. */
    if (g_file_test(mdev, G_FILE_TEST_EXISTS) ||
        g_file_test(types, G_FILE_TEST_IS_DIR)) {
        return &vgpu_mdev_backend;
    }
    if (sriov_is_pf(root, parent) || sriov_is_vf(root, parent)) {
        return &vgpu_sriov_backend;
    }
    return NULL;
}

const VgpuBackendOps *vgpu_backend_for_device(const char *root,
                                              const char *sysfsdev)
{
    g_autofree char *path = vgpu_host_path(root, "%s", sysfsdev);
    g_autofree char *subsys_link = g_build_filename(path, "subsystem", NULL);
    g_autofree char *subsys = vgpu_sysfs_link_name(subsys_link);

    if (g_str_has_prefix(sysfsdev, PCI_DEVICES "/") ||
        !g_strcmp0(subsys, "pci")) {
        return &vgpu_sriov_backend;
    }
    return &vgpu_mdev_backend;
}

/*
 * The types in a creatable_vgpu_types table.  Lines that are not
 * "ID : NAME" (the header, anything else) are skipped.
 */
static GPtrArray *sriov_parse_types(const char *table)
{
    GPtrArray *types = g_ptr_array_new_with_free_func(sriov_type_free);
    g_auto(GStrv) lines = g_strsplit(table ? table : "", "\n", 0);
    size_t i;

    for (i = 0; lines[i] && types->len < SRIOV_MAX_TYPES; i++) {
        char *colon = strchr(lines[i], ':');
        g_autofree char *id = NULL;
        g_autofree char *name = NULL;
        uint64_t n;
        SriovType *t;

        if (!colon) {
            continue;
        }
        id = g_strstrip(g_strndup(lines[i], colon - lines[i]));
        name = g_strstrip(g_strdup(colon + 1));
        if (qemu_strtou64(id, NULL, 10, &n) < 0 || !n || n > UINT32_MAX ||
            !*name || strlen(name) > 127) {
            continue;
        }
        t = g_new0(SriovType, 1);
        t->id = n;
        t->name = g_steal_pointer(&name);
        g_ptr_array_add(types, t);
    }
    return types;
}

static GPtrArray *sriov_creatable(const char *root, const char *vf)
{
    g_autofree char *path = sriov_attr(root, vf, "nvidia/creatable_vgpu_types");
    g_autofree char *table = vgpu_sysfs_read_opt(path);

    return sriov_parse_types(table);
}

/* "1060 (NVIDIA L4-1Q), 1061 (NVIDIA L4-2Q)" for an error message */
static char *sriov_list_types(GPtrArray *types)
{
    GString *s = g_string_new(NULL);
    guint i;

    for (i = 0; i < types->len; i++) {
        SriovType *t = g_ptr_array_index(types, i);

        g_string_append_printf(s, "%s%u (%s)", i ? ", " : "", t->id, t->name);
    }
    return g_string_free(s, false);
}

/* The type of @types that @type names by id or by name (any case). */
static SriovType *sriov_find_type(GPtrArray *types, const char *type)
{
    uint64_t n = 0;
    guint i;

    if (qemu_strtou64(type, NULL, 10, &n) < 0) {
        n = 0;
    }
    for (i = 0; i < types->len; i++) {
        SriovType *t = g_ptr_array_index(types, i);

        if ((n && t->id == n) || !g_ascii_strcasecmp(t->name, type)) {
            return t;
        }
    }
    return NULL;
}

/* nvidia/@attr as a number; @dflt if missing or not one. */
static int64_t sriov_read_number(const char *root, const char *vf,
                                 const char *attr, int64_t dflt)
{
    g_autofree char *path = sriov_attr(root, vf, attr);
    g_autofree char *s = vgpu_sysfs_read_opt(path);
    int64_t n;

    if (!s || qemu_strtoi64(s, NULL, 10, &n) < 0) {
        return dflt;
    }
    return n;
}

/* The VF's current type id, 0 for none, -1 if it cannot be read. */
static int64_t sriov_current_type(const char *root, const char *vf)
{
    int64_t t = sriov_read_number(root, vf, "nvidia/current_vgpu_type", -1);

    return t < 0 || t > UINT32_MAX ? -1 : t;
}

/* The VFs of @pf, in the order of their virtfn number. */
static GStrv sriov_vfs(const char *root, const char *pf)
{
    g_autofree char *dir = vgpu_host_path(root, PCI_DEVICES "/%s", pf);
    g_auto(GStrv) names = vgpu_sysfs_list(dir);
    GPtrArray *vfs = g_ptr_array_new();
    int64_t n, max = -1;
    size_t i;

    for (i = 0; names && names[i]; i++) {
        if (g_str_has_prefix(names[i], "virtfn") &&
            qemu_strtoi64(names[i] + 6, NULL, 10, &n) == 0 && n >= 0 &&
            n < 4096) {
            max = MAX(max, n);
        }
    }
    for (n = 0; n <= max; n++) {
        g_autofree char *link = g_strdup_printf("%s/virtfn%" PRId64, dir, n);
        char *vf = vgpu_sysfs_link_name(link);

        if (vf && sriov_name_ok(vf)) {
            g_ptr_array_add(vfs, vf);
        } else {
            g_free(vf);
        }
    }
    g_ptr_array_add(vfs, NULL);
    return (GStrv)g_ptr_array_free(vfs, false);
}

/* The PCI devices of this host that are SR-IOV PFs, for an error. */
static char *sriov_list_pfs(const char *root)
{
    g_autofree char *dir = vgpu_host_path(root, PCI_DEVICES);
    g_auto(GStrv) devs = vgpu_sysfs_list(dir);
    GString *s = g_string_new(NULL);
    size_t i;

    for (i = 0; devs && devs[i]; i++) {
        if (sriov_is_pf(root, devs[i])) {
            g_string_append_printf(s, "%s%s", s->len ? ", " : "", devs[i]);
        }
    }
    if (!s->len) {
        g_string_append(s, "none");
    }
    return g_string_free(s, false);
}

static bool sriov_check_pf(const char *root, const char *pf, Error **errp)
{
    g_autofree char *dir = vgpu_host_path(root, PCI_DEVICES "/%s", pf);
    g_autofree char *numvfs = NULL;
    g_autofree char *total = NULL;
    g_auto(GStrv) vfs = NULL;

    if (!sriov_name_ok(pf)) {
        error_setg(errp, "parent=%s is not a PCI address such as "
                   "0000:41:00.0", pf);
        return false;
    }
    if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
        g_autofree char *pfs = sriov_list_pfs(root);

        error_setg(errp, "GPU %s not found: there is no PCI device %s; "
                   "the SR-IOV GPUs (physical functions) on this host are: "
                   "%s", pf, pf, pfs);
        return false;
    }
    if (!sriov_is_pf(root, pf)) {
        error_setg(errp, "%s is neither an mdev parent nor an SR-IOV "
                   "physical function (it has no sriov_totalvfs): is the "
                   "NVIDIA vGPU manager loaded for it?", pf);
        return false;
    }
    vfs = sriov_vfs(root, pf);
    if (!vfs[0]) {
        g_autofree char *p = sriov_attr(root, pf, "sriov_numvfs");
        g_autofree char *t = sriov_attr(root, pf, "sriov_totalvfs");

        numvfs = vgpu_sysfs_read_opt(p);
        total = vgpu_sysfs_read_opt(t);
        error_setg(errp, "SR-IOV is not enabled on GPU %s (sriov_numvfs is "
                   "%s): enable its virtual functions first, with "
                   "'/usr/lib/nvidia/sriov-manage -e %s' or 'echo %s > "
                   PCI_DEVICES "/%s/sriov_numvfs'", pf,
                   numvfs ? numvfs : "unknown", pf, total ? total : "N", pf);
        return false;
    }
    return true;
}

/*
 * Is @vf a VF that the NVIDIA vGPU manager handles?  Its PF, if it is,
 * into *@pf.
 */
static bool sriov_check_vf(const char *root, const char *vf, char **pf,
                           Error **errp)
{
    g_autofree char *dir = vgpu_host_path(root, PCI_DEVICES "/%s", vf);
    g_autofree char *physfn = sriov_attr(root, vf, "physfn");
    g_autofree char *current = sriov_attr(root, vf,
                                          "nvidia/current_vgpu_type");

    if (!sriov_name_ok(vf) || !g_file_test(dir, G_FILE_TEST_IS_DIR)) {
        error_setg(errp, "VF %s not found: there is no PCI device %s (list "
                   "a GPU's VFs with 'ls -l %s/PF/virtfn*')", vf, vf,
                   PCI_DEVICES);
        return false;
    }
    if (!g_file_test(physfn, G_FILE_TEST_IS_SYMLINK)) {
        if (sriov_is_pf(root, vf)) {
            error_setg(errp, "%s is an SR-IOV physical function, not one of "
                       "its virtual functions: use parent=%s with a vGPU "
                       "type to let nv-vgpu pick a free VF", vf, vf);
        } else {
            error_setg(errp, "%s is not an SR-IOV virtual function of a "
                       "vGPU-capable GPU; use vfio-pci for a whole GPU", vf);
        }
        return false;
    }
    if (!g_file_test(current, G_FILE_TEST_EXISTS)) {
        error_setg(errp, "VF %s has no nvidia/current_vgpu_type: it is not "
                   "bound to the NVIDIA vGPU manager (nvidia.ko of a "
                   "vGPU 17 or later host driver)", vf);
        return false;
    }
    *pf = vgpu_sysfs_link_name(physfn);
    return true;
}

/*
 * The VFIO nodes of @vf: its group node (or NULL) and, if the kernel has
 * VFIO's character devices (CONFIG_VFIO_DEVICE_CDEV), its cdev (or NULL),
 * both without root.
 */
static void sriov_vfio_nodes(const char *root, const char *vf, char **group,
                             char **cdev)
{
    g_autofree char *link = sriov_attr(root, vf, "iommu_group");
    g_autofree char *g = vgpu_sysfs_link_name(link);
    g_autofree char *dir = sriov_attr(root, vf, "vfio-dev");
    g_auto(GStrv) devs = vgpu_sysfs_list(dir);
    size_t i;

    *group = g ? g_strdup_printf("/dev/vfio/%s", g) : NULL;
    *cdev = NULL;
    for (i = 0; devs && devs[i]; i++) {
        g_autofree char *node = NULL;
        g_autofree char *path = NULL;

        if (!g_str_has_prefix(devs[i], "vfio") || strchr(devs[i], '/')) {
            continue;
        }
        /* vfio-dev/ is always there; the node only with VFIO's cdevs */
        node = g_strdup_printf("/dev/vfio/devices/%s", devs[i]);
        path = vgpu_host_path(root, "%s", node);
        if (g_file_test(path, G_FILE_TEST_EXISTS)) {
            *cdev = g_steal_pointer(&node);
        }
        break;
    }
}

/* A process that holds a VFIO node of @vf open, or 0. */
static int64_t sriov_vfio_holder(const char *root, const char *vf,
                                 char **node)
{
    g_autofree char *group = NULL;
    g_autofree char *cdev = NULL;
    const char *nodes[2];
    int64_t pid;
    size_t i;

    sriov_vfio_nodes(root, vf, &group, &cdev);
    nodes[0] = group;
    nodes[1] = cdev;
    for (i = 0; i < 2; i++) {
        g_autofree char *path = NULL;

        if (!nodes[i]) {
            continue;
        }
        path = vgpu_host_path(root, "%s", nodes[i]);
        pid = vgpu_file_holder(path);
        if (pid) {
            *node = g_strdup(nodes[i]);
            return pid;
        }
    }
    return 0;
}

static void sriov_error_in_use(const char *vf, int64_t pid, const char *node,
                               Error **errp)
{
    g_autofree char *comm_path = g_strdup_printf("/proc/%" PRId64 "/comm",
                                                 pid);
    g_autofree char *comm = vgpu_sysfs_read_opt(comm_path);

    error_setg(errp, "VF %s is in use: %s is open in process %" PRId64
               " (%s; another VM?); stop it or choose another VF", vf, node,
               pid, comm ? comm : "?");
}

/*
 * Can this process open the VF through VFIO?  Checked before vfio-pci
 * tries, so that the common failures get an error that says what to do.
 * Where the kernel offers VFIO's character device and no group node is
 * there, the VF is opened through iommufd (iommufd= on the device).
 */
static bool sriov_check_vfio(VgpuHost *h, const char *vf, Error **errp)
{
    g_autofree char *group = NULL;
    g_autofree char *cdev = NULL;
    g_autofree char *held = NULL;
    g_autofree char *node = NULL;
    int64_t pid = sriov_vfio_holder(h->root, vf, &held);
    int fd;

    if (pid) {
        sriov_error_in_use(vf, pid, held, errp);
        return false;
    }
    sriov_vfio_nodes(h->root, vf, &group, &cdev);
    if (!group && !cdev) {
        error_setg(errp, "VF %s has neither an IOMMU group nor a VFIO "
                   "character device: is the IOMMU on (intel_iommu=on or "
                   "amd_iommu=on) and the NVIDIA vGPU manager loaded?", vf);
        return false;
    }
    node = vgpu_host_path(h->root, "%s", group ? group : cdev);
    fd = open(node, O_RDWR | O_CLOEXEC);
    if (fd >= 0) {
        close(fd);
        return true;
    }
    if (errno == ENOENT && group && cdev) {
        /* No group node, a cdev: the iommufd way */
        g_free(node);
        node = vgpu_host_path(h->root, "%s", cdev);
        fd = open(node, O_RDWR | O_CLOEXEC);
        if (fd >= 0) {
            close(fd);
            return true;
        }
    }
    switch (errno) {
    case EACCES:
    case EPERM:
        error_setg(errp, "permission denied opening %s, the VFIO node of "
                   "VF %s: run QEMU as root or give its user read-write "
                   "access to it; with libvirt, pass the VF as a <hostdev "
                   "type='pci' managed='no'> with a <qemu:override> of its "
                   "driver to nv-vgpu, and libvirt grants it", node, vf);
        break;
    case EBUSY:
        error_setg(errp, "VF %s is in use: %s is open in another process "
                   "(another VM?); stop that VM or choose another VF", vf,
                   node);
        break;
    case ENOENT:
        error_setg(errp, "%s does not exist: load the vfio module", node);
        break;
    default:
        error_setg_errno(errp, errno, "cannot open %s, the VFIO node of VF "
                         "%s", node, vf);
        break;
    }
    return false;
}

static void sriov_set_host(VgpuHost *h, const char *vf, const char *pf)
{
    g_free(h->sysfsdev);
    h->sysfsdev = g_strdup_printf(PCI_DEVICES "/%s", vf);
    g_free(h->id);
    h->id = g_strdup(vf);
    g_free(h->parent);
    h->parent = g_strdup(pf);
}

static bool sriov_open_checked(VgpuHost *h, const char *vf, const char *pf,
                               Error **errp)
{
    int64_t type = sriov_current_type(h->root, vf);

    sriov_set_host(h, vf, pf);
    if (type <= 0) {
        g_autoptr(GPtrArray) types = sriov_creatable(h->root, vf);
        g_autofree char *list = sriov_list_types(types);

        error_setg(errp, "VF %s has no vGPU type%s: give it one with "
                   "profile=TYPE (type id or name; it can take now: %s)", vf,
                   type < 0 ? " (nvidia/current_vgpu_type is unreadable)" : "",
                   types->len ? list : "none, its GPU is full");
        return false;
    }
    h->gpu_instance = sriov_read_number(h->root, vf, "nvidia/gpu_instance_id",
                                        -1);
    h->placement = sriov_read_number(h->root, vf, "nvidia/placement_id", -1);
    return sriov_check_vfio(h, vf, errp);
}

static bool sriov_open(VgpuHost *h, const char *sysfsdev, Error **errp)
{
    g_autofree char *vf = g_path_get_basename(sysfsdev);
    g_autofree char *pf = NULL;

    if (!g_str_has_prefix(sysfsdev, PCI_DEVICES "/")) {
        /* e.g. /sys/devices/pci0000:00/.../VF: the same name */
        g_autofree char *path = vgpu_host_path(h->root, "%s", sysfsdev);
        g_autofree char *real = realpath(path, NULL);

        if (real) {
            g_free(vf);
            vf = g_path_get_basename(real);
        }
    }
    /*
     * A VF that another QEMU typed and still uses is not to be had; one
     * whose removal is pending is waited for; an orphan is used as given.
     */
    return sriov_check_vf(h->root, vf, &pf, errp) &&
           vgpu_record_settle(h->root, vf, false, h->stop_at, errp) &&
           sriov_open_checked(h, vf, pf, errp);
}

static void sriov_report_reap(const VgpuRecord *r, VgpuRecordState state,
                              bool reaped, const char *why, void *opaque)
{
    if (reaped) {
        warn_report("nv-vgpu: released VF %s, left typed by QEMU process "
                    "%" PRId64 " that was killed", r->uuid, r->owner_pid);
    } else if (why) {
        warn_report("nv-vgpu: %s", why);
    }
}

typedef enum {
    SRIOV_TYPED,            /* the VF has the type now, ours */
    SRIOV_NEXT,             /* this VF will not do; try another */
    SRIOV_FAILED,           /* see errp */
} SriovAssign;

/*
 * Give @vf the type @t: claim the VF with a record, arm its release, write
 * the id.  NEXT when another QEMU claimed it first or the driver says it
 * is taken (only when @picking, else that is the error).
 */
static SriovAssign sriov_assign(VgpuHost *h, const char *vf, const char *pf,
                                const SriovType *t, bool picking,
                                Error **errp)
{
    g_autofree char *sysfsdev = g_strdup_printf(PCI_DEVICES "/%s", vf);
    g_autofree char *current = g_strdup_printf("%s/nvidia/current_vgpu_type",
                                               sysfsdev);
    g_autofree char *path = vgpu_host_path(h->root, "%s", current);
    g_autofree char *id = g_strdup_printf("%u", t->id);
    g_autofree char *group = NULL;
    g_autofree char *cdev = NULL;
    g_autofree char *placement = NULL;
    g_autoptr(VgpuRecord) record = NULL;
    Error *err = NULL;
    int ret;

    record = vgpu_record_new(vf, "sriov", pf, id, sysfsdev, current, "0");
    vgpu_record_add_guard(record, current, id);
    sriov_vfio_nodes(h->root, vf, &group, &cdev);
    if (group) {
        vgpu_record_add_idle(record, group);
    }
    if (cdev) {
        vgpu_record_add_idle(record, cdev);
    }
    switch (vgpu_record_claim(h->root, record, errp)) {
    case VGPU_RECORD_CLAIMED:
        break;
    case VGPU_RECORD_TAKEN:
        if (picking) {
            return SRIOV_NEXT;
        }
        error_setg(errp, "VF %s is being taken by another QEMU at this "
                   "moment; choose another VF", vf);
        return SRIOV_FAILED;
    case VGPU_RECORD_FAILED:
        return SRIOV_FAILED;
    }
    vgpu_test_stop(h->stop_at, "recorded");
    h->reaper = vgpu_reaper_start(h->root, g_steal_pointer(&record), errp);
    if (!h->reaper) {
        return SRIOV_FAILED;
    }
    vgpu_test_stop(h->stop_at, "armed");

    trace_vgpu_sriov_assign(vf, t->id, t->name);
    ret = vgpu_sysfs_write(path, id, &err);
    if (ret) {
        /* Nothing was made: the helper must not release anything. */
        vgpu_reaper_finish(h->reaper, false);
        h->reaper = NULL;
    }
    switch (ret) {
    case 0:
        break;
    case EBUSY:
        if (picking) {
            error_free(err);
            return SRIOV_NEXT;
        }
        error_free(err);
        error_setg(errp, "VF %s is in use: the driver refused a type for it "
                   "(it has one already, or its VFIO device is open)", vf);
        return SRIOV_FAILED;
    case EACCES:
    case EPERM:
        error_free(err);
        error_setg(errp, "permission denied writing %s: giving a VF a vGPU "
                   "type needs root; or type the VF beforehand (echo ID > "
                   "%s) and pass host=%s without a type", current, current,
                   vf);
        return SRIOV_FAILED;
    case EINVAL:
    case ENOSPC:
        error_free(err);
        error_setg(errp, "the driver refused vGPU type %u (%s) on VF %s: it "
                   "no longer fits its GPU %s (another vGPU was made "
                   "meanwhile?)", t->id, t->name, vf, pf);
        return SRIOV_FAILED;
    default:
        error_propagate_prepend(errp, err, "cannot give VF %s vGPU type %u "
                                "(%s): ", vf, t->id, t->name);
        return SRIOV_FAILED;
    }
    /* From here on, release hands the VF to the helper. */
    h->created = true;
    h->placement = sriov_read_number(h->root, vf, "nvidia/placement_id", -1);
    placement = g_strdup_printf("%" PRId64, h->placement);
    if (h->placement >= 0) {
        g_autofree char *guard = g_strdup_printf("%s/nvidia/placement_id",
                                                 sysfsdev);

        vgpu_reaper_add_guard(h->reaper, guard, placement);
    }
    /* "created": typed, and the record guards both type and placement */
    vgpu_test_stop(h->stop_at, "created");
    sriov_set_host(h, vf, pf);
    g_free(h->profile.name);
    h->profile.name = g_strdup(t->name);
    return SRIOV_TYPED;
}

/* host=VF with a type: that VF, typed now, or as it is if it has it. */
static bool sriov_create_on(VgpuHost *h, const char *vf, const char *type,
                            Error **errp)
{
    g_autofree char *pf = NULL;
    g_autoptr(GPtrArray) types = NULL;
    g_autofree char *list = NULL;
    SriovType *t;
    int64_t current;
    g_autofree char *held = NULL;
    int64_t pid;

    if (!sriov_check_vf(h->root, vf, &pf, errp)) {
        return false;
    }
    vgpu_records_reap(h->root, pf, false, sriov_report_reap, NULL);
    if (!vgpu_record_settle(h->root, vf, true, h->stop_at, errp)) {
        return false;
    }
    current = sriov_current_type(h->root, vf);
    if (current > 0) {
        g_autofree char *cur = g_strdup_printf("%" PRId64, current);

        /* Someone else's vGPU of that type: use it, leave it typed. */
        if (!strcmp(cur, type)) {
            return sriov_open_checked(h, vf, pf, errp);
        }
        error_setg(errp, "VF %s has vGPU type %" PRId64 " already, not %s: "
                   "pass host=%s without a type to use it as it is, or "
                   "parent=%s with the type to pick a free VF", vf, current,
                   type, vf, pf ? pf : "PF");
        return false;
    }
    pid = sriov_vfio_holder(h->root, vf, &held);
    if (pid) {
        sriov_error_in_use(vf, pid, held, errp);
        return false;
    }
    types = sriov_creatable(h->root, vf);
    t = sriov_find_type(types, type);
    if (!t) {
        list = sriov_list_types(types);
        if (!types->len) {
            error_setg(errp, "no vGPU can be made on VF %s: its GPU %s is "
                       "full (creatable_vgpu_types lists no type); release "
                       "a vGPU on it or choose another GPU", vf, pf);
        } else {
            error_setg(errp, "vGPU type '%s' cannot be made on VF %s now; "
                       "the types it can take now are: %s", type, vf, list);
        }
        return false;
    }
    if (sriov_assign(h, vf, pf, t, false, errp) != SRIOV_TYPED) {
        return false;
    }
    /* If this fails, the caller's vgpu_host_release() releases the VF. */
    return sriov_open_checked(h, vf, pf, errp);
}

/* parent=PF with a type: the first VF that is free and can take it. */
static bool sriov_create_pick(VgpuHost *h, const char *pf, const char *type,
                              Error **errp)
{
    g_auto(GStrv) vfs = NULL;
    g_autoptr(GPtrArray) seen = NULL;
    GString *busy = g_string_new(NULL);
    g_autofree char *busy_list = NULL;
    bool any_free = false;
    size_t i;

    if (!sriov_check_pf(h->root, pf, errp)) {
        g_string_free(busy, true);
        return false;
    }
    vgpu_records_reap(h->root, pf, false, sriov_report_reap, NULL);
    vfs = sriov_vfs(h->root, pf);
    for (i = 0; vfs[i]; i++) {
        g_autoptr(GPtrArray) types = NULL;
        g_autoptr(VgpuRecord) r = NULL;
        g_autofree char *held = NULL;
        int64_t current = sriov_current_type(h->root, vfs[i]);
        SriovType *t;

        if (current != 0) {
            g_string_append_printf(busy, "%s%s (type %" PRId64 ")",
                                   busy->len ? ", " : "", vfs[i], current);
            continue;
        }
        if (vgpu_record_look(h->root, vfs[i], &r) != VGPU_RECORD_NONE) {
            /* another QEMU is taking or releasing it */
            g_string_append_printf(busy, "%s%s (being taken or released)",
                                   busy->len ? ", " : "", vfs[i]);
            continue;
        }
        if (sriov_vfio_holder(h->root, vfs[i], &held)) {
            g_string_append_printf(busy, "%s%s (%s open)",
                                   busy->len ? ", " : "", vfs[i], held);
            continue;
        }
        any_free = true;
        types = sriov_creatable(h->root, vfs[i]);
        t = sriov_find_type(types, type);
        if (!t) {
            if (!seen) {
                seen = g_steal_pointer(&types);
            }
            continue;
        }
        switch (sriov_assign(h, vfs[i], pf, t, true, errp)) {
        case SRIOV_TYPED:
            g_string_free(busy, true);
            return sriov_open_checked(h, vfs[i], pf, errp);
        case SRIOV_NEXT:
            g_string_append_printf(busy, "%s%s (taken meanwhile)",
                                   busy->len ? ", " : "", vfs[i]);
            continue;
        case SRIOV_FAILED:
            g_string_free(busy, true);
            return false;
        }
    }
    busy_list = g_string_free(busy, false);
    if (!any_free) {
        error_setg(errp, "no free VF on GPU %s: every VF is in use: %s; stop "
                   "a VM that uses one, or enable more VFs (sriov_numvfs)",
                   pf, busy_list);
    } else if (!seen || !seen->len) {
        error_setg(errp, "no vGPU can be made on GPU %s: it is full "
                   "(creatable_vgpu_types of its free VFs lists no type); "
                   "release a vGPU on it or choose another GPU", pf);
    } else {
        g_autofree char *list = sriov_list_types(seen);

        error_setg(errp, "vGPU type '%s' cannot be made on GPU %s now; the "
                   "types its free VFs can take now are: %s", type, pf,
                   list);
    }
    return false;
}

static bool sriov_create(VgpuHost *h, const VgpuRequest *req, Error **errp)
{
    if (req->uuid) {
        error_setg(errp, "uuid= names an mdev; an SR-IOV vGPU is named by "
                   "its VF (host=)");
        return false;
    }
    if (req->device) {
        return sriov_create_on(h, req->device, req->type, errp);
    }
    return sriov_create_pick(h, req->parent, req->type, errp);
}

/* The driver of the VF (nvidia) and the version of its module. */
static void sriov_read_driver(VgpuHost *h)
{
    g_autofree char *link = vgpu_host_path(h->root, "%s/driver",
                                           h->sysfsdev);
    g_autofree char *mod_link = vgpu_host_path(h->root, "%s/driver/module",
                                               h->sysfsdev);
    g_autofree char *module = vgpu_sysfs_link_name(mod_link);
    g_autofree char *path = NULL;

    h->driver = vgpu_sysfs_link_name(link);
    if (h->driver) {
        path = vgpu_host_path(h->root, "/sys/module/%s/version",
                              module ? module : h->driver);
        h->driver_version = vgpu_sysfs_read_opt(path);
    }
}

/*
 * The name of type @id, which a typed VF's own table no longer lists: from
 * the tables of the other VFs of its PF, if one still lists it.
 */
static char *sriov_type_name(const char *root, const char *pf, uint32_t id)
{
    g_auto(GStrv) vfs = sriov_vfs(root, pf);
    size_t i;
    guint j;

    for (i = 0; vfs[i]; i++) {
        g_autoptr(GPtrArray) types = sriov_creatable(root, vfs[i]);

        for (j = 0; j < types->len; j++) {
            SriovType *t = g_ptr_array_index(types, j);

            if (t->id == id) {
                return g_strdup(t->name);
            }
        }
    }
    return NULL;
}

static bool sriov_describe(VgpuHost *h, Error **errp)
{
    VgpuProfile *p = &h->profile;
    int64_t type = sriov_current_type(h->root, h->id);
    g_autofree char *name = g_steal_pointer(&p->name);
    g_autofree char *config = vgpu_host_path(h->root, VGPU_CONFIG_XML);
    g_autofree char *dev_path = sriov_attr(h->root, h->parent, "device");
    g_autofree char *dev = vgpu_sysfs_read_opt(dev_path);
    g_autofree char *why = NULL;
    uint64_t gpu_device = 0;

    if (type <= 0) {
        error_setg(errp, "VF %s lost its vGPU type", h->id);
        return false;
    }
    if (!dev || qemu_strtou64(dev, NULL, 16, &gpu_device) < 0 ||
        gpu_device > 0xffff) {
        gpu_device = 0;
    }
    vgpu_profile_clear(p);
    p->type_id = g_strdup_printf("%" PRId64, type);
    p->name = g_steal_pointer(&name);     /* known if we typed it */
    if (!p->name && h->parent) {
        p->name = sriov_type_name(h->root, h->parent, type);
    }
    p->device_api = g_strdup("vfio-pci"); /* a VF is a PCI device */
    if (!vgpu_profile_from_config(p, config, type, gpu_device, &why)) {
        trace_vgpu_sriov_no_config(h->id, why);
        if (!vgpu_profile_from_name(p)) {
            trace_vgpu_sriov_no_profile(h->id, p->name ? p->name : "");
        }
    }
    trace_vgpu_sriov_profile(h->id, p->type_id, p->name ? p->name : "",
                             p->source);
    sriov_read_driver(h);
    return true;
}

static void sriov_remove(VgpuHost *h)
{
    vgpu_reaper_finish(h->reaper, true);
    h->reaper = NULL;
}

const VgpuBackendOps vgpu_sriov_backend = {
    .name = "sriov",
    .create = sriov_create,
    .open = sriov_open,
    .describe = sriov_describe,
    .remove = sriov_remove,
};
