/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nvsim - simulated NVIDIA vGPU driver (mdevs and SR-IOV VFs), internal
 * definitions
 *
 * Lock ordering (outermost first):
 *
 *   nvsim_mig_file.io_lock	per migration data fd: one read() or write()
 *				at a time; held across its user copies
 *   mmap_lock			(a user copy that faults; the page fault
 *				handlers run under it)
 *   nvsim_parent_lock		global, instance/framebuffer budget accounting
 *				of the mdev parents
 *   nvsim_gpu.lock		per simulated SR-IOV GPU (nvsim-sriov.c): the
 *				type and placements of its VFs' vGPUs; same
 *				level as nvsim_parent_lock, never both held
 *   nvsim_dev.lock		per mdev or VF: registers, config space, irqs,
 *				plane, params, migration state, and (on a VF)
 *				its type
 *   nvsim_mig_file.lock	per migration data fd: its state and the
 *				staging buffer's bounds
 *   nvsim_view_lock		global, in nvsim-core.c: the lists of
 *				framebuffer views (dma-bufs), each view's
 *				device
 *   i_mmap_rwsem, page table locks (zaps, PTE installs)
 *   nvsim_dev.fb xa_lock	framebuffer page xarray and its marks
 *
 * No user memory is touched under nvsim_dev.lock, nvsim_mig_file.lock or
 * anything after them: the migration data fds copy with only their
 * io_lock held, and never take it under another lock.  The display
 * region's fault handler takes nvsim_dev.lock and installs its PTE under
 * it, so a scanout move (which zaps under nvsim_dev.lock) cannot miss it.
 * The BAR1 and dma-buf page fault handlers only take the xarray lock;
 * the dma-buf page_mkwrite handler takes nvsim_view_lock, then the
 * xarray lock.
 */
#ifndef NVSIM_H
#define NVSIM_H

#include <linux/atomic.h>
#include <linux/mdev.h>
#include <linux/mutex.h>
#include <linux/vfio.h>
#include <linux/xarray.h>

#include "nvsim-regs.h"

#define NVSIM_NAME		"nvsim"

#define NVSIM_INDEX_TO_OFFSET(i)	((u64)(i) << NVSIM_REGION_SHIFT)
#define NVSIM_OFFSET_TO_INDEX(o)	((u64)(o) >> NVSIM_REGION_SHIFT)
#define NVSIM_OFFSET_MASK		(NVSIM_INDEX_TO_OFFSET(1) - 1)

/* xarray marks on framebuffer pages */
#define NVSIM_FB_DIRTY		XA_MARK_0	/* not yet sent in this save */
/*
 * Mapped by a dma-buf importer for device writes (DMA_FROM_DEVICE or
 * DMA_BIDIRECTIONAL), which nothing can track: resent in every STOP_COPY.
 */
#define NVSIM_FB_DMA_WRITE	XA_MARK_1

/* driver_version strings must fit a migration header, NUL included */
#define NVSIM_DRIVER_VERSION_MAX	\
	sizeof_field(struct nvsim_mig_header, driver_version)

struct nvsim_parent;

struct nvsim_type {
	struct nvsim_parent *parent;	/* constant after module init */
	struct mdev_type mtype;
	unsigned int number;
	const char *name;
	unsigned int num_heads;
	unsigned int frl;
	unsigned int fb_mb;
	unsigned int max_x;
	unsigned int max_y;
	unsigned int max_instance;
	char sysfs_name[8];
	/* live instances of this type, protected by nvsim_parent_lock */
	unsigned int instances;
};

enum nvsim_plane_mode {
	NVSIM_PLANE_REGION,
	NVSIM_PLANE_DMABUF,
};

enum nvsim_plane_fault {
	NVSIM_PF_NONE,
	NVSIM_PF_HUGE,
	NVSIM_PF_SHORT_STRIDE,
	NVSIM_PF_SMALL_DMABUF,
	NVSIM_PF_BAD_OFFSET,
	NVSIM_PF_BAD_FORMAT,
	NVSIM_PF_ENOMEM_ONCE,	/* the next plane query fails, then none */
	NVSIM_PF_COUNT,
};

enum nvsim_mig_fail {
	NVSIM_MF_NONE,
	NVSIM_MF_PRE_COPY,	/* entering PRE_COPY / PRE_COPY_P2P */
	NVSIM_MF_STOP_COPY,	/* entering STOP_COPY */
	NVSIM_MF_RESUMING,	/* entering RESUMING */
	NVSIM_MF_RESUME_END,	/* RESUMING -> STOP (loading the state) */
	NVSIM_MF_STOP,		/* RUNNING_P2P -> STOP */
	NVSIM_MF_RUNNING,	/* RUNNING_P2P -> RUNNING */
	NVSIM_MF_READ,		/* next read() on a saving data fd */
	NVSIM_MF_WRITE,		/* next write() on a resuming data fd */
	NVSIM_MF_COUNT,
};

struct nvsim_params {
	unsigned int frame_rate_limiter;
	unsigned int disable_vnc;
	unsigned int enable_uvm;
	unsigned int enable_debugging;
	unsigned int enable_profiling;
};

#define NVSIM_PARAMS_DEFAULT	{ .frame_rate_limiter = 1 }

#define NVSIM_PARAMS_MAX	256

/* writable BAR0 registers, in migration stream order */
enum nvsim_reg_idx {
	NVSIM_R_SCRATCH,
	NVSIM_R_HEAD0_ENABLE,
	NVSIM_R_HEAD0_WIDTH,
	NVSIM_R_HEAD0_HEIGHT,
	NVSIM_R_HEAD0_STRIDE,
	NVSIM_R_HEAD0_FORMAT,
	NVSIM_R_HEAD0_FB_OFFSET_LO,
	NVSIM_R_HEAD0_FB_OFFSET_HI,
	NVSIM_R_CURSOR_ENABLE,
	NVSIM_R_CURSOR_X,
	NVSIM_R_CURSOR_Y,
	NVSIM_R_COUNT,
};

/* geometry of head 0 as reported to userspace */
struct nvsim_plane {
	u32 drm_format;
	u32 width;
	u32 height;
	u32 stride;
	u32 size;		/* page aligned */
	u64 offset;		/* in the framebuffer */
	u32 dmabuf_size;	/* bytes exported by GET_GFX_DMABUF */
};

struct nvsim_mig_file;

struct nvsim_dev {
	struct vfio_device vdev;	/* must be first */
	struct mdev_device *mdev;	/* NULL on a VF */
	/*
	 * The vGPU's type.  An mdev's is fixed.  A VF's is NULL until
	 * nvidia/current_vgpu_type gives it one, and changes only while the
	 * device is closed, under nvsim_gpu.lock and @lock (either is enough
	 * to read it); everything that runs while the device is open may
	 * read it without a lock.  @fb_size, @fb_pages and @bar1_size
	 * follow it.
	 */
	const struct nvsim_type *type;
	const struct nvsim_front_ops *front;	/* immutable */
	/* of the mdev's parent; written to and checked in migration headers */
	const char *driver_version;
	u64 fb_size;
	unsigned long fb_pages;
	/*
	 * BAR1, the framebuffer's aperture: a PCI BAR's size is a power of
	 * two, a framebuffer's need not be (L4-12Q: 12 GiB, BAR1 16 GiB).
	 * Only the framebuffer part is mmapped (a sparse mmap capability);
	 * the rest reads 0 and drops writes.
	 */
	u64 bar1_size;

	/*
	 * Framebuffer pages, allocated on first touch.  The xarray has its
	 * own lock; entries are only removed in nvsim_release(), i.e. after
	 * every fd (and so every mapping) of the device is gone.  Pages
	 * handed to dma-bufs carry their own reference.
	 */
	struct xarray fb;
	atomic_long_t fb_nr_pages;	/* present entries */
	atomic_long_t fb_nr_dirty;	/* entries marked NVSIM_FB_DIRTY */
	/*
	 * address_space all mmaps of the device fd are linked into (the
	 * vfio device inode's); set by the first mmap, constant afterwards,
	 * read with READ_ONCE() to write-protect pages once they are sent.
	 */
	struct address_space *fb_mapping;
	/* zero page shown by the display region beyond the framebuffer */
	struct page *blank_page;
	/*
	 * Views of the framebuffer other than the device fd's mmaps (the
	 * exported dma-bufs), protected by nvsim_view_lock in nvsim-core.c.
	 * Stores through their mmaps are write-notified like BAR1's, and a
	 * page sent by the migration stream is write-protected in them too.
	 * nvsim_release_dev() detaches the views that outlive the device.
	 */
	struct list_head fb_views;

	/* one-shot failure injection, enum nvsim_mig_fail; lockless */
	atomic_t mig_fail;
	/* bytes taken by resuming data fds since creation (nvsim/resumed) */
	atomic64_t resumed_bytes;

	/* @lock protects everything below */
	struct mutex lock;
	bool open;

	u8 config[NVSIM_PCI_CONFIG_SIZE];
	u32 regs[NVSIM_R_COUNT];

	struct eventfd_ctx *irq_trigger[VFIO_PCI_NUM_IRQS];
	bool intx_masked;

	/* requested via sysfs, take effect at open */
	enum nvsim_plane_mode plane_mode_req;
	struct nvsim_params params_req;
	char params_str[NVSIM_PARAMS_MAX];
	/* in effect while open */
	enum nvsim_plane_mode plane_mode;
	struct nvsim_params params;

	/*
	 * Features real drivers may lack (nvsim/edid, nvsim/err_irq) and
	 * where the display region sits (nvsim/plane_region).  Written only
	 * while closed, so constant while any device fd is open.
	 */
	unsigned int has_edid;
	unsigned int has_err_irq;
	unsigned int plane_region;

	enum nvsim_plane_fault plane_fault;
	struct nvsim_plane last_plane;	/* for dmabuf_id generation */
	u32 plane_id;

	/*
	 * EDID region contents, also shown to the guest read-only through
	 * BAR0 (EDID_LINK, EDID_SIZE, EDID_DATA).  Reset at open only.
	 */
	u32 edid_size;
	u32 link_state;
	u8 edid[NVSIM_EDID_MAX_SIZE];

	/* migration */
	enum vfio_device_mig_state mig_state;
	struct nvsim_mig_file *saving;		/* holds a file reference */
	struct nvsim_mig_file *resuming;	/* holds a file reference */
	bool migration;		/* nvsim/migration: offered at next open */
	bool strict_resuming;	/* nvsim/strict_resuming: no region I/O */
};

static inline struct nvsim_dev *vdev_to_nvsim(struct vfio_device *vdev)
{
	return container_of(vdev, struct nvsim_dev, vdev);
}

extern const struct vfio_migration_ops nvsim_mig_ops;

/* nvsim-core.c: the framebuffer, its mappings and views */
struct page *nvsim_fb_page(struct nvsim_dev *nd, unsigned long idx,
			   bool alloc);
void nvsim_fb_mark(struct nvsim_dev *nd, unsigned long idx, xa_mark_t mark);
bool nvsim_fb_test_and_clear_dirty(struct nvsim_dev *nd, unsigned long idx);
void nvsim_fb_free(struct nvsim_dev *nd);
ssize_t nvsim_fb_rw(struct nvsim_dev *nd, u64 off, char __user *ubuf,
		    size_t count, bool write);
void nvsim_fb_write_protect(struct nvsim_dev *nd, unsigned long idx);
void nvsim_display_zap_locked(struct nvsim_dev *nd);

/*
 * A view of framebuffer pages [@first, @first + @npages) mapped through
 * @mapping, e.g. an exported dma-buf: stores through it are tracked and
 * it is write-protected with the framebuffer while its device lives.
 */
struct nvsim_fb_view {
	struct address_space *mapping;	/* these three: set before attach */
	unsigned long first;
	unsigned long npages;
	/* protected by nvsim_view_lock (nvsim-core.c) */
	struct nvsim_dev *nd;		/* NULL once detached */
	struct list_head node;		/* in nd->fb_views while @nd is set */
};

void nvsim_fb_view_attach(struct nvsim_dev *nd, struct nvsim_fb_view *v);
void nvsim_fb_view_detach(struct nvsim_fb_view *v);
void nvsim_fb_view_mark(struct nvsim_fb_view *v, unsigned long pgoff,
			unsigned long n, xa_mark_t mark);
void nvsim_fb_views_detach_all(struct nvsim_dev *nd);

/* nvsim-core.c: registers a migration carries; refused region I/O */
bool nvsim_reg_is_writable(u32 offset, unsigned int *idx);
bool nvsim_io_refused(struct nvsim_dev *nd);

/*
 * What a device's front end does for the parts that sit on the core:
 * only it knows its config space, which migration saves and restores.
 * nvsim-pci.c is the front end of nvsim's mdevs (nvsim_pci_front).
 */
struct nvsim_front_ops {
	/* save the migratable config dwords as (offset, value) pairs */
	int (*config_save)(struct nvsim_dev *nd, __le32 *pairs, int max);
	/* how many config_save() produces, at most */
	unsigned int (*config_nr_saved)(struct nvsim_dev *nd);
	/* may an incoming stream carry config dword @off? */
	bool (*config_offset_ok)(struct nvsim_dev *nd, u32 off);
	int (*config_restore_locked)(struct nvsim_dev *nd,
				     const __le32 *pairs, unsigned int n);
};

/* nvsim-pci.c: the PCI function (config space, BARs, irqs, ioctls) */
void nvsim_reset_locked(struct nvsim_dev *nd);
ssize_t nvsim_read(struct vfio_device *vdev, char __user *buf,
		   size_t count, loff_t *ppos);
ssize_t nvsim_write(struct vfio_device *vdev, const char __user *buf,
		    size_t count, loff_t *ppos);
long nvsim_ioctl(struct vfio_device *vdev, unsigned int cmd,
		 unsigned long arg);
int nvsim_mmap(struct vfio_device *vdev, struct vm_area_struct *vma);
void nvsim_irqs_release_locked(struct nvsim_dev *nd);
int nvsim_signal_irq(struct nvsim_dev *nd, unsigned int index);
void nvsim_config_init(struct nvsim_dev *nd);
extern const struct nvsim_front_ops nvsim_pci_front;

/* nvsim-display.c */
long nvsim_query_gfx_plane(struct nvsim_dev *nd, unsigned long arg);
long nvsim_get_gfx_dmabuf(struct nvsim_dev *nd, unsigned long arg);
int nvsim_plane_get_locked(struct nvsim_dev *nd, struct nvsim_plane *p,
			   bool apply_fault);
ssize_t nvsim_edid_rw(struct nvsim_dev *nd, u64 off, char __user *ubuf,
		      size_t count, bool write);
u64 nvsim_display_region_size(struct nvsim_dev *nd, u64 *fb_offset);
void nvsim_edid_reset_locked(struct nvsim_dev *nd);

/* nvsim-main.c: module parameters every front uses */
extern enum nvsim_plane_mode nvsim_default_plane;
extern char *nvsim_driver_version;

/* nvsim-vdev.c: the life cycle of an nvsim_dev, whatever its front */
int nvsim_dev_init(struct nvsim_dev *nd, const struct nvsim_type *type,
		   const char *driver_version);
void nvsim_dev_set_type_locked(struct nvsim_dev *nd,
			       const struct nvsim_type *type);
void nvsim_dev_clear_type_locked(struct nvsim_dev *nd);
void nvsim_dev_open_locked(struct nvsim_dev *nd);
void nvsim_vdev_release(struct vfio_device *vdev);
void nvsim_vdev_close(struct vfio_device *vdev);
void nvsim_vdev_request(struct vfio_device *vdev, unsigned int count);

/*
 * nvsim-attrs.c: sysfs attributes of a vGPU, whatever its front; the
 * device's drvdata is its nvsim_dev.  nvidia/vgpu_params, and the nvsim/
 * group (fault injection, feature switches, counters).
 */
#define NVSIM_NR_PLANE_MODES	2
extern const char * const nvsim_plane_names[NVSIM_NR_PLANE_MODES];
extern struct device_attribute dev_attr_vgpu_params;
extern const struct attribute_group nvsim_switches_group;

/* nvsim-sriov.c: the simulated SR-IOV GPU's PCI driver */
int nvsim_sriov_register(void);
void nvsim_sriov_unregister(void);

/* nvsim-mig.c */
void nvsim_mig_reset_locked(struct nvsim_dev *nd);
void nvsim_mig_open_locked(struct nvsim_dev *nd);
int nvsim_mig_data_size(struct nvsim_dev *nd, unsigned long *len);

#endif /* NVSIM_H */
