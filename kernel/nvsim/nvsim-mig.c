// SPDX-License-Identifier: GPL-2.0
/*
 * nvsim - VFIO migration v2 (STOP_COPY, P2P, PRE_COPY).
 *
 * The stream format is described in nvsim-regs.h.  A saving data fd
 * produces the stream one record at a time into a staging buffer; a
 * resuming data fd parses it incrementally, writing pages straight into
 * the framebuffer and stashing registers/config space until the
 * RESUMING -> STOP transition applies them.
 */
#include <linux/anon_inodes.h>
#include <linux/crc32.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "nvsim.h"

#define NVSIM_MIG_MAX_PAIRS	32

#define NVSIM_MIG_BUF_SIZE	(sizeof(struct nvsim_mig_record) + \
				 NVSIM_MIG_MAX_PAYLOAD)
#define NVSIM_MIG_PAGE_REC	(sizeof(struct nvsim_mig_record) + \
				 NVSIM_MIG_PAGE_SIZE)

struct nvsim_mig_file {
	struct file *filp;
	struct nvsim_dev *nd;	/* valid until @disabled is set */
	bool saving;		/* immutable */

	/*
	 * @io_lock serializes read() and write(), the only writers of @buf,
	 * and is held across their user copies; see nvsim.h for the order.
	 */
	struct mutex io_lock;

	/* @lock protects everything below; @buf's contents: see @io_lock */
	struct mutex lock;
	bool disabled;

	/* saving */
	bool stop_copy;		/* device reached STOP_COPY: real EOF */
	bool header_done;
	bool initial_done;	/* first pass of PRE_COPY finished */
	bool tail_done;
	__le32 regs[2 * NVSIM_R_COUNT];
	unsigned int nregs;
	__le32 cfg[2 * NVSIM_MIG_MAX_PAIRS];
	unsigned int ncfg;

	/* resuming */
	bool header_seen;
	bool end_seen;
	bool regs_seen;
	bool cfg_seen;
	bool broken;		/* stream rejected, every write fails */

	/* staging buffer: one record or the stream header */
	size_t buf_len;		/* saving: valid bytes; resuming: expected */
	size_t buf_pos;		/* saving: consumed; resuming: received */
	u8 buf[NVSIM_MIG_BUF_SIZE];
};

static u32 nvsim_crc(const void *a, size_t alen, const void *b, size_t blen)
{
	u32 crc = crc32_le(~0u, a, alen);

	if (blen)
		crc = crc32_le(crc, b, blen);
	return ~crc;
}

static bool nvsim_mig_take_fault(struct nvsim_dev *nd, enum nvsim_mig_fail f)
{
	return atomic_cmpxchg(&nd->mig_fail, f, NVSIM_MF_NONE) == f;
}

/* ------------------------------------------------------------------ */
/* saving */

static void nvsim_mig_put_record(struct nvsim_mig_file *migf, u32 tag,
				 u64 arg, const void *payload, u32 len)
{
	struct nvsim_mig_record *rec = (void *)(migf->buf + migf->buf_len);

	rec->tag = cpu_to_le32(tag);
	rec->len = cpu_to_le32(len);
	rec->arg = cpu_to_le64(arg);
	rec->reserved = 0;
	/*
	 * Copy first and checksum the copy: a framebuffer page can change
	 * under us (the guest runs on during PRE_COPY, on other CPUs).
	 */
	if (len)
		memcpy(rec + 1, payload, len);
	rec->crc = cpu_to_le32(nvsim_crc(rec, offsetof(typeof(*rec), crc),
					 rec + 1, len));
	migf->buf_len += sizeof(*rec) + len;
}

static void nvsim_mig_put_header(struct nvsim_mig_file *migf)
{
	struct nvsim_mig_header *h = (void *)migf->buf;
	struct nvsim_dev *nd = migf->nd;

	memset(h, 0, sizeof(*h));
	h->magic = cpu_to_le64(NVSIM_MIG_MAGIC);
	h->version = cpu_to_le32(NVSIM_MIG_VERSION);
	h->header_size = cpu_to_le32(sizeof(*h));
	h->type = cpu_to_le32(nd->type->number);
	h->page_size = cpu_to_le32(NVSIM_MIG_PAGE_SIZE);
	h->fb_size = cpu_to_le64(nd->fb_size);
	strscpy(h->driver_version, nd->driver_version,
		sizeof(h->driver_version));
	h->crc = cpu_to_le32(nvsim_crc(h, offsetof(typeof(*h), crc), NULL, 0));
	migf->buf_len = sizeof(*h);
}

/*
 * Stage the next piece of the stream.  Returns 0 if something was staged,
 * 1 at the end of the stream and -ENOMSG when PRE_COPY has nothing to send.
 */
static int nvsim_mig_fill(struct nvsim_mig_file *migf)
{
	struct nvsim_dev *nd = migf->nd;
	unsigned long idx = 0;
	struct page *page;

	lockdep_assert_held(&migf->lock);
	migf->buf_len = 0;
	migf->buf_pos = 0;

	if (!migf->header_done) {
		nvsim_mig_put_header(migf);
		migf->header_done = true;
		return 0;
	}

	while ((page = xa_find(&nd->fb, &idx, ULONG_MAX, NVSIM_FB_DIRTY))) {
		/*
		 * Clear the mark, then write-protect, then copy: a store
		 * racing with us marks the page dirty again.  The page lock
		 * keeps a write fault that has marked the page but not yet
		 * made its PTE writable out of the clear and zap (see
		 * nvsim_fb_vm_mkwrite()).
		 */
		folio_lock(page_folio(page));
		if (nvsim_fb_test_and_clear_dirty(nd, idx)) {
			nvsim_fb_write_protect(nd, idx);
			folio_unlock(page_folio(page));
			nvsim_mig_put_record(migf, NVSIM_MIG_REC_PAGE, idx,
					     page_address(page),
					     NVSIM_MIG_PAGE_SIZE);
			return 0;
		}
		folio_unlock(page_folio(page));
		idx++;
	}

	if (!migf->stop_copy) {
		migf->initial_done = true;
		return -ENOMSG;
	}
	if (migf->tail_done)
		return 1;

	nvsim_mig_put_record(migf, NVSIM_MIG_REC_REGS, migf->nregs,
			     migf->regs, migf->nregs * 8);
	nvsim_mig_put_record(migf, NVSIM_MIG_REC_CONFIG, migf->ncfg,
			     migf->cfg, migf->ncfg * 8);
	nvsim_mig_put_record(migf, NVSIM_MIG_REC_END, 0, NULL, 0);
	migf->tail_done = true;
	return 0;
}

static ssize_t nvsim_mig_read(struct file *filp, char __user *ubuf,
			      size_t len, loff_t *pos)
{
	struct nvsim_mig_file *migf = filp->private_data;
	ssize_t done = 0;
	int ret = 0;

	if (pos)
		return -ESPIPE;

	mutex_lock(&migf->io_lock);
	while (len) {
		const u8 *src;
		size_t n;

		mutex_lock(&migf->lock);
		if (migf->disabled || !migf->saving) {
			ret = -ENODEV;
		} else if (!done && nvsim_mig_take_fault(migf->nd,
							 NVSIM_MF_READ)) {
			ret = -EIO;
		} else if (migf->buf_pos == migf->buf_len) {
			ret = nvsim_mig_fill(migf);
		}
		if (ret) {
			mutex_unlock(&migf->lock);
			break;
		}
		n = min(len, migf->buf_len - migf->buf_pos);
		src = migf->buf + migf->buf_pos;
		mutex_unlock(&migf->lock);

		/* @buf changes only under io_lock, which we hold */
		if (copy_to_user(ubuf + done, src, n)) {
			ret = -EFAULT;
			break;
		}
		mutex_lock(&migf->lock);
		migf->buf_pos += n;
		mutex_unlock(&migf->lock);
		done += n;
		len -= n;
		cond_resched();
	}
	mutex_unlock(&migf->io_lock);
	if (done)
		return done;
	return ret < 0 ? ret : 0;
}

/* ------------------------------------------------------------------ */
/* resuming */

static bool nvsim_same_major(const char *a, const char *b)
{
	size_t la = strcspn(a, "."), lb = strcspn(b, ".");

	return la == lb && !strncmp(a, b, la);
}

static int nvsim_mig_check_header(struct nvsim_mig_file *migf)
{
	const struct nvsim_mig_header *h = (const void *)migf->buf;
	struct nvsim_dev *nd = migf->nd;

	if (le64_to_cpu(h->magic) != NVSIM_MIG_MAGIC ||
	    le32_to_cpu(h->crc) != nvsim_crc(h, offsetof(typeof(*h), crc),
					     NULL, 0))
		return -EINVAL;
	if (le32_to_cpu(h->version) != NVSIM_MIG_VERSION ||
	    le32_to_cpu(h->header_size) != sizeof(*h) ||
	    le32_to_cpu(h->page_size) != NVSIM_MIG_PAGE_SIZE)
		return -EINVAL;
	if (le32_to_cpu(h->type) != nd->type->number ||
	    le64_to_cpu(h->fb_size) != nd->fb_size)
		return -EINVAL;
	if (!memchr(h->driver_version, 0, sizeof(h->driver_version)) ||
	    !nvsim_same_major(h->driver_version, nd->driver_version))
		return -EINVAL;
	return 0;
}

/* validate a record header before its payload is accepted */
static int nvsim_mig_check_record(struct nvsim_mig_file *migf,
				  const struct nvsim_mig_record *rec)
{
	u32 len = le32_to_cpu(rec->len);
	u64 arg = le64_to_cpu(rec->arg);

	if (migf->end_seen || rec->reserved || len > NVSIM_MIG_MAX_PAYLOAD)
		return -EINVAL;

	switch (le32_to_cpu(rec->tag)) {
	case NVSIM_MIG_REC_PAGE:
		if (len != NVSIM_MIG_PAGE_SIZE || arg >= migf->nd->fb_pages)
			return -EINVAL;
		return 0;
	case NVSIM_MIG_REC_REGS:
		if (migf->regs_seen || arg > NVSIM_R_COUNT || len != arg * 8)
			return -EINVAL;
		return 0;
	case NVSIM_MIG_REC_CONFIG:
		if (migf->cfg_seen || arg > NVSIM_MIG_MAX_PAIRS ||
		    len != arg * 8)
			return -EINVAL;
		return 0;
	case NVSIM_MIG_REC_END:
		if (len || arg || !migf->regs_seen || !migf->cfg_seen)
			return -EINVAL;
		return 0;
	}
	return -EINVAL;
}

static int nvsim_mig_load_record(struct nvsim_mig_file *migf)
{
	const struct nvsim_mig_record *rec = (const void *)migf->buf;
	const void *payload = rec + 1;
	u32 len = le32_to_cpu(rec->len);
	u64 arg = le64_to_cpu(rec->arg);
	unsigned int i, idx;
	struct page *page;

	if (le32_to_cpu(rec->crc) !=
	    nvsim_crc(rec, offsetof(typeof(*rec), crc), payload, len))
		return -EINVAL;

	switch (le32_to_cpu(rec->tag)) {
	case NVSIM_MIG_REC_PAGE:
		page = nvsim_fb_page(migf->nd, arg, true);
		if (!page)
			return -ENOMEM;
		memcpy(page_address(page), payload, NVSIM_MIG_PAGE_SIZE);
		return 0;
	case NVSIM_MIG_REC_REGS:
		memcpy(migf->regs, payload, len);
		for (i = 0; i < arg; i++)
			if (!nvsim_reg_is_writable(le32_to_cpu(migf->regs[2 * i]),
						   &idx))
				return -EINVAL;
		migf->nregs = arg;
		migf->regs_seen = true;
		return 0;
	case NVSIM_MIG_REC_CONFIG:
		memcpy(migf->cfg, payload, len);
		for (i = 0; i < arg; i++)
			if (!migf->nd->front->config_offset_ok(migf->nd,
					le32_to_cpu(migf->cfg[2 * i])))
				return -EINVAL;
		migf->ncfg = arg;
		migf->cfg_seen = true;
		return 0;
	case NVSIM_MIG_REC_END:
		migf->end_seen = true;
		return 0;
	}
	return -EINVAL;
}

/* consume bytes already in migf->buf; returns 0 or -errno */
static int nvsim_mig_parse(struct nvsim_mig_file *migf)
{
	const struct nvsim_mig_record *rec = (const void *)migf->buf;
	int ret;

	if (migf->buf_pos < migf->buf_len)
		return 0;

	if (!migf->header_seen) {
		ret = nvsim_mig_check_header(migf);
		if (ret)
			return ret;
		migf->header_seen = true;
		goto next;
	}
	if (migf->buf_len == sizeof(*rec)) {
		ret = nvsim_mig_check_record(migf, rec);
		if (ret)
			return ret;
		if (le32_to_cpu(rec->len)) {
			migf->buf_len += le32_to_cpu(rec->len);
			return 0;
		}
	}
	ret = nvsim_mig_load_record(migf);
	if (ret)
		return ret;
next:
	migf->buf_pos = 0;
	migf->buf_len = sizeof(*rec);
	return 0;
}

static ssize_t nvsim_mig_write(struct file *filp, const char __user *ubuf,
			       size_t len, loff_t *pos)
{
	struct nvsim_mig_file *migf = filp->private_data;
	ssize_t done = 0;
	int ret = 0;

	if (pos)
		return -ESPIPE;

	mutex_lock(&migf->io_lock);
	mutex_lock(&migf->lock);
	if (migf->disabled || migf->saving)
		ret = -ENODEV;
	else if (migf->broken)
		ret = -EINVAL;
	else if (nvsim_mig_take_fault(migf->nd, NVSIM_MF_WRITE))
		ret = -EIO;
	mutex_unlock(&migf->lock);

	while (!ret && len) {
		size_t n = min(len, migf->buf_len - migf->buf_pos);

		/* @buf and its bounds change only under io_lock, held here */
		if (copy_from_user(migf->buf + migf->buf_pos, ubuf + done, n)) {
			ret = -EFAULT;
			break;
		}
		mutex_lock(&migf->lock);
		if (migf->disabled) {
			ret = -ENODEV;
		} else {
			migf->buf_pos += n;
			done += n;
			len -= n;
			atomic64_add(n, &migf->nd->resumed_bytes);
			ret = nvsim_mig_parse(migf);
			if (ret)
				migf->broken = true;
		}
		mutex_unlock(&migf->lock);
		cond_resched();
	}
	mutex_unlock(&migf->io_lock);
	if (ret)
		return ret;
	return done;
}

/* ------------------------------------------------------------------ */

static long nvsim_mig_ioctl(struct file *filp, unsigned int cmd,
			    unsigned long arg)
{
	struct nvsim_mig_file *migf = filp->private_data;
	size_t minsz = offsetofend(struct vfio_precopy_info, dirty_bytes);
	struct vfio_precopy_info info;
	u64 pending, staged;
	long ret = 0;

	if (cmd != VFIO_MIG_GET_PRECOPY_INFO)
		return -ENOTTY;
	if (copy_from_user(&info, (void __user *)arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;

	mutex_lock(&migf->lock);
	if (migf->disabled || !migf->saving || migf->stop_copy) {
		ret = -EINVAL;
		goto out_unlock;
	}
	staged = migf->buf_len - migf->buf_pos;
	pending = atomic_long_read(&migf->nd->fb_nr_dirty) *
		  NVSIM_MIG_PAGE_REC;
	if (!migf->header_done)
		staged += sizeof(struct nvsim_mig_header);
	info.flags = 0;
	if (!migf->initial_done) {
		info.initial_bytes = staged + pending;
		info.dirty_bytes = 0;
	} else {
		info.initial_bytes = 0;
		info.dirty_bytes = staged + pending;
	}
out_unlock:
	mutex_unlock(&migf->lock);
	if (!ret && copy_to_user((void __user *)arg, &info, minsz))
		ret = -EFAULT;
	return ret;
}

static int nvsim_mig_release(struct inode *inode, struct file *filp)
{
	struct nvsim_mig_file *migf = filp->private_data;

	/* the device dropped its reference, so it is disabled already */
	mutex_destroy(&migf->lock);
	mutex_destroy(&migf->io_lock);
	kfree(migf);
	return 0;
}

static const struct file_operations nvsim_mig_fops = {
	.owner		= THIS_MODULE,
	.read		= nvsim_mig_read,
	.write		= nvsim_mig_write,
	.unlocked_ioctl	= nvsim_mig_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.release	= nvsim_mig_release,
};

static struct nvsim_mig_file *nvsim_mig_file_new(struct nvsim_dev *nd,
						 bool saving)
{
	struct nvsim_mig_file *migf;
	struct file *filp;

	BUILD_BUG_ON(PAGE_SIZE != NVSIM_MIG_PAGE_SIZE);
	BUILD_BUG_ON(sizeof(struct nvsim_mig_header) != 64);
	BUILD_BUG_ON(sizeof(struct nvsim_mig_record) != 24);

	migf = kzalloc(sizeof(*migf), GFP_KERNEL_ACCOUNT);
	if (!migf)
		return ERR_PTR(-ENOMEM);
	mutex_init(&migf->io_lock);
	mutex_init(&migf->lock);
	migf->nd = nd;
	migf->saving = saving;
	if (!saving) {
		migf->buf_len = sizeof(struct nvsim_mig_header);
		migf->buf_pos = 0;
	}

	filp = anon_inode_getfile("[nvsim_mig]", &nvsim_mig_fops, migf,
				  saving ? O_RDONLY : O_WRONLY);
	if (IS_ERR(filp)) {
		mutex_destroy(&migf->lock);
		mutex_destroy(&migf->io_lock);
		kfree(migf);
		return ERR_CAST(filp);
	}
	stream_open(filp->f_inode, filp);
	migf->filp = filp;
	return migf;
}

/* drop the device's reference to a data fd and make it inert */
static void nvsim_mig_file_disable(struct nvsim_mig_file *migf)
{
	mutex_lock(&migf->lock);
	migf->disabled = true;
	mutex_unlock(&migf->lock);
	fput(migf->filp);
}

void nvsim_mig_reset_locked(struct nvsim_dev *nd)
{
	lockdep_assert_held(&nd->lock);

	if (nd->saving) {
		nvsim_mig_file_disable(nd->saving);
		nd->saving = NULL;
	}
	if (nd->resuming) {
		nvsim_mig_file_disable(nd->resuming);
		nd->resuming = NULL;
	}
	nd->mig_state = VFIO_DEVICE_STATE_RUNNING;
}

/* mark every present page dirty, or only the NVSIM_FB_DMA_WRITE ones */
static void nvsim_mark_pages_dirty(struct nvsim_dev *nd, bool dma_write_only)
{
	struct page *page;
	unsigned long idx;

	if (dma_write_only) {
		xa_for_each_marked(&nd->fb, idx, page, NVSIM_FB_DMA_WRITE) {
			nvsim_fb_mark(nd, idx, NVSIM_FB_DIRTY);
			cond_resched();
		}
	} else {
		xa_for_each(&nd->fb, idx, page) {
			nvsim_fb_mark(nd, idx, NVSIM_FB_DIRTY);
			cond_resched();
		}
	}
}

static void nvsim_zero_pages(struct nvsim_dev *nd)
{
	struct page *page;
	unsigned long idx;

	xa_for_each(&nd->fb, idx, page) {
		clear_page(page_address(page));
		cond_resched();
	}
}

/* snapshot registers and config space for the tail of the stream */
static void nvsim_mig_snapshot_locked(struct nvsim_dev *nd,
				      struct nvsim_mig_file *migf)
{
	unsigned int i;
	static const u32 offs[NVSIM_R_COUNT] = {
		NVSIM_REG_SCRATCH, NVSIM_REG_HEAD0_ENABLE,
		NVSIM_REG_HEAD0_WIDTH, NVSIM_REG_HEAD0_HEIGHT,
		NVSIM_REG_HEAD0_STRIDE, NVSIM_REG_HEAD0_FORMAT,
		NVSIM_REG_HEAD0_FB_OFFSET_LO, NVSIM_REG_HEAD0_FB_OFFSET_HI,
		NVSIM_REG_CURSOR_ENABLE, NVSIM_REG_CURSOR_X,
		NVSIM_REG_CURSOR_Y,
	};

	lockdep_assert_held(&nd->lock);
	for (i = 0; i < NVSIM_R_COUNT; i++) {
		unsigned int idx;

		if (WARN_ON_ONCE(!nvsim_reg_is_writable(offs[i], &idx)))
			continue;
		migf->regs[2 * i] = cpu_to_le32(offs[i]);
		migf->regs[2 * i + 1] = cpu_to_le32(nd->regs[idx]);
	}
	migf->nregs = NVSIM_R_COUNT;
	migf->ncfg = nd->front->config_save(nd, migf->cfg,
					     NVSIM_MIG_MAX_PAIRS);
}

static int nvsim_mig_apply_locked(struct nvsim_dev *nd,
				  struct nvsim_mig_file *migf)
{
	unsigned int i;
	int ret = 0;

	lockdep_assert_held(&nd->lock);
	mutex_lock(&migf->lock);
	if (migf->broken || !migf->end_seen) {
		ret = -EINVAL;
		goto out_unlock;
	}
	ret = nd->front->config_restore_locked(nd, migf->cfg, migf->ncfg);
	if (ret)
		goto out_unlock;
	for (i = 0; i < migf->nregs; i++) {
		u32 off = le32_to_cpu(migf->regs[2 * i]);
		u32 val = le32_to_cpu(migf->regs[2 * i + 1]);
		unsigned int idx;

		if (!nvsim_reg_is_writable(off, &idx))
			continue;	/* validated while parsing */
		if (idx == NVSIM_R_HEAD0_ENABLE || idx == NVSIM_R_CURSOR_ENABLE)
			val &= 1;
		nd->regs[idx] = val;
	}
	nvsim_display_zap_locked(nd);
out_unlock:
	mutex_unlock(&migf->lock);
	return ret;
}

static struct file *nvsim_mig_start_save(struct nvsim_dev *nd, bool stop)
{
	struct nvsim_mig_file *migf;

	migf = nvsim_mig_file_new(nd, true);
	if (IS_ERR(migf))
		return ERR_CAST(migf);
	nvsim_mark_pages_dirty(nd, false);
	if (stop) {
		migf->stop_copy = true;
		nvsim_mig_snapshot_locked(nd, migf);
	}
	nd->saving = migf;
	get_file(migf->filp);
	return migf->filp;
}

/* perform one arc of the migration FSM */
static struct file *nvsim_mig_step_locked(struct nvsim_dev *nd,
					  enum vfio_device_mig_state next)
{
	enum vfio_device_mig_state cur = nd->mig_state;
	struct nvsim_mig_file *migf;
	int ret;

	if ((cur == VFIO_DEVICE_STATE_RUNNING &&
	     next == VFIO_DEVICE_STATE_RUNNING_P2P) ||
	    (cur == VFIO_DEVICE_STATE_STOP &&
	     next == VFIO_DEVICE_STATE_RUNNING_P2P) ||
	    (cur == VFIO_DEVICE_STATE_PRE_COPY &&
	     next == VFIO_DEVICE_STATE_PRE_COPY_P2P) ||
	    (cur == VFIO_DEVICE_STATE_PRE_COPY_P2P &&
	     next == VFIO_DEVICE_STATE_PRE_COPY))
		return NULL;

	if (cur == VFIO_DEVICE_STATE_RUNNING_P2P &&
	    next == VFIO_DEVICE_STATE_RUNNING)
		return nvsim_mig_take_fault(nd, NVSIM_MF_RUNNING) ?
		       ERR_PTR(-EIO) : NULL;

	if (cur == VFIO_DEVICE_STATE_RUNNING_P2P &&
	    next == VFIO_DEVICE_STATE_STOP)
		return nvsim_mig_take_fault(nd, NVSIM_MF_STOP) ?
		       ERR_PTR(-EIO) : NULL;

	if ((cur == VFIO_DEVICE_STATE_RUNNING &&
	     next == VFIO_DEVICE_STATE_PRE_COPY) ||
	    (cur == VFIO_DEVICE_STATE_RUNNING_P2P &&
	     next == VFIO_DEVICE_STATE_PRE_COPY_P2P)) {
		if (nvsim_mig_take_fault(nd, NVSIM_MF_PRE_COPY))
			return ERR_PTR(-EIO);
		return nvsim_mig_start_save(nd, false);
	}

	if (cur == VFIO_DEVICE_STATE_STOP &&
	    next == VFIO_DEVICE_STATE_STOP_COPY) {
		if (nvsim_mig_take_fault(nd, NVSIM_MF_STOP_COPY))
			return ERR_PTR(-EIO);
		return nvsim_mig_start_save(nd, true);
	}

	if (cur == VFIO_DEVICE_STATE_PRE_COPY_P2P &&
	    next == VFIO_DEVICE_STATE_STOP_COPY) {
		if (nvsim_mig_take_fault(nd, NVSIM_MF_STOP_COPY))
			return ERR_PTR(-EIO);
		migf = nd->saving;
		if (WARN_ON_ONCE(!migf))
			return ERR_PTR(-EINVAL);
		/* device writes by dma-buf importers are not tracked: resend */
		nvsim_mark_pages_dirty(nd, true);
		mutex_lock(&migf->lock);
		migf->stop_copy = true;
		nvsim_mig_snapshot_locked(nd, migf);
		mutex_unlock(&migf->lock);
		return NULL;
	}

	if ((cur == VFIO_DEVICE_STATE_STOP_COPY &&
	     next == VFIO_DEVICE_STATE_STOP) ||
	    (cur == VFIO_DEVICE_STATE_PRE_COPY &&
	     next == VFIO_DEVICE_STATE_RUNNING) ||
	    (cur == VFIO_DEVICE_STATE_PRE_COPY_P2P &&
	     next == VFIO_DEVICE_STATE_RUNNING_P2P)) {
		if (nd->saving) {
			nvsim_mig_file_disable(nd->saving);
			nd->saving = NULL;
		}
		return NULL;
	}

	if (cur == VFIO_DEVICE_STATE_STOP &&
	    next == VFIO_DEVICE_STATE_RESUMING) {
		if (nvsim_mig_take_fault(nd, NVSIM_MF_RESUMING))
			return ERR_PTR(-EIO);
		migf = nvsim_mig_file_new(nd, false);
		if (IS_ERR(migf))
			return ERR_CAST(migf);
		/* pages absent from the stream must read back as zero */
		nvsim_zero_pages(nd);
		nd->resuming = migf;
		get_file(migf->filp);
		return migf->filp;
	}

	if (cur == VFIO_DEVICE_STATE_RESUMING &&
	    next == VFIO_DEVICE_STATE_STOP) {
		migf = nd->resuming;
		if (WARN_ON_ONCE(!migf))
			return ERR_PTR(-EINVAL);
		if (nvsim_mig_take_fault(nd, NVSIM_MF_RESUME_END))
			ret = -EIO;
		else
			ret = nvsim_mig_apply_locked(nd, migf);
		nvsim_mig_file_disable(migf);
		nd->resuming = NULL;
		return ret ? ERR_PTR(ret) : NULL;
	}

	return ERR_PTR(-EINVAL);
}

static struct file *nvsim_mig_set_state(struct vfio_device *vdev,
					enum vfio_device_mig_state new_state)
{
	struct nvsim_dev *nd = vdev_to_nvsim(vdev);
	enum vfio_device_mig_state next;
	struct file *res = NULL;
	int ret;

	mutex_lock(&nd->lock);
	while (nd->mig_state != new_state) {
		ret = vfio_mig_get_next_state(vdev, nd->mig_state, new_state,
					      &next);
		if (ret) {
			res = ERR_PTR(ret);
			break;
		}
		res = nvsim_mig_step_locked(nd, next);
		if (IS_ERR(res)) {
			/* a failed load leaves nothing sane to run */
			if (nd->mig_state == VFIO_DEVICE_STATE_RESUMING)
				nd->mig_state = VFIO_DEVICE_STATE_ERROR;
			break;
		}
		nd->mig_state = next;
		if (res && next != new_state) {
			/* only the final arc may hand out a file */
			fput(res);
			res = ERR_PTR(-EINVAL);
			break;
		}
	}
	mutex_unlock(&nd->lock);
	return res;
}

static int nvsim_mig_get_state(struct vfio_device *vdev,
			       enum vfio_device_mig_state *state)
{
	struct nvsim_dev *nd = vdev_to_nvsim(vdev);

	mutex_lock(&nd->lock);
	*state = nd->mig_state;
	mutex_unlock(&nd->lock);
	return 0;
}

/* bytes of the REGS, CONFIG and END records */
static u64 nvsim_mig_tail_size(struct nvsim_dev *nd)
{
	unsigned int ncfg = min_t(unsigned int, nd->front->config_nr_saved(nd),
				  NVSIM_MIG_MAX_PAIRS);

	return 3 * sizeof(struct nvsim_mig_record) +
	       8 * (NVSIM_R_COUNT + ncfg);
}

/* NVSIM_FB_DMA_WRITE pages that entering STOP_COPY would mark dirty */
static unsigned long nvsim_mig_nr_resend(struct nvsim_dev *nd)
{
	unsigned long idx, n = 0;
	struct page *page;

	xa_for_each_marked(&nd->fb, idx, page, NVSIM_FB_DMA_WRITE) {
		if (!xa_get_mark(&nd->fb, idx, NVSIM_FB_DIRTY))
			n++;
		cond_resched();
	}
	return n;
}

/*
 * VFIO_DEVICE_FEATURE_MIG_DATA_SIZE: the bytes that STOP_COPY, entered
 * now, would still produce.  Without a saving fd that is a whole new
 * stream: header, every present page and the tail.  With one, it is what
 * that fd has yet to return: the rest of the staged record, the header
 * if it has not been staged yet, the pages still dirty (unsent in the
 * first pass or written since they were sent), the pages STOP_COPY
 * always resends (NVSIM_FB_DMA_WRITE) if it has not been entered yet,
 * and the tail if it has not been staged yet.  Pages written after this
 * call are not counted, of course.
 */
int nvsim_mig_data_size(struct nvsim_dev *nd, unsigned long *len)
{
	struct nvsim_mig_file *migf;
	u64 size;

	mutex_lock(&nd->lock);
	migf = nd->saving;
	if (!migf) {
		size = sizeof(struct nvsim_mig_header) + nvsim_mig_tail_size(nd) +
		       atomic_long_read(&nd->fb_nr_pages) * NVSIM_MIG_PAGE_REC;
		goto out_unlock;
	}

	mutex_lock(&migf->lock);
	size = migf->buf_len - migf->buf_pos;
	if (!migf->header_done)
		size += sizeof(struct nvsim_mig_header);
	size += atomic_long_read(&nd->fb_nr_dirty) * NVSIM_MIG_PAGE_REC;
	if (!migf->stop_copy)
		size += nvsim_mig_nr_resend(nd) * NVSIM_MIG_PAGE_REC;
	if (!migf->tail_done)
		size += nvsim_mig_tail_size(nd);
	mutex_unlock(&migf->lock);
out_unlock:
	mutex_unlock(&nd->lock);
	*len = size;
	return 0;
}

static int nvsim_mig_get_data_size(struct vfio_device *vdev,
				   unsigned long *stop_copy_length)
{
	return nvsim_mig_data_size(vdev_to_nvsim(vdev), stop_copy_length);
}

#define NVSIM_MIG_FLAGS	(VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P | \
			 VFIO_MIGRATION_PRE_COPY)

/*
 * nvsim/migration, applied at open: without mig_ops the VFIO core answers
 * VFIO_DEVICE_FEATURE_MIGRATION with -ENOTTY, as for a driver that has no
 * migration support at all.
 */
void nvsim_mig_open_locked(struct nvsim_dev *nd)
{
	lockdep_assert_held(&nd->lock);

	nd->vdev.mig_ops = nd->migration ? &nvsim_mig_ops : NULL;
	nd->vdev.migration_flags = nd->migration ? NVSIM_MIG_FLAGS : 0;
}

const struct vfio_migration_ops nvsim_mig_ops = {
	.migration_set_state = nvsim_mig_set_state,
	.migration_get_state = nvsim_mig_get_state,
	.migration_get_data_size = nvsim_mig_get_data_size,
};
