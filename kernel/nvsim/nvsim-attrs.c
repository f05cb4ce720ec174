// SPDX-License-Identifier: GPL-2.0
/*
 * nvsim - sysfs attributes of a vGPU, shared by its fronts (an mdev's
 * device directory, a VF's PCI device directory): nvidia/vgpu_params,
 * and the nvsim/ group of fault injections, feature switches and
 * counters.  The device's drvdata is its struct nvsim_dev.
 */
#include <linux/device.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include "nvsim.h"

/* ------------------------------------------------------------------ */
/* nvidia/vgpu_params */

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
DEVICE_ATTR_RW(vgpu_params);

/* ------------------------------------------------------------------ */
/*
 * per vGPU attributes: nvsim/{plane,inject_irq,frame_rate,plane_fault,
 * mig_fail}, nvsim/{edid,err_irq,plane_region},
 * nvsim/{migration,strict_resuming} and nvsim/resumed
 */

const char * const nvsim_plane_names[NVSIM_NR_PLANE_MODES] = {
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

/*
 * The frame rate cap of this open: the type's frl_config, 0 for none (and
 * on a VF without a type)
 */
static ssize_t frame_rate_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	struct nvsim_dev *nd = dev_get_drvdata(dev);
	unsigned int frl;

	mutex_lock(&nd->lock);
	frl = nd->params.frame_rate_limiter && nd->type ? nd->type->frl : 0;
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
 * since the vGPU was made (the mdev, or the VF's type), so that tests
 * can tell that a destination refused a stream before any vGPU state
 * reached the driver.
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

const struct attribute_group nvsim_switches_group = {
	.name = "nvsim",
	.attrs = nvsim_nvsim_attrs,
};

