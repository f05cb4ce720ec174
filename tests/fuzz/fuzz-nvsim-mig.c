/*
 * Fuzz target: nvsim's migration stream parser (kernel/nvsim/nvsim-mig.c),
 * the code that takes a RESUMING device's stream from user space, built
 * in user space over nvsim-shim/
 *
 * The input is the stream, cut into write() calls of sizes it chooses.
 * Whatever it holds, the parser must keep its staging buffer in bounds,
 * touch only framebuffer pages that exist, refuse for good once it has
 * refused, and accept an end only after the registers and config; a
 * stream it accepts must apply to the device.  nvsim-mig.c is included
 * here, so that its static functions are called as the kernel calls
 * them; the rest of nvsim (config space, registers, framebuffer pages) is
 * modelled below.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "nvsim-mig.c"

#include <assert.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FB_PAGES 4

static struct page fb[FB_PAGES];
static struct nvsim_type type = { .number = 63, .fb_mb = 0 };
static int open_files;

void shim_warn(const char *what)
{
    fprintf(stderr, "WARN_ON_ONCE(%s)\n", what);
    abort();
}

/* crc32_le() of the kernel: the reflected CRC-32, no inversions */
unsigned int shim_crc32_le(unsigned int crc, const void *p, size_t len)
{
    const u8 *b = p;
    int k;

    while (len--) {
        crc ^= *b++;
        for (k = 0; k < 8; k++) {
            crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
        }
    }
    return crc;
}

struct file *anon_inode_getfile(const char *name,
                                const struct file_operations *fops,
                                void *priv, int flags)
{
    struct file *f = calloc(1, sizeof(*f));

    f->private_data = priv;
    f->f_op = fops;
    open_files++;
    return f;
}

void fput(struct file *f)
{
    f->f_op->release(f->f_inode, f);
    free(f);
    open_files--;
}

struct file *shim_get_file(struct file *f)
{
    abort();                    /* saving only */
}

long compat_ptr_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
    abort();
}

void *xa_find(struct xarray *xa, unsigned long *idx, unsigned long max,
              xa_mark_t mark)
{
    abort();                    /* saving only */
}

void *xa_find_after(struct xarray *xa, unsigned long *idx,
                    unsigned long max, xa_mark_t mark)
{
    abort();
}

bool xa_get_mark(struct xarray *xa, unsigned long idx, xa_mark_t mark)
{
    abort();
}

int vfio_mig_get_next_state(struct vfio_device *vdev,
                            enum vfio_device_mig_state cur,
                            enum vfio_device_mig_state new,
                            enum vfio_device_mig_state *next)
{
    abort();
}

/* ---- the rest of nvsim, as nvsim-mig.c sees it ---- */

static const u32 reg_offsets[NVSIM_R_COUNT] = {
    NVSIM_REG_SCRATCH, NVSIM_REG_HEAD0_ENABLE, NVSIM_REG_HEAD0_WIDTH,
    NVSIM_REG_HEAD0_HEIGHT, NVSIM_REG_HEAD0_STRIDE, NVSIM_REG_HEAD0_FORMAT,
    NVSIM_REG_HEAD0_FB_OFFSET_LO, NVSIM_REG_HEAD0_FB_OFFSET_HI,
    NVSIM_REG_CURSOR_ENABLE, NVSIM_REG_CURSOR_X, NVSIM_REG_CURSOR_Y,
};

bool nvsim_reg_is_writable(u32 offset, unsigned int *idx)
{
    unsigned int i;

    for (i = 0; i < NVSIM_R_COUNT; i++) {
        if (reg_offsets[i] == offset) {
            *idx = i;
            return true;
        }
    }
    return false;
}

/* config space dwords the stream may carry: command, BARs, interrupt line */
static bool fuzz_config_offset_ok(struct nvsim_dev *nd, u32 off)
{
    return off == 0x04 || (off >= 0x10 && off <= 0x24 && !(off & 3)) ||
           off == 0x3c;
}

static int fuzz_config_restore_locked(struct nvsim_dev *nd,
                                     const __le32 *pairs, unsigned int n)
{
    unsigned int i;

    assert(n <= NVSIM_MIG_MAX_PAIRS);
    for (i = 0; i < n; i++) {
        u32 off = le32_to_cpu(pairs[2 * i]);

        if (!fuzz_config_offset_ok(nd, off)) {
            return -EINVAL;
        }
        memcpy(nd->config + off, &pairs[2 * i + 1], 4);
    }
    return 0;
}

struct page *nvsim_fb_page(struct nvsim_dev *nd, unsigned long idx,
                           bool alloc)
{
    assert(idx < nd->fb_pages && nd->fb_pages <= FB_PAGES);
    return &fb[idx];
}

void nvsim_display_zap_locked(struct nvsim_dev *nd)
{
}

/* saving only */
static int fuzz_config_save(struct nvsim_dev *nd, __le32 *pairs, int max)
{
    abort();
}

static unsigned int fuzz_config_nr_saved(struct nvsim_dev *nd)
{
    return 8;
}

/* the front end's part, as nvsim-pci.c's nvsim_pci_front provides it */
static const struct nvsim_front_ops fuzz_front = {
    .config_save = fuzz_config_save,
    .config_nr_saved = fuzz_config_nr_saved,
    .config_offset_ok = fuzz_config_offset_ok,
    .config_restore_locked = fuzz_config_restore_locked,
};

void nvsim_fb_mark(struct nvsim_dev *nd, unsigned long idx, xa_mark_t mark)
{
    abort();
}

bool nvsim_fb_test_and_clear_dirty(struct nvsim_dev *nd, unsigned long idx)
{
    abort();
}

void nvsim_fb_write_protect(struct nvsim_dev *nd, unsigned long idx)
{
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct nvsim_dev nd;
    struct nvsim_mig_file *migf;
    bool refused = false;
    size_t pos = 0;

    memset(&nd, 0, sizeof(nd));
    mutex_init(&nd.lock);
    nd.type = &type;
    nd.front = &fuzz_front;
    nd.driver_version = "550.127.05";
    nd.fb_pages = FB_PAGES;
    nd.fb_size = FB_PAGES * PAGE_SIZE;
    /* the first byte, if odd, arms the injected write fault */
    if (size && (data[0] & 1)) {
        nd.mig_fail.counter = NVSIM_MF_WRITE;
    }
    if (size) {
        data++;
        size--;
    }

    migf = nvsim_mig_file_new(&nd, false);
    assert(!IS_ERR(migf));
    /* each write: a 2-byte length, then that much of the stream */
    while (size - pos >= 2) {
        size_t n = min((size_t)(data[pos] | data[pos + 1] << 8),
                       size - pos - 2);
        ssize_t ret;

        pos += 2;
        ret = nvsim_mig_write(migf->filp, (const char *)data + pos, n, NULL);
        pos += n;
        assert(migf->buf_pos <= migf->buf_len &&
               migf->buf_len <= sizeof(migf->buf));
        assert(migf->lock.held == 0 && migf->io_lock.held == 0);
        if (refused) {
            assert(ret == -EINVAL);     /* a refused stream stays refused */
        }
        if (ret < 0) {
            /* -EIO: the injected fault, once, taking nothing */
            assert(ret == -EINVAL || ret == -EIO);
            refused |= ret == -EINVAL;
        } else {
            assert((size_t)ret == n);
        }
    }
    assert(migf->nregs <= NVSIM_R_COUNT && migf->ncfg <= NVSIM_MIG_MAX_PAIRS);
    if (migf->end_seen) {
        assert(migf->header_seen && migf->regs_seen && migf->cfg_seen);
    }
    if (nvsim_mig_apply_locked(&nd, migf) == 0) {
        assert(migf->end_seen && !migf->broken);
        assert(!(nd.regs[NVSIM_R_HEAD0_ENABLE] & ~1u));
    }
    nvsim_mig_file_disable(migf);
    assert(open_files == 0);
    return 0;
}
