// SPDX-License-Identifier: GPL-2.0
/*
 * nvsim-sriov-selftest - the simulated SR-IOV GPU's driver through sysfs
 * (sriov_numvfs, each VF's nvidia/ and nvsim/ groups) and the VFs' VFIO
 * devices (group and container; the iommufd cdev where the kernel has
 * one).  Prints TAP and exits non-zero if anything failed.
 *
 * Runs as root in the SR-IOV test host (VGPU_HOST_SRIOV=1
 * tests/vgpu-host/run), with nvsim.ko loaded and the PF's VFs disabled;
 * leaves them disabled.  Without a simulated SR-IOV GPU it skips all.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <linux/vfio.h>

#include "nvsim-regs.h"
#include "selftest-util.h"

#define PCI_DEVS	"/sys/bus/pci/devices"
#define DRIVER		"nvsim-sriov"
#define PG		4096u

#define HEADER		"ID    : vGPU Name\n"
#define ALL_TYPES	HEADER			\
			"1060 : NVIDIA L4-1Q\n"	\
			"1061 : NVIDIA L4-2Q\n"	\
			"1062 : NVIDIA L4-4Q\n"	\
			"1063 : NVIDIA L4-6Q\n"	\
			"1064 : NVIDIA L4-8Q\n"	\
			"1065 : NVIDIA L4-12Q\n"	\
			"1066 : NVIDIA L4-24Q\n"

static char pf[NAME_MAX + 1];	/* the PF's address */
static char vf[2][NAME_MAX + 1];	/* its first two VFs' */

/* ------------------------------------------------------------------ */
/* sysfs */

/* the whole file, newlines kept; "" on error */
static const char *slurp(const char *path)
{
	static char buf[4096];
	ssize_t n;
	int fd;

	buf[0] = '\0';
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return buf;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static const char *devpath(const char *dev, const char *attr)
{
	static char p[PATH_MAX];

	snprintf(p, sizeof(p), PCI_DEVS "/%s/%s", dev, attr);
	return p;
}

static int dev_w(const char *dev, const char *attr, const char *val)
{
	return sysfs_write(devpath(dev, attr), val);
}

static bool dev_is(const char *dev, const char *attr, const char *want)
{
	char buf[256];

	return !sysfs_read(devpath(dev, attr), buf, sizeof(buf)) &&
	       !strcmp(buf, want);
}

static bool creatable_is(const char *dev, const char *want)
{
	return !strcmp(slurp(devpath(dev, "nvidia/creatable_vgpu_types")),
		       want);
}

static int set_type(const char *dev, const char *id)
{
	return dev_w(dev, "nvidia/current_vgpu_type", id);
}

/* basename of the symlink @attr of @dev into @out; 0 or -errno */
static int dev_link(const char *dev, const char *attr, char *out, size_t len)
{
	char link[PATH_MAX];
	ssize_t n = readlink(devpath(dev, attr), link, sizeof(link) - 1);

	if (n < 0)
		return -errno;
	link[n] = '\0';
	snprintf(out, len, "%s", basename(link));
	return 0;
}

static bool exists(const char *path)
{
	struct stat st;

	return !stat(path, &st);
}

static bool find_pf(void)
{
	DIR *d = opendir(PCI_DEVS);
	struct dirent *e;
	char drv[64];

	if (!d)
		return false;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' ||
		    !dev_is(e->d_name, "vendor", "0x10de") ||
		    !dev_is(e->d_name, "device", "0x27b8") ||
		    !exists(devpath(e->d_name, "sriov_totalvfs")))
			continue;
		if (dev_link(e->d_name, "driver", drv, sizeof(drv)) ||
		    strcmp(drv, DRIVER))
			continue;
		snprintf(pf, sizeof(pf), "%s", e->d_name);
		break;
	}
	closedir(d);
	return *pf;
}

/* ------------------------------------------------------------------ */
/* VFIO */

struct vfdev {
	const char *bdf;
	int container, group, fd;
};

static int vf_open(struct vfdev *v, const char *bdf)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	char group[32], p[PATH_MAX];
	int ret;

	v->bdf = bdf;
	v->container = v->group = v->fd = -1;
	ret = dev_link(bdf, "iommu_group", group, sizeof(group));
	if (ret)
		return ret;
	snprintf(p, sizeof(p), "/dev/vfio/%s", group);
	v->container = open("/dev/vfio/vfio", O_RDWR);
	if (v->container < 0)
		return -errno;
	v->group = open(p, O_RDWR);
	if (v->group < 0)
		return -errno;
	if (ioctl(v->group, VFIO_GROUP_GET_STATUS, &st))
		return -errno;
	if (!(st.flags & VFIO_GROUP_FLAGS_VIABLE))
		return -EXDEV;		/* another driver in the group */
	if (ioctl(v->group, VFIO_GROUP_SET_CONTAINER, &v->container)) {
		diag("VFIO_GROUP_SET_CONTAINER: %s", strerror(errno));
		return -errno;
	}
	if (ioctl(v->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)) {
		diag("VFIO_SET_IOMMU: %s", strerror(errno));
		return -errno;
	}
	v->fd = ioctl(v->group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	return v->fd < 0 ? -errno : 0;
}

static void vf_close(struct vfdev *v)
{
	if (v->fd >= 0)
		close(v->fd);
	if (v->group >= 0)
		close(v->group);
	if (v->container >= 0)
		close(v->container);
	v->fd = v->group = v->container = -1;
}

static off_t reg_off(unsigned int index)
{
	return (off_t)index << NVSIM_REGION_SHIFT;
}

static uint32_t cfg32(struct vfdev *v, unsigned int off)
{
	uint32_t val = 0xdeadbeef;

	if (pread(v->fd, &val, 4,
		  reg_off(VFIO_PCI_CONFIG_REGION_INDEX) + off) != 4)
		return 0xdeadbeef;
	return val;
}

static uint32_t bar0(struct vfdev *v, unsigned int off)
{
	uint32_t val = 0xdeadbeef;

	if (pread(v->fd, &val, 4, reg_off(VFIO_PCI_BAR0_REGION_INDEX) + off) != 4)
		return 0xdeadbeef;
	return val;
}

static long long region_size(struct vfdev *v, unsigned int index)
{
	struct vfio_region_info info = {
		.argsz = sizeof(info), .index = index,
	};

	if (ioctl(v->fd, VFIO_DEVICE_GET_REGION_INFO, &info))
		return -errno;
	return info.size;
}

/*
 * The one mmappable area of region @index, from its sparse mmap
 * capability: its size, or -1 without that capability (or with another
 * number of areas or a first area not at 0).
 */
static long long sparse_area(struct vfdev *v, unsigned int index)
{
	union {
		struct vfio_region_info info;
		uint8_t raw[256];
	} r = { .info = { .argsz = sizeof(r), .index = index } };
	struct vfio_region_info_cap_sparse_mmap *sp;
	struct vfio_info_cap_header *h;

	if (ioctl(v->fd, VFIO_DEVICE_GET_REGION_INFO, &r) ||
	    !(r.info.flags & VFIO_REGION_INFO_FLAG_CAPS) ||
	    r.info.argsz > sizeof(r) ||
	    r.info.cap_offset + sizeof(*sp) + sizeof(sp->areas[0]) > sizeof(r))
		return -1;
	h = (void *)(r.raw + r.info.cap_offset);
	if (h->id != VFIO_REGION_INFO_CAP_SPARSE_MMAP)
		return -1;
	sp = (void *)h;
	if (sp->nr_areas != 1 || sp->areas[0].offset)
		return -1;
	return sp->areas[0].size;
}

static long long irq_count(struct vfdev *v, unsigned int index)
{
	struct vfio_irq_info info = { .argsz = sizeof(info), .index = index };

	if (ioctl(v->fd, VFIO_DEVICE_GET_IRQ_INFO, &info))
		return -errno;
	return info.count;
}

/* VFIO_DEVICE_FEATURE_MIGRATION flags, or -errno */
static long long mig_flags(struct vfdev *v)
{
	uint64_t buf[(sizeof(struct vfio_device_feature) +
		      sizeof(struct vfio_device_feature_migration) + 7) / 8];
	struct vfio_device_feature *f = (void *)buf;
	struct vfio_device_feature_migration *m = (void *)f->data;

	memset(buf, 0, sizeof(buf));
	f->argsz = sizeof(buf);
	f->flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIGRATION;
	if (ioctl(v->fd, VFIO_DEVICE_FEATURE, f))
		return -errno;
	return m->flags;
}

static bool plane_probe(struct vfdev *v, uint32_t kind)
{
	struct vfio_device_gfx_plane_info pi = {
		.argsz = sizeof(pi),
		.flags = VFIO_GFX_PLANE_TYPE_PROBE | kind,
	};

	return !ioctl(v->fd, VFIO_DEVICE_QUERY_GFX_PLANE, &pi);
}

/* ------------------------------------------------------------------ */
/* tests */

static bool test_enable(void)
{
	char drv[2][64] = { "", "" }, grp[2][32] = { "", "" };
	char p[PATH_MAX];
	int i;

	ok(sysfs_long(devpath(pf, "sriov_totalvfs")) >= 2,
	   "PF %s: sriov_totalvfs >= 2 (%ld)", pf,
	   sysfs_long(devpath(pf, "sriov_totalvfs")));
	ok(dev_is(pf, "sriov_numvfs", "0"), "no VFs before the test");
	ok(!dev_w(pf, "sriov_numvfs", "2"), "sriov_numvfs=2");
	ok(dev_is(pf, "sriov_numvfs", "2"), "sriov_numvfs reads 2");
	for (i = 0; i < 2; i++) {
		snprintf(p, sizeof(p), "virtfn%d", i);
		if (dev_link(pf, p, vf[i], sizeof(vf[i]))) {
			ok(false, "VF %d exists", i);
			return false;
		}
		dev_link(vf[i], "driver", drv[i], sizeof(drv[i]));
		dev_link(vf[i], "iommu_group", grp[i], sizeof(grp[i]));
	}
	ok(!exists(devpath(pf, "virtfn2")), "no third VF");
	ok(!strcmp(drv[0], DRIVER) && !strcmp(drv[1], DRIVER),
	   "both VFs bound to " DRIVER " (%s, %s)", drv[0], drv[1]);
	ok(dev_is(vf[0], "vendor", "0x10de") &&
	   dev_is(vf[0], "device", "0x27b8"), "VF IDs 10de:27b8");
	ok(*grp[0] && *grp[1] && strcmp(grp[0], grp[1]),
	   "each VF has an IOMMU group of its own (%s, %s)", grp[0], grp[1]);
	snprintf(p, sizeof(p), "/dev/vfio/%s", grp[0]);
	ok(exists(p), "%s exists", p);
	return true;
}

static void test_attrs_untyped(void)
{
	ok(creatable_is(vf[0], ALL_TYPES) && creatable_is(vf[1], ALL_TYPES),
	   "creatable_vgpu_types: header and all seven types on both VFs");
	ok(dev_is(vf[0], "nvidia/current_vgpu_type", "0"),
	   "current_vgpu_type 0 without a vGPU");
	ok(dev_is(vf[0], "nvidia/gpu_instance_id", "-1"),
	   "gpu_instance_id -1 (time-sliced)");
	ok(dev_is(vf[0], "nvidia/placement_id", "-1"),
	   "placement_id -1 without a vGPU");
	ok(dev_is(vf[0], "nvidia/vgpu_params", ""), "vgpu_params empty");
	ok(dev_is(vf[0], "nvsim/migration", "1") &&
	   dev_is(vf[0], "nvsim/edid", "1") &&
	   dev_is(vf[0], "nvsim/err_irq", "1") &&
	   dev_is(vf[0], "nvsim/plane", "region"),
	   "nvsim/ switches on the VF with their defaults");
	ok(!exists(devpath(pf, "nvidia")), "no nvidia/ group on the PF");
}

static void test_bad_writes(void)
{
	struct vfdev v;

	ok(vf_open(&v, vf[0]) == -ENODEV,
	   "opening the VFIO device of a VF without a type: -ENODEV");
	vf_close(&v);
	ok(set_type(vf[0], "abc") == -EINVAL, "current_vgpu_type=abc: -EINVAL");
	ok(set_type(vf[0], "-1") == -EINVAL, "current_vgpu_type=-1: -EINVAL");
	ok(set_type(vf[0], "99999999999") == -EINVAL,
	   "current_vgpu_type out of range: -EINVAL");
	ok(set_type(vf[0], "1059") == -EINVAL,
	   "current_vgpu_type=1059 (no such type): -EINVAL");
	ok(set_type(vf[0], "0") == 0 &&
	   dev_is(vf[0], "nvidia/current_vgpu_type", "0"),
	   "releasing a VF without a vGPU: 0, nothing changes");
}

static void test_fill(void)
{
	ok(set_type(vf[0], "1065") == 0, "VF0: current_vgpu_type=1065 (12Q)");
	ok(dev_is(vf[0], "nvidia/current_vgpu_type", "1065"),
	   "VF0 reads 1065");
	ok(dev_is(vf[0], "nvidia/placement_id", "0"), "VF0 placement 0");
	ok(creatable_is(vf[0], HEADER), "VF0 with a type: header only");
	ok(creatable_is(vf[1], HEADER "1065 : NVIDIA L4-12Q\n"),
	   "VF1: only 12Q, the GPU's type, is creatable now (%s)",
	   slurp(devpath(vf[1], "nvidia/creatable_vgpu_types")));
	ok(set_type(vf[1], "1060") == -EINVAL,
	   "VF1: another type than the GPU's: -EINVAL");
	ok(set_type(vf[0], "1066") == -EBUSY && set_type(vf[0], "1065") == -EBUSY,
	   "VF0 has a type: another id -EBUSY, also its own");
	ok(set_type(vf[1], "1065") == 0, "VF1: 1065 too");
	ok(dev_is(vf[1], "nvidia/placement_id", "12"), "VF1 placement 12");
	ok(creatable_is(vf[1], HEADER), "VF1 with a type: header only");
	ok(set_type(vf[1], "0") == 0 &&
	   dev_is(vf[1], "nvidia/current_vgpu_type", "0") &&
	   dev_is(vf[1], "nvidia/placement_id", "-1"), "VF1 released");
	ok(creatable_is(vf[1], HEADER "1065 : NVIDIA L4-12Q\n"),
	   "VF1: 12Q creatable again");
	ok(!set_type(vf[0], "0") && creatable_is(vf[1], ALL_TYPES),
	   "VF0 released: every type creatable on VF1 again");

	/* a 24 GiB vGPU fills the GPU */
	ok(set_type(vf[0], "1066") == 0, "VF0: 1066 (24Q)");
	ok(creatable_is(vf[1], HEADER),
	   "the GPU is full: VF1 without a type shows the header only");
	ok(set_type(vf[1], "1066") == -EINVAL &&
	   set_type(vf[1], "1060") == -EINVAL,
	   "full GPU: VF1 takes neither 24Q nor 1Q (-EINVAL)");
	ok(!set_type(vf[0], "0") && creatable_is(vf[1], ALL_TYPES),
	   "24Q released: all types back");
}

/* the VF's vGPU through VFIO, and the rules while it is open */
static void test_open(void)
{
	uint8_t page[PG], zero[PG];
	struct vfdev v;
	long sv, sd;
	int ret;

	memset(zero, 0, sizeof(zero));
	ok(!set_type(vf[0], "1065"), "VF0: 1065 again");
	ok(!dev_w(vf[0], "nvidia/vgpu_params", "frame_rate_limiter=0"),
	   "vgpu_params written while closed");
	ok(!dev_w(vf[0], "nvsim/edid", "0") &&
	   !dev_w(vf[0], "nvsim/err_irq", "0"),
	   "nvsim/edid=0, nvsim/err_irq=0 while closed");
	ret = vf_open(&v, vf[0]);
	ok(!ret, "open VF0's VFIO device through its group (%s)",
	   strerror(-ret));
	if (ret) {
		vf_close(&v);
		return;
	}
	sv = strtol(slurp(devpath(vf[0], "subsystem_vendor")), NULL, 0);
	sd = strtol(slurp(devpath(vf[0], "subsystem_device")), NULL, 0);
	ok(cfg32(&v, 0) == 0x27b810de &&
	   cfg32(&v, 0x2c) == ((uint32_t)sd << 16 | (uint32_t)sv),
	   "config space: the VF's IDs (%#x, %#x)", cfg32(&v, 0),
	   cfg32(&v, 0x2c));
	ok(bar0(&v, NVSIM_REG_ID) == NVSIM_ID_VALUE &&
	   bar0(&v, NVSIM_REG_TYPE) == 1065 &&
	   bar0(&v, NVSIM_REG_FB_MB) == 12288,
	   "BAR0: nvsim's ID, type 1065, 12288 MiB (%u, %u)",
	   bar0(&v, NVSIM_REG_TYPE), bar0(&v, NVSIM_REG_FB_MB));
	ok(region_size(&v, VFIO_PCI_BAR1_REGION_INDEX) == 16LL << 30 &&
	   sparse_area(&v, VFIO_PCI_BAR1_REGION_INDEX) == 12LL << 30,
	   "BAR1 region 16 GiB (a power of two), 12 GiB of it mmappable "
	   "(%lld, %lld)", region_size(&v, VFIO_PCI_BAR1_REGION_INDEX),
	   sparse_area(&v, VFIO_PCI_BAR1_REGION_INDEX));
	ok(mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, v.fd,
		reg_off(VFIO_PCI_BAR1_REGION_INDEX) + (12ULL << 30)) ==
	   MAP_FAILED, "no mmap of BAR1 past the framebuffer");
	memset(page, 0x5a, sizeof(page));
	ok(pwrite(v.fd, page, PG, reg_off(VFIO_PCI_BAR1_REGION_INDEX) +
		  (15ULL << 30)) == PG &&
	   pread(v.fd, page, PG, reg_off(VFIO_PCI_BAR1_REGION_INDEX) +
		 (15ULL << 30)) == PG && !memcmp(page, zero, PG),
	   "BAR1 past the framebuffer: a write is dropped, a read is 0");
	ok(pread(v.fd, page, 4, reg_off(VFIO_PCI_BAR1_REGION_INDEX) +
		 (16ULL << 30)) < 0, "no BAR1 past 16 GiB");
	ok(region_size(&v, NVSIM_EDID_REGION_INDEX) == 0 &&
	   irq_count(&v, VFIO_PCI_ERR_IRQ_INDEX) == 0,
	   "nvsim/edid=0 and err_irq=0 hold on the VF: no EDID region, no ERR irq");
	ok(mig_flags(&v) == (VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P |
			     VFIO_MIGRATION_PRE_COPY),
	   "migration offered (%lld)", mig_flags(&v));
	ok(plane_probe(&v, VFIO_GFX_PLANE_TYPE_REGION) &&
	   !plane_probe(&v, VFIO_GFX_PLANE_TYPE_DMABUF), "region plane");
	ok(dev_is(vf[0], "nvsim/frame_rate", "0"),
	   "frame_rate_limiter=0 in effect: nvsim/frame_rate 0");

	ok(set_type(vf[0], "0") == -EBUSY, "release while open: -EBUSY");
	ok(set_type(vf[0], "1066") == -EBUSY, "another type while open: -EBUSY");
	ok(dev_w(vf[0], "nvidia/vgpu_params", "frame_rate_limiter=1") == -EBUSY &&
	   dev_w(vf[0], "nvsim/edid", "1") == -EBUSY,
	   "vgpu_params and nvsim/edid while open: -EBUSY");
	ok(dev_is(vf[0], "nvidia/current_vgpu_type", "1065"),
	   "the type stays while open");

	memset(page, 0x5a, sizeof(page));
	ok(pwrite(v.fd, page, PG, reg_off(VFIO_PCI_BAR1_REGION_INDEX) +
		  (11ULL << 30)) == PG, "a page written at BAR1 + 11 GiB");
	vf_close(&v);

	ok(set_type(vf[0], "0") == 0 &&
	   dev_is(vf[0], "nvidia/current_vgpu_type", "0"),
	   "closed: release with 0");
	ok(dev_is(vf[0], "nvidia/vgpu_params", ""),
	   "release resets vgpu_params");
	ok(dev_is(vf[0], "nvsim/edid", "0"),
	   "the nvsim/ switches are the VF's: they stay");
	ok(!dev_w(vf[0], "nvsim/edid", "1") &&
	   !dev_w(vf[0], "nvsim/err_irq", "1") &&
	   !dev_w(vf[0], "nvsim/migration", "0") &&
	   !dev_w(vf[0], "nvsim/plane", "dmabuf"),
	   "nvsim/migration=0, plane=dmabuf, edid and err_irq back to 1");

	/* a new vGPU on the VF shows nothing of the last one */
	ok(!set_type(vf[0], "1065"), "VF0: 1065 once more");
	ret = vf_open(&v, vf[0]);
	ok(!ret, "reopen VF0 (%s)", strerror(-ret));
	if (!ret) {
		memset(page, 0xff, sizeof(page));
		ok(pread(v.fd, page, PG, reg_off(VFIO_PCI_BAR1_REGION_INDEX) +
			 (11ULL << 30)) == PG && !memcmp(page, zero, PG),
		   "the new vGPU's framebuffer is blank");
		ok(mig_flags(&v) == -ENOTTY,
		   "nvsim/migration=0 on the VF: no migration feature (%lld)",
		   mig_flags(&v));
		ok(plane_probe(&v, VFIO_GFX_PLANE_TYPE_DMABUF) &&
		   !plane_probe(&v, VFIO_GFX_PLANE_TYPE_REGION),
		   "nvsim/plane=dmabuf on the VF: dma-buf planes only");
		ok(region_size(&v, NVSIM_EDID_REGION_INDEX) > 0 &&
		   irq_count(&v, VFIO_PCI_ERR_IRQ_INDEX) == 1,
		   "EDID region and ERR irq back");
	}
	vf_close(&v);
	ok(!dev_w(vf[0], "nvsim/migration", "1") &&
	   !dev_w(vf[0], "nvsim/plane", "region"),
	   "nvsim/migration and plane restored");
}

/*
 * Bind the cdev @node to a fresh iommufd: what opens the device there.
 * 0 or -errno.
 */
static int cdev_bind(const char *node)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	int iommufd, fd, ret = 0;

	iommufd = open("/dev/iommu", O_RDWR);
	if (iommufd < 0)
		return -errno;
	fd = open(node, O_RDWR);
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	bind.iommufd = iommufd;
	if (ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, &bind))
		ret = -errno;
	close(fd);
out:
	close(iommufd);
	return ret;
}

/*
 * The VFIO device's vfio-dev/vfioN entry, always there; its character
 * device (/dev/vfio/devices/vfioN, sysfs "dev") only where the kernel
 * has CONFIG_VFIO_DEVICE_CDEV, and then opening it through iommufd
 * follows the same rule as the group: no type, -ENODEV.
 */
static void test_cdev(void)
{
	char name[NAME_MAX + 1] = "", p[NAME_MAX + 16], node[PATH_MAX];
	struct dirent *e;
	int n = 0;
	DIR *d;

	d = opendir(devpath(vf[0], "vfio-dev"));
	while (d && (e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, "vfio", 4))
			continue;
		snprintf(name, sizeof(name), "%s", e->d_name);
		n++;
	}
	if (d)
		closedir(d);
	ok(n == 1, "one vfio-dev/ entry on the VF (%s)", name);
	snprintf(p, sizeof(p), "vfio-dev/%s/dev", name);
	if (!n || !exists(devpath(vf[0], p))) {
		printf("ok %d - # SKIP no VFIO cdev (kernel without CONFIG_VFIO_DEVICE_CDEV)\n",
		       ++n_test);
		n_pass++;
		return;
	}
	snprintf(node, sizeof(node), "/dev/vfio/devices/%s", name);
	ok(exists(node), "its node %s", node);
	ok(!set_type(vf[0], "0") && cdev_bind(node) == -ENODEV,
	   "cdev without a type: bind -ENODEV");
	ok(!set_type(vf[0], "1065") && cdev_bind(node) == 0,
	   "cdev with a type: bind succeeds");
}

static void test_disable(void)
{
	ok(dev_is(vf[0], "nvidia/current_vgpu_type", "1065"),
	   "VF0 still has its vGPU");
	ok(dev_w(pf, "sriov_numvfs", "0") == -EBUSY &&
	   exists(devpath(pf, "virtfn0")),
	   "sriov_numvfs=0 while a VF has a vGPU: -EBUSY, VFs stay");
	ok(!set_type(vf[0], "0"), "VF0 released");
	ok(!dev_w(pf, "sriov_numvfs", "0") && dev_is(pf, "sriov_numvfs", "0") &&
	   !exists(devpath(pf, "virtfn0")), "sriov_numvfs=0: the VFs are gone");
}

static void on_alarm(int sig)
{
	static const char msg[] = "Bail out! sriov selftest timed out\n";

	(void)sig;
	if (write(1, msg, sizeof(msg) - 1) < 0)
		_exit(2);
	_exit(2);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGALRM, on_alarm);
	alarm(120);
	printf("TAP version 13\n");

	if (!find_pf()) {
		printf("1..0 # SKIP no simulated SR-IOV GPU bound to " DRIVER "\n");
		printf("0 passed, 0 failed\n");
		return 0;
	}
	if (test_enable()) {
		test_attrs_untyped();
		test_bad_writes();
		test_fill();
		test_open();
		test_cdev();
		test_disable();
	}
	if (!dev_is(pf, "sriov_numvfs", "0")) {
		/* leave no vGPUs or VFs behind for the next test */
		set_type(vf[0], "0");
		set_type(vf[1], "0");
		dev_w(pf, "sriov_numvfs", "0");
	}

	printf("1..%d\n", n_test);
	printf("%d passed, %d failed\n", n_pass, n_fail);
	return n_fail ? 1 : 0;
}
