// SPDX-License-Identifier: GPL-2.0
/*
 * nvsim - head 0 display: GFX plane queries (region and dma-buf planes),
 * dma-buf export and the EDID region.
 */
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/pagemap.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "nvsim.h"

/* values of enum drm_plane_type (DRM uAPI property values) */
#define NVSIM_DRM_PLANE_OVERLAY	0
#define NVSIM_DRM_PLANE_PRIMARY	1
#define NVSIM_DRM_PLANE_CURSOR	2

static unsigned int nvsim_format_cpp(u32 fourcc)
{
	switch (fourcc) {
	case NVSIM_FMT_XRGB8888:
	case NVSIM_FMT_ARGB8888:
	case NVSIM_FMT_XBGR8888:
		return 4;
	case NVSIM_FMT_RGB565:
		return 2;
	}
	return 0;
}

/* largest plane a profile can scan out, also the dma-buf size limit */
static u64 nvsim_max_plane_bytes(const struct nvsim_type *t)
{
	return PAGE_ALIGN((u64)t->max_x * t->max_y * 4);
}

/*
 * Compute head 0's plane from the registers.  A disabled or invalid
 * head yields an all-zero plane.  With @apply_fault the configured
 * plane_fault corrupts the reported geometry.
 */
int nvsim_plane_get_locked(struct nvsim_dev *nd, struct nvsim_plane *p,
			   bool apply_fault)
{
	const u32 *r = nd->regs;
	u64 offset, size;
	unsigned int cpp;

	lockdep_assert_held(&nd->lock);
	memset(p, 0, sizeof(*p));

	if (!(r[NVSIM_R_HEAD0_ENABLE] & 1))
		return 0;
	cpp = nvsim_format_cpp(r[NVSIM_R_HEAD0_FORMAT]);
	if (!cpp)
		return 0;
	if (!r[NVSIM_R_HEAD0_WIDTH] || !r[NVSIM_R_HEAD0_HEIGHT] ||
	    r[NVSIM_R_HEAD0_WIDTH] > nd->type->max_x ||
	    r[NVSIM_R_HEAD0_HEIGHT] > nd->type->max_y)
		return 0;
	if ((u64)r[NVSIM_R_HEAD0_STRIDE] < (u64)r[NVSIM_R_HEAD0_WIDTH] * cpp)
		return 0;
	offset = ((u64)r[NVSIM_R_HEAD0_FB_OFFSET_HI] << 32) |
		 r[NVSIM_R_HEAD0_FB_OFFSET_LO];
	size = PAGE_ALIGN((u64)r[NVSIM_R_HEAD0_STRIDE] *
			  r[NVSIM_R_HEAD0_HEIGHT]);
	if (offset & ~PAGE_MASK || offset >= nd->fb_size ||
	    size > nd->fb_size - offset || size > U32_MAX)
		return 0;

	p->drm_format = r[NVSIM_R_HEAD0_FORMAT];
	p->width = r[NVSIM_R_HEAD0_WIDTH];
	p->height = r[NVSIM_R_HEAD0_HEIGHT];
	p->stride = r[NVSIM_R_HEAD0_STRIDE];
	p->size = size;
	p->offset = offset;
	p->dmabuf_size = size;

	if (!apply_fault)
		return 0;

	switch (nd->plane_fault) {
	case NVSIM_PF_HUGE:
		p->width = 0x10000;
		p->height = 0x10000;
		p->stride = 0x40000;
		p->size = U32_MAX & PAGE_MASK;
		p->dmabuf_size = p->size;
		break;
	case NVSIM_PF_SHORT_STRIDE:
		p->stride = p->width * cpp / 2;
		break;
	case NVSIM_PF_SMALL_DMABUF:
		p->dmabuf_size = PAGE_SIZE;
		break;
	case NVSIM_PF_BAD_OFFSET:
		p->offset = nd->fb_size;
		break;
	case NVSIM_PF_BAD_FORMAT:
		p->drm_format = NVSIM_FMT_BOGUS;
		break;
	default:
		break;
	}
	return 0;
}

/*
 * The display (region plane) region has a fixed size, the profile's
 * largest plane, so mappings of it stay valid whatever the guest does;
 * its offset 0 is the current scanout start (0 while the head is off).
 */
u64 nvsim_display_region_size(struct nvsim_dev *nd, u64 *fb_offset)
{
	struct nvsim_plane p;

	lockdep_assert_held(&nd->lock);
	*fb_offset = 0;
	if (nd->params.disable_vnc)
		return 0;
	nvsim_plane_get_locked(nd, &p, true);
	*fb_offset = p.offset;
	return nvsim_max_plane_bytes(nd->type);
}

static u32 nvsim_plane_id_locked(struct nvsim_dev *nd,
				 const struct nvsim_plane *p)
{
	struct nvsim_plane *last = &nd->last_plane;

	if (p->drm_format != last->drm_format || p->width != last->width ||
	    p->height != last->height || p->stride != last->stride ||
	    p->size != last->size || p->offset != last->offset ||
	    p->dmabuf_size != last->dmabuf_size) {
		*last = *p;
		nd->plane_id++;
		if (!nd->plane_id)
			nd->plane_id = 1;
	}
	return nd->plane_id;
}

long nvsim_query_gfx_plane(struct nvsim_dev *nd, unsigned long arg)
{
	size_t minsz = offsetofend(struct vfio_device_gfx_plane_info,
				   region_index);
	struct vfio_device_gfx_plane_info info;
	struct nvsim_plane p;
	u32 kind;
	long ret = 0;

	if (copy_from_user(&info, (void __user *)arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;

	mutex_lock(&nd->lock);
	if (nd->params.disable_vnc) {
		ret = -EINVAL;
		goto out_unlock;
	}
	kind = nd->plane_mode == NVSIM_PLANE_DMABUF ?
	       VFIO_GFX_PLANE_TYPE_DMABUF : VFIO_GFX_PLANE_TYPE_REGION;

	if (info.flags & VFIO_GFX_PLANE_TYPE_PROBE) {
		ret = info.flags == (VFIO_GFX_PLANE_TYPE_PROBE | kind) ?
		      0 : -EINVAL;
		goto out_unlock;
	}
	if (info.flags != kind) {
		ret = -EINVAL;
		goto out_unlock;
	}
	if (nd->plane_fault == NVSIM_PF_ENOMEM_ONCE) {
		/* as a driver short of memory while it comes up */
		nd->plane_fault = NVSIM_PF_NONE;
		ret = -ENOMEM;
		goto out_unlock;
	}

	switch (info.drm_plane_type) {
	case NVSIM_DRM_PLANE_OVERLAY:
		/*
		 * QEMU's vfio-pci region display leaves the type 0; like
		 * other mdev drivers, take it for head 0, the only plane.
		 */
	case NVSIM_DRM_PLANE_PRIMARY:
		nvsim_plane_get_locked(nd, &p, true);
		break;
	case NVSIM_DRM_PLANE_CURSOR:
		/* no cursor image: report a disabled cursor plane */
		memset(&p, 0, sizeof(p));
		break;
	default:
		ret = -EINVAL;
		goto out_unlock;
	}

	info.drm_format = p.drm_format;
	info.drm_format_mod = 0;	/* DRM_FORMAT_MOD_LINEAR */
	info.width = p.width;
	info.height = p.height;
	info.stride = p.stride;
	info.size = p.size;
	info.x_pos = 0;
	info.y_pos = 0;
	info.x_hot = 0;
	info.y_hot = 0;
	if (kind == VFIO_GFX_PLANE_TYPE_REGION)
		info.region_index = nd->plane_region;
	else if (info.drm_plane_type == NVSIM_DRM_PLANE_PRIMARY && p.size)
		info.dmabuf_id = nvsim_plane_id_locked(nd, &p);
	else
		info.dmabuf_id = 0;
	mutex_unlock(&nd->lock);

	return copy_to_user((void __user *)arg, &info, minsz) ? -EFAULT : 0;

out_unlock:
	mutex_unlock(&nd->lock);
	return ret;
}

/* ------------------------------------------------------------------ */
/* dma-buf export of the scanout */

/*
 * One exported scanout: a view of the framebuffer pages it covers (the
 * core tracks stores through its mmaps and write-protects it with the
 * framebuffer), and a reference on each of those pages, so that it stays
 * valid after the device is gone.
 */
struct nvsim_dmabuf {
	struct nvsim_fb_view view;	/* @mapping: the dma-buf file's */
	struct page **pages;		/* view.npages, immutable */
};

static struct sg_table *nvsim_dmabuf_map(struct dma_buf_attachment *at,
					 enum dma_data_direction dir)
{
	struct nvsim_dmabuf *nb = at->dmabuf->priv;
	struct sg_table *sgt;
	int ret;

	sgt = kzalloc(sizeof(*sgt), GFP_KERNEL);
	if (!sgt)
		return ERR_PTR(-ENOMEM);
	ret = sg_alloc_table_from_pages(sgt, nb->pages, nb->view.npages, 0,
					nb->view.npages << PAGE_SHIFT,
					GFP_KERNEL);
	if (ret)
		goto err_free;
	ret = dma_map_sgtable(at->dev, sgt, dir, 0);
	if (ret)
		goto err_table;
	/*
	 * The importer's device may write to the pages, and nothing can
	 * tell when: have them resent at every STOP_COPY from now on.
	 */
	if (dir != DMA_TO_DEVICE)
		nvsim_fb_view_mark(&nb->view, 0, nb->view.npages,
				   NVSIM_FB_DMA_WRITE);
	return sgt;

err_table:
	sg_free_table(sgt);
err_free:
	kfree(sgt);
	return ERR_PTR(ret);
}

static void nvsim_dmabuf_unmap(struct dma_buf_attachment *at,
			       struct sg_table *sgt,
			       enum dma_data_direction dir)
{
	dma_unmap_sgtable(at->dev, sgt, dir, 0);
	sg_free_table(sgt);
	kfree(sgt);
}

static void nvsim_dmabuf_release(struct dma_buf *buf)
{
	struct nvsim_dmabuf *nb = buf->priv;
	unsigned long i;

	nvsim_fb_view_detach(&nb->view);
	for (i = 0; i < nb->view.npages; i++)
		put_page(nb->pages[i]);
	kvfree(nb->pages);
	kfree(nb);
}

static vm_fault_t nvsim_dmabuf_vm_fault(struct vm_fault *vmf)
{
	struct nvsim_dmabuf *nb = vmf->vma->vm_private_data;
	struct page *page;

	if (vmf->pgoff >= nb->view.npages)
		return VM_FAULT_SIGBUS;
	page = nb->pages[vmf->pgoff];
	get_page(page);
	vmf->page = page;
	return 0;
}

/*
 * Like BAR1 mmaps, shared writable dma-buf mmaps are write-notified: the
 * first store to a page after it was mapped, or after the migration
 * stream sent it (nvsim_fb_write_protect()), lands here and marks
 * the framebuffer page dirty.  Once the device is gone there is nothing
 * left to track.
 */
static vm_fault_t nvsim_dmabuf_vm_mkwrite(struct vm_fault *vmf)
{
	struct nvsim_dmabuf *nb = vmf->vma->vm_private_data;
	struct folio *folio = page_folio(vmf->page);

	/* locked before the mark, as in nvsim_fb_vm_mkwrite() (and why) */
	folio_lock(folio);
	nvsim_fb_view_mark(&nb->view, vmf->pgoff, 1, NVSIM_FB_DIRTY);
	return VM_FAULT_LOCKED;
}

static const struct vm_operations_struct nvsim_dmabuf_vm_ops = {
	.fault = nvsim_dmabuf_vm_fault,
	.page_mkwrite = nvsim_dmabuf_vm_mkwrite,
};

static int nvsim_dmabuf_mmap(struct dma_buf *buf, struct vm_area_struct *vma)
{
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	vma->vm_ops = &nvsim_dmabuf_vm_ops;
	vma->vm_private_data = buf->priv;
	vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
	return 0;
}

/* system memory, always coherent for the CPU: nothing to flush */
static int nvsim_dmabuf_begin_cpu(struct dma_buf *buf,
				  enum dma_data_direction dir)
{
	return 0;
}

static int nvsim_dmabuf_end_cpu(struct dma_buf *buf,
				enum dma_data_direction dir)
{
	return 0;
}

static const struct dma_buf_ops nvsim_dmabuf_ops = {
	.map_dma_buf		= nvsim_dmabuf_map,
	.unmap_dma_buf		= nvsim_dmabuf_unmap,
	.release		= nvsim_dmabuf_release,
	.mmap			= nvsim_dmabuf_mmap,
	.begin_cpu_access	= nvsim_dmabuf_begin_cpu,
	.end_cpu_access		= nvsim_dmabuf_end_cpu,
};

long nvsim_get_gfx_dmabuf(struct nvsim_dev *nd, unsigned long arg)
{
	DEFINE_DMA_BUF_EXPORT_INFO(exp);
	struct nvsim_dmabuf *nb;
	struct dma_buf *buf;
	struct nvsim_plane p;
	unsigned long i, first;
	u32 id;
	int ret, fd;

	if (copy_from_user(&id, (void __user *)arg, sizeof(id)))
		return -EFAULT;

	mutex_lock(&nd->lock);
	if (nd->params.disable_vnc || nd->plane_mode != NVSIM_PLANE_DMABUF) {
		mutex_unlock(&nd->lock);
		return -EINVAL;
	}
	nvsim_plane_get_locked(nd, &p, true);
	if (!p.size || !id || id != nvsim_plane_id_locked(nd, &p)) {
		mutex_unlock(&nd->lock);
		return -ENOENT;
	}
	mutex_unlock(&nd->lock);

	/* never trust the (possibly fault injected) geometry */
	if (p.offset & ~PAGE_MASK || p.offset >= nd->fb_size ||
	    !p.dmabuf_size || p.dmabuf_size > nd->fb_size - p.offset ||
	    p.dmabuf_size > nvsim_max_plane_bytes(nd->type))
		return -EINVAL;

	nb = kzalloc(sizeof(*nb), GFP_KERNEL);
	if (!nb)
		return -ENOMEM;
	nb->view.npages = PAGE_ALIGN(p.dmabuf_size) >> PAGE_SHIFT;
	nb->pages = kvcalloc(nb->view.npages, sizeof(*nb->pages), GFP_KERNEL);
	if (!nb->pages) {
		ret = -ENOMEM;
		goto err_free;
	}
	first = p.offset >> PAGE_SHIFT;
	nb->view.first = first;
	for (i = 0; i < nb->view.npages; i++) {
		struct page *page = nvsim_fb_page(nd, first + i, true);

		if (!page) {
			ret = -ENOMEM;
			goto err_pages;
		}
		get_page(page);
		nb->pages[i] = page;
	}

	exp.ops = &nvsim_dmabuf_ops;
	exp.size = nb->view.npages << PAGE_SHIFT;
	exp.flags = O_RDWR;
	exp.priv = nb;
	buf = dma_buf_export(&exp);
	if (IS_ERR(buf)) {
		ret = PTR_ERR(buf);
		goto err_pages;
	}

	/*
	 * From here on nvsim_dmabuf_release() owns @nb.  Track it before
	 * userspace can map it: nothing has written to it yet.
	 */
	nb->view.mapping = buf->file->f_mapping;
	nvsim_fb_view_attach(nd, &nb->view);
	fd = dma_buf_fd(buf, O_CLOEXEC);
	if (fd < 0)
		dma_buf_put(buf);
	return fd;

err_pages:
	while (i--)
		put_page(nb->pages[i]);
	kvfree(nb->pages);
err_free:
	kfree(nb);
	return ret;
}

/* ------------------------------------------------------------------ */
/* EDID region */

/*
 * Back to "no EDID, link up".  Only nvsim_open_device() calls this:
 * VFIO_DEVICE_RESET (nvsim_reset_locked()) leaves the EDID region, and
 * so the guest's EDID_* registers, as userspace last wrote them, since
 * it is the monitor attached to the vGPU, not state of the vGPU.
 */
void nvsim_edid_reset_locked(struct nvsim_dev *nd)
{
	lockdep_assert_held(&nd->lock);

	nd->edid_size = 0;
	nd->link_state = VFIO_DEVICE_GFX_LINK_STATE_UP;
	memset(nd->edid, 0, sizeof(nd->edid));
}

ssize_t nvsim_edid_rw(struct nvsim_dev *nd, u64 off, char __user *ubuf,
		      size_t count, bool write)
{
	const size_t hsz = sizeof(struct vfio_region_gfx_edid);
	struct vfio_region_gfx_edid hdr;
	ssize_t ret;
	u8 *kbuf;

	if (off >= NVSIM_EDID_REGION_SIZE)
		return -EINVAL;
	count = min_t(u64, count, NVSIM_EDID_REGION_SIZE - off);

	if (off < hsz) {
		u32 val;

		if (!write) {
			count = min_t(u64, count, hsz - off);
			mutex_lock(&nd->lock);
			hdr.edid_offset = NVSIM_EDID_BLOB_OFFSET;
			hdr.edid_max_size = NVSIM_EDID_MAX_SIZE;
			hdr.edid_size = nd->edid_size;
			hdr.max_xres = nd->type->max_x;
			hdr.max_yres = nd->type->max_y;
			hdr.link_state = nd->link_state;
			mutex_unlock(&nd->lock);
			if (copy_to_user(ubuf, (u8 *)&hdr + off, count))
				return -EFAULT;
			return count;
		}
		/* header fields are written one at a time */
		if (off & 3 || count != 4)
			return -EINVAL;
		if (copy_from_user(&val, ubuf, 4))
			return -EFAULT;
		ret = 4;
		mutex_lock(&nd->lock);
		switch (off) {
		case offsetof(struct vfio_region_gfx_edid, edid_size):
			if (val > NVSIM_EDID_MAX_SIZE)
				ret = -EINVAL;
			else
				nd->edid_size = val;
			break;
		case offsetof(struct vfio_region_gfx_edid, link_state):
			if (val != VFIO_DEVICE_GFX_LINK_STATE_UP &&
			    val != VFIO_DEVICE_GFX_LINK_STATE_DOWN)
				ret = -EINVAL;
			else
				nd->link_state = val;
			break;
		default:
			ret = -EINVAL;	/* read-only field */
		}
		mutex_unlock(&nd->lock);
		return ret;
	}

	if (off < NVSIM_EDID_BLOB_OFFSET) {
		/* gap between header and blob: reads 0, ignores writes */
		count = min_t(u64, count, NVSIM_EDID_BLOB_OFFSET - off);
		if (!write && clear_user(ubuf, count))
			return -EFAULT;
		return count;
	}

	off -= NVSIM_EDID_BLOB_OFFSET;
	kbuf = kmalloc(count, GFP_KERNEL);
	if (!kbuf)
		return -ENOMEM;
	ret = count;
	if (write) {
		if (copy_from_user(kbuf, ubuf, count)) {
			ret = -EFAULT;
		} else {
			mutex_lock(&nd->lock);
			memcpy(nd->edid + off, kbuf, count);
			mutex_unlock(&nd->lock);
		}
	} else {
		mutex_lock(&nd->lock);
		memcpy(kbuf, nd->edid + off, count);
		mutex_unlock(&nd->lock);
		if (copy_to_user(ubuf, kbuf, count))
			ret = -EFAULT;
	}
	kfree(kbuf);
	return ret;
}
