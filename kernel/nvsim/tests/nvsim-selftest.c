// SPDX-License-Identifier: GPL-2.0
/*
 * nvsim-selftest - exercise the nvsim simulated vGPU through sysfs and raw
 * VFIO ioctls (legacy container/group API).  Prints TAP and exits non-zero
 * if anything failed.  Must run as root with nvsim.ko loaded with its
 * default parameters (parent2_driver_version may be set: the second
 * parent's checks run only then) and no mdevs present.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <linux/dma-buf.h>
#include <linux/vfio.h>

#include "nvsim-regs.h"
#include "selftest-util.h"

#define PARENT		"/sys/class/mdev_bus/nvsim"
#define TYPES		PARENT "/mdev_supported_types"
#define PARENT2		"/sys/class/mdev_bus/nvsim2"
#define TYPES2		PARENT2 "/mdev_supported_types"
#define MDEVS		"/sys/bus/mdev/devices"
#define PG		4096u

/* migration stream sizes */
#define MIG_HDR		sizeof(struct nvsim_mig_header)
#define MIG_REC		sizeof(struct nvsim_mig_record)
#define MIG_PAGE_REC	(PG + MIG_REC)
/* REGS (11 registers), CONFIG (10 dwords) and END */
#define MIG_TAIL	(3 * MIG_REC + 8 * (11 + 10))

static long avail_on(const char *types, int type)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/nvsim-%d/available_instances", types, type);
	return sysfs_long(p);
}

static long avail(int type)
{
	return avail_on(TYPES, type);
}

static int mdev_attr(const char *uuid, const char *attr, const char *val)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), MDEVS "/%s/%s", uuid, attr);
	return sysfs_write(p, val);
}

static int mdev_create_on(const char *types, int type, char *uuid)
{
	char p[PATH_MAX];
	int ret = sysfs_read("/proc/sys/kernel/random/uuid", uuid, 40);

	if (ret)
		return ret;
	snprintf(p, sizeof(p), "%s/nvsim-%d/create", types, type);
	return sysfs_write(p, uuid);
}

static int mdev_create(int type, char *uuid)
{
	return mdev_create_on(TYPES, type, uuid);
}

static int mdev_remove(const char *uuid)
{
	return mdev_attr(uuid, "remove", "1");
}

/* ------------------------------------------------------------------ */
/* VFIO */

struct dev {
	char uuid[40];
	int type;
	int container;
	int group;
	int fd;
};

static int dev_open(struct dev *d)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	char p[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	d->container = d->group = d->fd = -1;
	snprintf(p, sizeof(p), MDEVS "/%s/iommu_group", d->uuid);
	n = readlink(p, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = 0;
	snprintf(p, sizeof(p), "/dev/vfio/%s", basename(link));

	d->container = open("/dev/vfio/vfio", O_RDWR);
	if (d->container < 0)
		return -errno;
	if (ioctl(d->container, VFIO_GET_API_VERSION) != VFIO_API_VERSION)
		return -EINVAL;
	d->group = open(p, O_RDWR);
	if (d->group < 0)
		return -errno;
	if (ioctl(d->group, VFIO_GROUP_GET_STATUS, &st) ||
	    !(st.flags & VFIO_GROUP_FLAGS_VIABLE))
		return -EINVAL;
	if (ioctl(d->group, VFIO_GROUP_SET_CONTAINER, &d->container))
		return -errno;
	if (ioctl(d->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		return -errno;
	d->fd = ioctl(d->group, VFIO_GROUP_GET_DEVICE_FD, d->uuid);
	return d->fd < 0 ? -errno : 0;
}

static void dev_close(struct dev *d)
{
	if (d->fd >= 0)
		close(d->fd);
	if (d->group >= 0)
		close(d->group);
	if (d->container >= 0)
		close(d->container);
	d->fd = d->group = d->container = -1;
}

/* setup write whose result the following checks verify anyway */
static void pw(int fd, const void *buf, size_t len, off_t off)
{
	if (pwrite(fd, buf, len, off) != (ssize_t)len)
		diag("pwrite %zu bytes at %#llx: %s", len,
		     (unsigned long long)off, strerror(errno));
}

static off_t reg_off(unsigned int index)
{
	return (off_t)index << NVSIM_REGION_SHIFT;
}

static uint32_t cfg32(struct dev *d, unsigned int off)
{
	uint32_t v = 0xdeadbeef;

	if (pread(d->fd, &v, 4, reg_off(VFIO_PCI_CONFIG_REGION_INDEX) + off) != 4)
		return 0xdeadbeef;
	return v;
}

static uint16_t cfg16(struct dev *d, unsigned int off)
{
	uint16_t v = 0xdead;

	if (pread(d->fd, &v, 2, reg_off(VFIO_PCI_CONFIG_REGION_INDEX) + off) != 2)
		return 0xdead;
	return v;
}

static int cfg_w32(struct dev *d, unsigned int off, uint32_t v)
{
	return pwrite(d->fd, &v, 4, reg_off(VFIO_PCI_CONFIG_REGION_INDEX) + off)
	       == 4 ? 0 : -1;
}

static uint32_t rd(struct dev *d, unsigned int off)
{
	uint32_t v = 0xdeadbeef;

	if (pread(d->fd, &v, 4, reg_off(VFIO_PCI_BAR0_REGION_INDEX) + off) != 4)
		return 0xdeadbeef;
	return v;
}

static int wr(struct dev *d, unsigned int off, uint32_t v)
{
	return pwrite(d->fd, &v, 4, reg_off(VFIO_PCI_BAR0_REGION_INDEX) + off)
	       == 4 ? 0 : -1;
}

static int region_info(struct dev *d, unsigned int index,
		       struct vfio_region_info *info, size_t argsz)
{
	memset(info, 0, argsz);
	info->argsz = argsz;
	info->index = index;
	return ioctl(d->fd, VFIO_DEVICE_GET_REGION_INFO, info);
}

/* find a type capability in a region info buffer */
static bool region_type(struct dev *d, unsigned int index, uint32_t *type,
			uint32_t *subtype)
{
	union {
		struct vfio_region_info info;
		uint8_t raw[512];
	} u;
	struct vfio_info_cap_header *h;
	unsigned int off;

	if (region_info(d, index, &u.info, sizeof(u)) ||
	    !(u.info.flags & VFIO_REGION_INFO_FLAG_CAPS))
		return false;
	for (off = u.info.cap_offset; off && off + sizeof(*h) <= sizeof(u);
	     off = h->next) {
		h = (void *)(u.raw + off);
		if (h->id == VFIO_REGION_INFO_CAP_TYPE) {
			struct vfio_region_info_cap_type *t = (void *)h;

			*type = t->type;
			*subtype = t->subtype;
			return true;
		}
	}
	return false;
}

static int query_plane(struct dev *d, uint32_t flags, uint32_t plane_type,
		       struct vfio_device_gfx_plane_info *pi)
{
	memset(pi, 0, sizeof(*pi));
	pi->argsz = sizeof(*pi);
	pi->flags = flags;
	pi->drm_plane_type = plane_type;
	return ioctl(d->fd, VFIO_DEVICE_QUERY_GFX_PLANE, pi) ? -errno : 0;
}

static int set_irq_eventfd(struct dev *d, unsigned int index, int efd)
{
	struct {
		struct vfio_irq_set s;
		int32_t fd;
	} a = {
		.s.argsz = sizeof(a),
		.s.flags = VFIO_IRQ_SET_DATA_EVENTFD |
			   VFIO_IRQ_SET_ACTION_TRIGGER,
		.s.index = index,
		.s.start = 0,
		.s.count = 1,
		.fd = efd,
	};

	return ioctl(d->fd, VFIO_DEVICE_SET_IRQS, &a) ? -errno : 0;
}

static int mig_set(struct dev *d, uint32_t state, int *data_fd)
{
	uint64_t buf[(sizeof(struct vfio_device_feature) +
		      sizeof(struct vfio_device_feature_mig_state) + 7) / 8];
	struct vfio_device_feature *f = (void *)buf;
	struct vfio_device_feature_mig_state *m = (void *)f->data;

	memset(buf, 0, sizeof(buf));
	f->argsz = sizeof(buf);
	f->flags = VFIO_DEVICE_FEATURE_SET |
		   VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE;
	m->device_state = state;
	m->data_fd = -1;
	if (ioctl(d->fd, VFIO_DEVICE_FEATURE, f))
		return -errno;
	if (data_fd)
		*data_fd = m->data_fd;
	else if (m->data_fd >= 0)
		close(m->data_fd);
	return 0;
}

/* VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, or -errno */
static long long mig_data_size(struct dev *d)
{
	uint64_t buf[(sizeof(struct vfio_device_feature) +
		      sizeof(struct vfio_device_feature_mig_data_size) + 7) / 8];
	struct vfio_device_feature *f = (void *)buf;
	struct vfio_device_feature_mig_data_size *m = (void *)f->data;

	memset(buf, 0, sizeof(buf));
	f->argsz = sizeof(buf);
	f->flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIG_DATA_SIZE;
	if (ioctl(d->fd, VFIO_DEVICE_FEATURE, f))
		return -errno;
	return m->stop_copy_length;
}

/* PRECOPY_INFO dirty_bytes of a saving data fd, or -1 */
static long long precopy_dirty(int fd)
{
	struct vfio_precopy_info pci = { .argsz = sizeof(pci) };

	if (ioctl(fd, VFIO_MIG_GET_PRECOPY_INFO, &pci))
		return -1;
	return pci.dirty_bytes;
}

static int mig_get(struct dev *d)
{
	uint64_t buf[(sizeof(struct vfio_device_feature) +
		      sizeof(struct vfio_device_feature_mig_state) + 7) / 8];
	struct vfio_device_feature *f = (void *)buf;
	struct vfio_device_feature_mig_state *m = (void *)f->data;

	memset(buf, 0, sizeof(buf));
	f->argsz = sizeof(buf);
	f->flags = VFIO_DEVICE_FEATURE_GET |
		   VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE;
	if (ioctl(d->fd, VFIO_DEVICE_FEATURE, f))
		return -errno;
	return m->device_state;
}

/* ------------------------------------------------------------------ */
/* helpers for the stream */

static uint32_t crc32_zlib(uint32_t crc, const void *p, size_t n)
{
	const uint8_t *b = p;
	int k;

	crc = ~crc;
	while (n--) {
		crc ^= *b++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
	}
	return ~crc;
}

struct blob {
	uint8_t *p;
	size_t len, cap;
};

static void blob_add(struct blob *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			abort();
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

/* read until EOF (0) or ENOMSG; returns 0, 1 on ENOMSG or -errno */
static int drain(int fd, struct blob *b)
{
	uint8_t buf[10000];

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n > 0) {
			blob_add(b, buf, n);
			continue;
		}
		if (n == 0)
			return 0;
		return errno == ENOMSG ? 1 : -errno;
	}
}

static int feed(int fd, const uint8_t *p, size_t len, size_t chunk)
{
	while (len) {
		size_t n = len < chunk ? len : chunk;
		ssize_t w = write(fd, p, n);

		if (w < 0)
			return -errno;
		if (w == 0)
			return -EIO;
		p += w;
		len -= w;
	}
	return 0;
}

static void fill_page(uint8_t *p, uint32_t seed)
{
	uint32_t *w = (uint32_t *)p;
	unsigned int i;

	for (i = 0; i < PG / 4; i++)
		w[i] = seed * 2654435761u + i;
}

static bool check_page(const uint8_t *p, uint32_t seed)
{
	uint8_t ref[PG];

	fill_page(ref, seed);
	return !memcmp(p, ref, PG);
}

/* try to resume @stream into @d; returns write errno and STOP errno */
static void try_resume(struct dev *d, const uint8_t *s, size_t len,
		       int *werr, int *serr)
{
	int fd = -1;

	*werr = *serr = -1;
	if (mig_set(d, VFIO_DEVICE_STATE_STOP, NULL) ||
	    mig_set(d, VFIO_DEVICE_STATE_RESUMING, &fd) || fd < 0)
		return;
	*werr = feed(fd, s, len, 3000);
	*serr = mig_set(d, VFIO_DEVICE_STATE_STOP, NULL);
	close(fd);
}

/* ------------------------------------------------------------------ */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_types(void)
{
	static const struct {
		int num;
		const char *name, *desc;
		long avail;
	} t[] = {
		{ 63, "GRID P4-1Q", "num_heads=4, frl_config=60, framebuffer=1024M, max_resolution=5120x2880, max_instance=8", 8 },
		{ 65, "GRID P4-2Q", "num_heads=4, frl_config=60, framebuffer=2048M, max_resolution=5120x2880, max_instance=4", 4 },
		{ 68, "GRID P4-4Q", "num_heads=4, frl_config=60, framebuffer=4096M, max_resolution=5120x2880, max_instance=2", 2 },
		{ 289, "GRID P4-8C", "num_heads=1, frl_config=60, framebuffer=8192M, max_resolution=4096x2160, max_instance=1", 1 },
		{ 157, "GRID P4-1B", "num_heads=1, frl_config=45, framebuffer=1024M, max_resolution=2560x1600, max_instance=8", 8 },
	};
	char p[PATH_MAX], buf[256];
	unsigned int i;
	bool names = true, descs = true, api = true, av = true;

	ok(access(PARENT, F_OK) == 0, "parent %s exists", PARENT);
	ok(!sysfs_read(PARENT "/driver_version", buf, sizeof(buf)) &&
	   !strcmp(buf, "550.127.05"), "parent driver_version is 550.127.05");
	if (access(PARENT2, F_OK))
		ok(!sysfs_read(PARENT "/nvlink_peers", buf, sizeof(buf)) &&
		   !*buf && sysfs_write(PARENT "/nvlink_peers", "nvsim2") ==
		   -EINVAL && sysfs_write(PARENT "/nvlink_peers", "nvsim") ==
		   -EINVAL, "nvlink_peers empty alone, no peer can be named");

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(p, sizeof(p), TYPES "/nvsim-%d/name", t[i].num);
		if (sysfs_read(p, buf, sizeof(buf)) || strcmp(buf, t[i].name)) {
			diag("type %d name '%s'", t[i].num, buf);
			names = false;
		}
		snprintf(p, sizeof(p), TYPES "/nvsim-%d/description", t[i].num);
		if (sysfs_read(p, buf, sizeof(buf)) || strcmp(buf, t[i].desc)) {
			diag("type %d description '%s'", t[i].num, buf);
			descs = false;
		}
		snprintf(p, sizeof(p), TYPES "/nvsim-%d/device_api", t[i].num);
		if (sysfs_read(p, buf, sizeof(buf)) || strcmp(buf, "vfio-pci"))
			api = false;
		if (avail(t[i].num) != t[i].avail) {
			diag("type %d available %ld", t[i].num, avail(t[i].num));
			av = false;
		}
	}
	ok(names, "type names (nvsim-63 ... nvsim-157)");
	ok(descs, "type descriptions in NVIDIA format");
	ok(api, "device_api is vfio-pci");
	ok(av, "initial available_instances");
}

static void test_accounting(void)
{
	char big[40], small[40];
	int ret;

	ok(!mdev_create(289, big), "create GRID P4-8C (whole budget)");
	ok(avail(289) == 0 && avail(63) == 0 && avail(157) == 0,
	   "full parent: available_instances 0 everywhere");
	ret = mdev_create(63, small);
	ok(ret < 0, "full parent refuses another mdev (%s)", strerror(-ret));
	if (!ret)
		mdev_remove(small);
	ok(!mdev_remove(big), "remove GRID P4-8C");
	ok(avail(289) == 1 && avail(63) == 8, "budget returned after removal");
}

static void test_pci(struct dev *d)
{
	struct vfio_device_info di = { .argsz = sizeof(di) };
	struct vfio_region_info ri;
	struct vfio_irq_info ii = { .argsz = sizeof(ii) };
	struct vfio_device_info bad = { .argsz = 4 };

	ok(!ioctl(d->fd, VFIO_DEVICE_GET_INFO, &di) &&
	   (di.flags & VFIO_DEVICE_FLAGS_PCI) &&
	   (di.flags & VFIO_DEVICE_FLAGS_RESET) &&
	   di.num_regions == NVSIM_NUM_REGIONS &&
	   di.num_irqs == VFIO_PCI_NUM_IRQS, "device info");
	ok(ioctl(d->fd, VFIO_DEVICE_GET_INFO, &bad) && errno == EINVAL,
	   "device info rejects short argsz");

	ok(cfg16(d, 0) == NVSIM_PCI_VENDOR && cfg16(d, 2) == NVSIM_PCI_DEVICE,
	   "config vendor/device 10de:2330");
	ok(cfg16(d, 0x2c) == NVSIM_PCI_SUBVENDOR &&
	   cfg16(d, 0x2e) == NVSIM_PCI_SUBDEVICE, "config subsystem 10de:16c1");
	ok(cfg32(d, 8) == ((NVSIM_PCI_CLASS << 8) | NVSIM_PCI_REVISION),
	   "config class 030000 revision a1");
	ok((cfg16(d, 6) & 0x10) && (cfg32(d, 0x34) & 0xff) == NVSIM_PCI_MSI_CAP &&
	   (cfg32(d, NVSIM_PCI_MSI_CAP) & 0xff) == 0x05 &&
	   !(cfg32(d, NVSIM_PCI_MSI_CAP) & (0x0e << 16)),
	   "MSI capability with one vector");
	ok(((cfg32(d, 0x3c) >> 8) & 0xff) == 1, "INTx pin A");

	cfg_w32(d, 0x10, 0xffffffff);
	cfg_w32(d, 0x14, 0xffffffff);
	cfg_w32(d, 0x18, 0xffffffff);
	ok(cfg32(d, 0x10) == 0xff000000, "BAR0 sizing 16 MiB (%08x)",
	   cfg32(d, 0x10));
	ok(cfg32(d, 0x14) == 0xc000000c && cfg32(d, 0x18) == 0xffffffff,
	   "BAR1 sizing 1 GiB 64-bit prefetchable (%08x %08x)",
	   cfg32(d, 0x14), cfg32(d, 0x18));
	cfg_w32(d, 0x10, 0xfd000000);
	cfg_w32(d, 0x14, 0x40000000);
	cfg_w32(d, 0x18, 0x00000002);
	ok(cfg32(d, 0x10) == 0xfd000000 && cfg32(d, 0x14) == 0x4000000c &&
	   cfg32(d, 0x18) == 2, "BAR addresses stick");
	ok(cfg32(d, 0x1c) == 0 && cfg32(d, 0x20) == 0 && cfg32(d, 0x30) == 0,
	   "unused BARs and ROM read 0");

	ok(!region_info(d, VFIO_PCI_BAR0_REGION_INDEX, &ri, sizeof(ri)) &&
	   ri.size == NVSIM_BAR0_SIZE &&
	   !(ri.flags & VFIO_REGION_INFO_FLAG_MMAP), "BAR0 region: 16 MiB, trapped");
	ok(!region_info(d, VFIO_PCI_BAR1_REGION_INDEX, &ri, sizeof(ri)) &&
	   ri.size == (1ull << 30) &&
	   (ri.flags & VFIO_REGION_INFO_FLAG_MMAP), "BAR1 region: 1 GiB, mmap");

	ok(!region_info(d, NVSIM_EDID_REGION_INDEX, &ri, sizeof(ri)) &&
	   (ri.flags & VFIO_REGION_INFO_FLAG_CAPS) && ri.argsz > sizeof(ri) &&
	   !ri.cap_offset, "region info reports the argsz caps need");
	ri.argsz = 8;
	ok(ioctl(d->fd, VFIO_DEVICE_GET_REGION_INFO, &ri) && errno == EINVAL,
	   "region info rejects short argsz");
	ii.index = VFIO_PCI_MSI_IRQ_INDEX;
	ok(!ioctl(d->fd, VFIO_DEVICE_GET_IRQ_INFO, &ii) && ii.count == 1,
	   "MSI irq info");
	ii.index = VFIO_PCI_MSIX_IRQ_INDEX;
	ok(!ioctl(d->fd, VFIO_DEVICE_GET_IRQ_INFO, &ii) && ii.count == 0,
	   "no MSI-X");
}

static void test_bar0(struct dev *d)
{
	uint8_t b;

	ok(rd(d, NVSIM_REG_ID) == NVSIM_ID_VALUE &&
	   rd(d, NVSIM_REG_VERSION) == 1, "BAR0 ID and VERSION");
	ok(rd(d, NVSIM_REG_TYPE) == (uint32_t)d->type &&
	   rd(d, NVSIM_REG_FB_MB) == 1024, "BAR0 TYPE and FB_MB");
	wr(d, NVSIM_REG_SCRATCH, 0xa5a55a5a);
	ok(rd(d, NVSIM_REG_SCRATCH) == 0xa5a55a5a, "BAR0 SCRATCH round-trip");
	b = 0x11;
	pw(d->fd, &b, 1, reg_off(0) + NVSIM_REG_SCRATCH + 1);
	ok(rd(d, NVSIM_REG_SCRATCH) == 0xa5a5115a, "BAR0 byte write");
	wr(d, NVSIM_REG_ID, 0);
	ok(rd(d, NVSIM_REG_ID) == NVSIM_ID_VALUE, "BAR0 read-only ID");
	wr(d, 0x2000, 0x1234);
	ok(rd(d, 0x2000) == 0 && rd(d, NVSIM_BAR0_SIZE - 4) == 0,
	   "BAR0 unknown offsets read 0");
	ok(rd(d, NVSIM_REG_HEAD0_FORMAT) == NVSIM_FMT_XRGB8888,
	   "HEAD0_FORMAT defaults to XR24");
	ok(pread(d->fd, &b, 1, reg_off(0) + NVSIM_BAR0_SIZE) < 0,
	   "BAR0 access past the end fails");
}

static void test_bar1(struct dev *d)
{
	size_t len = 4 * PG;
	uint8_t *map, buf[PG];
	off_t bar1 = reg_off(VFIO_PCI_BAR1_REGION_INDEX);
	bool good;

	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, d->fd,
		   bar1 + 256 * PG);
	ok(map != MAP_FAILED, "mmap BAR1");
	if (map == MAP_FAILED)
		return;
	fill_page(map, 1);
	fill_page(map + 2 * PG, 3);
	good = pread(d->fd, buf, PG, bar1 + 256 * PG) == PG &&
	       check_page(buf, 1) &&
	       pread(d->fd, buf, PG, bar1 + 258 * PG) == PG &&
	       check_page(buf, 3);
	ok(good, "BAR1 pattern written via mmap reads back via region");

	fill_page(buf, 2);
	good = pwrite(d->fd, buf, PG, bar1 + 257 * PG) == PG &&
	       check_page(map + PG, 2);
	ok(good, "BAR1 pattern written via region reads back via mmap");

	memset(buf, 0xff, sizeof(buf));
	good = pread(d->fd, buf, PG, bar1 + (1ull << 30) - PG) == PG;
	for (unsigned int i = 0; good && i < PG; i++)
		good = !buf[i];
	ok(good, "untouched BAR1 page reads zero");
	ok(mmap(NULL, 2 * PG, PROT_READ, MAP_SHARED, d->fd,
		bar1 + (1ull << 30) - PG) == MAP_FAILED,
	   "mmap past the end of BAR1 refused");
	ok(mmap(NULL, PG, PROT_READ, MAP_SHARED, d->fd,
		reg_off(VFIO_PCI_BAR0_REGION_INDEX)) == MAP_FAILED,
	   "mmap of BAR0 refused");
	munmap(map, len);
}

static void head_setup(struct dev *d, uint32_t w, uint32_t h, uint32_t stride,
		       uint64_t off)
{
	wr(d, NVSIM_REG_HEAD0_WIDTH, w);
	wr(d, NVSIM_REG_HEAD0_HEIGHT, h);
	wr(d, NVSIM_REG_HEAD0_STRIDE, stride);
	wr(d, NVSIM_REG_HEAD0_FORMAT, NVSIM_FMT_XRGB8888);
	wr(d, NVSIM_REG_HEAD0_FB_OFFSET_LO, (uint32_t)off);
	wr(d, NVSIM_REG_HEAD0_FB_OFFSET_HI, off >> 32);
	wr(d, NVSIM_REG_HEAD0_ENABLE, 1);
}

static void test_region_plane(struct dev *d)
{
	struct vfio_device_gfx_plane_info pi;
	struct vfio_region_info ri;
	off_t bar1 = reg_off(VFIO_PCI_BAR1_REGION_INDEX);
	uint8_t page[PG], *map;
	uint32_t type = 0, sub = 0;

	ok(!query_plane(d, VFIO_GFX_PLANE_TYPE_PROBE | VFIO_GFX_PLANE_TYPE_REGION,
			0, &pi), "region plane probe supported");
	ok(query_plane(d, VFIO_GFX_PLANE_TYPE_PROBE | VFIO_GFX_PLANE_TYPE_DMABUF,
		       0, &pi) == -EINVAL, "dmabuf plane probe refused in region mode");
	ok(query_plane(d, 0, 1, &pi) == -EINVAL, "query without kind refused");
	ok(!query_plane(d, VFIO_GFX_PLANE_TYPE_REGION, 1, &pi) &&
	   !pi.size && !pi.drm_format, "disabled head: no plane");

	fill_page(page, 77);
	pw(d->fd, page, PG, bar1 + 0x100000);
	head_setup(d, 640, 480, 2560, 0x100000);
	ok(!query_plane(d, VFIO_GFX_PLANE_TYPE_REGION, 1, &pi) &&
	   pi.width == 640 && pi.height == 480 && pi.stride == 2560 &&
	   pi.drm_format == NVSIM_FMT_XRGB8888 && pi.size == 2560 * 480 &&
	   pi.region_index == NVSIM_DISPLAY_REGION_INDEX,
	   "region plane 640x480 XR24");
	ok(!query_plane(d, VFIO_GFX_PLANE_TYPE_REGION, 0, &pi) &&
	   pi.width == 640 && pi.height == 480 &&
	   pi.drm_format == NVSIM_FMT_XRGB8888,
	   "plane type 0 (what QEMU's region display sends) is head 0");
	ok(query_plane(d, VFIO_GFX_PLANE_TYPE_REGION, 3, &pi) == -EINVAL,
	   "plane type 3 refused");
	query_plane(d, VFIO_GFX_PLANE_TYPE_REGION, 1, &pi);
	ok(region_type(d, NVSIM_DISPLAY_REGION_INDEX, &type, &sub) &&
	   type == NVSIM_DISPLAY_REGION_TYPE &&
	   sub == NVSIM_DISPLAY_REGION_SUBTYPE, "display region type capability");
	ok(!region_info(d, NVSIM_DISPLAY_REGION_INDEX, &ri, sizeof(ri)) &&
	   ri.size >= pi.size && (ri.flags & VFIO_REGION_INFO_FLAG_MMAP),
	   "display region size and mmap flag");
	ok(!(ri.flags & VFIO_REGION_INFO_FLAG_WRITE) &&
	   mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, d->fd,
		reg_off(NVSIM_DISPLAY_REGION_INDEX)) == MAP_FAILED,
	   "display region is read-only");
	map = mmap(NULL, pi.size, PROT_READ, MAP_SHARED, d->fd,
		   reg_off(NVSIM_DISPLAY_REGION_INDEX));
	ok(map != MAP_FAILED && check_page(map, 77),
	   "display region mmap shows the scanout");
	if (map != MAP_FAILED) {
		/* page flip: the same mapping follows HEAD0_FB_OFFSET */
		fill_page(page, 88);
		pw(d->fd, page, PG, bar1 + 0x400000);
		wr(d, NVSIM_REG_HEAD0_FB_OFFSET_LO, 0x400000);
		ok(check_page(map, 88), "display mapping follows a page flip");
		wr(d, NVSIM_REG_HEAD0_FB_OFFSET_LO, 0x100000);
		ok(check_page(map, 77), "display mapping follows a flip back");
		wr(d, NVSIM_REG_HEAD0_ENABLE, 0);
		ok(!region_info(d, NVSIM_DISPLAY_REGION_INDEX, &ri, sizeof(ri)) &&
		   ri.size >= pi.size &&
		   ((volatile uint8_t *)map)[pi.size - 1] == 0,
		   "display region stays mapped while the head is off");
		wr(d, NVSIM_REG_HEAD0_ENABLE, 1);
		munmap(map, pi.size);
	}
	memset(page, 0, sizeof(page));
	ok(pread(d->fd, page, PG, reg_off(NVSIM_DISPLAY_REGION_INDEX)) == PG &&
	   check_page(page, 77), "display region read shows the scanout");

	wr(d, NVSIM_REG_HEAD0_STRIDE, 100);
	ok(!query_plane(d, VFIO_GFX_PLANE_TYPE_REGION, 1, &pi) && !pi.size,
	   "invalid stride: no plane");
	wr(d, NVSIM_REG_HEAD0_STRIDE, 2560);
	ok(!query_plane(d, VFIO_GFX_PLANE_TYPE_REGION, 2, &pi) && !pi.size,
	   "cursor plane reported disabled");
}

/* write a header field of the EDID region */
static void edid_hdr_w(struct dev *d, size_t field, uint32_t v)
{
	pw(d->fd, &v, 4, reg_off(NVSIM_EDID_REGION_INDEX) + field);
}

/* give the device a new monitor, in the order QEMU's vfio display does */
static void edid_plug(struct dev *d, const uint8_t *edid, uint32_t size)
{
	off_t base = reg_off(NVSIM_EDID_REGION_INDEX);

	edid_hdr_w(d, offsetof(struct vfio_region_gfx_edid, link_state),
		   VFIO_DEVICE_GFX_LINK_STATE_DOWN);
	pw(d->fd, edid, size, base + NVSIM_EDID_BLOB_OFFSET);
	edid_hdr_w(d, offsetof(struct vfio_region_gfx_edid, edid_size), size);
	edid_hdr_w(d, offsetof(struct vfio_region_gfx_edid, link_state),
		   VFIO_DEVICE_GFX_LINK_STATE_UP);
}

/* does the guest's EDID_DATA window hold @want, read as dwords? */
static bool edid_window_dwords(struct dev *d, const uint8_t *want)
{
	unsigned int i;

	for (i = 0; i < NVSIM_EDID_MAX_SIZE; i += 4) {
		uint32_t exp = want[i] | want[i + 1] << 8 | want[i + 2] << 16 |
			       (uint32_t)want[i + 3] << 24;
		uint32_t got = rd(d, NVSIM_REG_EDID_DATA + i);

		if (got != exp) {
			diag("EDID_DATA + %#x: %#x, expected %#x", i, got, exp);
			return false;
		}
	}
	return true;
}

/* the same, one byte and one unaligned word at a time */
static bool edid_window_bytes(struct dev *d, const uint8_t *want)
{
	off_t bar0 = reg_off(VFIO_PCI_BAR0_REGION_INDEX);
	unsigned int i;

	for (i = 0; i < NVSIM_EDID_MAX_SIZE; i++) {
		uint8_t b = ~want[i];

		if (pread(d->fd, &b, 1, bar0 + NVSIM_REG_EDID_DATA + i) != 1 ||
		    b != want[i]) {
			diag("EDID_DATA byte %#x: %#x, expected %#x", i, b,
			     want[i]);
			return false;
		}
	}
	for (i = 1; i < NVSIM_EDID_MAX_SIZE - 1; i += 2) {
		uint16_t w = 0xdead;

		/* odd offsets: every fourth read straddles two dwords */
		if (pread(d->fd, &w, 2, bar0 + NVSIM_REG_EDID_DATA + i) != 2 ||
		    w != (want[i] | want[i + 1] << 8)) {
			diag("EDID_DATA word %#x: %#x", i, w);
			return false;
		}
	}
	return true;
}

static void test_edid(struct dev *d)
{
	struct vfio_region_gfx_edid h;
	off_t base = reg_off(NVSIM_EDID_REGION_INDEX);
	off_t bar0 = reg_off(VFIO_PCI_BAR0_REGION_INDEX);
	uint32_t type = 0, sub = 0, v;
	uint8_t edid[256], back[256];
	uint8_t win[NVSIM_EDID_MAX_SIZE], zero[NVSIM_EDID_MAX_SIZE];
	uint8_t raw[NVSIM_EDID_MAX_SIZE + 8];
	unsigned int i;

	memset(zero, 0, sizeof(zero));
	ok(region_type(d, NVSIM_EDID_REGION_INDEX, &type, &sub) &&
	   type == VFIO_REGION_TYPE_GFX && sub == VFIO_REGION_SUBTYPE_GFX_EDID,
	   "EDID region type capability");
	ok(pread(d->fd, &h, sizeof(h), base) == sizeof(h) &&
	   h.edid_offset == NVSIM_EDID_BLOB_OFFSET &&
	   h.edid_max_size == NVSIM_EDID_MAX_SIZE && h.max_xres == 5120 &&
	   h.max_yres == 2880, "EDID header (max 5120x2880)");
	ok(rd(d, NVSIM_REG_EDID_LINK) == NVSIM_EDID_LINK_UP &&
	   rd(d, NVSIM_REG_EDID_SIZE) == 0 && edid_window_dwords(d, zero),
	   "guest EDID after open: link up, size 0, empty window");
	for (i = 0; i < sizeof(edid); i++)
		edid[i] = i * 7;
	v = VFIO_DEVICE_GFX_LINK_STATE_DOWN;
	pw(d->fd, &v, 4, base + offsetof(struct vfio_region_gfx_edid, link_state));
	ok(rd(d, NVSIM_REG_EDID_LINK) == NVSIM_EDID_LINK_DOWN,
	   "EDID_LINK shows the link going down (%#x)",
	   rd(d, NVSIM_REG_EDID_LINK));
	pw(d->fd, edid, sizeof(edid), base + h.edid_offset);
	v = sizeof(edid);
	pw(d->fd, &v, 4, base + offsetof(struct vfio_region_gfx_edid, edid_size));
	v = VFIO_DEVICE_GFX_LINK_STATE_UP;
	pw(d->fd, &v, 4, base + offsetof(struct vfio_region_gfx_edid, link_state));
	ok(pread(d->fd, &h, sizeof(h), base) == sizeof(h) &&
	   h.edid_size == sizeof(edid) &&
	   h.link_state == VFIO_DEVICE_GFX_LINK_STATE_UP &&
	   pread(d->fd, back, sizeof(back), base + h.edid_offset) == sizeof(back) &&
	   !memcmp(edid, back, sizeof(edid)), "EDID blob and size stored");

	/* what the guest sees through BAR0 */
	memset(win, 0, sizeof(win));
	memcpy(win, edid, sizeof(edid));
	ok(rd(d, NVSIM_REG_EDID_LINK) == NVSIM_EDID_LINK_UP &&
	   rd(d, NVSIM_REG_EDID_SIZE) == sizeof(edid),
	   "EDID_LINK and EDID_SIZE follow the EDID region (%#x, %#x)",
	   rd(d, NVSIM_REG_EDID_LINK), rd(d, NVSIM_REG_EDID_SIZE));
	ok(edid_window_dwords(d, win), "EDID_DATA dword reads, little endian");
	ok(edid_window_bytes(d, win), "EDID_DATA byte and word reads");
	/* one read from the last dword before the window to past its end */
	memset(raw, 0xff, sizeof(raw));
	ok(pread(d->fd, raw, sizeof(raw), bar0 + NVSIM_REG_EDID_DATA - 4) ==
	   sizeof(raw) && !memcmp(raw, zero, 4) &&
	   !memcmp(raw + 4, win, sizeof(win)) &&
	   !memcmp(raw + 4 + sizeof(win), zero, 4),
	   "EDID_DATA bulk read, zero on both sides of the window");

	wr(d, NVSIM_REG_EDID_LINK, NVSIM_EDID_LINK_DOWN);
	wr(d, NVSIM_REG_EDID_SIZE, 7);
	wr(d, NVSIM_REG_EDID_DATA, 0xffffffff);
	wr(d, NVSIM_REG_EDID_DATA_END - 4, 0x12345678);
	memset(raw, 0x5a, sizeof(raw));
	pw(d->fd, raw, 3, bar0 + NVSIM_REG_EDID_DATA + 0x21);
	pw(d->fd, raw, 64, bar0 + NVSIM_REG_EDID_DATA + 0x80);
	ok(rd(d, NVSIM_REG_EDID_LINK) == NVSIM_EDID_LINK_UP &&
	   rd(d, NVSIM_REG_EDID_SIZE) == sizeof(edid) &&
	   edid_window_dwords(d, win) &&
	   pread(d->fd, &h, sizeof(h), base) == sizeof(h) &&
	   h.edid_size == sizeof(edid) &&
	   h.link_state == VFIO_DEVICE_GFX_LINK_STATE_UP &&
	   pread(d->fd, back, sizeof(back), base + h.edid_offset) ==
	   sizeof(back) && !memcmp(edid, back, sizeof(edid)),
	   "BAR0 writes to EDID_LINK, EDID_SIZE and EDID_DATA are ignored");

	v = NVSIM_EDID_MAX_SIZE + 1;
	ok(pwrite(d->fd, &v, 4, base + offsetof(struct vfio_region_gfx_edid,
						  edid_size)) < 0,
	   "oversized edid_size refused");
	v = 1;
	ok(pwrite(d->fd, &v, 4, base + offsetof(struct vfio_region_gfx_edid,
						  max_xres)) < 0,
	   "max_xres is read-only");

	/* a smaller monitor: the window keeps the old bytes past the size */
	for (i = 0; i < 128; i++)
		edid[i] = 0xff - i;
	edid_plug(d, edid, 128);
	memcpy(win, edid, 128);
	ok(rd(d, NVSIM_REG_EDID_LINK) == NVSIM_EDID_LINK_UP &&
	   rd(d, NVSIM_REG_EDID_SIZE) == 128 && edid_window_dwords(d, win),
	   "a new EDID shows in BAR0 at once");

	ok(!ioctl(d->fd, VFIO_DEVICE_RESET) &&
	   rd(d, NVSIM_REG_EDID_LINK) == NVSIM_EDID_LINK_UP &&
	   rd(d, NVSIM_REG_EDID_SIZE) == 128 && edid_window_dwords(d, win),
	   "VFIO_DEVICE_RESET keeps the EDID");

	/* the last close and a new open reset the EDID region */
	close(d->fd);
	d->fd = ioctl(d->group, VFIO_GROUP_GET_DEVICE_FD, d->uuid);
	ok(d->fd >= 0 && rd(d, NVSIM_REG_EDID_LINK) == NVSIM_EDID_LINK_UP &&
	   rd(d, NVSIM_REG_EDID_SIZE) == 0 && edid_window_dwords(d, zero) &&
	   pread(d->fd, &h, sizeof(h), base) == sizeof(h) && !h.edid_size,
	   "reopening the device resets the EDID");
}

static void test_irqs(struct dev *d)
{
	uint64_t cnt = 0;
	int efd = eventfd(0, EFD_NONBLOCK);
	int efd2 = eventfd(0, EFD_NONBLOCK);

	ok(!set_irq_eventfd(d, VFIO_PCI_ERR_IRQ_INDEX, efd) &&
	   !set_irq_eventfd(d, VFIO_PCI_REQ_IRQ_INDEX, efd2),
	   "set ERR and REQ eventfds");
	ok(!mdev_attr(d->uuid, "nvsim/inject_irq", "err") &&
	   read(efd, &cnt, 8) == 8 && cnt == 1, "inject_irq err signals ERR");
	ok(!mdev_attr(d->uuid, "nvsim/inject_irq", "req") &&
	   read(efd2, &cnt, 8) == 8 && cnt == 1, "inject_irq req signals REQ");
	ok(mdev_attr(d->uuid, "nvsim/inject_irq", "bogus") == -EINVAL,
	   "inject_irq rejects unknown names");
	set_irq_eventfd(d, VFIO_PCI_ERR_IRQ_INDEX, -1);
	ok(mdev_attr(d->uuid, "nvsim/inject_irq", "err") == -ENODEV,
	   "inject_irq without eventfd fails");
	ok(!set_irq_eventfd(d, VFIO_PCI_MSI_IRQ_INDEX, efd) &&
	   !set_irq_eventfd(d, VFIO_PCI_MSI_IRQ_INDEX, -1), "MSI eventfd set/clear");
	ok(set_irq_eventfd(d, VFIO_PCI_MSIX_IRQ_INDEX, efd) == -EINVAL,
	   "MSI-X eventfd refused");
	{
		struct vfio_irq_set um = {
			.argsz = sizeof(um),
			.flags = VFIO_IRQ_SET_DATA_NONE |
				 VFIO_IRQ_SET_ACTION_UNMASK,
			.index = VFIO_PCI_INTX_IRQ_INDEX,
			.count = 1,
		};

		(void)!read(efd, &cnt, 8);	/* drain */
		cnt = 0;
		set_irq_eventfd(d, VFIO_PCI_INTX_IRQ_INDEX, efd);
		mdev_attr(d->uuid, "nvsim/inject_irq", "intx");
		mdev_attr(d->uuid, "nvsim/inject_irq", "intx");
		ok(read(efd, &cnt, 8) == 8 && cnt == 1,
		   "INTx is automasked after firing");
		ok(!ioctl(d->fd, VFIO_DEVICE_SET_IRQS, &um) &&
		   !mdev_attr(d->uuid, "nvsim/inject_irq", "intx") &&
		   read(efd, &cnt, 8) == 8 && cnt == 1,
		   "INTx fires again after unmask");
		set_irq_eventfd(d, VFIO_PCI_INTX_IRQ_INDEX, -1);
	}
	{
		struct vfio_irq_set hdr = {
			.argsz = sizeof(hdr),
			.flags = VFIO_IRQ_SET_DATA_NONE |
				 VFIO_IRQ_SET_ACTION_MASK,
			.index = VFIO_PCI_MSI_IRQ_INDEX,
			.count = 1,
		};

		ok(ioctl(d->fd, VFIO_DEVICE_SET_IRQS, &hdr) && errno == EINVAL,
		   "only INTx can be masked");
		hdr.argsz = 8;
		hdr.index = VFIO_PCI_INTX_IRQ_INDEX;
		ok(ioctl(d->fd, VFIO_DEVICE_SET_IRQS, &hdr) && errno == EINVAL,
		   "SET_IRQS checks argsz");
		/* TRIGGER with no data and count 0 unwires the eventfd */
		set_irq_eventfd(d, VFIO_PCI_ERR_IRQ_INDEX, efd);
		hdr.argsz = sizeof(hdr);
		hdr.flags = VFIO_IRQ_SET_DATA_NONE |
			    VFIO_IRQ_SET_ACTION_TRIGGER;
		hdr.index = VFIO_PCI_ERR_IRQ_INDEX;
		hdr.count = 0;
		ok(!ioctl(d->fd, VFIO_DEVICE_SET_IRQS, &hdr) &&
		   mdev_attr(d->uuid, "nvsim/inject_irq", "err") == -ENODEV,
		   "count 0 without data unwires the eventfd");
	}
	set_irq_eventfd(d, VFIO_PCI_REQ_IRQ_INDEX, -1);
	close(efd);
	close(efd2);
}

static void test_dmabuf(struct dev *d)
{
	struct vfio_device_gfx_plane_info pi;
	off_t bar1 = reg_off(VFIO_PCI_BAR1_REGION_INDEX);
	struct dma_buf_sync sync;
	uint8_t page[PG], *map;
	uint32_t id1, id2;
	int fd;

	ok(!query_plane(d, VFIO_GFX_PLANE_TYPE_PROBE | VFIO_GFX_PLANE_TYPE_DMABUF,
			0, &pi), "dmabuf plane probe supported");
	ok(query_plane(d, VFIO_GFX_PLANE_TYPE_PROBE | VFIO_GFX_PLANE_TYPE_REGION,
		       0, &pi) == -EINVAL, "region probe refused in dmabuf mode");
	fill_page(page, 99);
	pw(d->fd, page, PG, bar1 + 0x200000);
	head_setup(d, 1024, 768, 4096, 0x200000);
	ok(!query_plane(d, VFIO_GFX_PLANE_TYPE_DMABUF, 1, &pi) &&
	   pi.width == 1024 && pi.height == 768 && pi.size == 4096 * 768 &&
	   pi.dmabuf_id, "dmabuf plane 1024x768");
	id1 = pi.dmabuf_id;
	query_plane(d, VFIO_GFX_PLANE_TYPE_DMABUF, 1, &pi);
	ok(pi.dmabuf_id == id1, "dmabuf_id stable");

	fd = ioctl(d->fd, VFIO_DEVICE_GET_GFX_DMABUF, &id1);
	ok(fd >= 0, "GET_GFX_DMABUF returns an fd");
	if (fd >= 0) {
		ok(lseek(fd, 0, SEEK_END) == 4096 * 768, "dma-buf size");
		sync.flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW;
		ok(!ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync), "DMA_BUF_IOCTL_SYNC start");
		map = mmap(NULL, 4096 * 768, PROT_READ | PROT_WRITE, MAP_SHARED,
			   fd, 0);
		ok(map != MAP_FAILED && check_page(map, 99),
		   "dma-buf mmap shows the scanout");
		if (map != MAP_FAILED) {
			fill_page(map + PG, 100);
			munmap(map, 4096 * 768);
			ok(pread(d->fd, page, PG, bar1 + 0x201000) == PG &&
			   check_page(page, 100), "dma-buf writes reach BAR1");
		}
		sync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW;
		ok(!ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync), "DMA_BUF_IOCTL_SYNC end");
		close(fd);
	}

	wr(d, NVSIM_REG_HEAD0_WIDTH, 800);
	query_plane(d, VFIO_GFX_PLANE_TYPE_DMABUF, 1, &pi);
	id2 = pi.dmabuf_id;
	ok(id2 && id2 != id1, "dmabuf_id changes with the geometry");
	ok(ioctl(d->fd, VFIO_DEVICE_GET_GFX_DMABUF, &id1) < 0 &&
	   errno == ENOENT, "stale dmabuf_id refused");
	wr(d, NVSIM_REG_HEAD0_WIDTH, 1024);
}

static void test_plane_faults(struct dev *d)
{
	struct vfio_device_gfx_plane_info pi;
	uint32_t id;
	int fd;

	/* head is 1024x768 stride 4096 at 2 MiB from test_dmabuf() */
	mdev_attr(d->uuid, "nvsim/plane_fault", "huge");
	query_plane(d, VFIO_GFX_PLANE_TYPE_DMABUF, 1, &pi);
	id = pi.dmabuf_id;
	ok(pi.width >= 65536 && pi.height >= 65536,
	   "plane_fault huge: absurd geometry");
	ok(ioctl(d->fd, VFIO_DEVICE_GET_GFX_DMABUF, &id) < 0 && errno == EINVAL,
	   "plane_fault huge: no dma-buf");

	mdev_attr(d->uuid, "nvsim/plane_fault", "short_stride");
	query_plane(d, VFIO_GFX_PLANE_TYPE_DMABUF, 1, &pi);
	ok(pi.stride < pi.width * 4, "plane_fault short_stride");

	mdev_attr(d->uuid, "nvsim/plane_fault", "small_dmabuf");
	query_plane(d, VFIO_GFX_PLANE_TYPE_DMABUF, 1, &pi);
	id = pi.dmabuf_id;
	fd = ioctl(d->fd, VFIO_DEVICE_GET_GFX_DMABUF, &id);
	ok(fd >= 0 && lseek(fd, 0, SEEK_END) < pi.size,
	   "plane_fault small_dmabuf: dma-buf smaller than the plane");
	if (fd >= 0)
		close(fd);

	mdev_attr(d->uuid, "nvsim/plane_fault", "bad_offset");
	query_plane(d, VFIO_GFX_PLANE_TYPE_DMABUF, 1, &pi);
	id = pi.dmabuf_id;
	ok(ioctl(d->fd, VFIO_DEVICE_GET_GFX_DMABUF, &id) < 0 && errno == EINVAL,
	   "plane_fault bad_offset: no dma-buf");

	mdev_attr(d->uuid, "nvsim/plane_fault", "bad_format");
	query_plane(d, VFIO_GFX_PLANE_TYPE_DMABUF, 1, &pi);
	ok(pi.drm_format == NVSIM_FMT_BOGUS, "plane_fault bad_format");

	ok(mdev_attr(d->uuid, "nvsim/plane_fault", "nonsense") == -EINVAL,
	   "plane_fault rejects unknown values");
	mdev_attr(d->uuid, "nvsim/plane_fault", "none");
	query_plane(d, VFIO_GFX_PLANE_TYPE_DMABUF, 1, &pi);
	ok(pi.width == 1024 && pi.drm_format == NVSIM_FMT_XRGB8888,
	   "plane_fault none restores the plane");
}

static void test_params(struct dev *d)
{
	struct vfio_device_gfx_plane_info pi;
	char p[PATH_MAX], buf[256];
	int ret;

	ok(mdev_attr(d->uuid, "nvidia/vgpu_params", "bogus_key=1") == -EINVAL,
	   "vgpu_params: unknown key refused");
	ok(mdev_attr(d->uuid, "nvidia/vgpu_params", "disable_vnc=2") == -EINVAL,
	   "vgpu_params: bad value refused");
	snprintf(p, sizeof(p), MDEVS "/%s/nvsim/frame_rate", d->uuid);
	ok(sysfs_long(p) == 60, "frame_rate: limiter on by default (%ld)",
	   sysfs_long(p));
	ok(!mdev_attr(d->uuid, "nvidia/vgpu_params",
		      "frame_rate_limiter=0, disable_vnc=1"),
	   "vgpu_params: frame_rate_limiter=0, disable_vnc=1 accepted");
	snprintf(p, sizeof(p), MDEVS "/%s/nvidia/vgpu_params", d->uuid);
	ok(!sysfs_read(p, buf, sizeof(buf)) &&
	   !strcmp(buf, "frame_rate_limiter=0, disable_vnc=1"),
	   "vgpu_params reads back");
	ret = dev_open(d);
	ok(!ret, "open device with disable_vnc=1");
	if (ret)
		return;
	ok(query_plane(d, VFIO_GFX_PLANE_TYPE_PROBE | VFIO_GFX_PLANE_TYPE_REGION,
		       0, &pi) == -EINVAL &&
	   query_plane(d, VFIO_GFX_PLANE_TYPE_PROBE | VFIO_GFX_PLANE_TYPE_DMABUF,
		       0, &pi) == -EINVAL, "disable_vnc: no plane support");
	ok(mdev_attr(d->uuid, "nvidia/vgpu_params", "disable_vnc=0") == -EBUSY,
	   "vgpu_params busy while open");
	snprintf(p, sizeof(p), MDEVS "/%s/nvsim/frame_rate", d->uuid);
	ok(sysfs_long(p) == 0, "frame_rate: 0 with frame_rate_limiter=0 (%ld)",
	   sysfs_long(p));
	ok(mdev_attr(d->uuid, "nvsim/plane", "dmabuf") == -EBUSY,
	   "nvsim/plane busy while open");
}

/* The frame rate limiter at the next open, and its default again */
static void test_frame_rate(void)
{
	struct dev e = { .type = 157 };
	char p[PATH_MAX];

	if (mdev_create(157, e.uuid)) {
		ok(false, "frame_rate: create a 1B mdev");
		return;
	}
	snprintf(p, sizeof(p), MDEVS "/%s/nvsim/frame_rate", e.uuid);
	ok(sysfs_long(p) == 45, "frame_rate: 45, the 1B profile's frl_config");
	ok(!mdev_attr(e.uuid, "nvidia/vgpu_params", "frame_rate_limiter=0") &&
	   sysfs_long(p) == 45, "frame_rate: unchanged until the next open");
	ok(!dev_open(&e) && sysfs_long(p) == 0,
	   "frame_rate: 0 once opened with frame_rate_limiter=0");
	dev_close(&e);
	ok(!mdev_attr(e.uuid, "nvidia/vgpu_params", " ") && !dev_open(&e) &&
	   sysfs_long(p) == 45,
	   "frame_rate: an empty vgpu_params puts the limiter back on");
	dev_close(&e);
	ok(!mdev_remove(e.uuid), "frame_rate: remove the mdev");
}

/* The parent's simulated NUMA node and its local CPUs */
static void test_parent_numa(void)
{
	char buf[4096], want[4096];

	ok(sysfs_long(PARENT "/numa_node") == -1, "parent numa_node is -1");
	ok(!sysfs_read(PARENT "/local_cpulist", buf, sizeof(buf)) &&
	   !sysfs_read("/sys/devices/system/cpu/online", want, sizeof(want)) &&
	   !strcmp(buf, want), "local_cpulist without a node: online CPUs "
	   "(%s)", buf);
	ok(!sysfs_write(PARENT "/numa_node", "0") &&
	   sysfs_long(PARENT "/numa_node") == 0 &&
	   !sysfs_read(PARENT "/local_cpulist", buf, sizeof(buf)) &&
	   !sysfs_read("/sys/devices/system/node/node0/cpulist", want,
		       sizeof(want)) && !strcmp(buf, want),
	   "numa_node=0: node 0's CPUs (%s)", buf);
	ok(sysfs_write(PARENT "/numa_node", "-2") == -EINVAL &&
	   sysfs_write(PARENT "/numa_node", "x") == -EINVAL &&
	   sysfs_long(PARENT "/numa_node") == 0, "numa_node: bad values refused");
	if (access("/sys/devices/system/node/node1", F_OK)) {
		ok(!sysfs_write(PARENT "/numa_node", "1") &&
		   !sysfs_read(PARENT "/local_cpulist", buf, sizeof(buf)) &&
		   !*buf, "numa_node=1, not online: no local CPUs");
	} else {
		ok(true, "numa_node=1 # SKIP node 1 is online");
	}
	ok(!sysfs_write(PARENT "/numa_node", "-1") &&
	   sysfs_long(PARENT "/numa_node") == -1, "numa_node back to -1");
}

static void fill_source(struct dev *a)
{
	off_t bar1 = reg_off(VFIO_PCI_BAR1_REGION_INDEX);
	uint8_t page[PG];
	uint8_t *map;

	wr(a, NVSIM_REG_SCRATCH, 0x600dcafe);
	head_setup(a, 800, 600, 3200, 0x300000);
	wr(a, NVSIM_REG_CURSOR_X, 17);
	cfg_w32(a, 0x10, 0xfa000000);
	cfg_w32(a, 0x04, 0x0006);
	fill_page(page, 1000);
	pw(a->fd, page, PG, bar1 + 0);
	fill_page(page, 1001);
	pw(a->fd, page, PG, bar1 + 0x300000);
	fill_page(page, 1002);
	pw(a->fd, page, PG, bar1 + (1ull << 30) - PG);
	map = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, a->fd,
		   bar1 + 0x500000);
	if (map != MAP_FAILED) {
		fill_page(map, 1003);
		munmap(map, PG);
	}
}

static bool same_state(struct dev *a, struct dev *b)
{
	static const unsigned int regs[] = {
		NVSIM_REG_SCRATCH, NVSIM_REG_HEAD0_ENABLE, NVSIM_REG_HEAD0_WIDTH,
		NVSIM_REG_HEAD0_HEIGHT, NVSIM_REG_HEAD0_STRIDE,
		NVSIM_REG_HEAD0_FORMAT, NVSIM_REG_HEAD0_FB_OFFSET_LO,
		NVSIM_REG_HEAD0_FB_OFFSET_HI, NVSIM_REG_CURSOR_X,
	};
	unsigned int i;

	for (i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		if (rd(a, regs[i]) != rd(b, regs[i])) {
			diag("reg %#x: %#x vs %#x", regs[i], rd(a, regs[i]),
			     rd(b, regs[i]));
			return false;
		}
	return cfg32(a, 0x10) == cfg32(b, 0x10) &&
	       cfg16(a, 0x04) == cfg16(b, 0x04);
}

static bool same_fb(struct dev *a, struct dev *b)
{
	static const uint64_t offs[] = {
		0, 0x1000, 0x300000, 0x500000, 0x800000, 0x900000,
		(1ull << 30) - PG,
	};
	off_t bar1 = reg_off(VFIO_PCI_BAR1_REGION_INDEX);
	uint8_t pa[PG], pb[PG];
	unsigned int i;

	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		if (pread(a->fd, pa, PG, bar1 + offs[i]) != PG ||
		    pread(b->fd, pb, PG, bar1 + offs[i]) != PG ||
		    memcmp(pa, pb, PG)) {
			diag("framebuffer differs at %#" PRIx64, offs[i]);
			return false;
		}
	}
	return true;
}

/* the REGS record of a stream, or NULL */
static struct nvsim_mig_record *find_regs(uint8_t *p, size_t len)
{
	size_t pos = sizeof(struct nvsim_mig_header);

	while (pos + 24 <= len) {
		struct nvsim_mig_record *rec = (void *)(p + pos);

		if (rec->len > len - pos - 24)
			return NULL;
		if (rec->tag == NVSIM_MIG_REC_REGS)
			return rec;
		pos += 24 + rec->len;
	}
	return NULL;
}

/*
 * Resume @s into @b with the first REGS pair renamed to @off (CRC fixed
 * up); true if that is refused.  Resets @b afterwards.
 */
static bool resume_bad_reg(struct dev *b, const struct blob *s, uint32_t off)
{
	struct nvsim_mig_record *rec;
	uint8_t *bad = malloc(s->len);
	bool found = false;
	int werr, serr;

	if (!bad)
		return false;
	memcpy(bad, s->p, s->len);
	rec = find_regs(bad, s->len);
	if (rec && rec->len >= 8) {
		uint32_t *pair = (uint32_t *)(rec + 1);

		pair[0] = off;
		rec->crc = crc32_zlib(crc32_zlib(0, rec, 16), rec + 1,
				      rec->len);
		found = true;
	}
	try_resume(b, bad, s->len, &werr, &serr);
	ioctl(b->fd, VFIO_DEVICE_RESET);
	free(bad);
	return found && werr == -EINVAL && serr < 0;
}

/*
 * The PAGE records of stream bytes @from..@len: their indexes into @idx
 * (at most @max) and, for @want_idx, whether the last one holds the page
 * of @seed.  Returns the number of PAGE records, -1 if malformed.
 */
static int page_records(const struct blob *s, size_t from, uint64_t *idx,
			int max, uint64_t want_idx, uint32_t seed, bool *match)
{
	size_t pos = from;
	int n = 0;

	*match = false;
	while (pos + MIG_REC <= s->len) {
		const struct nvsim_mig_record *rec = (void *)(s->p + pos);

		if (rec->len > s->len - pos - MIG_REC)
			return -1;
		if (rec->tag == NVSIM_MIG_REC_PAGE) {
			if (n < max)
				idx[n] = rec->arg;
			if (rec->arg == want_idx)
				*match = rec->len == PG &&
					 check_page((const uint8_t *)(rec + 1),
						    seed);
			n++;
		}
		pos += MIG_REC + rec->len;
	}
	return pos == s->len ? n : -1;
}

/*
 * MIG_DATA_SIZE is what STOP_COPY entered now would produce, so QEMU's
 * convergence check sees pre-copy progress.  @c is a 2 GiB mdev with an
 * untouched framebuffer.
 */
static void test_mig_data_size(struct dev *c)
{
	static const uint64_t offs[] = {
		0, 0x10000, 0x123000, 1ull << 30, (2ull << 30) - PG,
	};
	const unsigned int m = sizeof(offs) / sizeof(offs[0]);
	off_t bar1 = reg_off(VFIO_PCI_BAR1_REGION_INDEX);
	struct blob s = { 0 };
	uint8_t page[PG], *map;
	long long sz, full;
	unsigned int i;
	int fd = -1, r;
	size_t pre;

	sz = mig_data_size(c);
	ok(sz == (long long)(MIG_HDR + MIG_TAIL),
	   "MIG_DATA_SIZE with no page present: header and tail (%lld)", sz);
	for (i = 0; i < m; i++) {
		fill_page(page, 5000 + i);
		pw(c->fd, page, PG, bar1 + offs[i]);
	}
	full = MIG_HDR + m * MIG_PAGE_REC + MIG_TAIL;
	sz = mig_data_size(c);
	ok(sz == full,
	   "MIG_DATA_SIZE in RUNNING counts all %u present pages (%lld)", m, sz);

	r = mig_set(c, VFIO_DEVICE_STATE_PRE_COPY, &fd);
	ok(!r && fd >= 0 && mig_data_size(c) == full,
	   "MIG_DATA_SIZE on entering PRE_COPY: the whole stream");
	if (r || fd < 0)
		return;
	r = drain(fd, &s);
	sz = mig_data_size(c);
	ok(r == 1 && s.len == MIG_HDR + m * MIG_PAGE_REC &&
	   sz == (long long)MIG_TAIL,
	   "MIG_DATA_SIZE after the initial pass: just the tail (%lld)", sz);

	/* three pages stored to through a BAR1 mmap, one of them twice */
	map = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd,
		   bar1 + 0x10000);
	ok(map != MAP_FAILED, "mmap BAR1 for MIG_DATA_SIZE");
	if (map == MAP_FAILED)
		goto out;
	fill_page(map, 6000);
	fill_page(map + PG, 6001);
	fill_page(map + 3 * PG, 6003);
	fill_page(map, 6010);
	sz = mig_data_size(c);
	ok(sz == (long long)(MIG_TAIL + 3 * MIG_PAGE_REC) &&
	   precopy_dirty(fd) == 3 * MIG_PAGE_REC,
	   "MIG_DATA_SIZE grows by 3 * (4096 + 24) after stores to 3 pages (%lld)",
	   sz);
	pre = s.len;
	r = drain(fd, &s);
	sz = mig_data_size(c);
	ok(r == 1 && s.len - pre == 3 * MIG_PAGE_REC &&
	   sz == (long long)MIG_TAIL,
	   "MIG_DATA_SIZE back to the tail once they are sent (%lld)", sz);

	fill_page(map + PG, 6020);
	sz = mig_data_size(c);
	ok(!mig_set(c, VFIO_DEVICE_STATE_STOP_COPY, NULL) &&
	   mig_data_size(c) == sz && sz == (long long)(MIG_TAIL + MIG_PAGE_REC),
	   "MIG_DATA_SIZE unchanged by PRE_COPY -> STOP_COPY (%lld)", sz);
	pre = s.len;
	r = drain(fd, &s);
	ok(r == 0 && (long long)(s.len - pre) == sz && mig_data_size(c) == 0,
	   "STOP_COPY produces exactly MIG_DATA_SIZE bytes (%zu), then 0",
	   s.len - pre);
	mig_set(c, VFIO_DEVICE_STATE_STOP, NULL);
	close(fd);
	fd = -1;

	/* without a saving fd, STOP_COPY would start a new stream */
	full = MIG_HDR + (m + 2) * MIG_PAGE_REC + MIG_TAIL;
	sz = mig_data_size(c);
	s.len = 0;
	r = mig_set(c, VFIO_DEVICE_STATE_STOP_COPY, &fd);
	ok(sz == full && !r && fd >= 0 && drain(fd, &s) == 0 &&
	   (long long)s.len == sz,
	   "STOP -> STOP_COPY produces exactly MIG_DATA_SIZE bytes (%lld)", sz);
	if (fd >= 0)
		close(fd);
	ok(!mig_set(c, VFIO_DEVICE_STATE_RUNNING, NULL) &&
	   mig_data_size(c) == full,
	   "MIG_DATA_SIZE in RUNNING counts all %u present pages again", m + 2);
	munmap(map, 4 * PG);
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	mig_set(c, VFIO_DEVICE_STATE_RUNNING, NULL);
	free(s.p);
}

/*
 * Stores through a dma-buf mmap are tracked like BAR1's, and STOP_COPY
 * resends only the pages written.  @d is in dmabuf mode with head 0 at
 * 2 MiB (from test_dmabuf()).  Returns the mapping, which the caller
 * keeps past the mdev's removal, or NULL.
 */
static uint8_t *test_dmabuf_dirty(struct dev *d, size_t *map_len)
{
	struct vfio_device_gfx_plane_info pi;
	const uint64_t first = 0x200000 / PG;
	struct blob s = { 0 };
	uint64_t idx[4];
	uint8_t *map;
	int fd, mfd = -1, r, n;
	bool match;
	size_t pre;
	uint32_t id;

	*map_len = 0;
	if (query_plane(d, VFIO_GFX_PLANE_TYPE_DMABUF, 1, &pi) || !pi.size) {
		ok(false, "dmabuf plane for dirty tracking");
		return NULL;
	}
	id = pi.dmabuf_id;
	fd = ioctl(d->fd, VFIO_DEVICE_GET_GFX_DMABUF, &id);
	map = fd < 0 ? MAP_FAILED :
	      mmap(NULL, pi.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (fd >= 0)
		close(fd);	/* the mapping keeps the dma-buf */
	ok(map != MAP_FAILED, "mmap a dma-buf for dirty tracking");
	if (map == MAP_FAILED)
		return NULL;
	*map_len = pi.size;
	fill_page(map, 7000);	/* writable before the save starts */

	r = mig_set(d, VFIO_DEVICE_STATE_PRE_COPY, &mfd);
	if (r || mfd < 0 || drain(mfd, &s) != 1) {
		ok(false, "PRE_COPY with a mapped dma-buf");
		goto out;
	}
	ok(precopy_dirty(mfd) == 0 &&
	   mig_data_size(d) == (long long)MIG_TAIL,
	   "mapped dma-buf: nothing pending after the initial pass (%lld)",
	   mig_data_size(d));
	fill_page(map, 7001);
	fill_page(map + 5 * PG, 7005);
	ok(precopy_dirty(mfd) == 2 * MIG_PAGE_REC &&
	   mig_data_size(d) == (long long)(MIG_TAIL + 2 * MIG_PAGE_REC),
	   "stores through a dma-buf mmap are tracked as dirty (%lld)",
	   precopy_dirty(mfd));
	pre = s.len;
	r = drain(mfd, &s);
	n = page_records(&s, pre, idx, 4, first + 5, 7005, &match);
	ok(r == 1 && n == 2 && idx[0] == first && idx[1] == first + 5 && match,
	   "PRE_COPY sends just the two pages written through the dma-buf");
	fill_page(map + 5 * PG, 7006);
	ok(precopy_dirty(mfd) == MIG_PAGE_REC,
	   "re-dirtied dma-buf page tracked again");

	pre = s.len;
	r = mig_set(d, VFIO_DEVICE_STATE_STOP_COPY, NULL);
	if (!r)
		r = drain(mfd, &s);
	n = page_records(&s, pre, idx, 4, first + 5, 7006, &match);
	ok(!r && n == 1 && match && s.len - pre == MIG_PAGE_REC + MIG_TAIL,
	   "STOP_COPY resends only the dma-buf page written (%zu bytes)",
	   s.len - pre);
out:
	mig_set(d, VFIO_DEVICE_STATE_STOP, NULL);
	if (mfd >= 0)
		close(mfd);
	mig_set(d, VFIO_DEVICE_STATE_RUNNING, NULL);
	free(s.p);
	return map;
}

static void test_migration(struct dev *a, struct dev *b, struct dev *c)
{
	uint64_t fbuf[(sizeof(struct vfio_device_feature) + 16) / 8] = { 0 };
	struct vfio_device_feature *f = (void *)fbuf;
	struct vfio_precopy_info pci = { .argsz = sizeof(pci) };
	off_t bar1 = reg_off(VFIO_PCI_BAR1_REGION_INDEX);
	struct blob s = { 0 };
	struct nvsim_mig_header *h;
	uint8_t *bad, page[PG], *map;
	int fd = -1, fd2 = -1, r, werr, serr;
	size_t pre_len;

	f->argsz = sizeof(fbuf);
	f->flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIGRATION;
	ok(!ioctl(a->fd, VFIO_DEVICE_FEATURE, f) &&
	   ((struct vfio_device_feature_migration *)f->data)->flags ==
	   (VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P |
	    VFIO_MIGRATION_PRE_COPY), "migration flags STOP_COPY|P2P|PRE_COPY");

	fill_source(a);
	/* a mapping that stays alive across PRE_COPY */
	map = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, a->fd,
		   bar1 + 0x900000);
	ok(map != MAP_FAILED, "mmap BAR1 page for dirty tracking");
	if (map == MAP_FAILED)
		return;
	fill_page(map, 3000);
	f->flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIG_DATA_SIZE;
	ok(!ioctl(a->fd, VFIO_DEVICE_FEATURE, f) &&
	   ((struct vfio_device_feature_mig_data_size *)f->data)->stop_copy_length
	   >= 4 * PG, "MIG_DATA_SIZE estimate");

	/* PRE_COPY: header and pages */
	r = mig_set(a, VFIO_DEVICE_STATE_PRE_COPY, &fd);
	ok(!r && fd >= 0, "RUNNING -> PRE_COPY gives a data fd");
	if (r || fd < 0)
		return;
	ok(!ioctl(fd, VFIO_MIG_GET_PRECOPY_INFO, &pci) &&
	   pci.initial_bytes >= 4 * (PG + 24), "PRECOPY_INFO initial_bytes");
	r = drain(fd, &s);
	ok(r == 1 && s.len >= sizeof(*h) + 4 * (PG + 24),
	   "PRE_COPY data ends with ENOMSG (%zu bytes)", s.len);
	pre_len = s.len;
	ok(!ioctl(fd, VFIO_MIG_GET_PRECOPY_INFO, &pci) && !pci.initial_bytes,
	   "PRECOPY_INFO drained");
	/* the guest keeps running: dirty one page and change a register */
	fill_page(page, 2000);
	pw(a->fd, page, PG, bar1 + 0x800000);
	wr(a, NVSIM_REG_SCRATCH, 0x0dd0beef);
	ok(!ioctl(fd, VFIO_MIG_GET_PRECOPY_INFO, &pci) &&
	   pci.dirty_bytes >= PG + 24 && pci.dirty_bytes < 2 * (PG + 24),
	   "PRECOPY_INFO dirty_bytes after a region write");
	fill_page(map, 3001);
	ok(!ioctl(fd, VFIO_MIG_GET_PRECOPY_INFO, &pci) &&
	   pci.dirty_bytes >= 2 * (PG + 24) && pci.dirty_bytes < 3 * (PG + 24),
	   "store through a live mmap is tracked as dirty");
	pre_len = s.len;
	r = drain(fd, &s);
	ok(r == 1 && s.len - pre_len == 2 * (PG + 24),
	   "PRE_COPY resends just the two dirty pages");
	fill_page(map, 3002);
	ok(!ioctl(fd, VFIO_MIG_GET_PRECOPY_INFO, &pci) &&
	   pci.dirty_bytes == PG + 24, "re-dirtied mmap page tracked again");
	munmap(map, PG);
	pre_len = s.len;
	ok(!mig_set(a, VFIO_DEVICE_STATE_STOP_COPY, &fd2) && fd2 < 0,
	   "PRE_COPY -> STOP_COPY keeps the data fd");
	r = drain(fd, &s);
	ok(r == 0 && s.len > pre_len + PG,
	   "STOP_COPY data ends with EOF (%zu bytes)", s.len);
	ok(s.len - pre_len < 2 * (PG + 24) + 512,
	   "STOP_COPY sends only what changed (%zu bytes)", s.len - pre_len);
	ok(ioctl(fd, VFIO_MIG_GET_PRECOPY_INFO, &pci) < 0 && errno == EINVAL,
	   "PRECOPY_INFO refused in STOP_COPY");
	ok(!mig_set(a, VFIO_DEVICE_STATE_STOP, NULL), "STOP_COPY -> STOP");
	ok(read(fd, page, 16) < 0, "data fd dead after STOP");
	close(fd);

	h = (void *)s.p;
	ok(s.len > sizeof(*h) && h->magic == NVSIM_MIG_MAGIC &&
	   h->version == NVSIM_MIG_VERSION && h->type == (uint32_t)a->type &&
	   !strcmp(h->driver_version, "550.127.05"), "stream header");

	/* resume into b */
	try_resume(b, s.p, s.len, &werr, &serr);
	ok(!werr && !serr, "resume into a second mdev of the same type");
	ok(!mig_set(b, VFIO_DEVICE_STATE_RUNNING, NULL) &&
	   mig_get(b) == VFIO_DEVICE_STATE_RUNNING, "target RUNNING");
	ok(same_state(a, b), "registers and config space identical");
	ok(same_fb(a, b), "framebuffer identical");
	ok(rd(b, NVSIM_REG_SCRATCH) == 0x0dd0beef,
	   "register written during PRE_COPY migrated");
	ok(!mig_set(a, VFIO_DEVICE_STATE_RUNNING, NULL), "source back to RUNNING");

	/* incremental parsing: odd-sized writes */
	{
		int rfd = -1;

		werr = serr = -1;
		if (!mig_set(b, VFIO_DEVICE_STATE_STOP, NULL) &&
		    !mig_set(b, VFIO_DEVICE_STATE_RESUMING, &rfd) && rfd >= 0) {
			werr = feed(rfd, s.p, s.len, 7);
			serr = mig_set(b, VFIO_DEVICE_STATE_STOP, NULL);
			close(rfd);
		}
		mig_set(b, VFIO_DEVICE_STATE_RUNNING, NULL);
		ok(!werr && !serr && same_fb(a, b),
		   "resume with 7-byte writes");
	}

	/* refusals */
	try_resume(c, s.p, s.len, &werr, &serr);
	ok(werr == -EINVAL && serr < 0, "stream of another type refused");
	ok(!ioctl(c->fd, VFIO_DEVICE_RESET) &&
	   mig_get(c) == VFIO_DEVICE_STATE_RUNNING &&
	   rd(c, NVSIM_REG_ID) == NVSIM_ID_VALUE, "refused device resets fine");

	try_resume(b, s.p, s.len / 2, &werr, &serr);
	ok(!werr && serr == -EINVAL, "truncated stream refused at STOP");
	ok(mig_get(b) == VFIO_DEVICE_STATE_ERROR, "truncated stream: ERROR state");
	ok(!ioctl(b->fd, VFIO_DEVICE_RESET) &&
	   mig_get(b) == VFIO_DEVICE_STATE_RUNNING, "reset recovers from ERROR");

	bad = malloc(s.len);
	memcpy(bad, s.p, s.len);
	bad[sizeof(*h) + 24 + 100] ^= 0x40;
	try_resume(b, bad, s.len, &werr, &serr);
	ok(werr == -EINVAL && serr < 0, "corrupted page payload refused");
	ioctl(b->fd, VFIO_DEVICE_RESET);

	memcpy(bad, s.p, s.len);
	bad[0] ^= 1;
	try_resume(b, bad, s.len, &werr, &serr);
	ok(werr == -EINVAL && serr < 0, "corrupted magic refused");
	ioctl(b->fd, VFIO_DEVICE_RESET);

	memcpy(bad, s.p, s.len);
	h = (void *)bad;
	h->version = NVSIM_MIG_VERSION + 1;
	h->crc = crc32_zlib(0, bad, offsetof(struct nvsim_mig_header, crc));
	try_resume(b, bad, s.len, &werr, &serr);
	ok(werr == -EINVAL && serr < 0, "other stream version refused");
	ioctl(b->fd, VFIO_DEVICE_RESET);

	memcpy(bad, s.p, s.len);
	strcpy(h->driver_version, "551.10");
	h->crc = crc32_zlib(0, bad, offsetof(struct nvsim_mig_header, crc));
	try_resume(b, bad, s.len, &werr, &serr);
	ok(werr == -EINVAL && serr < 0, "other driver major version refused");
	ioctl(b->fd, VFIO_DEVICE_RESET);

	memcpy(bad, s.p, s.len);
	strcpy(h->driver_version, "550.54.14");
	h->crc = crc32_zlib(0, bad, offsetof(struct nvsim_mig_header, crc));
	try_resume(b, bad, s.len, &werr, &serr);
	ok(!werr && !serr, "same driver major, other minor accepted");
	ioctl(b->fd, VFIO_DEVICE_RESET);

	{
		/* the REGS record: writable registers only, no EDID_* */
		struct nvsim_mig_record *rec = find_regs(s.p, s.len);
		bool good = rec && rec->arg == 11 && rec->len == 8 * 11;
		uint32_t *pair = rec ? (uint32_t *)(rec + 1) : NULL;
		unsigned int i;

		for (i = 0; good && i < rec->arg; i++) {
			uint32_t o = pair[2 * i];

			good = o != NVSIM_REG_EDID_LINK &&
			       o != NVSIM_REG_EDID_SIZE &&
			       (o < NVSIM_REG_EDID_DATA ||
				o >= NVSIM_REG_EDID_DATA_END);
		}
		ok(good, "REGS record holds the 11 writable registers only");
	}
	/* well-formed REGS records naming a read-only register */
	ok(resume_bad_reg(b, &s, NVSIM_REG_ID),
	   "REGS record with a read-only register refused");
	ok(resume_bad_reg(b, &s, NVSIM_REG_EDID_SIZE),
	   "REGS record with EDID_SIZE refused");
	{
		/* random garbage after a valid header never crashes */
		unsigned int seed = 1, i;

		memcpy(bad, s.p, s.len);
		for (i = sizeof(*h); i < s.len; i++)
			bad[i] = rand_r(&seed);
		try_resume(b, bad, s.len, &werr, &serr);
		ok(werr == -EINVAL && serr < 0, "garbage records refused");
		ioctl(b->fd, VFIO_DEVICE_RESET);
	}
	free(bad);

	/* a direct STOP -> STOP_COPY save also round-trips */
	s.len = 0;
	ok(!mig_set(a, VFIO_DEVICE_STATE_STOP, NULL) &&
	   !mig_set(a, VFIO_DEVICE_STATE_STOP_COPY, &fd) && fd >= 0 &&
	   drain(fd, &s) == 0, "STOP -> STOP_COPY save");
	if (fd >= 0)
		close(fd);
	mig_set(a, VFIO_DEVICE_STATE_STOP, NULL);
	try_resume(b, s.p, s.len, &werr, &serr);
	mig_set(b, VFIO_DEVICE_STATE_RUNNING, NULL);
	ok(!werr && !serr && same_state(a, b) && same_fb(a, b),
	   "STOP_COPY-only stream resumes identically");

	/* failure injection */
	ok(!mdev_attr(a->uuid, "nvsim/mig_fail", "stop_copy") &&
	   mig_set(a, VFIO_DEVICE_STATE_STOP_COPY, &fd) == -EIO,
	   "mig_fail stop_copy fails the transition");
	ok(mig_get(a) == VFIO_DEVICE_STATE_STOP, "state unchanged after failure");
	fd = -1;
	mdev_attr(a->uuid, "nvsim/mig_fail", "read");
	ok(!mig_set(a, VFIO_DEVICE_STATE_STOP_COPY, &fd) && fd >= 0 &&
	   read(fd, page, 64) < 0 && errno == EIO && read(fd, page, 64) == 64,
	   "mig_fail read fails one read");
	if (fd >= 0)
		close(fd);
	mig_set(a, VFIO_DEVICE_STATE_STOP, NULL);
	mdev_attr(b->uuid, "nvsim/mig_fail", "resuming");
	ok(mig_set(b, VFIO_DEVICE_STATE_STOP, NULL) == 0 &&
	   mig_set(b, VFIO_DEVICE_STATE_RESUMING, &fd) == -EIO,
	   "mig_fail resuming");
	mdev_attr(b->uuid, "nvsim/mig_fail", "write");
	fd = -1;
	ok(!mig_set(b, VFIO_DEVICE_STATE_RESUMING, &fd) && fd >= 0 &&
	   write(fd, s.p, 64) < 0 && errno == EIO, "mig_fail write");
	if (fd >= 0)
		close(fd);
	mdev_attr(a->uuid, "nvsim/mig_fail", "pre_copy");
	mig_set(a, VFIO_DEVICE_STATE_RUNNING, NULL);
	ok(mig_set(a, VFIO_DEVICE_STATE_PRE_COPY, NULL) == -EIO &&
	   mig_get(a) == VFIO_DEVICE_STATE_RUNNING, "mig_fail pre_copy");
	ok(mdev_attr(a->uuid, "nvsim/mig_fail", "bogus") == -EINVAL,
	   "mig_fail rejects unknown values");
	ioctl(b->fd, VFIO_DEVICE_RESET);
	free(s.p);
}

static long mem_avail_mb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb / 1024;
}

static void test_big_profile(void)
{
	struct dev e = { .type = 289 };
	off_t bar1 = reg_off(VFIO_PCI_BAR1_REGION_INDEX);
	uint64_t last = (8ull << 30) - PG;
	uint8_t page[PG], *map;
	long before;

	ok(!mdev_create(289, e.uuid), "create GRID P4-8C");
	if (dev_open(&e)) {
		ok(false, "open GRID P4-8C");
		mdev_remove(e.uuid);
		return;
	}
	before = mem_avail_mb();
	cfg_w32(&e, 0x14, 0xffffffff);
	cfg_w32(&e, 0x18, 0xffffffff);
	ok(cfg32(&e, 0x14) == 0x0000000c && cfg32(&e, 0x18) == 0xfffffffe,
	   "BAR1 sizing 8 GiB (%08x %08x)", cfg32(&e, 0x14), cfg32(&e, 0x18));
	ok(rd(&e, NVSIM_REG_TYPE) == 289 && rd(&e, NVSIM_REG_FB_MB) == 8192,
	   "TYPE 289, FB_MB 8192");
	fill_page(page, 4242);
	map = mmap(NULL, 8ull << 30, PROT_READ | PROT_WRITE, MAP_SHARED, e.fd,
		   bar1);
	ok(map != MAP_FAILED && pwrite(e.fd, page, PG, bar1 + last) == PG &&
	   check_page(map + last, 4242), "8 GiB BAR1: last page via region and mmap");
	if (map != MAP_FAILED) {
		fill_page(map + (5ull << 30), 4343);
		ok(pread(e.fd, page, PG, bar1 + (5ull << 30)) == PG &&
		   check_page(page, 4343), "8 GiB BAR1: page above 4 GiB via mmap");
		munmap(map, 8ull << 30);
	}
	ok(before < 0 || mem_avail_mb() > before - 64,
	   "framebuffer allocated lazily (%ld -> %ld MiB available)",
	   before, mem_avail_mb());
	dev_close(&e);
	ok(!mdev_remove(e.uuid), "remove GRID P4-8C");
}

/* removing an mdev that is still open relays a REQ to its user */
static void test_remove_open(void)
{
	struct dev e = { .type = 157 };
	struct pollfd pfd;
	int efd, status = -1;
	pid_t pid;

	if (mdev_create(157, e.uuid) || dev_open(&e)) {
		ok(false, "create and open an mdev to remove");
		return;
	}
	efd = eventfd(0, EFD_NONBLOCK);
	set_irq_eventfd(&e, VFIO_PCI_REQ_IRQ_INDEX, efd);
	pid = fork();
	if (pid == 0) {
		/* our copies of the fds would keep the device open */
		close(efd);
		dev_close(&e);
		_exit(mdev_remove(e.uuid) ? 1 : 0);
	}
	pfd.fd = efd;
	pfd.events = POLLIN;
	ok(poll(&pfd, 1, 10000) == 1, "remove while open signals REQ");
	dev_close(&e);
	close(efd);
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "remove completes once the user closes");
}

static bool attr_is(const char *uuid, const char *attr, const char *want)
{
	char p[PATH_MAX], buf[64];

	snprintf(p, sizeof(p), MDEVS "/%s/%s", uuid, attr);
	return !sysfs_read(p, buf, sizeof(buf)) && !strcmp(buf, want);
}

static uint32_t irq_count(struct dev *d, unsigned int index)
{
	struct vfio_irq_info ii = { .argsz = sizeof(ii), .index = index };

	return ioctl(d->fd, VFIO_DEVICE_GET_IRQ_INFO, &ii) ? ~0u : ii.count;
}

/*
 * nvsim/{edid,err_irq,plane_region}: a vGPU without an EDID region or an
 * error irq, and one whose display region is past num_regions.
 */
static void test_feature_switches(void)
{
	struct vfio_device_info di = { .argsz = sizeof(di) };
	struct vfio_device_gfx_plane_info pi;
	struct vfio_region_info ri;
	off_t bar1 = reg_off(VFIO_PCI_BAR1_REGION_INDEX);
	uint32_t type = 0, sub = 0;
	struct dev e = { .type = 157 };
	uint8_t page[PG], *map;
	int efd;

	if (mdev_create(157, e.uuid)) {
		ok(false, "create an mdev for the feature switches");
		return;
	}
	ok(attr_is(e.uuid, "nvsim/edid", "1") &&
	   attr_is(e.uuid, "nvsim/err_irq", "1") &&
	   attr_is(e.uuid, "nvsim/plane_region", "10"),
	   "feature switches default to edid 1, err_irq 1, plane_region 10");
	ok(mdev_attr(e.uuid, "nvsim/edid", "2") == -EINVAL &&
	   mdev_attr(e.uuid, "nvsim/err_irq", "on") == -EINVAL &&
	   mdev_attr(e.uuid, "nvsim/plane_region", "9") == -EINVAL &&
	   mdev_attr(e.uuid, "nvsim/plane_region", "256") == -EINVAL,
	   "feature switches refuse bad values");
	ok(!mdev_attr(e.uuid, "nvsim/edid", "0") &&
	   !mdev_attr(e.uuid, "nvsim/err_irq", "0") &&
	   !mdev_attr(e.uuid, "nvsim/plane_region", "16") &&
	   attr_is(e.uuid, "nvsim/plane_region", "16"),
	   "edid=0, err_irq=0, plane_region=16 while closed");
	if (dev_open(&e)) {
		ok(false, "open the mdev with features off");
		goto out_remove;
	}
	ok(!ioctl(e.fd, VFIO_DEVICE_GET_INFO, &di) &&
	   di.num_regions == NVSIM_NUM_REGIONS,
	   "num_regions stays %u with the plane at 16", NVSIM_NUM_REGIONS);
	ok(!region_info(&e, NVSIM_EDID_REGION_INDEX, &ri, sizeof(ri)) &&
	   !ri.size && !ri.flags &&
	   !region_type(&e, NVSIM_EDID_REGION_INDEX, &type, &sub),
	   "edid=0: region 9 is empty, no EDID capability");
	ok(rd(&e, NVSIM_REG_EDID_SIZE) == 0, "edid=0: the guest sees no EDID");
	ok(irq_count(&e, VFIO_PCI_ERR_IRQ_INDEX) == 0 &&
	   irq_count(&e, VFIO_PCI_REQ_IRQ_INDEX) == 1,
	   "err_irq=0: ERR irq count 0, REQ still 1");
	efd = eventfd(0, EFD_NONBLOCK);
	ok(set_irq_eventfd(&e, VFIO_PCI_ERR_IRQ_INDEX, efd) == -EINVAL,
	   "err_irq=0: ERR eventfd refused");
	close(efd);
	ok(!region_info(&e, NVSIM_DISPLAY_REGION_INDEX, &ri, sizeof(ri)) &&
	   !ri.size, "plane_region=16: region 10 is empty");
	ok(region_info(&e, 17, &ri, sizeof(ri)) && errno == EINVAL,
	   "plane_region=16: region 17 does not exist");
	ok(!region_info(&e, 16, &ri, sizeof(ri)) &&
	   ri.size >= 2560 * 1600 * 4 &&
	   ri.flags == (VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_MMAP |
			VFIO_REGION_INFO_FLAG_CAPS) &&
	   ri.offset == (uint64_t)reg_off(16) &&
	   region_type(&e, 16, &type, &sub) &&
	   type == NVSIM_DISPLAY_REGION_TYPE,
	   "plane_region=16: region info answers for index 16");

	fill_page(page, 91);
	pw(e.fd, page, PG, bar1 + 0x200000);
	head_setup(&e, 640, 480, 2560, 0x200000);
	ok(!query_plane(&e, VFIO_GFX_PLANE_TYPE_REGION, 1, &pi) &&
	   pi.region_index == 16 && pi.width == 640,
	   "plane_region=16: the plane names region 16");
	memset(page, 0, sizeof(page));
	ok(pread(e.fd, page, PG, reg_off(16)) == PG && check_page(page, 91),
	   "plane_region=16: reading region 16 shows the scanout");
	map = mmap(NULL, PG, PROT_READ, MAP_SHARED, e.fd, reg_off(16));
	ok(map != MAP_FAILED && check_page(map, 91),
	   "plane_region=16: mapping region 16 shows the scanout");
	if (map != MAP_FAILED) {
		fill_page(page, 92);
		pw(e.fd, page, PG, bar1 + 0x300000);
		wr(&e, NVSIM_REG_HEAD0_FB_OFFSET_LO, 0x300000);
		ok(check_page(map, 92),
		   "plane_region=16: the mapping follows a page flip");
		munmap(map, PG);
	}
	ok(mmap(NULL, PG, PROT_READ, MAP_SHARED, e.fd,
		reg_off(NVSIM_DISPLAY_REGION_INDEX)) == MAP_FAILED,
	   "plane_region=16: region 10 cannot be mapped");

	ok(!mdev_attr(e.uuid, "nvsim/plane_fault", "enomem_once") &&
	   query_plane(&e, VFIO_GFX_PLANE_TYPE_REGION, 1, &pi) == -ENOMEM &&
	   attr_is(e.uuid, "nvsim/plane_fault", "none") &&
	   !query_plane(&e, VFIO_GFX_PLANE_TYPE_REGION, 1, &pi) &&
	   pi.width == 640,
	   "plane_fault enomem_once: one query fails with ENOMEM");

	ok(mdev_attr(e.uuid, "nvsim/edid", "1") == -EBUSY &&
	   mdev_attr(e.uuid, "nvsim/err_irq", "1") == -EBUSY &&
	   mdev_attr(e.uuid, "nvsim/plane_region", "10") == -EBUSY,
	   "feature switches busy while open");
	dev_close(&e);

	ok(!mdev_attr(e.uuid, "nvsim/edid", "1") &&
	   !mdev_attr(e.uuid, "nvsim/err_irq", "1") &&
	   !mdev_attr(e.uuid, "nvsim/plane_region", "10") && !dev_open(&e) &&
	   region_type(&e, NVSIM_EDID_REGION_INDEX, &type, &sub) &&
	   sub == VFIO_REGION_SUBTYPE_GFX_EDID &&
	   irq_count(&e, VFIO_PCI_ERR_IRQ_INDEX) == 1 &&
	   region_info(&e, 16, &ri, sizeof(ri)) && errno == EINVAL,
	   "switched back on: EDID region, ERR irq, plane at 10 again");
	dev_close(&e);
out_remove:
	ok(!mdev_remove(e.uuid), "remove the feature switch mdev");
}

static bool same_major(const char *a, const char *b)
{
	size_t la = strcspn(a, "."), lb = strcspn(b, ".");

	return la == lb && !strncmp(a, b, la);
}

/* save @from (STOP -> STOP_COPY) into @s; true on success */
static bool save_stop_copy(struct dev *from, struct blob *s)
{
	int fd = -1;
	bool good;

	s->len = 0;
	good = !mig_set(from, VFIO_DEVICE_STATE_STOP, NULL) &&
	       !mig_set(from, VFIO_DEVICE_STATE_STOP_COPY, &fd) && fd >= 0 &&
	       drain(fd, s) == 0;
	if (fd >= 0)
		close(fd);
	mig_set(from, VFIO_DEVICE_STATE_RUNNING, NULL);
	return good;
}

/*
 * A second parent, "nvsim2", exists when the module was loaded with
 * parent2_driver_version: the same types, its own budget and its own
 * driver version, which its mdevs' migration streams carry.
 */
static void test_parent2(void)
{
	static const int types[] = { 63, 65, 68, 289, 157 };
	static const char * const attrs[] = {
		"name", "description", "device_api",
	};
	struct dev e = { .type = 63 }, f = { .type = 63 }, g = { .type = 63 };
	off_t bar1 = reg_off(VFIO_PCI_BAR1_REGION_INDEX);
	char v1[64], v2[64], a1[256], a2[256], p[PATH_MAX], link[PATH_MAX];
	char big1[40], big2[40];
	struct nvsim_mig_header *h;
	struct blob s = { 0 };
	uint8_t page[PG];
	unsigned int i, j;
	bool same = true, differ;
	int werr, serr;
	ssize_t n;

	if (access(PARENT2, F_OK)) {
		ok(true, "second parent # SKIP no %s (parent2_driver_version not set)",
		   PARENT2);
		return;
	}
	ok(!sysfs_read(PARENT "/driver_version", v1, sizeof(v1)) &&
	   !sysfs_read(PARENT2 "/driver_version", v2, sizeof(v2)) && *v2 &&
	   !strcmp(v1, "550.127.05"),
	   "nvsim2 driver_version %s, nvsim keeps %s", v2, v1);
	ok(!sysfs_read(PARENT "/nvlink_peers", a1, sizeof(a1)) &&
	   !strcmp(a1, "nvsim2") &&
	   !sysfs_read(PARENT2 "/nvlink_peers", a2, sizeof(a2)) &&
	   !strcmp(a2, "nvsim"), "the two parents are NVLink peers");
	ok(sysfs_write(PARENT "/nvlink_peers", "nvsim3") == -EINVAL &&
	   sysfs_write(PARENT "/nvlink_peers", "nvsim") == -EINVAL &&
	   !sysfs_write(PARENT "/nvlink_peers", "\n") &&
	   !sysfs_read(PARENT "/nvlink_peers", a1, sizeof(a1)) && !*a1 &&
	   !sysfs_read(PARENT2 "/nvlink_peers", a2, sizeof(a2)) &&
	   !strcmp(a2, "nvsim") &&
	   !sysfs_write(PARENT "/nvlink_peers", "nvsim2\n") &&
	   !sysfs_read(PARENT "/nvlink_peers", a1, sizeof(a1)) &&
	   !strcmp(a1, "nvsim2"),
	   "nvlink_peers refuses unknown and own names, empties, is restored");
	differ = !same_major(v1, v2);

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		for (j = 0; j < sizeof(attrs) / sizeof(attrs[0]); j++) {
			snprintf(p, sizeof(p), TYPES "/nvsim-%d/%s", types[i],
				 attrs[j]);
			if (sysfs_read(p, a1, sizeof(a1)))
				same = false;
			snprintf(p, sizeof(p), TYPES2 "/nvsim-%d/%s", types[i],
				 attrs[j]);
			if (sysfs_read(p, a2, sizeof(a2)) || strcmp(a1, a2)) {
				diag("nvsim2 type %d %s '%s'", types[i],
				     attrs[j], a2);
				same = false;
			}
		}
		if (avail_on(TYPES2, types[i]) != avail(types[i]))
			same = false;
	}
	ok(same, "nvsim2 offers the same types as nvsim");
	ok(sysfs_long(PARENT2 "/fb_budget_mb") ==
	   sysfs_long(PARENT "/fb_budget_mb") &&
	   sysfs_long(PARENT2 "/fb_used_mb") == 0,
	   "nvsim2 has a budget of fb_budget_mb, unused");

	ok(!mdev_create_on(TYPES2, 289, big2) &&
	   sysfs_long(PARENT2 "/fb_used_mb") == 8192 &&
	   avail_on(TYPES2, 63) == 0 && sysfs_long(PARENT "/fb_used_mb") == 0 &&
	   avail(289) == 1, "a P4-8C on nvsim2 uses only nvsim2's budget");
	ok(!mdev_create(289, big1) && avail(63) == 0,
	   "nvsim takes a P4-8C of its own meanwhile");
	ok(!mdev_remove(big1) && !mdev_remove(big2) &&
	   sysfs_long(PARENT "/fb_used_mb") == 0 &&
	   sysfs_long(PARENT2 "/fb_used_mb") == 0 && avail(289) == 1 &&
	   avail_on(TYPES2, 289) == 1, "both budgets returned");

	if (mdev_create_on(TYPES2, 63, e.uuid) ||
	    mdev_create_on(TYPES2, 63, g.uuid) || mdev_create(63, f.uuid)) {
		ok(false, "create mdevs on nvsim2 and nvsim");
		goto out_remove;
	}
	snprintf(p, sizeof(p), MDEVS "/%s", e.uuid);
	n = readlink(p, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = 0;
	ok(strstr(link, "/nvsim2/") != NULL, "mdev created on nvsim2 (%s)",
	   link);
	if (dev_open(&e) || dev_open(&f) || dev_open(&g)) {
		ok(false, "open the nvsim2 and nvsim mdevs");
		goto out_close;
	}

	wr(&e, NVSIM_REG_SCRATCH, 0x2222);
	fill_page(page, 8000);
	pw(e.fd, page, PG, bar1 + 0x300000);
	h = NULL;
	if (save_stop_copy(&e, &s))
		h = (void *)s.p;
	ok(h && !strcmp(h->driver_version, v2),
	   "stream from an nvsim2 mdev carries nvsim2's driver_version");
	if (!h)
		goto out_close;
	try_resume(&g, s.p, s.len, &werr, &serr);
	mig_set(&g, VFIO_DEVICE_STATE_RUNNING, NULL);
	ok(!werr && !serr && same_state(&e, &g) && same_fb(&e, &g),
	   "another mdev on nvsim2 resumes it");
	try_resume(&f, s.p, s.len, &werr, &serr);
	ioctl(f.fd, VFIO_DEVICE_RESET);
	if (differ)
		ok(werr == -EINVAL && serr < 0,
		   "nvsim (%s) refuses a stream from nvsim2 (%s)", v1, v2);
	else
		ok(!werr && !serr,
		   "nvsim (%s) accepts a stream from nvsim2 (%s)", v1, v2);

	fill_page(page, 8001);
	pw(f.fd, page, PG, bar1 + 0x300000);
	h = NULL;
	if (save_stop_copy(&f, &s))
		h = (void *)s.p;
	ok(h && !strcmp(h->driver_version, v1),
	   "stream from an nvsim mdev carries nvsim's driver_version");
	if (h) {
		try_resume(&e, s.p, s.len, &werr, &serr);
		ioctl(e.fd, VFIO_DEVICE_RESET);
		if (differ)
			ok(werr == -EINVAL && serr < 0,
			   "nvsim2 (%s) refuses a stream from nvsim (%s)", v2, v1);
		else
			ok(!werr && !serr,
			   "nvsim2 (%s) accepts a stream from nvsim (%s)", v2, v1);
	}

out_close:
	dev_close(&e);
	dev_close(&f);
	dev_close(&g);
out_remove:
	free(s.p);
	if (*e.uuid)
		mdev_remove(e.uuid);
	if (*f.uuid)
		mdev_remove(f.uuid);
	if (*g.uuid)
		mdev_remove(g.uuid);
	ok(sysfs_long(PARENT2 "/fb_used_mb") == 0 &&
	   sysfs_long(PARENT "/fb_used_mb") == 0,
	   "nvsim2 and nvsim budgets fully returned");
}

/* VFIO_DEVICE_FEATURE_MIGRATION flags, or -errno */
static long long mig_flags(struct dev *d)
{
	uint64_t buf[(sizeof(struct vfio_device_feature) +
		      sizeof(struct vfio_device_feature_migration) + 7) / 8];
	struct vfio_device_feature *f = (void *)buf;
	struct vfio_device_feature_migration *m = (void *)f->data;

	memset(buf, 0, sizeof(buf));
	f->argsz = sizeof(buf);
	f->flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIGRATION;
	if (ioctl(d->fd, VFIO_DEVICE_FEATURE, f))
		return -errno;
	return m->flags;
}

/* nvsim/migration and nvsim/strict_resuming */
static void test_mig_switches(void)
{
	struct dev e = { .type = 63 };
	char p[PATH_MAX], buf[64];
	uint32_t v = 0x1234abcd, got = 0;
	uint8_t byte = 0, junk[64];
	int data_fd = -1;

	if (mdev_create(63, e.uuid)) {
		ok(false, "create an mdev for the migration switches");
		return;
	}
	snprintf(p, sizeof(p), MDEVS "/%s/nvsim/migration", e.uuid);
	ok(!sysfs_read(p, buf, sizeof(buf)) && !strcmp(buf, "1"),
	   "nvsim/migration defaults to 1 (%s)", buf);
	snprintf(p, sizeof(p), MDEVS "/%s/nvsim/strict_resuming", e.uuid);
	ok(!sysfs_read(p, buf, sizeof(buf)) && !strcmp(buf, "0"),
	   "nvsim/strict_resuming defaults to 0 (%s)", buf);
	ok(mdev_attr(e.uuid, "nvsim/migration", "maybe") == -EINVAL,
	   "nvsim/migration: a bad value refused");
	ok(!mdev_attr(e.uuid, "nvsim/migration", "0"), "nvsim/migration=0");
	if (dev_open(&e)) {
		ok(false, "open with nvsim/migration=0 (%s)", strerror(errno));
		goto out_remove;
	}
	ok(mig_flags(&e) == -ENOTTY,
	   "migration=0: no VFIO migration feature (%lld)", mig_flags(&e));
	ok(mig_set(&e, VFIO_DEVICE_STATE_STOP, NULL) == -ENOTTY,
	   "migration=0: no device state either");
	ok(mdev_attr(e.uuid, "nvsim/migration", "1") == -EBUSY,
	   "nvsim/migration busy while open");
	dev_close(&e);

	ok(!mdev_attr(e.uuid, "nvsim/migration", "1"), "nvsim/migration=1");
	if (dev_open(&e)) {
		ok(false, "reopen with nvsim/migration=1 (%s)", strerror(errno));
		goto out_remove;
	}
	ok(mig_flags(&e) == (VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P |
			     VFIO_MIGRATION_PRE_COPY),
	   "migration=1: STOP_COPY, P2P and PRE_COPY offered again");

	/* strict_resuming: no region I/O but config space while RESUMING */
	ok(!mdev_attr(e.uuid, "nvsim/strict_resuming", "1"),
	   "nvsim/strict_resuming=1 (also while open)");
	ok(wr(&e, NVSIM_REG_SCRATCH, v) == 0 &&
	   rd(&e, NVSIM_REG_SCRATCH) == v,
	   "strict_resuming: BAR0 works while RUNNING");
	ok(!mig_set(&e, VFIO_DEVICE_STATE_STOP, NULL) &&
	   !mig_set(&e, VFIO_DEVICE_STATE_RESUMING, &data_fd) && data_fd >= 0,
	   "strict_resuming: into RESUMING");
	errno = 0;
	ok(pread(e.fd, &got, 4, reg_off(0) + NVSIM_REG_SCRATCH) < 0 &&
	   errno == EIO, "strict_resuming: BAR0 read fails with EIO");
	errno = 0;
	ok(pwrite(e.fd, &v, 4, reg_off(0) + NVSIM_REG_SCRATCH) < 0 &&
	   errno == EIO, "strict_resuming: BAR0 write fails with EIO");
	errno = 0;
	ok(pread(e.fd, &byte, 1, reg_off(VFIO_PCI_BAR1_REGION_INDEX)) < 0 &&
	   errno == EIO, "strict_resuming: BAR1 read fails with EIO");
	errno = 0;
	ok(pread(e.fd, &got, 4, reg_off(NVSIM_EDID_REGION_INDEX)) < 0 &&
	   errno == EIO, "strict_resuming: EDID region read fails with EIO");
	ok(cfg16(&e, 0) == 0x10de,
	   "strict_resuming: config space still readable");
	memset(junk, 0, sizeof(junk));
	errno = 0;
	ok(write(data_fd, junk, sizeof(junk)) < 0 && errno == EINVAL,
	   "strict_resuming: the data fd still parses (and refuses junk)");
	close(data_fd);
	ok(!mdev_attr(e.uuid, "nvsim/strict_resuming", "0") &&
	   rd(&e, NVSIM_REG_SCRATCH) == v,
	   "strict_resuming=0 takes effect at once, also in RESUMING");
	dev_close(&e);
out_remove:
	ok(!mdev_remove(e.uuid), "remove the switches' mdev");
}

static void on_alarm(int sig)
{
	(void)sig;
	/* async-signal-safe reporting of a hang */
	static const char msg[] = "Bail out! selftest timed out\n";

	if (write(1, msg, sizeof(msg) - 1) < 0)
		_exit(2);
	_exit(2);
}

int main(void)
{
	struct dev a = { .type = 63 }, b = { .type = 63 }, c = { .type = 65 };
	struct dev d = { .type = 157 };
	uint8_t *dmabuf_map = NULL;
	size_t dmabuf_len = 0;
	double t0 = now();

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGALRM, on_alarm);
	alarm(300);
	printf("TAP version 13\n");

	test_types();
	test_accounting();

	ok(!mdev_create(63, a.uuid) && !mdev_create(63, b.uuid) &&
	   !mdev_create(65, c.uuid) && !mdev_create(157, d.uuid),
	   "create four mdevs");
	ok(avail(63) == 3 && avail(65) == 1 && avail(68) == 0,
	   "available_instances accounts 5 GiB used (%ld)", avail(63));
	ok(!mdev_attr(d.uuid, "nvsim/plane", "dmabuf"), "nvsim/plane=dmabuf");

	if (dev_open(&a) || dev_open(&b) || dev_open(&d)) {
		ok(false, "open VFIO devices (%s)", strerror(errno));
	} else {
		ok(true, "open VFIO devices");
		test_pci(&a);
		test_bar0(&a);
		test_bar1(&a);
		test_region_plane(&a);
		test_edid(&a);
		test_irqs(&a);
		test_dmabuf(&d);
		test_plane_faults(&d);
		dmabuf_map = test_dmabuf_dirty(&d, &dmabuf_len);
		test_params(&c);
		if (c.fd >= 0) {
			test_mig_data_size(&c);
			test_migration(&a, &b, &c);
		}
	}
	dev_close(&a);
	dev_close(&b);
	dev_close(&c);
	dev_close(&d);

	ok(!mdev_remove(a.uuid) && !mdev_remove(b.uuid) &&
	   !mdev_remove(c.uuid) && !mdev_remove(d.uuid), "remove mdevs");
	ok(avail(63) == 8 && avail(289) == 1, "budget fully returned");
	if (dmabuf_map) {
		/* the next store goes through page_mkwrite: nothing to mark */
		fill_page(dmabuf_map, 7100);
		ok(check_page(dmabuf_map, 7100),
		   "a dma-buf mapping outlives its mdev and takes stores");
		munmap(dmabuf_map, dmabuf_len);
	}
	test_mig_switches();
	test_frame_rate();
	test_parent_numa();
	test_big_profile();
	test_remove_open();
	test_feature_switches();
	test_parent2();
	ok(avail(157) == 8 && avail(289) == 1, "budget fully returned again");

	printf("1..%d\n", n_test);
	printf("# %.1f s\n", now() - t0);
	printf("%d passed, %d failed\n", n_pass, n_fail);
	return n_fail ? 1 : 0;
}
