// SPDX-License-Identifier: GPL-2.0
/*
 * nvsim - the simulated SR-IOV GPU's driver: vGPUs on virtual functions,
 * as NVIDIA's driver makes them on Ada and later GPUs.
 *
 * The test host's QEMU models the GPU (10de:27b8): a physical function
 * with an SR-IOV capability, and VFs with the vGPU's BARs but no function
 * behind them.  This driver binds both.  On the PF it offers
 * sriov_configure, so that sriov_numvfs enables the VFs.  On each VF it
 * registers a VFIO device of its own in the VF's IOMMU group, emulated
 * in software by nvsim's core, PCI function, display and migration code
 * like an mdev, and the nvidia/ sysfs group through which the VF is
 * given a vGPU type (current_vgpu_type) and released from it.
 *
 * A VF has no type until one is written; its VFIO device cannot be
 * opened without one, and the type changes only while it is closed.  All
 * the vGPUs of one GPU are of one type, as many as fit in its
 * framebuffer.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/device.h>
#include <linux/io.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/sysfs.h>

#include "nvsim.h"

#define NVSIM_SRIOV_DEVICE	0x27b8		/* PF and VFs */
/* what the simulated PF's BAR0 reads at offset 0 (a real GPU's differs) */
#define NVSIM_SRIOV_PF_ID	0x10de27b8u
#define NVSIM_GPU_FB_MB		(24u << 10)	/* 24 GiB */
/* one slot per GiB at most: the smallest type */
#define NVSIM_GPU_MAX_SLOTS	24

#define NVSIM_L4_TYPE(_num, _name, _fb)					\
	{ .number = _num, .name = _name, .num_heads = 4, .frl = 60,	\
	  .fb_mb = _fb, .max_x = 7680, .max_y = 4320,			\
	  .max_instance = NVSIM_GPU_FB_MB / (_fb) }

/* every GPU offers these; a VF points at one while it has a type */
static const struct nvsim_type nvsim_l4_types[] = {
	NVSIM_L4_TYPE(1060, "NVIDIA L4-1Q", 1024),
	NVSIM_L4_TYPE(1061, "NVIDIA L4-2Q", 2048),
	NVSIM_L4_TYPE(1062, "NVIDIA L4-4Q", 4096),
	NVSIM_L4_TYPE(1063, "NVIDIA L4-6Q", 6144),
	NVSIM_L4_TYPE(1064, "NVIDIA L4-8Q", 8192),
	NVSIM_L4_TYPE(1065, "NVIDIA L4-12Q", 12288),
	NVSIM_L4_TYPE(1066, "NVIDIA L4-24Q", 24576),
};

/*
 * The GPU: the PF's drvdata, from probe to remove.  Its VFs exist only
 * in between (remove disables SR-IOV first).
 */
struct nvsim_gpu {
	struct pci_dev *pdev;
	/*
	 * @lock protects everything below and each VF's placement; it is
	 * taken before a VF's nvsim_dev.lock (nvsim.h has the whole order).
	 */
	struct mutex lock;
	const struct nvsim_type *type;	/* of every vGPU; NULL: none */
	unsigned int nr_vgpus;
	/* framebuffer slots of @type's size in use, by placement / size */
	DECLARE_BITMAP(slots, NVSIM_GPU_MAX_SLOTS);
	bool disabling;			/* sriov_numvfs going to 0 */
};

/* a VF's device: nvsim_dev first, as vfio_alloc_device() wants it */
struct nvsim_vf {
	struct nvsim_dev nd;
	struct nvsim_gpu *gpu;		/* constant */
	unsigned int slot;		/* nvsim_gpu.lock; valid with a type */
};

static struct nvsim_vf *nd_to_vf(struct nvsim_dev *nd)
{
	return container_of(nd, struct nvsim_vf, nd);
}

static struct pci_driver nvsim_sriov_driver;

/* ------------------------------------------------------------------ */
/* the GPU's vGPUs: which type fits, placements */

static unsigned int nvsim_type_slots(const struct nvsim_type *t)
{
	return NVSIM_GPU_FB_MB / t->fb_mb;
}

/* may one more vGPU of @t be made on @gpu? */
static bool nvsim_gpu_fits_locked(struct nvsim_gpu *gpu,
				  const struct nvsim_type *t)
{
	lockdep_assert_held(&gpu->lock);
	if (gpu->disabling)
		return false;
	if (gpu->type && gpu->type != t)
		return false;
	return gpu->nr_vgpus < nvsim_type_slots(t);
}

static const struct nvsim_type *nvsim_l4_type(unsigned int id)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(nvsim_l4_types); i++)
		if (nvsim_l4_types[i].number == id)
			return &nvsim_l4_types[i];
	return NULL;
}

/* make @vf a vGPU of @t; the caller checked that it fits */
static void nvsim_vf_assign_locked(struct nvsim_vf *vf,
				   const struct nvsim_type *t)
{
	struct nvsim_gpu *gpu = vf->gpu;

	lockdep_assert_held(&gpu->lock);
	lockdep_assert_held(&vf->nd.lock);
	vf->slot = find_first_zero_bit(gpu->slots, nvsim_type_slots(t));
	__set_bit(vf->slot, gpu->slots);
	gpu->type = t;
	gpu->nr_vgpus++;
	nvsim_dev_set_type_locked(&vf->nd, t);
}

static void nvsim_vf_release_locked(struct nvsim_vf *vf)
{
	struct nvsim_gpu *gpu = vf->gpu;

	lockdep_assert_held(&gpu->lock);
	lockdep_assert_held(&vf->nd.lock);
	__clear_bit(vf->slot, gpu->slots);
	if (!--gpu->nr_vgpus)
		gpu->type = NULL;
	nvsim_dev_clear_type_locked(&vf->nd);
}

/* ------------------------------------------------------------------ */
/* the VF's nvidia/ group (vgpu_params is nvsim-attrs.c's) */

static struct nvsim_vf *dev_to_vf(struct device *dev)
{
	return nd_to_vf(dev_get_drvdata(dev));
}

/*
 * The types this VF can take now, in the table NVIDIA's driver prints;
 * only the header when the VF has a type or the GPU is full.
 */
static ssize_t creatable_vgpu_types_show(struct device *dev,
					 struct device_attribute *attr,
					 char *buf)
{
	struct nvsim_vf *vf = dev_to_vf(dev);
	struct nvsim_gpu *gpu = vf->gpu;
	unsigned int i;
	int len;

	len = sysfs_emit(buf, "ID    : vGPU Name\n");
	mutex_lock(&gpu->lock);
	for (i = 0; !vf->nd.type && i < ARRAY_SIZE(nvsim_l4_types); i++) {
		const struct nvsim_type *t = &nvsim_l4_types[i];

		if (nvsim_gpu_fits_locked(gpu, t))
			len += sysfs_emit_at(buf, len, "%u : %s\n", t->number,
					     t->name);
	}
	mutex_unlock(&gpu->lock);
	return len;
}
static DEVICE_ATTR_RO(creatable_vgpu_types);

static ssize_t current_vgpu_type_show(struct device *dev,
				      struct device_attribute *attr,
				      char *buf)
{
	struct nvsim_vf *vf = dev_to_vf(dev);
	unsigned int id;

	mutex_lock(&vf->nd.lock);
	id = vf->nd.type ? vf->nd.type->number : 0;
	mutex_unlock(&vf->nd.lock);
	return sysfs_emit(buf, "%u\n", id);
}

/*
 * An id makes the vGPU, 0 releases it (and is a no-op on a VF without
 * one).  -EBUSY while the VFIO device is open, or for an id while the VF
 * has a type; -EINVAL for an id it cannot take now (see
 * creatable_vgpu_types) and for anything but a decimal number.
 */
static ssize_t current_vgpu_type_store(struct device *dev,
				       struct device_attribute *attr,
				       const char *buf, size_t count)
{
	struct nvsim_vf *vf = dev_to_vf(dev);
	struct nvsim_gpu *gpu = vf->gpu;
	struct nvsim_dev *nd = &vf->nd;
	const struct nvsim_type *t = NULL;
	unsigned int id;
	int ret = 0;

	/* out of range is not a type either: -EINVAL, not -ERANGE */
	if (kstrtouint(buf, 10, &id))
		return -EINVAL;
	if (id) {
		t = nvsim_l4_type(id);
		if (!t)
			return -EINVAL;
	}

	mutex_lock(&gpu->lock);
	mutex_lock(&nd->lock);
	if (nd->open) {
		ret = -EBUSY;
		goto out_unlock;
	}
	if (!t) {
		if (nd->type)
			nvsim_vf_release_locked(vf);
		goto out_unlock;
	}
	if (nd->type) {
		ret = -EBUSY;
		goto out_unlock;
	}
	if (!nvsim_gpu_fits_locked(gpu, t)) {
		ret = -EINVAL;
		goto out_unlock;
	}
	nvsim_vf_assign_locked(vf, t);
out_unlock:
	mutex_unlock(&nd->lock);
	mutex_unlock(&gpu->lock);
	return ret ? ret : count;
}
static DEVICE_ATTR_RW(current_vgpu_type);

/* all our types are time-sliced: no GPU instance (MIG) */
static ssize_t gpu_instance_id_show(struct device *dev,
				    struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%d\n", -1);
}
static DEVICE_ATTR_RO(gpu_instance_id);

/*
 * Where the vGPU's framebuffer starts on the GPU, in GiB (its slot times
 * its size); -1 without a type.
 */
static ssize_t placement_id_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	struct nvsim_vf *vf = dev_to_vf(dev);
	int placement = -1;

	mutex_lock(&vf->gpu->lock);
	if (vf->nd.type)
		placement = vf->slot * (vf->nd.type->fb_mb >> 10);
	mutex_unlock(&vf->gpu->lock);
	return sysfs_emit(buf, "%d\n", placement);
}
static DEVICE_ATTR_RO(placement_id);

static struct attribute *nvsim_vf_nvidia_attrs[] = {
	&dev_attr_creatable_vgpu_types.attr,
	&dev_attr_current_vgpu_type.attr,
	&dev_attr_vgpu_params.attr,
	&dev_attr_gpu_instance_id.attr,
	&dev_attr_placement_id.attr,
	NULL,
};

static const struct attribute_group nvsim_vf_nvidia_group = {
	.name = "nvidia",
	.attrs = nvsim_vf_nvidia_attrs,
};

static const struct attribute_group *nvsim_vf_groups[] = {
	&nvsim_vf_nvidia_group,
	&nvsim_switches_group,
	NULL,
};

/* ------------------------------------------------------------------ */
/* the VF's VFIO device */

static int nvsim_vf_init_dev(struct vfio_device *vdev)
{
	return nvsim_dev_init(vdev_to_nvsim(vdev), NULL, nvsim_driver_version);
}

/* without a type there is no vGPU to open */
static int nvsim_vf_open_device(struct vfio_device *vdev)
{
	struct nvsim_dev *nd = vdev_to_nvsim(vdev);
	int ret = 0;

	mutex_lock(&nd->lock);
	if (nd->type)
		nvsim_dev_open_locked(nd);
	else
		ret = -ENODEV;
	mutex_unlock(&nd->lock);
	return ret;
}

/*
 * A VF is a physical device in an IOMMU group of its own: it binds to
 * iommufd as one.  Nothing does DMA on it (the vGPU is emulated), but
 * the group's container or IOAS is its user's as for any VFIO device.
 */
static const struct vfio_device_ops nvsim_vf_vfio_ops = {
	.name		= "vfio-nvsim-vf",
	.init		= nvsim_vf_init_dev,
	.release	= nvsim_vdev_release,
	.open_device	= nvsim_vf_open_device,
	.close_device	= nvsim_vdev_close,
	.read		= nvsim_read,
	.write		= nvsim_write,
	.ioctl		= nvsim_ioctl,
	.mmap		= nvsim_mmap,
	.request	= nvsim_vdev_request,
	.bind_iommufd	= vfio_iommufd_physical_bind,
	.unbind_iommufd	= vfio_iommufd_physical_unbind,
	.attach_ioas	= vfio_iommufd_physical_attach_ioas,
	.detach_ioas	= vfio_iommufd_physical_detach_ioas,
};

/* the guest sees the VF's own IDs; everything else is nvsim's function */
static void nvsim_vf_config_ids(struct nvsim_dev *nd, struct pci_dev *pdev)
{
	u8 *c = nd->config;

	c[PCI_DEVICE_ID] = pdev->device & 0xff;
	c[PCI_DEVICE_ID + 1] = pdev->device >> 8;
	c[PCI_SUBSYSTEM_VENDOR_ID] = pdev->subsystem_vendor & 0xff;
	c[PCI_SUBSYSTEM_VENDOR_ID + 1] = pdev->subsystem_vendor >> 8;
	c[PCI_SUBSYSTEM_ID] = pdev->subsystem_device & 0xff;
	c[PCI_SUBSYSTEM_ID + 1] = pdev->subsystem_device >> 8;
}

static int nvsim_vf_probe(struct pci_dev *pdev)
{
	struct nvsim_gpu *gpu;
	struct nvsim_vf *vf;
	int ret;

	gpu = pci_iov_get_pf_drvdata(pdev, &nvsim_sriov_driver);
	if (IS_ERR(gpu)) {
		pci_info(pdev, "its PF is not driven by nvsim: not a vGPU\n");
		return -ENODEV;
	}

	vf = vfio_alloc_device(nvsim_vf, nd.vdev, &pdev->dev,
			       &nvsim_vf_vfio_ops);
	if (IS_ERR(vf))
		return PTR_ERR(vf);
	vf->gpu = gpu;
	mutex_lock(&vf->nd.lock);
	nvsim_vf_config_ids(&vf->nd, pdev);
	mutex_unlock(&vf->nd.lock);
	pci_set_drvdata(pdev, &vf->nd);

	ret = sysfs_create_groups(&pdev->dev.kobj, nvsim_vf_groups);
	if (ret)
		goto err_put;
	ret = vfio_register_group_dev(&vf->nd.vdev);
	if (ret)
		goto err_groups;
	return 0;

err_groups:
	sysfs_remove_groups(&pdev->dev.kobj, nvsim_vf_groups);
err_put:
	pci_set_drvdata(pdev, NULL);
	vfio_put_device(&vf->nd.vdev);
	return ret;
}

/*
 * The VF goes (SR-IOV disabled, the PF or the VF unbound): no more type
 * changes, wait for the VFIO device's user to let go (the core asks it
 * through nvsim_vdev_request()), then release the vGPU.
 */
static void nvsim_vf_remove(struct pci_dev *pdev)
{
	struct nvsim_dev *nd = pci_get_drvdata(pdev);
	struct nvsim_vf *vf = nd_to_vf(nd);
	struct nvsim_gpu *gpu = vf->gpu;

	sysfs_remove_groups(&pdev->dev.kobj, nvsim_vf_groups);
	vfio_unregister_group_dev(&nd->vdev);
	mutex_lock(&gpu->lock);
	mutex_lock(&nd->lock);
	if (nd->type)
		nvsim_vf_release_locked(vf);
	mutex_unlock(&nd->lock);
	mutex_unlock(&gpu->lock);
	pci_set_drvdata(pdev, NULL);
	vfio_put_device(&nd->vdev);
}

/* ------------------------------------------------------------------ */
/* the PF */

/*
 * 10de:27b8 is a real L4's ID too: take only the simulated GPU, whose
 * BAR0 reads its ID at offset 0 (a real one reads its chip's boot id).
 */
static int nvsim_pf_check(struct pci_dev *pdev)
{
	void __iomem *bar0;
	u32 id;
	int ret;

	ret = pci_enable_device_mem(pdev);
	if (ret)
		return ret;
	bar0 = pci_iomap(pdev, 0, sizeof(u32));
	if (!bar0) {
		ret = -ENODEV;
		goto err_disable;
	}
	id = ioread32(bar0);
	pci_iounmap(pdev, bar0);
	if (id != NVSIM_SRIOV_PF_ID) {
		pci_info(pdev, "BAR0 reads %#x, not the simulated GPU's %#x: not ours\n",
			 id, NVSIM_SRIOV_PF_ID);
		ret = -ENODEV;
	}
err_disable:
	pci_disable_device(pdev);
	return ret;
}

static int nvsim_pf_probe(struct pci_dev *pdev)
{
	struct nvsim_gpu *gpu;
	int ret;

	ret = nvsim_pf_check(pdev);
	if (ret)
		return ret;
	if (!pci_sriov_get_totalvfs(pdev)) {
		pci_info(pdev, "no SR-IOV capability: no vGPUs\n");
		return -ENODEV;
	}

	gpu = kzalloc(sizeof(*gpu), GFP_KERNEL);
	if (!gpu)
		return -ENOMEM;
	gpu->pdev = pdev;
	mutex_init(&gpu->lock);
	pci_set_drvdata(pdev, gpu);
	pci_info(pdev, "simulated SR-IOV GPU, %u MiB, up to %d VFs (sriov_numvfs)\n",
		 NVSIM_GPU_FB_MB, pci_sriov_get_totalvfs(pdev));
	return 0;
}

static void nvsim_pf_remove(struct pci_dev *pdev)
{
	struct nvsim_gpu *gpu = pci_get_drvdata(pdev);

	/* each VF's remove waits for its VFIO device's user */
	pci_disable_sriov(pdev);
	pci_set_drvdata(pdev, NULL);
	mutex_destroy(&gpu->lock);
	kfree(gpu);
}

/*
 * sriov_numvfs: @num VFs, or none.  Disabling them while any has a vGPU
 * would take it from under its owner: refused with -EBUSY (release them
 * first).  While they go, nothing can be given a type, so no VF can be
 * opened and the VFs' removes cannot wait for a user.
 */
static int nvsim_pf_sriov_configure(struct pci_dev *pdev, int num)
{
	struct nvsim_gpu *gpu = pci_get_drvdata(pdev);

	if (num)
		return pci_enable_sriov(pdev, num) ?: num;

	mutex_lock(&gpu->lock);
	if (gpu->nr_vgpus) {
		pci_warn(pdev, "%u VFs still have a vGPU type: release them (current_vgpu_type 0) first\n",
			 gpu->nr_vgpus);
		mutex_unlock(&gpu->lock);
		return -EBUSY;
	}
	gpu->disabling = true;
	mutex_unlock(&gpu->lock);

	pci_disable_sriov(pdev);

	mutex_lock(&gpu->lock);
	gpu->disabling = false;
	mutex_unlock(&gpu->lock);
	return 0;
}

/* ------------------------------------------------------------------ */
/* the driver: one for PF and VFs, which share the ID */

static int nvsim_sriov_probe(struct pci_dev *pdev,
			     const struct pci_device_id *id)
{
	return pdev->is_virtfn ? nvsim_vf_probe(pdev) : nvsim_pf_probe(pdev);
}

static void nvsim_sriov_remove(struct pci_dev *pdev)
{
	if (pdev->is_virtfn)
		nvsim_vf_remove(pdev);
	else
		nvsim_pf_remove(pdev);
}

/*
 * No MODULE_DEVICE_TABLE: nvsim must not be loaded for a real L4 (the
 * test host loads it itself).
 */
static const struct pci_device_id nvsim_sriov_ids[] = {
	{ PCI_DEVICE(NVSIM_PCI_VENDOR, NVSIM_SRIOV_DEVICE) },
	{ }
};

static struct pci_driver nvsim_sriov_driver = {
	.name			= NVSIM_NAME "-sriov",
	.id_table		= nvsim_sriov_ids,
	.probe			= nvsim_sriov_probe,
	.remove			= nvsim_sriov_remove,
	.sriov_configure	= nvsim_pf_sriov_configure,
	/*
	 * A VF's group is handed to VFIO users whole: the driver core must
	 * not claim its DMA for the kernel.  Neither function does DMA.
	 */
	.driver_managed_dma	= true,
};

int nvsim_sriov_register(void)
{
	return pci_register_driver(&nvsim_sriov_driver);
}

void nvsim_sriov_unregister(void)
{
	pci_unregister_driver(&nvsim_sriov_driver);
}
