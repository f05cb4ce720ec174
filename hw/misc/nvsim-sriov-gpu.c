/*
 * nvsim-sriov-gpu: a simulated SR-IOV GPU -- test equipment only
 *
 * This device exists so that the nv-vgpu test host (tests/vgpu-host/run
 * with VGPU_HOST_SRIOV=1) has something that looks like an NVIDIA GPU with
 * SR-IOV to the Linux PCI core, to VFIO and to the IOMMU: the physical
 * function `nvsim-sriov-gpu` and its virtual functions `nvsim-sriov-vf`.
 * It does no GPU work at all.  The kernel driver in the test host
 * (kernel/nvsim) emulates the vGPU in software; the VF only gives it a PCI
 * identity, an IOMMU group and a sysfs directory.  Do not use it for
 * anything else.
 *
 * What the guest sees (also in tests/vgpu-host/README.md, "SR-IOV mode"):
 *  - PF and VFs: vendor 0x10de, device 0x27b8, class 0x0302 (3D
 *    controller), subsystem 0x10de:0x16ca.  As on real SR-IOV hardware,
 *    the VFs' own vendor/device registers read 0xffff; the OS takes the
 *    VF device ID from the PF's SR-IOV capability.
 *  - PF BAR0: 16 MiB MMIO; offset 0 reads 0x10de27b8, the rest reads 0.
 *  - PF: SR-IOV capability with TotalVFs = property "total-vfs" (default
 *    4), first VF offset 1, stride 1.  Without ARI the VFs are functions
 *    1..7 of the PF's slot, hence at most 7 of them.
 *  - PF: an ACS capability (no P2P controls, as the functions cannot reach
 *    each other), which declares the functions isolated, as on real
 *    SR-IOV GPUs.  (Behind a root port with ACS, Linux 6.12 gives each VF
 *    an IOMMU group of its own even without it, as VFs are single-function
 *    devices.)  "x-acs=off" leaves it out, for tests.
 *  - VF BAR0: 16 MiB 32-bit MMIO; VF BAR1: 256 MiB 64-bit prefetchable.
 *    Both read 0 and ignore writes.
 *
 * It does not migrate (nothing needs it to, and it would only add state
 * that could go stale).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/log.h"
#include "qemu/module.h"
#include "qemu/units.h"
#include "hw/pci/pci_device.h"
#include "hw/pci/pci_ids.h"
#include "hw/pci/pcie.h"
#include "hw/pci/pcie_sriov.h"
#include "hw/qdev-properties.h"
#include "migration/vmstate.h"
#include "qom/object.h"

#define TYPE_NVSIM_SRIOV_GPU "nvsim-sriov-gpu"
#define TYPE_NVSIM_SRIOV_VF  "nvsim-sriov-vf"

OBJECT_DECLARE_SIMPLE_TYPE(NvsimSriovGpu, NVSIM_SRIOV_GPU)
OBJECT_DECLARE_SIMPLE_TYPE(NvsimSriovVf, NVSIM_SRIOV_VF)

/* An L4-like identity; the test host's driver binds to it. */
#define NVSIM_SRIOV_DEVICE_ID       0x27b8
#define NVSIM_SRIOV_SUBSYSTEM_ID    0x16ca
/* What PF BAR0 offset 0 reads: vendor and device, like NVIDIA's BOOT_0. */
#define NVSIM_SRIOV_BAR0_ID         0x10de27b8

#define NVSIM_SRIOV_PF_BAR0_SIZE    (16 * MiB)
#define NVSIM_SRIOV_VF_BAR0_SIZE    (16 * MiB)
#define NVSIM_SRIOV_VF_BAR0_TYPE    PCI_BASE_ADDRESS_SPACE_MEMORY
#define NVSIM_SRIOV_VF_BAR1_SIZE    (256 * MiB)
#define NVSIM_SRIOV_VF_BAR1_TYPE    (PCI_BASE_ADDRESS_MEM_TYPE_64 | \
                                     PCI_BASE_ADDRESS_MEM_PREFETCH)

/*
 * Config space layout: the PCIe capability in the legacy space, then the
 * extended capabilities from 0x100, SR-IOV first.  QEMU 10.0's
 * pcie_sriov_pf_reset() rewrites the VF BAR registers as seven 64-bit
 * words, the last one 4 bytes past the end of the SR-IOV capability: keep
 * those 4 bytes free, or ACS's header reads 0 after a reset.
 */
#define NVSIM_SRIOV_PCIE_CAP        0x80
#define NVSIM_SRIOV_SRIOV_CAP       0x100
#define NVSIM_SRIOV_ACS_CAP         (NVSIM_SRIOV_SRIOV_CAP + \
                                     PCI_EXT_CAP_SRIOV_SIZEOF + 8)

#define NVSIM_SRIOV_VF_OFFSET       1
#define NVSIM_SRIOV_VF_STRIDE       1
/* VFs are functions of the PF's slot (no ARI): functions 1..7. */
#define NVSIM_SRIOV_MAX_VFS         7
#define NVSIM_SRIOV_DEFAULT_VFS     4

struct NvsimSriovGpu {
    PCIDevice parent_obj;

    MemoryRegion bar0;
    uint16_t total_vfs;
    bool acs;
};

struct NvsimSriovVf {
    PCIDevice parent_obj;

    MemoryRegion bar0;
    MemoryRegion bar1;
};

/* PF BAR0: only the ID register. */
static uint64_t nvsim_sriov_pf_bar0_read(void *opaque, hwaddr addr,
                                         unsigned size)
{
    return addr == 0 ? NVSIM_SRIOV_BAR0_ID : 0;
}

/* Every BAR of the device: nothing to write to. */
static void nvsim_sriov_bar_write(void *opaque, hwaddr addr, uint64_t val,
                                  unsigned size)
{
    qemu_log_mask(LOG_GUEST_ERROR,
                  "%s: write of 0x%" PRIx64 " at 0x%" HWADDR_PRIx
                  " to a BAR without registers\n",
                  object_get_typename(OBJECT(opaque)), val, addr);
}

static const MemoryRegionOps nvsim_sriov_pf_bar0_ops = {
    .read = nvsim_sriov_pf_bar0_read,
    .write = nvsim_sriov_bar_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 1,
        .max_access_size = 8,
    },
    .impl = {
        .min_access_size = 4,
        .max_access_size = 4,
    },
};

static uint64_t nvsim_sriov_vf_bar_read(void *opaque, hwaddr addr,
                                        unsigned size)
{
    return 0;
}

static const MemoryRegionOps nvsim_sriov_vf_bar_ops = {
    .read = nvsim_sriov_vf_bar_read,
    .write = nvsim_sriov_bar_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 1,
        .max_access_size = 8,
    },
};

static void nvsim_sriov_gpu_realize(PCIDevice *pdev, Error **errp)
{
    ERRP_GUARD();
    NvsimSriovGpu *s = NVSIM_SRIOV_GPU(pdev);
    unsigned first_fn = PCI_FUNC(pdev->devfn) + NVSIM_SRIOV_VF_OFFSET;

    if (s->total_vfs &&
        first_fn + (s->total_vfs - 1u) * NVSIM_SRIOV_VF_STRIDE > 7) {
        error_setg(errp, "total-vfs=%u does not fit: the VFs are functions "
                   "%u.. of the PF's slot and there are only 8 functions",
                   s->total_vfs, first_fn);
        error_append_hint(errp, "Use at most %u VFs, with the PF at "
                          "function 0.\n", NVSIM_SRIOV_MAX_VFS);
        return;
    }

    memory_region_init_io(&s->bar0, OBJECT(s), &nvsim_sriov_pf_bar0_ops, s,
                          "nvsim-sriov-gpu-bar0", NVSIM_SRIOV_PF_BAR0_SIZE);
    pci_register_bar(pdev, 0, PCI_BASE_ADDRESS_SPACE_MEMORY, &s->bar0);

    if (pcie_endpoint_cap_init(pdev, NVSIM_SRIOV_PCIE_CAP) < 0) {
        error_setg(errp, "cannot add the PCI Express capability");
        return;
    }

    /* This creates the VF devices (disabled until the guest enables them). */
    if (!pcie_sriov_pf_init(pdev, NVSIM_SRIOV_SRIOV_CAP, TYPE_NVSIM_SRIOV_VF,
                            NVSIM_SRIOV_DEVICE_ID, s->total_vfs, s->total_vfs,
                            NVSIM_SRIOV_VF_OFFSET, NVSIM_SRIOV_VF_STRIDE,
                            errp)) {
        error_prepend(errp, "cannot set up SR-IOV: ");
        return;
    }
    pcie_sriov_pf_init_vf_bar(pdev, 0, NVSIM_SRIOV_VF_BAR0_TYPE,
                              NVSIM_SRIOV_VF_BAR0_SIZE);
    pcie_sriov_pf_init_vf_bar(pdev, 1, NVSIM_SRIOV_VF_BAR1_TYPE,
                              NVSIM_SRIOV_VF_BAR1_SIZE);

    /*
     * pcie_sriov_pf_init() made the PF multifunction, which ACS on an
     * endpoint requires.  No control bits: the functions have no path to
     * each other, so there is no peer-to-peer traffic to redirect.
     */
    if (s->acs) {
        pcie_acs_init(pdev, NVSIM_SRIOV_ACS_CAP);
    }
}

static void nvsim_sriov_gpu_exit(PCIDevice *pdev)
{
    pcie_sriov_pf_exit(pdev);
}

static void nvsim_sriov_vf_realize(PCIDevice *pdev, Error **errp)
{
    NvsimSriovVf *vf = NVSIM_SRIOV_VF(pdev);

    /* Only the PF's pcie_sriov_pf_init() makes VFs. */
    if (!pci_is_vf(pdev)) {
        error_setg(errp, "%s is created by its PF, %s",
                   TYPE_NVSIM_SRIOV_VF, TYPE_NVSIM_SRIOV_GPU);
        return;
    }

    /* The types and sizes must be the PF's VF BAR settings above. */
    memory_region_init_io(&vf->bar0, OBJECT(vf), &nvsim_sriov_vf_bar_ops, vf,
                          "nvsim-sriov-vf-bar0", NVSIM_SRIOV_VF_BAR0_SIZE);
    pci_register_bar(pdev, 0, NVSIM_SRIOV_VF_BAR0_TYPE, &vf->bar0);
    memory_region_init_io(&vf->bar1, OBJECT(vf), &nvsim_sriov_vf_bar_ops, vf,
                          "nvsim-sriov-vf-bar1", NVSIM_SRIOV_VF_BAR1_SIZE);
    pci_register_bar(pdev, 1, NVSIM_SRIOV_VF_BAR1_TYPE, &vf->bar1);

    if (pcie_endpoint_cap_init(pdev, NVSIM_SRIOV_PCIE_CAP) < 0) {
        error_setg(errp, "cannot add the PCI Express capability");
        return;
    }
}

/* On the PF, which blocks migration for the VFs too. */
static const VMStateDescription nvsim_sriov_gpu_vmstate = {
    .name = TYPE_NVSIM_SRIOV_GPU,
    .unmigratable = 1,
};

static const Property nvsim_sriov_gpu_properties[] = {
    DEFINE_PROP_UINT16("total-vfs", NvsimSriovGpu, total_vfs,
                       NVSIM_SRIOV_DEFAULT_VFS),
    DEFINE_PROP_BOOL("x-acs", NvsimSriovGpu, acs, true),
};

static void nvsim_sriov_class_init_ids(PCIDeviceClass *pc)
{
    pc->vendor_id = PCI_VENDOR_ID_NVIDIA;
    pc->device_id = NVSIM_SRIOV_DEVICE_ID;
    pc->class_id = PCI_CLASS_DISPLAY_3D;
    pc->subsystem_vendor_id = PCI_VENDOR_ID_NVIDIA;
    pc->subsystem_id = NVSIM_SRIOV_SUBSYSTEM_ID;
}

static void nvsim_sriov_gpu_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *pc = PCI_DEVICE_CLASS(klass);

    nvsim_sriov_class_init_ids(pc);
    pc->realize = nvsim_sriov_gpu_realize;
    pc->exit = nvsim_sriov_gpu_exit;
    dc->desc = "Simulated SR-IOV GPU for the nv-vgpu test host (test only)";
    dc->vmsd = &nvsim_sriov_gpu_vmstate;
    device_class_set_props(dc, nvsim_sriov_gpu_properties);
    object_class_property_set_description(klass, "total-vfs",
        "TotalVFs of the SR-IOV capability (at most 7)");
    object_class_property_set_description(klass, "x-acs",
        "off: no ACS capability (tests only)");
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static void nvsim_sriov_vf_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *pc = PCI_DEVICE_CLASS(klass);

    nvsim_sriov_class_init_ids(pc);
    pc->realize = nvsim_sriov_vf_realize;
    dc->desc = "Virtual function of nvsim-sriov-gpu (test only)";
    /* Made by the PF when SR-IOV is set up, never by the user. */
    dc->user_creatable = false;
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo nvsim_sriov_types[] = {
    {
        .name = TYPE_NVSIM_SRIOV_GPU,
        .parent = TYPE_PCI_DEVICE,
        .instance_size = sizeof(NvsimSriovGpu),
        .class_init = nvsim_sriov_gpu_class_init,
        .interfaces = (InterfaceInfo[]) {
            { INTERFACE_PCIE_DEVICE },
            { }
        },
    },
    {
        .name = TYPE_NVSIM_SRIOV_VF,
        .parent = TYPE_PCI_DEVICE,
        .instance_size = sizeof(NvsimSriovVf),
        .class_init = nvsim_sriov_vf_class_init,
        .interfaces = (InterfaceInfo[]) {
            { INTERFACE_PCIE_DEVICE },
            { }
        },
    },
};

DEFINE_TYPES(nvsim_sriov_types)
