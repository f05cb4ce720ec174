/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nvsim - simulated NVIDIA vGPU mdev parent driver
 *
 * Guest/host visible interface: BAR0 register map, extra VFIO region
 * indexes and the migration stream format.  This header is shared by the
 * kernel module and by userspace tests, so it only uses <linux/types.h>.
 */
#ifndef NVSIM_REGS_H
#define NVSIM_REGS_H

#include <linux/types.h>

/* PCI identity */
#define NVSIM_PCI_VENDOR		0x10de
#define NVSIM_PCI_DEVICE		0x2330
#define NVSIM_PCI_SUBVENDOR		0x10de
#define NVSIM_PCI_SUBDEVICE		0x16c1
#define NVSIM_PCI_CLASS			0x030000	/* VGA compatible */
#define NVSIM_PCI_REVISION		0xa1
#define NVSIM_PCI_MSI_CAP		0x60		/* MSI capability offset */
#define NVSIM_PCI_CONFIG_SIZE		256

/* BAR sizes */
#define NVSIM_BAR0_SIZE			(16u << 20)	/* 16 MiB, 32-bit MMIO */
/* BAR1 is 64-bit prefetchable, the framebuffer rounded up to a power of 2 */

/*
 * BAR0 register map.  All registers are 32 bits wide, little endian.
 * Unknown offsets read as 0 and ignore writes; writes to read-only
 * registers are ignored.
 */
#define NVSIM_REG_ID			0x0000	/* RO 0x10de2330 */
#define NVSIM_REG_VERSION		0x0004	/* RO 1 */
#define NVSIM_REG_TYPE			0x0008	/* RO type number, e.g. 289 */
#define NVSIM_REG_FB_MB			0x000c	/* RO framebuffer size in MiB */
#define NVSIM_REG_SCRATCH		0x0010	/* RW */

#define NVSIM_REG_HEAD0_ENABLE		0x0100	/* RW bit 0 */
#define NVSIM_REG_HEAD0_WIDTH		0x0104	/* RW pixels */
#define NVSIM_REG_HEAD0_HEIGHT		0x0108	/* RW lines */
#define NVSIM_REG_HEAD0_STRIDE		0x010c	/* RW bytes per line */
#define NVSIM_REG_HEAD0_FORMAT		0x0110	/* RW DRM fourcc */
#define NVSIM_REG_HEAD0_FB_OFFSET_LO	0x0114	/* RW scanout offset in BAR1 */
#define NVSIM_REG_HEAD0_FB_OFFSET_HI	0x0118	/* RW */
#define NVSIM_REG_CURSOR_ENABLE		0x0120	/* RW bit 0 */
#define NVSIM_REG_CURSOR_X		0x0124	/* RW */
#define NVSIM_REG_CURSOR_Y		0x0128	/* RW */

/*
 * The monitor userspace describes in the EDID region (VFIO region
 * NVSIM_EDID_REGION_INDEX), as the guest sees it.  All read-only and
 * read live: a change userspace makes in the EDID region shows here at
 * once.  EDID_DATA is a window of NVSIM_EDID_MAX_SIZE bytes holding the
 * stored blob as it is (bytes past EDID_SIZE included); dword n reads
 * blob bytes 4n..4n+3, little endian.
 */
#define NVSIM_REG_EDID_LINK		0x0130	/* RO link_state, 1 up, 2 down */
#define NVSIM_REG_EDID_SIZE		0x0134	/* RO edid_size, 0 when none */
#define NVSIM_REG_EDID_DATA		0x1000	/* RO blob window, 0x400 bytes */
#define NVSIM_REG_EDID_DATA_END		\
	(NVSIM_REG_EDID_DATA + NVSIM_EDID_MAX_SIZE)	/* exclusive */

/* values of EDID_LINK (those of VFIO_DEVICE_GFX_LINK_STATE_*) */
#define NVSIM_EDID_LINK_UP		1
#define NVSIM_EDID_LINK_DOWN		2

#define NVSIM_ID_VALUE			0x10de2330u
#define NVSIM_VERSION_VALUE		1u

/* DRM fourcc codes understood by HEAD0_FORMAT */
#define NVSIM_FOURCC(a, b, c, d) \
	((__u32)(a) | ((__u32)(b) << 8) | ((__u32)(c) << 16) | ((__u32)(d) << 24))
#define NVSIM_FMT_XRGB8888		NVSIM_FOURCC('X', 'R', '2', '4')
#define NVSIM_FMT_ARGB8888		NVSIM_FOURCC('A', 'R', '2', '4')
#define NVSIM_FMT_XBGR8888		NVSIM_FOURCC('X', 'B', '2', '4')
#define NVSIM_FMT_RGB565		NVSIM_FOURCC('R', 'G', '1', '6')
/* reported by plane_fault=bad_format; not a real DRM format */
#define NVSIM_FMT_BOGUS			NVSIM_FOURCC('N', 'V', '?', '?')

/*
 * VFIO regions beyond the standard vfio-pci ones.  Region offsets in the
 * device fd follow the vfio-pci convention: index << 40.
 */
#define NVSIM_REGION_SHIFT		40
#define NVSIM_EDID_REGION_INDEX		9	/* VFIO_REGION_TYPE_GFX/EDID */
#define NVSIM_DISPLAY_REGION_INDEX	10	/* head 0 scanout (region planes) */
#define NVSIM_NUM_REGIONS		11
/* nvsim/plane_region may move the display region up to this index */
#define NVSIM_PLANE_REGION_MAX		255

/* device specific type of the display region (type capability) */
#define NVSIM_DISPLAY_REGION_TYPE	(0x80000000u | NVSIM_PCI_VENDOR)
#define NVSIM_DISPLAY_REGION_SUBTYPE	0x4e56	/* "NV" */

/* EDID region layout (struct vfio_region_gfx_edid lives at offset 0) */
#define NVSIM_EDID_BLOB_OFFSET		0x100
#define NVSIM_EDID_MAX_SIZE		0x400
#define NVSIM_EDID_REGION_SIZE		(NVSIM_EDID_BLOB_OFFSET + NVSIM_EDID_MAX_SIZE)

/*
 * Migration stream, version 1.  All integers little endian.
 *
 *   header   struct nvsim_mig_header (64 bytes)
 *   records  struct nvsim_mig_record (24 bytes) + @len payload bytes
 *
 * Record tags:
 *   PAGE    arg = framebuffer page index, len = 4096, payload = page data
 *   REGS    arg = n, len = 8 * n, payload = n x { __le32 offset, __le32 value }
 *           (writable BAR0 registers)
 *   CONFIG  arg = n, len = 8 * n, payload = n x { __le32 offset, __le32 value }
 *           (dword aligned PCI config space offsets)
 *   END     arg = 0, len = 0; must be the last record
 *
 * PAGE records may repeat an index; the last one wins.  PRE_COPY emits the
 * header and PAGE records; STOP_COPY emits remaining PAGE records, then
 * REGS, CONFIG and END.  @crc is the zlib/ISO-HDLC CRC-32 of the first
 * 16 bytes of the record followed by the payload; the header's @crc covers
 * its first 60 bytes.  A receiver rejects another stream version, type
 * number, framebuffer size, page size or driver major version (the part
 * of driver_version before the first '.').
 */
#define NVSIM_MIG_MAGIC			0x47494d4d4953564eull /* "NVSIMMIG" */
#define NVSIM_MIG_VERSION		1
#define NVSIM_MIG_PAGE_SIZE		4096
#define NVSIM_MIG_MAX_PAYLOAD		NVSIM_MIG_PAGE_SIZE

struct nvsim_mig_header {
	__le64 magic;
	__le32 version;
	__le32 header_size;		/* sizeof(struct nvsim_mig_header) */
	__le32 type;			/* vGPU type number, e.g. 63 */
	__le32 page_size;		/* NVSIM_MIG_PAGE_SIZE */
	__le64 fb_size;			/* framebuffer size in bytes */
	char driver_version[28];	/* NUL terminated */
	__le32 crc;
};

enum nvsim_mig_tag {
	NVSIM_MIG_REC_PAGE	= 1,
	NVSIM_MIG_REC_REGS	= 2,
	NVSIM_MIG_REC_CONFIG	= 3,
	NVSIM_MIG_REC_END	= 4,
};

struct nvsim_mig_record {
	__le32 tag;
	__le32 len;
	__le64 arg;
	__le32 crc;
	__le32 reserved;		/* 0 */
};

#endif /* NVSIM_REGS_H */
