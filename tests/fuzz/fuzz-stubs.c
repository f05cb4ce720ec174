/*
 * What the fuzzed files call in the rest of QEMU (the console, guest
 * memory, fw_cfg) on paths that the targets do not take: a call aborts,
 * so a target that reaches one fails loudly.  Deliberately without
 * prototypes: only the names matter to the linker.
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
