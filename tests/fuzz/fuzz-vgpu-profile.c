/*
 * Fuzz target: the vGPU type description that the host driver writes in
 * sysfs (hw/vgpu/vgpu-profile.c), and the summary made from it
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/units.h"
#include "hw/vgpu/vgpu-profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* sysfs gives a string: it ends at the first NUL */
    g_autofree char *desc = g_strndup((const char *)data, size);
    g_autofree char *summary = NULL;
    VgpuProfile p = { .available = -1 };
    Error *err = NULL;

    p.type_id = g_strdup("nvidia-1");
    p.name = size & 1 ? g_strdup("GRID T4-1B") : NULL;
    if (vgpu_profile_parse_description(&p, desc, &err)) {
        assert(!err);
        if (!p.nvidia) {
            assert(!p.num_heads && !p.frl_config && !p.framebuffer &&
                   !p.max_xres && !p.max_yres && !p.max_instance);
        }
        /* the bounds the parser promises */
        assert(p.num_heads <= 64);
        assert(p.frl_config <= 1000);
        assert(p.framebuffer <= 64 * TiB);
        assert(p.max_xres <= 32768 && p.max_yres <= 32768);
        assert(!p.max_xres == !p.max_yres);
    } else {
        /* refused: an error that says where, and nothing half-filled */
        assert(err);
        assert(g_str_has_prefix(error_get_pretty(err), "vGPU description: "));
        assert(!p.nvidia && !p.num_heads && !p.framebuffer);
        error_free(err);
    }
    summary = vgpu_profile_summary(&p);
    assert(g_str_has_prefix(summary, p.name ? p.name : p.type_id));
    vgpu_profile_clear(&p);
    return 0;
}
