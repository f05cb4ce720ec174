// SPDX-License-Identifier: GPL-2.0
/*
 * nvsim - the life cycle of a vGPU device, shared by its fronts: an mdev
 * (nvsim-main.c), whose type is fixed at creation, and an SR-IOV virtual
 * function (nvsim-sriov.c), which is made without a type and is given
 * one, and released from it, while it is closed.
 */
#include <linux/device.h>
#include <linux/log2.h>
#include <linux/mm.h>

#include "nvsim.h"

/* A framebuffer of @size bytes (0: none) and BAR1 around it */
static void nvsim_dev_set_fb_size_locked(struct nvsim_dev *nd, u64 size)
{
	nd->fb_size = size;
	nd->fb_pages = size >> PAGE_SHIFT;
	nd->bar1_size = size ? roundup_pow_of_two(size) : 0;
}

/*
 * Set up @nd, just allocated by vfio_alloc_device(), for a vGPU of @type
 * (NULL: none yet) whose host driver is @driver_version.  Undone by
 * nvsim_vdev_release().
 */
int nvsim_dev_init(struct nvsim_dev *nd, const struct nvsim_type *type,
		   const char *driver_version)
{
	nd->blank_page = alloc_page(GFP_KERNEL | __GFP_ZERO);
	if (!nd->blank_page)
		return -ENOMEM;
	nd->front = &nvsim_pci_front;
	nd->driver_version = driver_version;
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
	nd->type = type;
	nvsim_dev_set_fb_size_locked(nd, type ? (u64)type->fb_mb << 20 : 0);
	nvsim_mig_open_locked(nd);
	nvsim_config_init(nd);
	nvsim_reset_locked(nd);
	mutex_unlock(&nd->lock);
	return 0;
}

/*
 * Give the closed, untyped @nd the vGPU @type: a framebuffer of its size
 * (allocated on first touch) and the registers and config space of a
 * device just made.  The nvsim/ switches and fault injections are the
 * VF's, set by tests before or after, and stay; nvsim/resumed counts
 * from here.
 */
void nvsim_dev_set_type_locked(struct nvsim_dev *nd,
			       const struct nvsim_type *type)
{
	lockdep_assert_held(&nd->lock);
	WARN_ON(nd->open || nd->type);

	nd->type = type;
	nvsim_dev_set_fb_size_locked(nd, (u64)type->fb_mb << 20);
	atomic64_set(&nd->resumed_bytes, 0);
	memset(&nd->last_plane, 0, sizeof(nd->last_plane));
	nvsim_reset_locked(nd);
	nvsim_edid_reset_locked(nd);
}

/*
 * Release the closed @nd's vGPU: nothing of it may reach the next one.
 * Its framebuffer pages go (exported dma-bufs keep their own references
 * and stop being tracked), and so do its parameters.  Every mapping of
 * the device fd is gone, as the device is closed.
 */
void nvsim_dev_clear_type_locked(struct nvsim_dev *nd)
{
	lockdep_assert_held(&nd->lock);
	WARN_ON(nd->open);

	nvsim_fb_views_detach_all(nd);
	nvsim_fb_free(nd);
	nd->type = NULL;
	nvsim_dev_set_fb_size_locked(nd, 0);
	nd->params_req = (struct nvsim_params)NVSIM_PARAMS_DEFAULT;
	nd->params = nd->params_req;
	nd->params_str[0] = '\0';
	nvsim_reset_locked(nd);
	nvsim_edid_reset_locked(nd);
}

/* first open of the device fd: what was requested while closed applies */
void nvsim_dev_open_locked(struct nvsim_dev *nd)
{
	lockdep_assert_held(&nd->lock);

	nd->open = true;
	nd->params = nd->params_req;
	nd->plane_mode = nd->plane_mode_req;
	nvsim_mig_open_locked(nd);
	nvsim_reset_locked(nd);
	nvsim_edid_reset_locked(nd);
}

void nvsim_vdev_release(struct vfio_device *vdev)
{
	struct nvsim_dev *nd = vdev_to_nvsim(vdev);

	nvsim_fb_views_detach_all(nd);
	nvsim_fb_free(nd);
	put_page(nd->blank_page);
	mutex_destroy(&nd->lock);
}

void nvsim_vdev_close(struct vfio_device *vdev)
{
	struct nvsim_dev *nd = vdev_to_nvsim(vdev);

	mutex_lock(&nd->lock);
	nvsim_mig_reset_locked(nd);
	nvsim_irqs_release_locked(nd);
	nd->open = false;
	mutex_unlock(&nd->lock);
}

/*
 * The device is being removed while its user still has it open; the VFIO
 * core calls this again and again until the user lets go.  Ask the user
 * through its request interrupt (QEMU unplugs the device then), and say
 * so in the log at the first call and then every 30th, rate-limited; a
 * user with no request eventfd cannot be asked, which is said once.
 */
void nvsim_vdev_request(struct vfio_device *vdev, unsigned int count)
{
	struct nvsim_dev *nd = vdev_to_nvsim(vdev);
	bool asked;

	mutex_lock(&nd->lock);
	asked = !nvsim_signal_irq(nd, VFIO_PCI_REQ_IRQ_INDEX);
	mutex_unlock(&nd->lock);

	if (asked && !(count % 30))
		dev_info_ratelimited(vdev->dev,
				     "removal waits for its user: request interrupt sent (%u)\n",
				     count + 1);
	else if (!asked && !count)
		dev_info(vdev->dev,
			 "removal waits for its user, which has no request interrupt to be asked with\n");
}
