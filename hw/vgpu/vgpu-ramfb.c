/*
 * nv-vgpu: a boot display (ramfb) for vGPUs, which have no VBIOS
 *
 * A vGPU shows nothing until the guest's driver sets a mode on head 0, so
 * the firmware, the boot loader and early boot would never be seen.  With
 * ramfb=on the firmware gets a plain framebuffer in guest RAM instead: it
 * finds the fw_cfg file "etc/ramfb" and writes there where it put it.
 * nv-vgpu shows that framebuffer on head 0's console whenever head 0 is
 * off, through a scanout shadow of its own, so that switching between
 * the two costs a full redraw and nothing else, and a head 0 that goes
 * off again (driver unloaded, reboot) brings the boot display back.
 *
 * The fw_cfg file cannot be taken back once added, so its state is the
 * VM's, not a device's: one per VM, claimed by one nv-vgpu at machine
 * start.  Everything the guest writes is checked: the framebuffer must
 * be guest RAM, all of it, and fit the console's limits.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/bswap.h"
#include "qemu/datadir.h"
#include "qemu/error-report.h"
#include "qemu/cutils.h"
#include "qemu/log.h"
#include "exec/memory.h"
#include "hw/loader.h"
#include "hw/nvram/fw_cfg.h"
#include "system/reset.h"
#include "hw/vgpu/vgpu-ramfb.h"
#include "trace.h"

#define VGPU_RAMFB_FILE         "etc/ramfb"
/* SeaBIOS's VGA BIOS that draws its text screens into the ramfb */
#define VGPU_RAMFB_VGA_BIOS     "vgabios-ramfb.bin"

struct VgpuRamfb {
    VgpuRamfbConfig cfg;        /* the fw_cfg file's bytes: guest-written */
    bool registered;            /* cfg is the VM's "etc/ramfb" */
    char *owner;                /* the device's name; NULL: released */
    QemuConsole *con;
    ScanoutShadow *shadow;
    uint32_t max_width;
    uint32_t max_height;

    /* The framebuffer configured last; mr is NULL while there is none. */
    MemoryRegion *mr;           /* referenced while we read from it */
    ScanoutFrame frame;
};

static VgpuRamfb vgpu_ramfb;

/* Has some device added fw_cfg file @name?  fw_cfg has no lookup of its own. */
static bool vgpu_fw_cfg_has_file(FWCfgState *fw_cfg, const char *name)
{
    uint32_t i, n;

    if (!fw_cfg->files) {
        return false;
    }
    n = be32_to_cpu(fw_cfg->files->count);
    for (i = 0; i < n; i++) {
        if (!strncmp(fw_cfg->files->f[i].name, name,
                     sizeof(fw_cfg->files->f[i].name))) {
            return true;
        }
    }
    return false;
}

bool vgpu_ramfb_check(bool hotplugged, Error **errp)
{
    FWCfgState *fw_cfg = fw_cfg_find();

    if (hotplugged) {
        error_setg(errp, "ramfb=on cannot be hot-plugged: the firmware "
                   "looks for its boot display at boot only; give the "
                   "device on the command line, or plug it with ramfb=off");
        return false;
    }
    if (vgpu_ramfb.registered) {
        error_setg(errp, "ramfb=on: nv-vgpu %s has the VM's boot display "
                   "already, and a VM has one at most; set ramfb=on on one "
                   "vGPU only", vgpu_ramfb.owner ?: "(unplugged)");
        return false;
    }
    if (!fw_cfg || !fw_cfg_dma_enabled(fw_cfg)) {
        error_setg(errp, "ramfb=on needs a machine with fw_cfg DMA (such "
                   "as pc or q35), through which the firmware finds its "
                   "boot display");
        return false;
    }
    if (vgpu_fw_cfg_has_file(fw_cfg, VGPU_RAMFB_FILE)) {
        error_setg(errp, "ramfb=on: another device (a ramfb device, or "
                   "vfio-pci with ramfb=on) has the VM's boot display "
                   "already, and a VM has one at most");
        return false;
    }
    return true;
}

static void vgpu_ramfb_unmap(VgpuRamfb *r)
{
    if (r->mr) {
        memory_region_unref(r->mr);
        r->mr = NULL;
    }
    memset(&r->frame, 0, sizeof(r->frame));
}

bool vgpu_ramfb_geometry(const VgpuRamfbConfig *cfg, uint32_t max_width,
                         uint32_t max_height, ScanoutFrame *f,
                         uint64_t *addr, Error **errp)
{
    unsigned int bpp;
    uint64_t len;

    *f = (ScanoutFrame) {
        .width = be32_to_cpu(cfg->width),
        .height = be32_to_cpu(cfg->height),
        .stride = be32_to_cpu(cfg->stride),
        .drm_format = be32_to_cpu(cfg->fourcc),
        .data_size = UINT64_MAX,
    };
    *addr = be64_to_cpu(cfg->addr);
    if (scanout_drm_format_to_pixman(f->drm_format, &bpp) && !f->stride) {
        f->stride = f->width * bpp;
    }
    if (!scanout_frame_check(f, max_width, max_height, errp)) {
        return false;
    }
    len = (uint64_t)f->stride * (f->height - 1) + (uint64_t)f->width * bpp;
    if (*addr + len < *addr) {
        error_setg(errp, "a framebuffer of %" PRIu64 " bytes at 0x%" PRIx64
                   " wraps around", len, *addr);
        return false;
    }
    f->data_size = len;
    return true;
}

/*
 * Find the framebuffer @cfg describes.  All of it must be in one RAM
 * region of the guest's memory: an MMIO address would read a device, and
 * part of a region could end under our feet.
 */
static bool vgpu_ramfb_map(VgpuRamfb *r, const VgpuRamfbConfig *cfg,
                           Error **errp)
{
    MemoryRegionSection sec;
    ScanoutFrame f;
    uint64_t addr, len;

    if (!vgpu_ramfb_geometry(cfg, r->max_width, r->max_height, &f, &addr,
                             errp)) {
        return false;
    }
    len = f.data_size;

    sec = memory_region_find(get_system_memory(), addr, len);
    if (!sec.mr) {
        error_setg(errp, "0x%" PRIx64 " is not guest memory", addr);
        return false;
    }
    if (!memory_region_is_ram(sec.mr) || memory_region_is_ram_device(sec.mr)) {
        error_setg(errp, "0x%" PRIx64 " is not guest RAM but %s", addr,
                   memory_region_name(sec.mr));
        memory_region_unref(sec.mr);
        return false;
    }
    if (int128_lt(sec.size, int128_make64(len))) {
        error_setg(errp, "the %" PRIu64 " bytes at 0x%" PRIx64 " run past "
                   "the end of guest RAM region %s", len, addr,
                   memory_region_name(sec.mr));
        memory_region_unref(sec.mr);
        return false;
    }
    f.data = (uint8_t *)memory_region_get_ram_ptr(sec.mr) +
             sec.offset_within_region;
    r->mr = sec.mr;
    r->frame = f;
    return true;
}

/* The guest wrote the fw_cfg file (or a migration brought it). */
static void vgpu_ramfb_apply(VgpuRamfb *r)
{
    Error *err = NULL;

    vgpu_ramfb_unmap(r);
    if (!r->owner || buffer_is_zero(&r->cfg, sizeof(r->cfg))) {
        return;                 /* released, or cleared by the guest */
    }
    if (!vgpu_ramfb_map(r, &r->cfg, &err)) {
        qemu_log_mask(LOG_GUEST_ERROR, "nv-vgpu %s: boot display "
                      "configuration refused: %s\n", r->owner,
                      error_get_pretty(err));
        trace_vgpu_ramfb_refused(r->owner, error_get_pretty(err));
        error_free(err);
        return;
    }
    trace_vgpu_ramfb_config(r->owner, be64_to_cpu(r->cfg.addr),
                            r->frame.width, r->frame.height,
                            r->frame.stride, r->frame.drm_format);
    scanout_shadow_invalidate(r->shadow);
}

static void vgpu_ramfb_written(void *opaque, off_t start, size_t len)
{
    vgpu_ramfb_apply(opaque);
}

/* A reset machine has no boot display until its firmware sets one up. */
static void vgpu_ramfb_reset(void *opaque)
{
    VgpuRamfb *r = opaque;

    memset(&r->cfg, 0, sizeof(r->cfg));
    vgpu_ramfb_unmap(r);
}

VgpuRamfb *vgpu_ramfb_claim(const char *owner, QemuConsole *con,
                            uint32_t max_width, uint32_t max_height,
                            Error **errp)
{
    VgpuRamfb *r = &vgpu_ramfb;
    g_autofree char *vga_bios = NULL;

    if (!vgpu_ramfb_check(false, errp)) {
        return NULL;
    }
    /* SeaBIOS needs a VGA BIOS to draw there; OVMF has its own driver. */
    vga_bios = qemu_find_file(QEMU_FILE_TYPE_BIOS, VGPU_RAMFB_VGA_BIOS);
    if (vga_bios) {
        rom_add_vga(VGPU_RAMFB_VGA_BIOS);
    } else {
        warn_report("nv-vgpu %s: ramfb=on: %s is not in the firmware "
                    "path, so SeaBIOS will not draw on the boot display "
                    "(UEFI firmware does not need it)", owner,
                    VGPU_RAMFB_VGA_BIOS);
    }

    r->owner = g_strdup(owner);
    r->con = con;
    r->shadow = scanout_shadow_new(con);
    r->max_width = max_width;
    r->max_height = max_height;
    fw_cfg_add_file_callback(fw_cfg_find(), VGPU_RAMFB_FILE, NULL,
                             vgpu_ramfb_written, r, &r->cfg, sizeof(r->cfg),
                             false);
    qemu_register_reset(vgpu_ramfb_reset, r);
    r->registered = true;
    trace_vgpu_ramfb_claim(owner);
    return r;
}

void vgpu_ramfb_release(VgpuRamfb *r)
{
    if (!r) {
        return;
    }
    /* The fw_cfg file stays: fw_cfg cannot remove one. */
    vgpu_ramfb_unmap(r);
    scanout_shadow_free(r->shadow);
    r->shadow = NULL;
    r->con = NULL;
    g_clear_pointer(&r->owner, g_free);
}

bool vgpu_ramfb_show(VgpuRamfb *r, unsigned int *tiles)
{
    *tiles = 0;
    if (!r->mr) {
        return false;
    }
    *tiles = scanout_shadow_update(r->shadow, &r->frame);
    return true;
}

void vgpu_ramfb_invalidate(VgpuRamfb *r)
{
    scanout_shadow_invalidate(r->shadow);
}

void vgpu_ramfb_save(VgpuRamfb *r, VgpuRamfbConfig *cfg)
{
    *cfg = r->cfg;
}

/* Checked as the guest's own writes are: the stream is not trusted. */
void vgpu_ramfb_load(VgpuRamfb *r, const VgpuRamfbConfig *cfg)
{
    r->cfg = *cfg;
    vgpu_ramfb_apply(r);
}
