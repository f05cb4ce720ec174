/*
 * nv-vgpu: where the vGPU's physical GPU sits in the host's NUMA layout
 *
 * A GPU's DMA to guest RAM on another node crosses the host's
 * interconnect; NVIDIA's sizing guides place a VM's memory and vCPUs on
 * the GPU's node.  QEMU cannot know where guest RAM ends up unless a
 * memory backend pins it (host-nodes= with a policy), so only those are
 * checked.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bitmap.h"
#include "qemu/cutils.h"
#include "qemu/error-report.h"
#include "qom/object_interfaces.h"
#include "system/hostmem.h"
#include "hw/vgpu/vgpu-backend.h"
#include "hw/vgpu/vgpu-numa.h"
#include "hw/vgpu/vgpu-sysfs.h"

typedef struct {
    VgpuLocality *l;
    const char *dev_name;
    GPtrArray *remote;
} VgpuLocalityCheck;

static int vgpu_locality_check_backend(Object *obj, void *opaque)
{
    VgpuLocalityCheck *c = opaque;
    HostMemoryBackend *be;
    const char *id;

    if (!object_dynamic_cast(obj, TYPE_MEMORY_BACKEND)) {
        return 0;
    }
    be = MEMORY_BACKEND(obj);
    if (be->policy == HOST_MEM_POLICY_DEFAULT ||
        bitmap_empty(be->host_nodes, MAX_NODES) ||
        c->l->node >= MAX_NODES || test_bit(c->l->node, be->host_nodes)) {
        return 0;
    }
    id = object_get_canonical_path_component(obj);
    warn_report("nv-vgpu %s: memory backend %s keeps guest RAM off host "
                "NUMA node %d, where the vGPU's GPU is (policy=%s); the "
                "vGPU's DMA will cross nodes", c->dev_name, id, c->l->node,
                HostMemPolicy_str(be->policy));
    g_ptr_array_add(c->remote, g_strdup(id));
    return 0;
}

void vgpu_locality_init(VgpuLocality *l, const VgpuHost *h,
                        const char *dev_name)
{
    /*
     * The mdev's ".." is its parent device (the path is a symlink); a VF
     * is a PCI device itself, on its PF's node.
     */
    const char *up = h->ops == &vgpu_sriov_backend ? "" : "/..";
    g_autofree char *node_path = vgpu_host_path(h->root, "%s%s/numa_node",
                                                h->sysfsdev, up);
    g_autofree char *cpus_path = vgpu_host_path(h->root,
                                                "%s%s/local_cpulist",
                                                h->sysfsdev, up);
    g_autofree char *node = vgpu_sysfs_read_opt(node_path);
    VgpuLocalityCheck c = {
        .l = l, .dev_name = dev_name, .remote = g_ptr_array_new(),
    };
    int64_t n;

    l->node = -1;
    if (node && !qemu_strtoi64(node, NULL, 10, &n) && n >= 0 &&
        n < INT_MAX) {
        l->node = n;
    }
    l->local_cpus = vgpu_sysfs_read_opt(cpus_path);
    if (!l->local_cpus) {
        l->local_cpus = g_strdup("");
    }
    if (l->node >= 0) {
        object_child_foreach(object_get_objects_root(),
                             vgpu_locality_check_backend, &c);
    }
    g_ptr_array_add(c.remote, NULL);
    l->remote_memory = (GStrv)g_ptr_array_free(c.remote, false);
}

void vgpu_locality_clear(VgpuLocality *l)
{
    g_clear_pointer(&l->local_cpus, g_free);
    g_clear_pointer(&l->remote_memory, g_strfreev);
}
