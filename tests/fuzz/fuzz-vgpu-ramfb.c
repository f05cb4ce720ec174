/*
 * Fuzz target: the boot display configuration that the guest's firmware
 * writes into fw_cfg "etc/ramfb" (or that a migration stream brings),
 * as vgpu_ramfb_geometry() checks it before looking for guest memory
 * (hw/vgpu/vgpu-ramfb.c)
 *
 * The input is the config's 28 bytes and the vGPU's limits.  An accepted
 * config must describe a frame within the limits whose bytes, from its
 * guest address on, neither wrap around nor leave the length returned.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/bswap.h"
#include "hw/vgpu/vgpu-ramfb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    VgpuRamfbConfig cfg;
    uint16_t max[2] = { 0, 0 };
    ScanoutFrame f;
    Error *err = NULL;
    unsigned int bpp;
    uint64_t addr;
    __uint128_t end;

    if (size < sizeof(cfg)) {
        return 0;
    }
    memcpy(&cfg, data, sizeof(cfg));
    memcpy(max, data + sizeof(cfg), MIN(size - sizeof(cfg), sizeof(max)));

    if (!vgpu_ramfb_geometry(&cfg, max[0], max[1], &f, &addr, &err)) {
        assert(err && *error_get_pretty(err));
        error_free(err);
        return 0;
    }
    assert(!err);
    assert(addr == be64_to_cpu(cfg.addr));
    assert(f.width == be32_to_cpu(cfg.width) &&
           f.height == be32_to_cpu(cfg.height));
    assert(scanout_drm_format_to_pixman(f.drm_format, &bpp));
    assert(f.width && f.height);
    assert(f.width <= (max[0] ? max[0] : 16384) &&
           f.height <= (max[1] ? max[1] : 16384));
    assert(f.stride >= (uint64_t)f.width * bpp);
    assert(!cfg.stride || f.stride == be32_to_cpu(cfg.stride));
    /* the frame's last byte is inside the length, the length in memory */
    end = (__uint128_t)f.stride * (f.height - 1) + (__uint128_t)f.width * bpp;
    assert(end == f.data_size);
    assert((__uint128_t)addr + end <= (__uint128_t)UINT64_MAX + 1);
    assert(!f.data && !f.offset);
    return 0;
}
