// SPDX-License-Identifier: GPL-2.0
/*
 * nvsim - the vGPU's core: what every way of presenting it shares.
 *
 * The framebuffer's pages and their marks, the mappings through which
 * they are seen (BAR1 and the display region on the device fd, and
 * "views": exported dma-bufs) with the write tracking migration relies
 * on, the set of registers a migration carries, and whether the vGPU
 * serves region I/O right now.  The PCI function (nvsim-pci.c), the
 * display (nvsim-display.c) and migration (nvsim-mig.c) sit on this and
 * on nvsim.h's struct nvsim_dev; none of them calls the other two except
 * through it, so that another kind of device (an SR-IOV function) can
 * reuse display and migration with its own PCI front end.
 */
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/uaccess.h>

#include "nvsim.h"

/* ------------------------------------------------------------------ */
/* framebuffer pages */

struct page *nvsim_fb_page(struct nvsim_dev *nd, unsigned long idx,
			   bool alloc)
{
	struct page *page, *old;

	if (idx >= nd->fb_pages)
		return NULL;
	page = xa_load(&nd->fb, idx);
	if (page || !alloc)
		return page;

	page = alloc_page(GFP_KERNEL | __GFP_ZERO);
	if (!page)
		return NULL;
	old = xa_cmpxchg(&nd->fb, idx, NULL, page, GFP_KERNEL);
	if (old) {
		/* lost a race against another allocator, or -ENOMEM */
		__free_page(page);
		return xa_is_err(old) ? NULL : old;
	}
	atomic_long_inc(&nd->fb_nr_pages);
	return page;
}

/* set @mark on a present page; NVSIM_FB_DIRTY is counted */
void nvsim_fb_mark(struct nvsim_dev *nd, unsigned long idx, xa_mark_t mark)
{
	xa_lock(&nd->fb);
	if (xa_load(&nd->fb, idx) && !xa_get_mark(&nd->fb, idx, mark)) {
		__xa_set_mark(&nd->fb, idx, mark);
		if (mark == NVSIM_FB_DIRTY)
			atomic_long_inc(&nd->fb_nr_dirty);
	}
	xa_unlock(&nd->fb);
}

bool nvsim_fb_test_and_clear_dirty(struct nvsim_dev *nd, unsigned long idx)
{
	bool was = false;

	xa_lock(&nd->fb);
	if (xa_get_mark(&nd->fb, idx, NVSIM_FB_DIRTY)) {
		__xa_clear_mark(&nd->fb, idx, NVSIM_FB_DIRTY);
		atomic_long_dec(&nd->fb_nr_dirty);
		was = true;
	}
	xa_unlock(&nd->fb);
	return was;
}

void nvsim_fb_free(struct nvsim_dev *nd)
{
	struct page *page;
	unsigned long idx;

	xa_for_each(&nd->fb, idx, page) {
		put_page(page);
		cond_resched();
	}
	xa_destroy(&nd->fb);
	atomic_long_set(&nd->fb_nr_pages, 0);
	atomic_long_set(&nd->fb_nr_dirty, 0);
}

/*
 * Copy between user memory and the framebuffer at byte offset @off.
 * Reading an untouched page returns zeroes without allocating it.
 * No device lock is held: pages are never freed while the device is open.
 */
ssize_t nvsim_fb_rw(struct nvsim_dev *nd, u64 off, char __user *ubuf,
		    size_t count, bool write)
{
	size_t done = 0;

	if (off >= nd->fb_size)
		return -EINVAL;
	count = min_t(u64, count, nd->fb_size - off);

	while (done < count) {
		unsigned long idx = (off + done) >> PAGE_SHIFT;
		size_t poff = (off + done) & ~PAGE_MASK;
		size_t n = min_t(size_t, PAGE_SIZE - poff, count - done);
		struct page *page = nvsim_fb_page(nd, idx, write);
		unsigned long left;

		if (write) {
			if (!page)
				return done ? done : -ENOMEM;
			left = copy_from_user(page_address(page) + poff,
					      ubuf + done, n);
			nvsim_fb_mark(nd, idx, NVSIM_FB_DIRTY);
		} else if (page) {
			left = copy_to_user(ubuf + done,
					    page_address(page) + poff, n);
		} else {
			left = clear_user(ubuf + done, n);
		}
		if (left)
			return done ? done : -EFAULT;
		done += n;
		if (fatal_signal_pending(current))
			return done;
		cond_resched();
	}
	return done;
}

/* ------------------------------------------------------------------ */
/* views: other mappings of framebuffer pages (dma-bufs), which may
 * outlive the device */

/*
 * Protects every nvsim_dev.fb_views list and the @nd and @node fields of
 * every view.  It is global, not per device, because a view may outlive
 * its device: nvsim_fb_views_detach_all() clears @nd under it before the
 * device is freed, and a view's users look at @nd only while holding it.
 * Order: mmap_lock and a dma-buf's reservation lock -> nvsim_view_lock ->
 * i_mmap_rwsem (zaps) and the framebuffer xa_lock.
 */
static DEFINE_MUTEX(nvsim_view_lock);

/* Track @v, whose @mapping, @first and @npages are set, as @nd's. */
void nvsim_fb_view_attach(struct nvsim_dev *nd, struct nvsim_fb_view *v)
{
	mutex_lock(&nvsim_view_lock);
	v->nd = nd;
	list_add(&v->node, &nd->fb_views);
	mutex_unlock(&nvsim_view_lock);
}

void nvsim_fb_view_detach(struct nvsim_fb_view *v)
{
	mutex_lock(&nvsim_view_lock);
	if (v->nd)
		list_del(&v->node);
	v->nd = NULL;
	mutex_unlock(&nvsim_view_lock);
}

/*
 * Set @mark on @n pages of the view from its page @pgoff on, in its
 * device's framebuffer; nothing once the device is gone.
 */
void nvsim_fb_view_mark(struct nvsim_fb_view *v, unsigned long pgoff,
			unsigned long n, xa_mark_t mark)
{
	unsigned long i;

	mutex_lock(&nvsim_view_lock);
	for (i = 0; v->nd && i < n && pgoff + i < v->npages; i++)
		nvsim_fb_mark(v->nd, v->first + pgoff + i, mark);
	mutex_unlock(&nvsim_view_lock);
}

/* zap framebuffer page @idx in the mappings of @nd's views */
static void nvsim_fb_views_write_protect(struct nvsim_dev *nd,
					 unsigned long idx)
{
	struct nvsim_fb_view *v;

	mutex_lock(&nvsim_view_lock);
	list_for_each_entry(v, &nd->fb_views, node) {
		if (idx < v->first || idx - v->first >= v->npages)
			continue;
		unmap_mapping_range(v->mapping,
				    (loff_t)(idx - v->first) << PAGE_SHIFT,
				    PAGE_SIZE, 0);
	}
	mutex_unlock(&nvsim_view_lock);
}

/* the device is being freed: its views live on, untracked */
void nvsim_fb_views_detach_all(struct nvsim_dev *nd)
{
	struct nvsim_fb_view *v, *tmp;

	mutex_lock(&nvsim_view_lock);
	list_for_each_entry_safe(v, tmp, &nd->fb_views, node) {
		list_del(&v->node);
		v->nd = NULL;
	}
	mutex_unlock(&nvsim_view_lock);
}

/* ------------------------------------------------------------------ */
/* write tracking and the display region's mappings */

/*
 * Zap every PTE of framebuffer page @idx, in BAR1 mmaps and in the
 * mappings of every view, so that the next store to it goes through
 * page_mkwrite again.
 */
void nvsim_fb_write_protect(struct nvsim_dev *nd, unsigned long idx)
{
	struct address_space *mapping = READ_ONCE(nd->fb_mapping);

	if (mapping)
		unmap_mapping_range(mapping, (loff_t)idx << PAGE_SHIFT,
				    PAGE_SIZE, 0);
	nvsim_fb_views_write_protect(nd, idx);
}

/*
 * The scanout moved or the display region changed: zap every mapping of
 * the display region, whose faults then look the pages up anew.
 */
void nvsim_display_zap_locked(struct nvsim_dev *nd)
{
	struct address_space *mapping = READ_ONCE(nd->fb_mapping);

	lockdep_assert_held(&nd->lock);
	if (mapping)
		unmap_mapping_range(mapping,
				    NVSIM_INDEX_TO_OFFSET(nd->plane_region),
				    NVSIM_INDEX_TO_OFFSET(1), 0);
}

/* ------------------------------------------------------------------ */
/* the registers a migration carries, and when region I/O is refused */

static const u32 nvsim_reg_offsets[NVSIM_R_COUNT] = {
	[NVSIM_R_SCRATCH] = NVSIM_REG_SCRATCH,
	[NVSIM_R_HEAD0_ENABLE] = NVSIM_REG_HEAD0_ENABLE,
	[NVSIM_R_HEAD0_WIDTH] = NVSIM_REG_HEAD0_WIDTH,
	[NVSIM_R_HEAD0_HEIGHT] = NVSIM_REG_HEAD0_HEIGHT,
	[NVSIM_R_HEAD0_STRIDE] = NVSIM_REG_HEAD0_STRIDE,
	[NVSIM_R_HEAD0_FORMAT] = NVSIM_REG_HEAD0_FORMAT,
	[NVSIM_R_HEAD0_FB_OFFSET_LO] = NVSIM_REG_HEAD0_FB_OFFSET_LO,
	[NVSIM_R_HEAD0_FB_OFFSET_HI] = NVSIM_REG_HEAD0_FB_OFFSET_HI,
	[NVSIM_R_CURSOR_ENABLE] = NVSIM_REG_CURSOR_ENABLE,
	[NVSIM_R_CURSOR_X] = NVSIM_REG_CURSOR_X,
	[NVSIM_R_CURSOR_Y] = NVSIM_REG_CURSOR_Y,
};

bool nvsim_reg_is_writable(u32 offset, unsigned int *idx)
{
	unsigned int i;

	for (i = 0; i < NVSIM_R_COUNT; i++) {
		if (nvsim_reg_offsets[i] == offset) {
			*idx = i;
			return true;
		}
	}
	return false;
}

/*
 * nvsim/strict_resuming: a driver that restores its device from the
 * stream may refuse other region accesses until RESUMING ends.  nvsim then
 * fails reads and writes of the BARs and of the device-specific regions
 * with -EIO, what vfio-pci-core returns for a BAR access its device cannot
 * serve.  Config space stays accessible: vfio-pci restores it while the
 * device is RESUMING, and a driver refusing that would fail every QEMU.
 */
bool nvsim_io_refused(struct nvsim_dev *nd)
{
	bool refuse;

	mutex_lock(&nd->lock);
	refuse = nd->strict_resuming &&
		 nd->mig_state == VFIO_DEVICE_STATE_RESUMING;
	mutex_unlock(&nd->lock);
	return refuse;
}
