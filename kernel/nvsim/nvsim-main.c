// SPDX-License-Identifier: GPL-2.0
/*
 * nvsim - simulated NVIDIA vGPU mdev parent driver
 *
 * Module setup: the "nvsim" parent device (and optionally a second one,
 * "nvsim2"), vGPU types, mdev probe/remove, sysfs attributes and the VFIO
 * device ops table.
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

static char *nvsim_driver_version = "550.127.05";
module_param_named(driver_version, nvsim_driver_version, charp, 0444);
MODULE_PARM_DESC(driver_version,
		 "Reported host driver version (default 550.127.05)");

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

static enum nvsim_plane_mode nvsim_default_plane;

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
/* per mdev attributes: nvidia/vgpu_params */

static const char * const nvsim_param_keys[] = {
	"frame_rate_limiter",
	"disable_vnc",
	"enable_uvm",
	"enable_debugging",
	"enable_profiling",
};

static unsigned int *nvsim_param_slot(struct nvsim_params *p, unsigned int i)
{
	switch (i) {
	case 0: return &p->frame_rate_limiter;
	case 1: return &p->disable_vnc;
	case 2: return &p->enable_uvm;
	case 3: return &p->enable_debugging;
	case 4: return &p->enable_profiling;
	}
	return NULL;
}

/*
 * Parse "key=value, key=value" (keys above, values 0 or 1).  An empty
 * string resets every parameter to its default: the frame rate limiter
 * on (as NVIDIA's), the rest 0.
 */
static int nvsim_parse_params(char *s, struct nvsim_params *out)
{
	struct nvsim_params p = NVSIM_PARAMS_DEFAULT;
	char *item;

	while ((item = strsep(&s, ",")) != NULL) {
		char *key, *val;
		unsigned int i, v;
		bool found = false;

		item = strim(item);
		if (!*item)
			continue;
		val = strchr(item, '=');
		if (!val)
			return -EINVAL;
		*val++ = '\0';
		key = strim(item);
		val = strim(val);
		if (kstrtouint(val, 0, &v) || v > 1)
			return -EINVAL;
		for (i = 0; i < ARRAY_SIZE(nvsim_param_keys); i++) {
			if (!strcmp(key, nvsim_param_keys[i])) {
				*nvsim_param_slot(&p, i) = v;
				found = true;
				break;
			}
		}
		if (!found)
			return -EINVAL;
	}
	*out = p;
	return 0;
}

static ssize_t vgpu_params_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	struct nvsim_dev *nd = dev_get_drvdata(dev);
	ssize_t ret;

	mutex_lock(&nd->lock);
	ret = sysfs_emit(buf, "%s\n", nd->params_str);
	mutex_unlock(&nd->lock);
	return ret;
}

static ssize_t vgpu_params_store(struct device *dev,
				 struct device_attribute *attr,
				 const char *buf, size_t count)
{
	struct nvsim_dev *nd = dev_get_drvdata(dev);
	char str[NVSIM_PARAMS_MAX];
	struct nvsim_params p;
	char *copy, *s;
	int ret;

	if (count >= NVSIM_PARAMS_MAX)
		return -EINVAL;
	copy = kmemdup_nul(buf, count, GFP_KERNEL);
	if (!copy)
		return -ENOMEM;
	s = strim(copy);
	strscpy(str, s, sizeof(str));
	ret = nvsim_parse_params(s, &p);
	kfree(copy);
	if (ret)
		return ret;

	mutex_lock(&nd->lock);
	if (nd->open) {
		ret = -EBUSY;
	} else {
		nd->params_req = p;
		strscpy(nd->params_str, str, sizeof(nd->params_str));
	}
	mutex_unlock(&nd->lock);
	return ret ? ret : count;
}
static DEVICE_ATTR_RW(vgpu_params);

static struct attribute *nvsim_nvidia_attrs[] = {
	&dev_attr_vgpu_params.attr,
	NULL,
};

static const struct attribute_group nvsim_nvidia_group = {
	.name = "nvidia",
	.attrs = nvsim_nvidia_attrs,
};

/* ------------------------------------------------------------------ */
/*
 * per mdev attributes: nvsim/{plane,inject_irq,frame_rate,plane_fault,
 * mig_fail}, nvsim/{edid,err_irq,plane_region},
 * nvsim/{migration,strict_resuming} and nvsim/resumed
 */

static const char * const nvsim_plane_names[] = {
	[NVSIM_PLANE_REGION] = "region",
	[NVSIM_PLANE_DMABUF] = "dmabuf",
};

static const char * const nvsim_pf_names[NVSIM_PF_COUNT] = {
	[NVSIM_PF_NONE] = "none",
	[NVSIM_PF_HUGE] = "huge",
	[NVSIM_PF_SHORT_STRIDE] = "short_stride",
	[NVSIM_PF_SMALL_DMABUF] = "small_dmabuf",
	[NVSIM_PF_BAD_OFFSET] = "bad_offset",
	[NVSIM_PF_BAD_FORMAT] = "bad_format",
	[NVSIM_PF_ENOMEM_ONCE] = "enomem_once",
};

static const char * const nvsim_mf_names[NVSIM_MF_COUNT] = {
	[NVSIM_MF_NONE] = "none",
	[NVSIM_MF_PRE_COPY] = "pre_copy",
	[NVSIM_MF_STOP_COPY] = "stop_copy",
	[NVSIM_MF_RESUMING] = "resuming",
	[NVSIM_MF_RESUME_END] = "resume_end",
	[NVSIM_MF_STOP] = "stop",
	[NVSIM_MF_RUNNING] = "running",
	[NVSIM_MF_READ] = "read",
	[NVSIM_MF_WRITE] = "write",
};

static ssize_t plane_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct nvsim_dev *nd = dev_get_drvdata(dev);
	ssize_t ret;

	mutex_lock(&nd->lock);
	ret = sysfs_emit(buf, "%s\n", nvsim_plane_names[nd->plane_mode_req]);
	mutex_unlock(&nd->lock);
	return ret;
}

static ssize_t plane_store(struct device *dev, struct device_attribute *attr,
			   const char *buf, size_t count)
{
	struct nvsim_dev *nd = dev_get_drvdata(dev);
	int i = sysfs_match_string(nvsim_plane_names, buf);
	int ret = 0;

	if (i < 0)
		return i;
	mutex_lock(&nd->lock);
	if (nd->open)
		ret = -EBUSY;
	else
		nd->plane_mode_req = i;
	mutex_unlock(&nd->lock);
	return ret ? ret : count;
}
static DEVICE_ATTR_RW(plane);

static ssize_t inject_irq_store(struct device *dev,
				struct device_attribute *attr,
				const char *buf, size_t count)
{
	struct nvsim_dev *nd = dev_get_drvdata(dev);
	unsigned int index;
	int ret;

	if (sysfs_streq(buf, "err"))
		index = VFIO_PCI_ERR_IRQ_INDEX;
	else if (sysfs_streq(buf, "req"))
		index = VFIO_PCI_REQ_IRQ_INDEX;
	else if (sysfs_streq(buf, "intx"))
		index = VFIO_PCI_INTX_IRQ_INDEX;
	else if (sysfs_streq(buf, "msi"))
		index = VFIO_PCI_MSI_IRQ_INDEX;
	else
		return -EINVAL;

	mutex_lock(&nd->lock);
	ret = nvsim_signal_irq(nd, index);
	mutex_unlock(&nd->lock);
	return ret ? ret : count;
}
static DEVICE_ATTR_WO(inject_irq);

/* The frame rate cap of this open: the type's frl_config, 0 for none */
static ssize_t frame_rate_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	struct nvsim_dev *nd = dev_get_drvdata(dev);
	unsigned int frl;

	mutex_lock(&nd->lock);
	frl = nd->params.frame_rate_limiter ? nd->type->frl : 0;
	mutex_unlock(&nd->lock);
	return sysfs_emit(buf, "%u\n", frl);
}
static DEVICE_ATTR_RO(frame_rate);

static ssize_t plane_fault_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	struct nvsim_dev *nd = dev_get_drvdata(dev);
	ssize_t ret;

	mutex_lock(&nd->lock);
	ret = sysfs_emit(buf, "%s\n", nvsim_pf_names[nd->plane_fault]);
	mutex_unlock(&nd->lock);
	return ret;
}

static ssize_t plane_fault_store(struct device *dev,
				 struct device_attribute *attr,
				 const char *buf, size_t count)
{
	struct nvsim_dev *nd = dev_get_drvdata(dev);
	int i = sysfs_match_string(nvsim_pf_names, buf);

	if (i < 0)
		return i;
	mutex_lock(&nd->lock);
	nd->plane_fault = i;
	nvsim_display_zap_locked(nd);
	mutex_unlock(&nd->lock);
	return count;
}
static DEVICE_ATTR_RW(plane_fault);

static ssize_t mig_fail_show(struct device *dev,
			     struct device_attribute *attr, char *buf)
{
	struct nvsim_dev *nd = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%s\n",
			  nvsim_mf_names[atomic_read(&nd->mig_fail)]);
}

static ssize_t mig_fail_store(struct device *dev,
			      struct device_attribute *attr,
			      const char *buf, size_t count)
{
	struct nvsim_dev *nd = dev_get_drvdata(dev);
	int i = sysfs_match_string(nvsim_mf_names, buf);

	if (i < 0)
		return i;
	atomic_set(&nd->mig_fail, i);
	return count;
}
static DEVICE_ATTR_RW(mig_fail);

/*
 * nvsim/{edid,err_irq,plane_region}: features real drivers may lack, and
 * where the display region sits.  Writable only while the device is
 * closed, so they hold for a whole open.
 */
static ssize_t nvsim_closed_show(struct device *dev, char *buf,
				 const unsigned int *field)
{
	struct nvsim_dev *nd = dev_get_drvdata(dev);
	ssize_t ret;

	mutex_lock(&nd->lock);
	ret = sysfs_emit(buf, "%u\n", *field);
	mutex_unlock(&nd->lock);
	return ret;
}

static ssize_t nvsim_closed_store(struct device *dev, const char *buf,
				  size_t count, unsigned int *field,
				  unsigned int min, unsigned int max)
{
	struct nvsim_dev *nd = dev_get_drvdata(dev);
	unsigned int v;
	int ret;

	ret = kstrtouint(buf, 10, &v);
	if (ret)
		return ret;
	if (v < min || v > max)
		return -EINVAL;
	mutex_lock(&nd->lock);
	if (nd->open)
		ret = -EBUSY;
	else
		*field = v;
	mutex_unlock(&nd->lock);
	return ret ? ret : count;
}

#define NVSIM_CLOSED_ATTR(name, field, min, max)			\
static ssize_t name##_show(struct device *dev,				\
			   struct device_attribute *attr, char *buf)	\
{									\
	struct nvsim_dev *nd = dev_get_drvdata(dev);			\
									\
	return nvsim_closed_show(dev, buf, &nd->field);			\
}									\
static ssize_t name##_store(struct device *dev,				\
			    struct device_attribute *attr,		\
			    const char *buf, size_t count)		\
{									\
	struct nvsim_dev *nd = dev_get_drvdata(dev);			\
									\
	return nvsim_closed_store(dev, buf, count, &nd->field, min, max); \
}									\
static DEVICE_ATTR_RW(name)

NVSIM_CLOSED_ATTR(edid, has_edid, 0, 1);
NVSIM_CLOSED_ATTR(err_irq, has_err_irq, 0, 1);
/* 10, where it is by default, or any index past NVSIM_NUM_REGIONS */
NVSIM_CLOSED_ATTR(plane_region, plane_region, NVSIM_DISPLAY_REGION_INDEX,
		  NVSIM_PLANE_REGION_MAX);

/* nvsim/migration: 0 offers no VFIO migration; only while closed */
static ssize_t migration_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	struct nvsim_dev *nd = dev_get_drvdata(dev);
	bool on;

	mutex_lock(&nd->lock);
	on = nd->migration;
	mutex_unlock(&nd->lock);
	return sysfs_emit(buf, "%d\n", on);
}

static ssize_t migration_store(struct device *dev,
			       struct device_attribute *attr,
			       const char *buf, size_t count)
{
	struct nvsim_dev *nd = dev_get_drvdata(dev);
	bool on;
	int ret;

	ret = kstrtobool(buf, &on);
	if (ret)
		return ret;
	/* the core's debugfs state file, made at registration, needs mig_ops */
	if (!on && IS_ENABLED(CONFIG_VFIO_DEBUGFS))
		return -EOPNOTSUPP;
	mutex_lock(&nd->lock);
	if (nd->open)
		ret = -EBUSY;
	else
		nd->migration = on;
	mutex_unlock(&nd->lock);
	return ret ? ret : count;
}
static DEVICE_ATTR_RW(migration);

/* nvsim/strict_resuming: 1 refuses region I/O while RESUMING */
static ssize_t strict_resuming_show(struct device *dev,
				    struct device_attribute *attr, char *buf)
{
	struct nvsim_dev *nd = dev_get_drvdata(dev);
	bool on;

	mutex_lock(&nd->lock);
	on = nd->strict_resuming;
	mutex_unlock(&nd->lock);
	return sysfs_emit(buf, "%d\n", on);
}

static ssize_t strict_resuming_store(struct device *dev,
				     struct device_attribute *attr,
				     const char *buf, size_t count)
{
	struct nvsim_dev *nd = dev_get_drvdata(dev);
	bool on;
	int ret;

	ret = kstrtobool(buf, &on);
	if (ret)
		return ret;
	mutex_lock(&nd->lock);
	nd->strict_resuming = on;
	mutex_unlock(&nd->lock);
	return count;
}
static DEVICE_ATTR_RW(strict_resuming);

/*
 * nvsim/resumed: bytes of device state taken through resuming data fds
 * since the mdev was made, so that tests can tell that a destination
 * refused a stream before any vGPU state reached the driver.
 */
static ssize_t resumed_show(struct device *dev,
			    struct device_attribute *attr, char *buf)
{
	struct nvsim_dev *nd = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%lld\n",
			  (long long)atomic64_read(&nd->resumed_bytes));
}
static DEVICE_ATTR_RO(resumed);

static struct attribute *nvsim_nvsim_attrs[] = {
	&dev_attr_plane.attr,
	&dev_attr_inject_irq.attr,
	&dev_attr_frame_rate.attr,
	&dev_attr_plane_fault.attr,
	&dev_attr_mig_fail.attr,
	&dev_attr_edid.attr,
	&dev_attr_err_irq.attr,
	&dev_attr_plane_region.attr,
	&dev_attr_migration.attr,
	&dev_attr_strict_resuming.attr,
	&dev_attr_resumed.attr,
	NULL,
};

static const struct attribute_group nvsim_nvsim_group = {
	.name = "nvsim",
	.attrs = nvsim_nvsim_attrs,
};

static const struct attribute_group *nvsim_mdev_groups[] = {
	&nvsim_nvidia_group,
	&nvsim_nvsim_group,
	NULL,
};

/* ------------------------------------------------------------------ */
/* VFIO device ops */

static int nvsim_init_dev(struct vfio_device *vdev)
{
	struct nvsim_dev *nd = vdev_to_nvsim(vdev);
	struct mdev_device *mdev = to_mdev_device(vdev->dev);
	const struct nvsim_type *type = to_nvsim_type(mdev->type);

	nd->blank_page = alloc_page(GFP_KERNEL | __GFP_ZERO);
	if (!nd->blank_page)
		return -ENOMEM;
	nd->mdev = mdev;
	nd->type = type;
	nd->front = &nvsim_pci_front;
	nd->driver_version = type->parent->driver_version;
	nd->fb_size = (u64)type->fb_mb << 20;
	nd->fb_pages = nd->fb_size >> PAGE_SHIFT;
	xa_init(&nd->fb);
	INIT_LIST_HEAD(&nd->fb_views);
	atomic_long_set(&nd->fb_nr_pages, 0);
	atomic_long_set(&nd->fb_nr_dirty, 0);
	atomic_set(&nd->mig_fail, NVSIM_MF_NONE);
	atomic64_set(&nd->resumed_bytes, 0);
	mutex_init(&nd->lock);

	nd->params_req = (struct nvsim_params)NVSIM_PARAMS_DEFAULT;
	nd->params = nd->params_req;
	nd->plane_mode_req = nvsim_default_plane;
	nd->plane_mode = nvsim_default_plane;
	nd->plane_id = 1;
	nd->has_edid = 1;
	nd->has_err_irq = 1;
	nd->plane_region = NVSIM_DISPLAY_REGION_INDEX;
	nd->mig_state = VFIO_DEVICE_STATE_RUNNING;
	nd->migration = true;

	mutex_lock(&nd->lock);
	nvsim_mig_open_locked(nd);
	nvsim_config_init(nd);
	nvsim_reset_locked(nd);
	mutex_unlock(&nd->lock);
	return 0;
}

static void nvsim_release_dev(struct vfio_device *vdev)
{
	struct nvsim_dev *nd = vdev_to_nvsim(vdev);

	nvsim_fb_views_detach_all(nd);
	nvsim_fb_free(nd);
	put_page(nd->blank_page);
	mutex_destroy(&nd->lock);
}

static int nvsim_open_device(struct vfio_device *vdev)
{
	struct nvsim_dev *nd = vdev_to_nvsim(vdev);

	mutex_lock(&nd->lock);
	nd->open = true;
	nd->params = nd->params_req;
	nd->plane_mode = nd->plane_mode_req;
	nvsim_mig_open_locked(nd);
	nvsim_reset_locked(nd);
	nvsim_edid_reset_locked(nd);
	mutex_unlock(&nd->lock);
	return 0;
}

static void nvsim_close_device(struct vfio_device *vdev)
{
	struct nvsim_dev *nd = vdev_to_nvsim(vdev);

	mutex_lock(&nd->lock);
	nvsim_mig_reset_locked(nd);
	nvsim_irqs_release_locked(nd);
	nd->open = false;
	mutex_unlock(&nd->lock);
}

/*
 * The mdev is being removed while its user still has it open; the VFIO
 * core calls this again and again until the user lets go.  Ask the user
 * through its request interrupt (QEMU unplugs the device then), and say
 * so in the log at the first call and then every 30th, rate-limited; a
 * user with no request eventfd cannot be asked, which is said once.
 */
static void nvsim_request(struct vfio_device *vdev, unsigned int count)
{
	struct nvsim_dev *nd = vdev_to_nvsim(vdev);
	bool asked;

	mutex_lock(&nd->lock);
	asked = !nvsim_signal_irq(nd, VFIO_PCI_REQ_IRQ_INDEX);
	mutex_unlock(&nd->lock);

	if (asked && !(count % 30))
		dev_info_ratelimited(&nd->mdev->dev,
				     "removal waits for its user: request interrupt sent (%u)\n",
				     count + 1);
	else if (!asked && !count)
		dev_info(&nd->mdev->dev,
			 "removal waits for its user, which has no request interrupt to be asked with\n");
}

static const struct vfio_device_ops nvsim_vfio_ops = {
	.name		= "vfio-nvsim",
	.init		= nvsim_init_dev,
	.release	= nvsim_release_dev,
	.open_device	= nvsim_open_device,
	.close_device	= nvsim_close_device,
	.read		= nvsim_read,
	.write		= nvsim_write,
	.ioctl		= nvsim_ioctl,
	.mmap		= nvsim_mmap,
	.request	= nvsim_request,
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

	pr_info("simulated vGPU parent ready (budget %u MiB, driver %s, %s planes)\n",
		fb_budget_mb, nvsim_driver_version,
		nvsim_plane_names[nvsim_default_plane]);
	if (second)
		pr_info("second parent %s ready (budget %u MiB, driver %s)\n",
			NVSIM_NAME2, fb_budget_mb, parent2_driver_version);
	return 0;

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
	nvsim_parent_del(&nvsim_parents[1]);
	nvsim_parent_del(&nvsim_parents[0]);
	mdev_unregister_driver(&nvsim_mdev_driver);
	class_unregister(&nvsim_class);
}

module_init(nvsim_init);
module_exit(nvsim_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Simulated NVIDIA vGPU mdev parent driver");
MODULE_IMPORT_NS(DMA_BUF);
