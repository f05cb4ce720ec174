// SPDX-License-Identifier: GPL-2.0
/*
 * nvsim - simulated NVIDIA vGPU mdev parent driver
 *
 * Module setup: the "nvsim" parent device (and optionally a second one,
 * "nvsim2"), vGPU types, mdev probe/remove, parent sysfs attributes and
 * the mdevs' VFIO device ops table; and the simulated SR-IOV GPU's PCI
 * driver (nvsim-sriov.c), registered last.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/device.h>
#include <linux/kernel.h>
#include <linux/delay.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include "nvsim.h"

static unsigned int fb_budget_mb = 8192;
module_param(fb_budget_mb, uint, 0444);
MODULE_PARM_DESC(fb_budget_mb,
		 "Framebuffer MiB shared by all vGPUs (default 8192)");

/* also the host driver version of the SR-IOV GPU's VFs */
/*
 * Also the module's version: where NVIDIA's vGPU manager has no parent
 * device to ask (SR-IOV), /sys/module/nvidia/version tells the branch.
 */
#define NVSIM_DEFAULT_DRIVER_VERSION "550.127.05"
char *nvsim_driver_version = NVSIM_DEFAULT_DRIVER_VERSION;
module_param_named(driver_version, nvsim_driver_version, charp, 0444);
MODULE_PARM_DESC(driver_version,
		 "Reported host driver version (default "
		 NVSIM_DEFAULT_DRIVER_VERSION ")");

static char *parent2_driver_version = "";
module_param(parent2_driver_version, charp, 0444);
MODULE_PARM_DESC(parent2_driver_version,
		 "Host driver version of a second parent \"nvsim2\" (default: empty, no second parent)");

static unsigned int create_delay_ms;
module_param(create_delay_ms, uint, 0644);
MODULE_PARM_DESC(create_delay_ms,
		 "Time a create takes, as a real vGPU manager's (default 0, at most 5000)");

static char *plane = "region";
module_param(plane, charp, 0444);
MODULE_PARM_DESC(plane, "Default GFX plane kind: region or dmabuf");

enum nvsim_plane_mode nvsim_default_plane;

/* protects nvsim_parent.fb_used_mb and nvsim_type.instances */
static DEFINE_MUTEX(nvsim_parent_lock);

#define NVSIM_TYPE(_num, _name, _heads, _frl, _fb, _x, _y, _max)	\
	{ .number = _num, .name = _name, .num_heads = _heads,		\
	  .frl = _frl, .fb_mb = _fb, .max_x = _x, .max_y = _y,		\
	  .max_instance = _max }

/* every parent offers these types, each parent with its own copy */
static const struct nvsim_type nvsim_type_table[] = {
	NVSIM_TYPE(63,  "GRID P4-1Q", 4, 60, 1024, 5120, 2880, 8),
	NVSIM_TYPE(65,  "GRID P4-2Q", 4, 60, 2048, 5120, 2880, 4),
	NVSIM_TYPE(68,  "GRID P4-4Q", 4, 60, 4096, 5120, 2880, 2),
	NVSIM_TYPE(289, "GRID P4-8C", 1, 60, 8192, 4096, 2160, 1),
	NVSIM_TYPE(157, "GRID P4-1B", 1, 45, 1024, 2560, 1600, 8),
};

#define NVSIM_NR_TYPES		ARRAY_SIZE(nvsim_type_table)
#define NVSIM_NAME2		NVSIM_NAME "2"

/*
 * A parent: a class device with its own host driver version, types and
 * framebuffer budget (fb_budget_mb each).  Everything but @fb_used_mb and
 * the types' instance counts is set up by nvsim_parent_add() before the
 * parent is registered and is constant until nvsim_parent_del().
 */
struct nvsim_parent {
	struct mdev_parent mparent;
	struct device *dev;		/* NULL: not registered */
	const char *name;
	const char *driver_version;
	struct nvsim_type types[NVSIM_NR_TYPES];
	struct mdev_type *mtypes[NVSIM_NR_TYPES];
	/* protected by nvsim_parent_lock */
	unsigned int fb_used_mb;
	int numa_node;			/* simulated; NUMA_NO_NODE: none */
	char nvlink_peers[32];		/* "nvsim2": NVLink peer parents */
};

/* "nvsim", and "nvsim2" when parent2_driver_version is set */
static struct nvsim_parent nvsim_parents[2];

static struct class nvsim_class = {
	.name = NVSIM_NAME,
};

static struct nvsim_type *to_nvsim_type(struct mdev_type *mtype)
{
	return container_of(mtype, struct nvsim_type, mtype);
}

/* ------------------------------------------------------------------ */
/* parent attributes */

static ssize_t driver_version_show(struct device *dev,
				   struct device_attribute *attr, char *buf)
{
	struct nvsim_parent *p = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%s\n", p->driver_version);
}
static DEVICE_ATTR_RO(driver_version);

static ssize_t fb_budget_mb_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", fb_budget_mb);
}
static DEVICE_ATTR_RO(fb_budget_mb);

static ssize_t fb_used_mb_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	struct nvsim_parent *p = dev_get_drvdata(dev);
	unsigned int used;

	mutex_lock(&nvsim_parent_lock);
	used = p->fb_used_mb;
	mutex_unlock(&nvsim_parent_lock);
	return sysfs_emit(buf, "%u\n", used);
}
static DEVICE_ATTR_RO(fb_used_mb);

/*
 * numa_node and local_cpulist as a PCI GPU shows them.  A class device
 * has no node, so the node is simulated: writable, for tests of NUMA
 * placement.  A node that is not online has no local CPUs.
 */
static ssize_t numa_node_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	struct nvsim_parent *p = dev_get_drvdata(dev);
	int node;

	mutex_lock(&nvsim_parent_lock);
	node = p->numa_node;
	mutex_unlock(&nvsim_parent_lock);
	return sysfs_emit(buf, "%d\n", node);
}

static ssize_t numa_node_store(struct device *dev,
			       struct device_attribute *attr,
			       const char *buf, size_t count)
{
	struct nvsim_parent *p = dev_get_drvdata(dev);
	int node, ret;

	ret = kstrtoint(buf, 0, &node);
	if (ret)
		return ret;
	if (node < NUMA_NO_NODE || node >= MAX_NUMNODES)
		return -EINVAL;
	mutex_lock(&nvsim_parent_lock);
	p->numa_node = node;
	mutex_unlock(&nvsim_parent_lock);
	return count;
}
static DEVICE_ATTR_RW(numa_node);

static ssize_t local_cpulist_show(struct device *dev,
				  struct device_attribute *attr, char *buf)
{
	struct nvsim_parent *p = dev_get_drvdata(dev);
	int node;

	mutex_lock(&nvsim_parent_lock);
	node = p->numa_node;
	mutex_unlock(&nvsim_parent_lock);
	if (node == NUMA_NO_NODE)
		return sysfs_emit(buf, "%*pbl\n", cpumask_pr_args(cpu_online_mask));
	if (!node_online(node))
		return sysfs_emit(buf, "\n");
	return sysfs_emit(buf, "%*pbl\n",
			  cpumask_pr_args(cpumask_of_node(node)));
}
static DEVICE_ATTR_RO(local_cpulist);

/*
 * nvlink_peers: the parents this simulated GPU has an NVLink to, as
 * space-separated device names ("nvsim2"), empty for none.  Real x86 hosts
 * show NVLink topology only through NVML (nvidia-smi topo -m); this is the
 * simple shape QEMU reads where a host exposes it.  Writable (by root) to
 * simulate another cabling: the names are stored as given, after checking
 * that each is the other parent; both sides are set separately.
 */
static ssize_t nvlink_peers_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	struct nvsim_parent *p = dev_get_drvdata(dev);
	ssize_t ret;

	mutex_lock(&nvsim_parent_lock);
	ret = sysfs_emit(buf, "%s\n", p->nvlink_peers);
	mutex_unlock(&nvsim_parent_lock);
	return ret;
}

static ssize_t nvlink_peers_store(struct device *dev,
				  struct device_attribute *attr,
				  const char *buf, size_t count)
{
	struct nvsim_parent *p = dev_get_drvdata(dev);
	char peers[sizeof(p->nvlink_peers)];
	char *s, *tok;
	unsigned int i;
	bool known;

	if (count >= sizeof(peers))
		return -EINVAL;
	memcpy(peers, buf, count);
	peers[count] = '\0';
	strim(peers);
	/* every name must be another registered parent */
	s = peers;
	while ((tok = strsep(&s, " ")) != NULL) {
		if (!*tok)
			continue;
		known = false;
		for (i = 0; i < ARRAY_SIZE(nvsim_parents); i++)
			if (nvsim_parents[i].dev && &nvsim_parents[i] != p &&
			    !strcmp(nvsim_parents[i].name, tok))
				known = true;
		if (!known)
			return -EINVAL;
	}
	memcpy(peers, buf, count);
	peers[count] = '\0';
	mutex_lock(&nvsim_parent_lock);
	strscpy(p->nvlink_peers, strim(peers), sizeof(p->nvlink_peers));
	mutex_unlock(&nvsim_parent_lock);
	return count;
}
static DEVICE_ATTR_RW(nvlink_peers);

static struct attribute *nvsim_parent_attrs[] = {
	&dev_attr_nvlink_peers.attr,
	&dev_attr_driver_version.attr,
	&dev_attr_fb_budget_mb.attr,
	&dev_attr_fb_used_mb.attr,
	&dev_attr_numa_node.attr,
	&dev_attr_local_cpulist.attr,
	NULL,
};
ATTRIBUTE_GROUPS(nvsim_parent);

/* ------------------------------------------------------------------ */
/* per mdev attribute groups: nvidia/ and nvsim/ (nvsim-attrs.c) */

static struct attribute *nvsim_nvidia_attrs[] = {
	&dev_attr_vgpu_params.attr,
	NULL,
};

static const struct attribute_group nvsim_nvidia_group = {
	.name = "nvidia",
	.attrs = nvsim_nvidia_attrs,
};

static const struct attribute_group *nvsim_mdev_groups[] = {
	&nvsim_nvidia_group,
	&nvsim_switches_group,
	NULL,
};

/* ------------------------------------------------------------------ */
/* VFIO device ops */

static int nvsim_init_dev(struct vfio_device *vdev)
{
	struct nvsim_dev *nd = vdev_to_nvsim(vdev);
	struct mdev_device *mdev = to_mdev_device(vdev->dev);
	const struct nvsim_type *type = to_nvsim_type(mdev->type);

	nd->mdev = mdev;
	return nvsim_dev_init(nd, type, type->parent->driver_version);
}

static int nvsim_open_device(struct vfio_device *vdev)
{
	struct nvsim_dev *nd = vdev_to_nvsim(vdev);

	mutex_lock(&nd->lock);
	nvsim_dev_open_locked(nd);
	mutex_unlock(&nd->lock);
	return 0;
}

static const struct vfio_device_ops nvsim_vfio_ops = {
	.name		= "vfio-nvsim",
	.init		= nvsim_init_dev,
	.release	= nvsim_vdev_release,
	.open_device	= nvsim_open_device,
	.close_device	= nvsim_vdev_close,
	.read		= nvsim_read,
	.write		= nvsim_write,
	.ioctl		= nvsim_ioctl,
	.mmap		= nvsim_mmap,
	.request	= nvsim_vdev_request,
	.bind_iommufd	= vfio_iommufd_emulated_bind,
	.unbind_iommufd	= vfio_iommufd_emulated_unbind,
	.attach_ioas	= vfio_iommufd_emulated_attach_ioas,
	.detach_ioas	= vfio_iommufd_emulated_detach_ioas,
};

/* ------------------------------------------------------------------ */
/* mdev driver */

static unsigned int nvsim_available_locked(const struct nvsim_type *t)
{
	unsigned int used = t->parent->fb_used_mb;
	unsigned int by_budget, by_type;

	by_budget = used >= fb_budget_mb ? 0 :
		    (fb_budget_mb - used) / t->fb_mb;
	by_type = t->instances >= t->max_instance ? 0 :
		  t->max_instance - t->instances;
	return min(by_budget, by_type);
}

static unsigned int nvsim_get_available(struct mdev_type *mtype)
{
	unsigned int n;

	mutex_lock(&nvsim_parent_lock);
	n = nvsim_available_locked(to_nvsim_type(mtype));
	mutex_unlock(&nvsim_parent_lock);
	return n;
}

static ssize_t nvsim_show_description(struct mdev_type *mtype, char *buf)
{
	const struct nvsim_type *t = to_nvsim_type(mtype);

	return sysfs_emit(buf,
			  "num_heads=%u, frl_config=%u, framebuffer=%uM, max_resolution=%ux%u, max_instance=%u\n",
			  t->num_heads, t->frl, t->fb_mb, t->max_x, t->max_y,
			  t->max_instance);
}

static int nvsim_reserve(struct nvsim_type *t)
{
	int ret = 0;

	mutex_lock(&nvsim_parent_lock);
	if (!nvsim_available_locked(t)) {
		ret = -ENOSPC;
	} else {
		t->instances++;
		t->parent->fb_used_mb += t->fb_mb;
	}
	mutex_unlock(&nvsim_parent_lock);
	return ret;
}

static void nvsim_unreserve(struct nvsim_type *t)
{
	mutex_lock(&nvsim_parent_lock);
	t->instances--;
	t->parent->fb_used_mb -= t->fb_mb;
	mutex_unlock(&nvsim_parent_lock);
}

static int nvsim_probe(struct mdev_device *mdev)
{
	struct nvsim_type *t = to_nvsim_type(mdev->type);
	struct nvsim_dev *nd;
	int ret;

	ret = nvsim_reserve(t);
	if (ret)
		return ret;
	/* the write to "create" blocks this long, outside every lock */
	if (create_delay_ms)
		msleep(min(READ_ONCE(create_delay_ms), 5000U));

	nd = vfio_alloc_device(nvsim_dev, vdev, &mdev->dev, &nvsim_vfio_ops);
	if (IS_ERR(nd)) {
		ret = PTR_ERR(nd);
		goto err_unreserve;
	}

	dev_set_drvdata(&mdev->dev, nd);
	ret = vfio_register_emulated_iommu_dev(&nd->vdev);
	if (ret)
		goto err_put;
	return 0;

err_put:
	dev_set_drvdata(&mdev->dev, NULL);
	vfio_put_device(&nd->vdev);
err_unreserve:
	nvsim_unreserve(t);
	return ret;
}

static void nvsim_remove(struct mdev_device *mdev)
{
	struct nvsim_dev *nd = dev_get_drvdata(&mdev->dev);
	struct nvsim_type *t = to_nvsim_type(mdev->type);

	vfio_unregister_group_dev(&nd->vdev);
	dev_set_drvdata(&mdev->dev, NULL);
	vfio_put_device(&nd->vdev);
	nvsim_unreserve(t);
}

static struct mdev_driver nvsim_mdev_driver = {
	.device_api = VFIO_DEVICE_API_PCI_STRING,
	.driver = {
		.name = NVSIM_NAME,
		.owner = THIS_MODULE,
		.mod_name = KBUILD_MODNAME,
		.dev_groups = nvsim_mdev_groups,
	},
	.probe = nvsim_probe,
	.remove = nvsim_remove,
	.get_available = nvsim_get_available,
	.show_description = nvsim_show_description,
};

/* ------------------------------------------------------------------ */

static bool nvsim_version_ok(const char *v)
{
	return v && *v && strlen(v) < NVSIM_DRIVER_VERSION_MAX;
}

/* create and register parent @p; undone by nvsim_parent_del() */
static int nvsim_parent_add(struct nvsim_parent *p, const char *name,
			    const char *driver_version)
{
	unsigned int i;
	int ret;

	p->name = name;
	p->driver_version = driver_version;
	p->fb_used_mb = 0;
	p->numa_node = NUMA_NO_NODE;
	/* the two simulated GPUs are NVLink peers until someone writes */
	p->nvlink_peers[0] = '\0';
	if (parent2_driver_version && *parent2_driver_version)
		strscpy(p->nvlink_peers, strcmp(name, NVSIM_NAME) ? NVSIM_NAME :
			NVSIM_NAME2, sizeof(p->nvlink_peers));
	for (i = 0; i < NVSIM_NR_TYPES; i++) {
		struct nvsim_type *t = &p->types[i];

		*t = nvsim_type_table[i];
		t->parent = p;
		snprintf(t->sysfs_name, sizeof(t->sysfs_name), "%u", t->number);
		t->mtype.sysfs_name = t->sysfs_name;
		t->mtype.pretty_name = t->name;
		t->instances = 0;
		p->mtypes[i] = &t->mtype;
	}

	p->dev = device_create_with_groups(&nvsim_class, NULL, MKDEV(0, 0), p,
					   nvsim_parent_groups, "%s", name);
	if (IS_ERR(p->dev)) {
		ret = PTR_ERR(p->dev);
		goto err_clear;
	}

	ret = mdev_register_parent(&p->mparent, p->dev, &nvsim_mdev_driver,
				   p->mtypes, NVSIM_NR_TYPES);
	if (ret)
		goto err_device;
	return 0;

err_device:
	device_unregister(p->dev);
err_clear:
	p->dev = NULL;
	return ret;
}

static void nvsim_parent_del(struct nvsim_parent *p)
{
	if (!p->dev)
		return;
	mdev_unregister_parent(&p->mparent);
	device_unregister(p->dev);
	p->dev = NULL;
}

static int __init nvsim_init(void)
{
	bool second = parent2_driver_version && *parent2_driver_version;
	int ret;

	ret = sysfs_match_string(nvsim_plane_names, plane);
	if (ret < 0) {
		pr_err("plane=%s is not region or dmabuf\n", plane);
		return -EINVAL;
	}
	nvsim_default_plane = ret;
	if (!nvsim_version_ok(nvsim_driver_version)) {
		pr_err("invalid driver_version\n");
		return -EINVAL;
	}
	if (second && !nvsim_version_ok(parent2_driver_version)) {
		pr_err("invalid parent2_driver_version\n");
		return -EINVAL;
	}

	ret = class_register(&nvsim_class);
	if (ret)
		return ret;

	ret = mdev_register_driver(&nvsim_mdev_driver);
	if (ret)
		goto err_class;

	ret = nvsim_parent_add(&nvsim_parents[0], NVSIM_NAME,
			       nvsim_driver_version);
	if (ret)
		goto err_driver;

	if (second) {
		ret = nvsim_parent_add(&nvsim_parents[1], NVSIM_NAME2,
				       parent2_driver_version);
		if (ret)
			goto err_parent;
	}

	ret = nvsim_sriov_register();
	if (ret)
		goto err_parent2;

	pr_info("simulated vGPU parent ready (budget %u MiB, driver %s, %s planes)\n",
		fb_budget_mb, nvsim_driver_version,
		nvsim_plane_names[nvsim_default_plane]);
	if (second)
		pr_info("second parent %s ready (budget %u MiB, driver %s)\n",
			NVSIM_NAME2, fb_budget_mb, parent2_driver_version);
	return 0;

err_parent2:
	nvsim_parent_del(&nvsim_parents[1]);
err_parent:
	nvsim_parent_del(&nvsim_parents[0]);
err_driver:
	mdev_unregister_driver(&nvsim_mdev_driver);
err_class:
	class_unregister(&nvsim_class);
	return ret;
}

static void __exit nvsim_exit(void)
{
	nvsim_sriov_unregister();
	nvsim_parent_del(&nvsim_parents[1]);
	nvsim_parent_del(&nvsim_parents[0]);
	mdev_unregister_driver(&nvsim_mdev_driver);
	class_unregister(&nvsim_class);
}

module_init(nvsim_init);
module_exit(nvsim_exit);

MODULE_LICENSE("GPL");
MODULE_VERSION(NVSIM_DEFAULT_DRIVER_VERSION);
MODULE_DESCRIPTION("Simulated NVIDIA vGPU mdev parent driver and SR-IOV GPU");
MODULE_IMPORT_NS(DMA_BUF);
