/*
 * A test VM with nv-vgpus on nvsim mdevs, driven as their guest driver
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TESTS_QTEST_NVSIM_VM_H
#define TESTS_QTEST_NVSIM_VM_H

#include "libqtest.h"
#include "libqos/pci.h"
#include "nvsim-host.h"

/* nvsim's BAR0 registers (kernel/nvsim/nvsim-regs.h) */
#define REG_HEAD0_ENABLE        0x0100
#define REG_HEAD0_WIDTH         0x0104
#define REG_HEAD0_HEIGHT        0x0108
#define REG_HEAD0_STRIDE        0x010c
#define REG_HEAD0_FORMAT        0x0110
#define REG_HEAD0_FB_OFFSET_LO  0x0114
#define REG_HEAD0_FB_OFFSET_HI  0x0118
#define REG_EDID_LINK           0x0130
#define REG_EDID_SIZE           0x0134
#define REG_EDID_DATA           0x1000

#define FOURCC(a, b, c, d) \
    ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | \
     (uint32_t)(d) << 24)
#define FMT_XRGB8888    FOURCC('X', 'R', '2', '4')
#define FMT_XBGR8888    FOURCC('X', 'B', '2', '4')
#define FMT_RGB565      FOURCC('R', 'G', '1', '6')

#define TYPE_1Q         "nvsim-63"      /* GRID P4-1Q: 1 GiB, 5120x2880 */
#define TILE            64

typedef struct Gpu {
    QTestState *qts;
    const char *id;
    char *uuid;                 /* of its mdev; NULL for a VF */
    QPCIDevice *dev;
    QPCIBar bar0;
    uint64_t fb;                /* guest address of BAR1 */
    /* the mode programmed last */
    uint32_t width, height, stride, format;
    uint64_t offset;
    uint32_t seed;              /* of the picture written last */
} Gpu;

typedef struct Vm {
    QTestState *qts;
    QPCIBus *bus;
    Gpu gpu[2];
    int ngpus;
    char *dir;                  /* VNC socket, screendumps, QEMU's stderr */
    char *vnc;
} Vm;


/* The RGB picture (as in a PPM) that head 0 of @g should show now */
uint8_t *expected_rgb(const Gpu *g);

/* Program head 0 through BAR0 */
void gpu_set_mode(Gpu *g, uint32_t width, uint32_t height, uint32_t format,
                  uint32_t pad, uint64_t offset);

/* Write picture @seed into the scanout of @g, through BAR1 */
void gpu_draw(Gpu *g, uint32_t seed);

/* Read a binary PPM; returns the RGB bytes */
uint8_t *read_ppm(const char *path, uint32_t *width, uint32_t *height);

/* @rgb must be exactly what @g shows; names the first wrong pixel */
void assert_picture(const Gpu *g, const uint8_t *rgb, uint32_t width,
                    uint32_t height, const char *what);

/* Console polls are capped at console-fps: let the next one through. */
void wait_next_frame(void);

/* screendump of @g's console into a file in vm->dir; returns its path */
char *screendump(Vm *vm, const Gpu *g);
void assert_screendump(Vm *vm, const Gpu *g);

/*
 * Start QEMU with an nv-vgpu (ids gpu0, gpu1) for each mdev in @uuids,
 * VNC on vm->vnc (with @vnc_props, e.g. ",display=gpu1"), @extra
 * appended; QEMU's stderr goes to a file
 * (vm_stderr()).  With @attach, set up the vGPUs' BARs as a guest would
 * (vm_attach()); an incoming VM gets them from the source.
 */
Vm *vm_start(char **uuids, int n, const char *dev_props,
             const char *vnc_props, const char *extra, bool attach);
/* The same for any vGPUs: @vgpus[i] names one, e.g. "host=VF,profile=ID" */
Vm *vm_start_vgpus(const char **vgpus, int n, const char *dev_props,
                   const char *vnc_props, const char *extra, bool attach);
void vm_attach(Vm *vm);
char *vm_stderr(Vm *vm);
void vm_quit(Vm *vm);

/*
 * The VNC test client (tests/vnc/vgpu-vnc-client, $VGPU_VNC_CLIENT), or
 * NULL with the test marked skipped
 */
const char *vnc_client(void);
/* A VNC client's snapshot of vm->vnc is exactly what @g shows */
void assert_vnc_snapshot(Vm *vm, const Gpu *g, const char *client);

/* An mdev of type 1Q showing @plane ("region" or "dmabuf") planes */
char *mdev_with_plane(const char *plane);

uint64_t console_counter(const Gpu *g, const char *name);

/*
 * The boot display (ramfb=on), set up as the firmware would: picture
 * @seed, @width x @height XRGB8888, at guest address @fb, announced
 * through fw_cfg's "etc/ramfb" (DMA).  ramfb_config() writes a raw
 * configuration, e.g. a bad one.
 */
typedef struct Ramfb {
    uint64_t fb;
    uint32_t width, height, seed;
} Ramfb;

#define RAMFB_FB        0x1000000       /* 16 MiB into guest RAM */

void ramfb_config(QTestState *qts, uint64_t addr, uint32_t fourcc,
                  uint32_t width, uint32_t height, uint32_t stride);
void ramfb_draw(QTestState *qts, Ramfb *r, uint32_t seed);
/* The console of @g shows @r's picture */
void assert_ramfb_screendump(Vm *vm, const Gpu *g, const Ramfb *r);

/* The guest's monitor: its preferred mode, from nvsim's EDID registers */
void assert_guest_edid(Gpu *g, uint32_t width, uint32_t height);

#endif
