/*
 * What the fuzzed files call in the rest of QEMU (the console, guest
 * memory, fw_cfg) on paths that the targets do not take: a call aborts,
 * so a target that reaches one fails loudly.  Each is declared void
 * f(void), whatever its real type: only the names matter to the linker.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <stdio.h>
#include <stdlib.h>

#define STUB(name) \
    void name(void); \
    void name(void) { fprintf(stderr, "fuzz stub %s called\n", #name); abort(); }

/* console (ui/console.c) */
STUB(qemu_console_surface)
STUB(qemu_create_displaysurface_pixman)
STUB(qemu_create_placeholder_surface)
STUB(dpy_gfx_replace_surface)
STUB(dpy_gfx_update)
STUB(dpy_gfx_update_full)

/* guest memory, fw_cfg, firmware files, reset (hw/vgpu/vgpu-ramfb.c) */
STUB(get_system_memory)
STUB(memory_region_find)
STUB(memory_region_get_ram_ptr)
STUB(memory_region_is_ram_device)
STUB(memory_region_name)
STUB(memory_region_unref)
STUB(fw_cfg_add_file_callback)
STUB(fw_cfg_dma_enabled)
STUB(fw_cfg_find)
STUB(qemu_find_file)
STUB(qemu_register_reset)
STUB(rom_add_vga)
