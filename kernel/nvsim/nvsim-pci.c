// SPDX-License-Identifier: GPL-2.0
/*
 * nvsim - emulated PCI function: config space, BAR0 registers, BAR1
 * framebuffer, VFIO region/irq ioctls and mmap.
 */
#include <linux/eventfd.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/pci_regs.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/unaligned.h>

#include "nvsim.h"

#define NVSIM_RW_CHUNK	PAGE_SIZE

/* ------------------------------------------------------------------ */
/* PCI config space */

#define NVSIM_BAR1_FLAGS	(PCI_BASE_ADDRESS_SPACE_MEMORY |	\
				 PCI_BASE_ADDRESS_MEM_TYPE_64 |		\
				 PCI_BASE_ADDRESS_MEM_PREFETCH)
#define NVSIM_CMD_WMASK		(PCI_COMMAND_IO | PCI_COMMAND_MEMORY |	\
				 PCI_COMMAND_MASTER | PCI_COMMAND_PARITY | \
				 PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE)
#define NVSIM_MSI		NVSIM_PCI_MSI_CAP

static void cfg_put16(u8 *c, unsigned int off, u16 v)
{
	c[off] = v & 0xff;
	c[off + 1] = v >> 8;
}

static void cfg_put32(u8 *c, unsigned int off, u32 v)
{
	cfg_put16(c, off, v & 0xffff);
	cfg_put16(c, off + 2, v >> 16);
}

static u32 cfg_get32(const u8 *c, unsigned int off)
{
	return c[off] | (c[off + 1] << 8) | (c[off + 2] << 16) |
	       ((u32)c[off + 3] << 24);
}

/* writable bits of the dword at @off (dword aligned) */
static u32 nvsim_cfg_wmask32(struct nvsim_dev *nd, unsigned int off)
{
	switch (off) {
	case PCI_COMMAND:
		return NVSIM_CMD_WMASK;		/* status is read only */
	case PCI_CACHE_LINE_SIZE:
		return 0x0000ffff;		/* cache line, latency */
	case PCI_BASE_ADDRESS_0:
		return ~(NVSIM_BAR0_SIZE - 1);
	case PCI_BASE_ADDRESS_1:
		return (u32)~(nd->bar1_size - 1) & PCI_BASE_ADDRESS_MEM_MASK;
	case PCI_BASE_ADDRESS_2:
		return (u32)(~(nd->bar1_size - 1) >> 32);
	case PCI_INTERRUPT_LINE:
		return 0x000000ff;
	case NVSIM_MSI:
		return PCI_MSI_FLAGS_ENABLE << 16;
	case NVSIM_MSI + PCI_MSI_ADDRESS_LO:
		return 0xfffffffc;
	case NVSIM_MSI + PCI_MSI_ADDRESS_HI:
		return 0xffffffff;
	case NVSIM_MSI + PCI_MSI_DATA_64:
		return 0x0000ffff;
	}
	return 0;
}

/* called once at device creation; nvsim_reset_locked() does the rest */
void nvsim_config_init(struct nvsim_dev *nd)
{
	u8 *c = nd->config;

	memset(c, 0, sizeof(nd->config));
	cfg_put16(c, PCI_VENDOR_ID, NVSIM_PCI_VENDOR);
	cfg_put16(c, PCI_DEVICE_ID, NVSIM_PCI_DEVICE);
	cfg_put16(c, PCI_STATUS, PCI_STATUS_CAP_LIST);
	c[PCI_REVISION_ID] = NVSIM_PCI_REVISION;
	c[PCI_CLASS_PROG] = NVSIM_PCI_CLASS & 0xff;
	c[PCI_CLASS_DEVICE] = (NVSIM_PCI_CLASS >> 8) & 0xff;
	c[PCI_CLASS_DEVICE + 1] = NVSIM_PCI_CLASS >> 16;
	c[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_NORMAL;
	cfg_put16(c, PCI_SUBSYSTEM_VENDOR_ID, NVSIM_PCI_SUBVENDOR);
	cfg_put16(c, PCI_SUBSYSTEM_ID, NVSIM_PCI_SUBDEVICE);
	c[PCI_CAPABILITY_LIST] = NVSIM_MSI;
	c[PCI_INTERRUPT_PIN] = 1;	/* INTA# */

	c[NVSIM_MSI + PCI_CAP_LIST_ID] = PCI_CAP_ID_MSI;
	c[NVSIM_MSI + PCI_CAP_LIST_NEXT] = 0;
	/* one vector, 64-bit address, no per-vector masking */
	cfg_put16(c, NVSIM_MSI + PCI_MSI_FLAGS, PCI_MSI_FLAGS_64BIT);
}

static void nvsim_config_reset_locked(struct nvsim_dev *nd)
{
	u8 *c = nd->config;
	u16 msi_flags;

	cfg_put16(c, PCI_COMMAND, 0);
	c[PCI_CACHE_LINE_SIZE] = 0;
	c[PCI_LATENCY_TIMER] = 0;
	cfg_put32(c, PCI_BASE_ADDRESS_0, PCI_BASE_ADDRESS_SPACE_MEMORY);
	cfg_put32(c, PCI_BASE_ADDRESS_1, NVSIM_BAR1_FLAGS);
	cfg_put32(c, PCI_BASE_ADDRESS_2, 0);
	c[PCI_INTERRUPT_LINE] = 0;
	msi_flags = c[NVSIM_MSI + PCI_MSI_FLAGS] |
		    (c[NVSIM_MSI + PCI_MSI_FLAGS + 1] << 8);
	cfg_put16(c, NVSIM_MSI + PCI_MSI_FLAGS,
		  msi_flags & ~PCI_MSI_FLAGS_ENABLE);
	cfg_put32(c, NVSIM_MSI + PCI_MSI_ADDRESS_LO, 0);
	cfg_put32(c, NVSIM_MSI + PCI_MSI_ADDRESS_HI, 0);
	cfg_put32(c, NVSIM_MSI + PCI_MSI_DATA_64, 0);
}

static void nvsim_config_write_locked(struct nvsim_dev *nd, unsigned int off,
				      const u8 *buf, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++) {
		unsigned int o = off + i;
		u8 m = nvsim_cfg_wmask32(nd, o & ~3u) >> ((o & 3) * 8);

		nd->config[o] = (nd->config[o] & ~m) | (buf[i] & m);
	}
}

/* dwords carried in the migration stream */
static const unsigned int nvsim_cfg_saved[] = {
	PCI_COMMAND, PCI_CACHE_LINE_SIZE, PCI_BASE_ADDRESS_0,
	PCI_BASE_ADDRESS_1, PCI_BASE_ADDRESS_2, PCI_INTERRUPT_LINE,
	NVSIM_MSI, NVSIM_MSI + PCI_MSI_ADDRESS_LO,
	NVSIM_MSI + PCI_MSI_ADDRESS_HI, NVSIM_MSI + PCI_MSI_DATA_64,
};

/* fill (offset, value) pairs, returns the number of pairs */
static int nvsim_config_save(struct nvsim_dev *nd, __le32 *pairs, int max)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(nvsim_cfg_saved) && i < max; i++) {
		pairs[2 * i] = cpu_to_le32(nvsim_cfg_saved[i]);
		pairs[2 * i + 1] =
			cpu_to_le32(cfg_get32(nd->config, nvsim_cfg_saved[i]));
	}
	return i;
}

/* pairs in the migration stream's CONFIG record */
static unsigned int nvsim_config_nr_saved(struct nvsim_dev *nd)
{
	return ARRAY_SIZE(nvsim_cfg_saved);
}

/* is @off a config dword the migration stream may carry? */
static bool nvsim_config_offset_ok(struct nvsim_dev *nd, u32 off)
{
	unsigned int j;

	for (j = 0; j < ARRAY_SIZE(nvsim_cfg_saved); j++)
		if (off == nvsim_cfg_saved[j])
			return true;
	return false;
}

static int nvsim_config_restore_locked(struct nvsim_dev *nd,
				       const __le32 *pairs, unsigned int n)
{
	unsigned int i;

	/* validate everything before touching the device */
	for (i = 0; i < n; i++)
		if (!nvsim_config_offset_ok(nd, le32_to_cpu(pairs[2 * i])))
			return -EINVAL;
	for (i = 0; i < n; i++) {
		u32 off = le32_to_cpu(pairs[2 * i]);
		u32 val = le32_to_cpu(pairs[2 * i + 1]);
		u8 b[4] = { val, val >> 8, val >> 16, val >> 24 };

		nvsim_config_write_locked(nd, off, b, 4);
	}
	return 0;
}

const struct nvsim_front_ops nvsim_pci_front = {
	.config_save		= nvsim_config_save,
	.config_nr_saved	= nvsim_config_nr_saved,
	.config_offset_ok	= nvsim_config_offset_ok,
	.config_restore_locked	= nvsim_config_restore_locked,
};

/* ------------------------------------------------------------------ */
/* BAR0 registers */

/*
 * @off is dword aligned.  The EDID registers show the EDID region's
 * state (nd->link_state, nd->edid_size, nd->edid), which nd->lock
 * guards like the registers themselves.  They are read-only: nothing in
 * nvsim_reg_write_locked() handles them, and they are not in
 * nvsim_reg_offsets[], so the migration stream never carries them.
 */
static u32 nvsim_reg_read_locked(struct nvsim_dev *nd, u32 off)
{
	unsigned int i;

	BUILD_BUG_ON(sizeof(nd->edid) != NVSIM_EDID_MAX_SIZE);
	BUILD_BUG_ON(NVSIM_REG_EDID_DATA_END > NVSIM_BAR0_SIZE);
	BUILD_BUG_ON(NVSIM_EDID_LINK_UP != VFIO_DEVICE_GFX_LINK_STATE_UP);
	BUILD_BUG_ON(NVSIM_EDID_LINK_DOWN != VFIO_DEVICE_GFX_LINK_STATE_DOWN);
	lockdep_assert_held(&nd->lock);

	switch (off) {
	case NVSIM_REG_ID:
		return NVSIM_ID_VALUE;
	case NVSIM_REG_VERSION:
		return NVSIM_VERSION_VALUE;
	case NVSIM_REG_TYPE:
		return nd->type->number;
	case NVSIM_REG_FB_MB:
		return nd->type->fb_mb;
	case NVSIM_REG_EDID_LINK:
		return nd->link_state;
	case NVSIM_REG_EDID_SIZE:
		return nd->edid_size;
	}
	if (off >= NVSIM_REG_EDID_DATA && off < NVSIM_REG_EDID_DATA_END)
		return get_unaligned_le32(nd->edid + off - NVSIM_REG_EDID_DATA);
	if (nvsim_reg_is_writable(off, &i))
		return nd->regs[i];
	return 0;
}

static void nvsim_reg_write_locked(struct nvsim_dev *nd, u32 off, u32 val)
{
	unsigned int i;

	if (!nvsim_reg_is_writable(off, &i))
		return;
	if (i == NVSIM_R_HEAD0_ENABLE || i == NVSIM_R_CURSOR_ENABLE)
		val &= 1;
	if (nd->regs[i] == val)
		return;
	nd->regs[i] = val;
	if (i >= NVSIM_R_HEAD0_ENABLE && i <= NVSIM_R_HEAD0_FB_OFFSET_HI)
		nvsim_display_zap_locked(nd);
}

/* byte-granular access to the register block, @off relative to BAR0 */
static void nvsim_bar0_access_locked(struct nvsim_dev *nd, u32 off, u8 *buf,
				     size_t count, bool write)
{
	size_t i = 0;

	while (i < count) {
		u32 base = (off + i) & ~3u;
		unsigned int shift = (off + i) & 3;
		size_t n = min_t(size_t, 4 - shift, count - i);
		u32 val = nvsim_reg_read_locked(nd, base);
		size_t k;

		for (k = 0; k < n; k++) {
			unsigned int s = (shift + k) * 8;

			if (write)
				val = (val & ~(0xffu << s)) |
				      ((u32)buf[i + k] << s);
			else
				buf[i + k] = val >> s;
		}
		if (write)
			nvsim_reg_write_locked(nd, base, val);
		i += n;
	}
}

void nvsim_reset_locked(struct nvsim_dev *nd)
{
	lockdep_assert_held(&nd->lock);

	memset(nd->regs, 0, sizeof(nd->regs));
	nd->regs[NVSIM_R_HEAD0_FORMAT] = NVSIM_FMT_XRGB8888;
	nvsim_config_reset_locked(nd);
	nd->intx_masked = false;
	nvsim_mig_reset_locked(nd);
	nvsim_display_zap_locked(nd);
}

/* ------------------------------------------------------------------ */
/* read/write on the device fd */

#define NVSIM_NO_REGION		U32_MAX

/*
 * Which region @index is: the display region wherever nvsim/plane_region
 * puts it (also past NVSIM_NUM_REGIONS, as device-specific regions may
 * be), the EDID region unless nvsim/edid=0, the fixed vfio-pci ones, or
 * NVSIM_NO_REGION.  Returns the index the region has by default.
 */
static unsigned int nvsim_region_kind(struct nvsim_dev *nd, u64 index)
{
	if (index == nd->plane_region)
		return NVSIM_DISPLAY_REGION_INDEX;
	if (index == NVSIM_DISPLAY_REGION_INDEX ||
	    (index == NVSIM_EDID_REGION_INDEX && !nd->has_edid) ||
	    index >= NVSIM_NUM_REGIONS)
		return NVSIM_NO_REGION;
	return index;
}

static ssize_t nvsim_small_rw(struct nvsim_dev *nd, unsigned int index,
			      u64 off, char __user *ubuf, size_t count,
			      bool write)
{
	u64 size = index == VFIO_PCI_CONFIG_REGION_INDEX ?
		   NVSIM_PCI_CONFIG_SIZE : NVSIM_BAR0_SIZE;
	u8 *kbuf;
	ssize_t ret;

	if (off >= size)
		return -EINVAL;
	count = min_t(u64, count, min_t(u64, size - off, NVSIM_RW_CHUNK));

	kbuf = kzalloc(count, GFP_KERNEL);
	if (!kbuf)
		return -ENOMEM;
	if (write && copy_from_user(kbuf, ubuf, count)) {
		ret = -EFAULT;
		goto out_free;
	}

	mutex_lock(&nd->lock);
	if (index == VFIO_PCI_CONFIG_REGION_INDEX) {
		if (write)
			nvsim_config_write_locked(nd, off, kbuf, count);
		else
			memcpy(kbuf, nd->config + off, count);
	} else {
		nvsim_bar0_access_locked(nd, off, kbuf, count, write);
	}
	mutex_unlock(&nd->lock);

	ret = count;
	if (!write && copy_to_user(ubuf, kbuf, count))
		ret = -EFAULT;
out_free:
	kfree(kbuf);
	return ret;
}

static ssize_t nvsim_rw(struct vfio_device *vdev, char __user *buf,
			size_t count, loff_t *ppos, bool write)
{
	struct nvsim_dev *nd = vdev_to_nvsim(vdev);
	u64 pos = *ppos;
	unsigned int index = nvsim_region_kind(nd, NVSIM_OFFSET_TO_INDEX(pos));
	u64 off = pos & NVSIM_OFFSET_MASK;
	ssize_t ret;

	if (*ppos < 0 || !count)
		return -EINVAL;
	if (index != VFIO_PCI_CONFIG_REGION_INDEX && nvsim_io_refused(nd))
		return -EIO;

	switch (index) {
	case VFIO_PCI_CONFIG_REGION_INDEX:
	case VFIO_PCI_BAR0_REGION_INDEX:
		ret = nvsim_small_rw(nd, index, off, buf, count, write);
		break;
	case VFIO_PCI_BAR1_REGION_INDEX:
		if (off < nd->fb_size) {
			ret = nvsim_fb_rw(nd, off, buf, count, write);
		} else if (off < nd->bar1_size) {
			/* the aperture past the framebuffer: no memory */
			count = min_t(u64, count, nd->bar1_size - off);
			ret = write ? count :
			      clear_user(buf, count) ? -EFAULT : count;
		} else {
			ret = -EINVAL;
		}
		break;
	case NVSIM_EDID_REGION_INDEX:
		ret = nvsim_edid_rw(nd, off, buf, count, write);
		break;
	case NVSIM_DISPLAY_REGION_INDEX: {
		u64 base, size;

		if (write) {
			ret = -EINVAL;	/* read-only view of the scanout */
			break;
		}
		mutex_lock(&nd->lock);
		size = nvsim_display_region_size(nd, &base);
		mutex_unlock(&nd->lock);
		if (off >= size) {
			ret = -EINVAL;
			break;
		}
		count = min_t(u64, count, size - off);
		if (base + off >= nd->fb_size) {
			/* a faulty plane may point past the framebuffer */
			ret = clear_user(buf, count) ? -EFAULT : count;
			break;
		}
		ret = nvsim_fb_rw(nd, base + off, buf, count, false);
		break;
	}
	default:
		ret = -EINVAL;
	}

	if (ret > 0)
		*ppos += ret;
	return ret;
}

ssize_t nvsim_read(struct vfio_device *vdev, char __user *buf,
		   size_t count, loff_t *ppos)
{
	return nvsim_rw(vdev, buf, count, ppos, false);
}

ssize_t nvsim_write(struct vfio_device *vdev, const char __user *buf,
		    size_t count, loff_t *ppos)
{
	return nvsim_rw(vdev, (char __user *)buf, count, ppos, true);
}

/* ------------------------------------------------------------------ */
/* mmap: BAR1 and the display region, pages allocated on fault */

static vm_fault_t nvsim_fb_vm_fault(struct vm_fault *vmf)
{
	struct nvsim_dev *nd = vmf->vma->vm_private_data;
	struct page *page;

	/* vm_pgoff was rebased to a framebuffer page index in nvsim_mmap() */
	if (vmf->pgoff >= nd->fb_pages)
		return VM_FAULT_SIGBUS;
	page = nvsim_fb_page(nd, vmf->pgoff, true);
	if (!page)
		return VM_FAULT_OOM;
	get_page(page);
	vmf->page = page;
	return 0;
}

/*
 * Shared writable mappings are write-notified: PTEs start read-only and
 * the first store to a page lands here, so the page can be marked dirty
 * for migration.  The saver zaps a page's PTEs after clearing its dirty
 * mark (nvsim_fb_write_protect()), which re-arms this.
 *
 * The folio is locked before the mark and stays locked (VM_FAULT_LOCKED)
 * until the core has made the PTE writable; the saver clears and zaps
 * under the same lock.  Marked first and locked after, a saver could
 * clear the mark and zap nothing in between, and the store would then
 * land through the new PTE on a clean page and never be sent.
 */
static vm_fault_t nvsim_fb_vm_mkwrite(struct vm_fault *vmf)
{
	struct nvsim_dev *nd = vmf->vma->vm_private_data;
	struct folio *folio = page_folio(vmf->page);

	/* our pages have no ->mapping: hand the core a locked folio */
	folio_lock(folio);
	nvsim_fb_mark(nd, vmf->pgoff, NVSIM_FB_DIRTY);
	return VM_FAULT_LOCKED;
}

static const struct vm_operations_struct nvsim_fb_vm_ops = {
	.fault = nvsim_fb_vm_fault,
	.page_mkwrite = nvsim_fb_vm_mkwrite,
};

/*
 * The display region follows head 0: its offset 0 is the current scanout
 * start, so its pages are looked up at fault time, and every mapping of
 * it is zapped when the scanout moves (nvsim_display_zap_locked()).  The
 * page is looked up and its PTE installed under nd->lock, which the zap
 * holds too: a fault that read the old scanout start cannot install its
 * PTE after the zap that was meant to remove it.  That is why this vma
 * is VM_MIXEDMAP (set in nvsim_mmap()): vm_insert_page() from a fault
 * needs it.  The region is read-only, so it needs no dirty tracking, and
 * parts of it beyond the framebuffer can all show one blank page.
 */
static vm_fault_t nvsim_display_vm_fault(struct vm_fault *vmf)
{
	struct nvsim_dev *nd = vmf->vma->vm_private_data;
	u64 roff = ((u64)vmf->pgoff << PAGE_SHIFT) & NVSIM_OFFSET_MASK;
	struct page *page;
	vm_fault_t ret;
	u64 base, size;
	int err;

	mutex_lock(&nd->lock);
	size = nvsim_display_region_size(nd, &base);
	if (roff >= size) {
		ret = VM_FAULT_SIGBUS;
		goto out_unlock;
	}
	if (base + roff < nd->fb_size)
		page = nvsim_fb_page(nd, (base + roff) >> PAGE_SHIFT, true);
	else
		page = nd->blank_page;	/* faulty plane past the end */
	if (!page) {
		ret = VM_FAULT_OOM;
		goto out_unlock;
	}
	err = vm_insert_page(vmf->vma, vmf->address, page);
	/* -EBUSY: a racing fault installed it first */
	ret = (!err || err == -EBUSY) ? VM_FAULT_NOPAGE : vmf_error(err);
out_unlock:
	mutex_unlock(&nd->lock);
	return ret;
}

static const struct vm_operations_struct nvsim_display_vm_ops = {
	.fault = nvsim_display_vm_fault,
};

int nvsim_mmap(struct vfio_device *vdev, struct vm_area_struct *vma)
{
	struct nvsim_dev *nd = vdev_to_nvsim(vdev);
	unsigned int index = nvsim_region_kind(nd, vma->vm_pgoff >>
					       (NVSIM_REGION_SHIFT - PAGE_SHIFT));
	u64 off = ((u64)vma->vm_pgoff << PAGE_SHIFT) & NVSIM_OFFSET_MASK;
	u64 len = vma->vm_end - vma->vm_start;
	u64 base, size;

	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;

	switch (index) {
	case VFIO_PCI_BAR1_REGION_INDEX:
		if (off >= nd->fb_size || len > nd->fb_size - off)
			return -EINVAL;
		break;
	case NVSIM_DISPLAY_REGION_INDEX:
		if (vma->vm_flags & VM_WRITE)
			return -EINVAL;
		mutex_lock(&nd->lock);
		size = nvsim_display_region_size(nd, &base);
		mutex_unlock(&nd->lock);
		if (off >= size || len > size - off)
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}

	/*
	 * All fds of the device share the vfio device inode's mapping;
	 * unmap_mapping_range() on it matches vmas by vm_pgoff.
	 */
	if (!READ_ONCE(nd->fb_mapping))
		WRITE_ONCE(nd->fb_mapping, vma->vm_file->f_mapping);
	vma->vm_private_data = nd;
	vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);

	if (index == NVSIM_DISPLAY_REGION_INDEX) {
		vm_flags_clear(vma, VM_MAYWRITE);
		/* PTEs are installed by the fault handler itself */
		vm_flags_set(vma, VM_MIXEDMAP);
		vma->vm_ops = &nvsim_display_vm_ops;
		return 0;
	}
	/* BAR1 vmas are indexed by framebuffer page */
	vma->vm_pgoff = off >> PAGE_SHIFT;
	vma->vm_ops = &nvsim_fb_vm_ops;
	return 0;
}

/* ------------------------------------------------------------------ */
/* interrupts */

/* nvsim/err_irq=0: no error interrupt, as on drivers without one */
static unsigned int nvsim_irq_count(struct nvsim_dev *nd, unsigned int index)
{
	switch (index) {
	case VFIO_PCI_ERR_IRQ_INDEX:
		return nd->has_err_irq ? 1 : 0;
	case VFIO_PCI_INTX_IRQ_INDEX:
	case VFIO_PCI_MSI_IRQ_INDEX:
	case VFIO_PCI_REQ_IRQ_INDEX:
		return 1;
	}
	return 0;
}

int nvsim_signal_irq(struct nvsim_dev *nd, unsigned int index)
{
	lockdep_assert_held(&nd->lock);

	if (!nd->irq_trigger[index])
		return -ENODEV;
	if (index == VFIO_PCI_INTX_IRQ_INDEX) {
		/* level triggered and automasked until userspace unmasks */
		if (nd->intx_masked)
			return 0;
		nd->intx_masked = true;
	}
	eventfd_signal(nd->irq_trigger[index]);
	return 0;
}

static void nvsim_irq_set_trigger_locked(struct nvsim_dev *nd,
					 unsigned int index,
					 struct eventfd_ctx *ctx)
{
	if (nd->irq_trigger[index])
		eventfd_ctx_put(nd->irq_trigger[index]);
	nd->irq_trigger[index] = ctx;
}

void nvsim_irqs_release_locked(struct nvsim_dev *nd)
{
	unsigned int i;

	for (i = 0; i < VFIO_PCI_NUM_IRQS; i++)
		nvsim_irq_set_trigger_locked(nd, i, NULL);
	nd->intx_masked = false;
}

/*
 * One VFIO_DEVICE_SET_IRQS, decoded before the device is touched: which
 * interrupt, and what to do with it.  nvsim has one vector per index, so
 * a request either names it (start 0, count 1) or, with count 0, asks for
 * nothing but the eventfd's removal.  INTx alone can be masked; its
 * unmask eventfd (resampling) is taken and dropped, as nothing stays
 * asserted here that would need resampling.
 */
enum nvsim_irq_op {
	NVSIM_IRQ_NOP,
	NVSIM_IRQ_WIRE,		/* from now on, signal @ctx */
	NVSIM_IRQ_UNWIRE,
	NVSIM_IRQ_FIRE,		/* signal it now (loopback test) */
	NVSIM_IRQ_MASK,
	NVSIM_IRQ_UNMASK,
};

struct nvsim_irq_req {
	unsigned int index;
	enum nvsim_irq_op op;
	struct eventfd_ctx *ctx;	/* NVSIM_IRQ_WIRE: a reference */
};

static int nvsim_irq_decode(const struct vfio_irq_set *hdr, const u8 *data,
			    struct nvsim_irq_req *req)
{
	u32 action = hdr->flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
	u32 dtype = hdr->flags & VFIO_IRQ_SET_DATA_TYPE_MASK;
	bool masking = action != VFIO_IRQ_SET_ACTION_TRIGGER;
	struct eventfd_ctx *ctx;
	s32 fd;

	*req = (struct nvsim_irq_req){ .index = hdr->index };
	if (masking && hdr->index != VFIO_PCI_INTX_IRQ_INDEX)
		return -EINVAL;
	if (!hdr->count) {
		if (!masking && dtype == VFIO_IRQ_SET_DATA_NONE)
			req->op = NVSIM_IRQ_UNWIRE;
		return 0;
	}

	switch (dtype) {
	case VFIO_IRQ_SET_DATA_EVENTFD:
		memcpy(&fd, data, sizeof(fd));
		if (masking && fd < 0)
			return 0;
		if (!masking && fd == -1) {
			req->op = NVSIM_IRQ_UNWIRE;
			return 0;
		}
		if (fd < 0)
			return -EINVAL;
		ctx = eventfd_ctx_fdget(fd);
		if (IS_ERR(ctx))
			return PTR_ERR(ctx);
		if (masking) {
			eventfd_ctx_put(ctx);	/* valid, and not needed */
			return 0;
		}
		req->op = NVSIM_IRQ_WIRE;
		req->ctx = ctx;
		return 0;
	case VFIO_IRQ_SET_DATA_BOOL:
		if (!(data[0] & 1))
			return 0;
		fallthrough;
	case VFIO_IRQ_SET_DATA_NONE:
		if (action == VFIO_IRQ_SET_ACTION_MASK)
			req->op = NVSIM_IRQ_MASK;
		else if (action == VFIO_IRQ_SET_ACTION_UNMASK)
			req->op = NVSIM_IRQ_UNMASK;
		else
			req->op = NVSIM_IRQ_FIRE;
		return 0;
	}
	return -EINVAL;
}

static void nvsim_irq_apply_locked(struct nvsim_dev *nd,
				   struct nvsim_irq_req *req)
{
	switch (req->op) {
	case NVSIM_IRQ_WIRE:
		nvsim_irq_set_trigger_locked(nd, req->index, req->ctx);
		req->ctx = NULL;	/* the device holds it now */
		break;
	case NVSIM_IRQ_UNWIRE:
		nvsim_irq_set_trigger_locked(nd, req->index, NULL);
		break;
	case NVSIM_IRQ_FIRE:
		nvsim_signal_irq(nd, req->index);	/* -ENODEV: unwired */
		break;
	case NVSIM_IRQ_MASK:
	case NVSIM_IRQ_UNMASK:
		nd->intx_masked = req->op == NVSIM_IRQ_MASK;
		break;
	case NVSIM_IRQ_NOP:
		break;
	}
}

static long nvsim_set_irqs(struct nvsim_dev *nd, void __user *uarg)
{
	size_t minsz = offsetofend(struct vfio_irq_set, count);
	struct nvsim_irq_req req;
	struct vfio_irq_set hdr;
	size_t data_size = 0;
	u8 *data = NULL;
	int ret;

	if (copy_from_user(&hdr, uarg, minsz))
		return -EFAULT;
	if (hdr.argsz < minsz || hdr.index >= VFIO_PCI_NUM_IRQS)
		return -EINVAL;
	/* flags, start and count against what this index has; data size */
	ret = vfio_set_irqs_validate_and_prepare(&hdr,
						 nvsim_irq_count(nd, hdr.index),
						 VFIO_PCI_NUM_IRQS, &data_size);
	if (ret)
		return ret;
	if (data_size) {
		data = memdup_user(uarg + minsz, data_size);
		if (IS_ERR(data))
			return PTR_ERR(data);
	}

	ret = nvsim_irq_decode(&hdr, data, &req);
	if (!ret) {
		mutex_lock(&nd->lock);
		nvsim_irq_apply_locked(nd, &req);
		mutex_unlock(&nd->lock);
	}
	if (req.ctx)
		eventfd_ctx_put(req.ctx);
	kfree(data);
	return ret;
}

/* ------------------------------------------------------------------ */
/* ioctls */

static long nvsim_get_device_info(void __user *uarg)
{
	size_t minsz = offsetofend(struct vfio_device_info, num_irqs);
	struct vfio_device_info info;

	if (copy_from_user(&info, uarg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	info.flags = VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET;
	info.num_regions = NVSIM_NUM_REGIONS;
	info.num_irqs = VFIO_PCI_NUM_IRQS;
	return copy_to_user(uarg, &info, minsz) ? -EFAULT : 0;
}

/*
 * GET_REGION_INFO's answer.  A region has at most one capability, which
 * follows the info directly when the caller left room for it (otherwise
 * argsz says how much room to leave): its type (EDID, display), or for a
 * BAR1 larger than the framebuffer, the one area that can be mmapped.
 */
struct nvsim_region_sparse1 {
	struct vfio_info_cap_header header;
	u32 nr_areas;
	u32 reserved;
	struct vfio_region_sparse_mmap_area area;
};

struct nvsim_region_reply {
	struct vfio_region_info info;
	union {
		struct vfio_region_info_cap_type type;
		struct nvsim_region_sparse1 sparse;
	};
	/* set by nvsim_region_describe(): the capability's id and size */
	u16 cap_id;
	u32 cap_size;
};

/* Size, flags and type (0: none) of region @index */
static void nvsim_region_describe(struct nvsim_dev *nd, u32 index,
				  struct nvsim_region_reply *r)
{
	const u32 rw = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
	u64 base;

	switch (nvsim_region_kind(nd, index)) {
	case VFIO_PCI_CONFIG_REGION_INDEX:
		r->info.size = NVSIM_PCI_CONFIG_SIZE;
		r->info.flags = rw;
		break;
	case VFIO_PCI_BAR0_REGION_INDEX:
		r->info.size = NVSIM_BAR0_SIZE;
		r->info.flags = rw;
		break;
	case VFIO_PCI_BAR1_REGION_INDEX:
		r->info.size = nd->bar1_size;
		r->info.flags = rw | VFIO_REGION_INFO_FLAG_MMAP;
		if (nd->bar1_size != nd->fb_size) {
			r->sparse.nr_areas = 1;
			r->sparse.area.offset = 0;
			r->sparse.area.size = nd->fb_size;
			r->cap_id = VFIO_REGION_INFO_CAP_SPARSE_MMAP;
			r->cap_size = sizeof(r->sparse);
		}
		break;
	case NVSIM_EDID_REGION_INDEX:
		r->info.size = NVSIM_EDID_REGION_SIZE;
		r->info.flags = rw;
		r->type.type = VFIO_REGION_TYPE_GFX;
		r->type.subtype = VFIO_REGION_SUBTYPE_GFX_EDID;
		r->cap_id = VFIO_REGION_INFO_CAP_TYPE;
		r->cap_size = sizeof(r->type);
		break;
	case NVSIM_DISPLAY_REGION_INDEX:
		mutex_lock(&nd->lock);
		r->info.size = nvsim_display_region_size(nd, &base);
		mutex_unlock(&nd->lock);
		r->info.flags = VFIO_REGION_INFO_FLAG_READ |
				VFIO_REGION_INFO_FLAG_MMAP;
		r->type.type = NVSIM_DISPLAY_REGION_TYPE;
		r->type.subtype = NVSIM_DISPLAY_REGION_SUBTYPE;
		r->cap_id = VFIO_REGION_INFO_CAP_TYPE;
		r->cap_size = sizeof(r->type);
		break;
	default:
		break;	/* unimplemented BARs, ROM, VGA, switched off: size 0 */
	}
}

static long nvsim_get_region_info(struct nvsim_dev *nd, void __user *uarg)
{
	size_t minsz = offsetofend(struct vfio_region_info, offset);
	struct nvsim_region_reply r = { };
	size_t len = minsz;
	u32 argsz, index;

	BUILD_BUG_ON(offsetof(struct nvsim_region_reply, type) !=
		     sizeof(struct vfio_region_info));
	BUILD_BUG_ON(offsetof(struct nvsim_region_reply, sparse) !=
		     sizeof(struct vfio_region_info));
	if (copy_from_user(&r.info, uarg, minsz))
		return -EFAULT;
	argsz = r.info.argsz;
	index = r.info.index;
	if (argsz < minsz)
		return -EINVAL;
	/* GET_INFO's num_regions does not count a moved display region */
	if (index >= NVSIM_NUM_REGIONS && index != nd->plane_region)
		return -EINVAL;

	memset(&r, 0, sizeof(r));
	r.info.argsz = argsz;
	r.info.index = index;
	r.info.offset = NVSIM_INDEX_TO_OFFSET(index);
	nvsim_region_describe(nd, index, &r);
	if (r.cap_id) {
		size_t full = sizeof(r.info) + r.cap_size;

		r.info.flags |= VFIO_REGION_INFO_FLAG_CAPS;
		if (argsz < full) {
			r.info.argsz = full;
		} else {
			/* the header is the first member of either */
			r.type.header.id = r.cap_id;
			r.type.header.version = 1;
			r.type.header.next = 0;		/* the only one */
			r.info.cap_offset = sizeof(r.info);
			len = full;
		}
	}
	return copy_to_user(uarg, &r, len) ? -EFAULT : 0;
}

static long nvsim_get_irq_info(struct nvsim_dev *nd, void __user *uarg)
{
	size_t minsz = offsetofend(struct vfio_irq_info, count);
	struct vfio_irq_info info;

	if (copy_from_user(&info, uarg, minsz))
		return -EFAULT;
	if (info.argsz < minsz || info.index >= VFIO_PCI_NUM_IRQS)
		return -EINVAL;

	info.count = nvsim_irq_count(nd, info.index);
	info.flags = info.count ? VFIO_IRQ_INFO_EVENTFD : 0;
	if (info.index == VFIO_PCI_INTX_IRQ_INDEX)
		info.flags |= VFIO_IRQ_INFO_MASKABLE |
			      VFIO_IRQ_INFO_AUTOMASKED;
	else if (info.count)
		info.flags |= VFIO_IRQ_INFO_NORESIZE;
	return copy_to_user(uarg, &info, minsz) ? -EFAULT : 0;
}

long nvsim_ioctl(struct vfio_device *vdev, unsigned int cmd,
		 unsigned long arg)
{
	struct nvsim_dev *nd = vdev_to_nvsim(vdev);
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case VFIO_DEVICE_GET_INFO:
		return nvsim_get_device_info(uarg);
	case VFIO_DEVICE_GET_REGION_INFO:
		return nvsim_get_region_info(nd, uarg);
	case VFIO_DEVICE_GET_IRQ_INFO:
		return nvsim_get_irq_info(nd, uarg);
	case VFIO_DEVICE_SET_IRQS:
		return nvsim_set_irqs(nd, uarg);
	case VFIO_DEVICE_RESET:
		mutex_lock(&nd->lock);
		nvsim_reset_locked(nd);
		mutex_unlock(&nd->lock);
		return 0;
	case VFIO_DEVICE_QUERY_GFX_PLANE:
		return nvsim_query_gfx_plane(nd, arg);
	case VFIO_DEVICE_GET_GFX_DMABUF:
		return nvsim_get_gfx_dmabuf(nd, arg);
	}
	return -ENOTTY;
}
