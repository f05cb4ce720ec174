/*
 * A test VM with nv-vgpus on nvsim mdevs, driven as their guest driver:
 * modes through BAR0, pictures through BAR1, checked pixel by pixel
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "libqos/fw_cfg.h"
#include "libqos/pci-pc.h"
#include "hw/pci/pci_regs.h"
#include "qemu/bswap.h"
#include "qemu/units.h"
#include "nvsim-vm.h"

/* The picture: every pixel distinct enough to catch offsets and swaps. */
static void pattern_rgb(uint32_t seed, uint32_t x, uint32_t y, uint8_t rgb[3])
{
    rgb[0] = x * 3 + seed;
    rgb[1] = y * 5 + seed * 7;
    rgb[2] = (x ^ y) + seed * 13;
}

static unsigned int format_bpp(uint32_t format)
{
    return format == FMT_RGB565 ? 2 : 4;
}

/* What the guest writes for @rgb, and what a 24-bit screen shows for it */
static void encode_pixel(uint32_t format, const uint8_t rgb[3], uint8_t *p,
                         uint8_t shown[3])
{
    uint16_t v;

    switch (format) {
    case FMT_XRGB8888:
        p[0] = rgb[2], p[1] = rgb[1], p[2] = rgb[0], p[3] = 0xa5;
        memcpy(shown, rgb, 3);
        break;
    case FMT_XBGR8888:
        p[0] = rgb[0], p[1] = rgb[1], p[2] = rgb[2], p[3] = 0x5a;
        memcpy(shown, rgb, 3);
        break;
    case FMT_RGB565:
        v = (rgb[0] >> 3) << 11 | (rgb[1] >> 2) << 5 | rgb[2] >> 3;
        p[0] = v, p[1] = v >> 8;
        /* pixman widens 5 and 6 bits by repeating their top bits */
        shown[0] = (rgb[0] & 0xf8) | rgb[0] >> 5;
        shown[1] = (rgb[1] & 0xfc) | rgb[1] >> 6;
        shown[2] = (rgb[2] & 0xf8) | rgb[2] >> 5;
        break;
    default:
        g_assert_not_reached();
    }
}

/* The RGB picture (as in a PPM) that head 0 of @g should show now */
uint8_t *expected_rgb(const Gpu *g)
{
    uint8_t *rgb = g_malloc((size_t)g->width * g->height * 3);
    uint8_t raw[4], px[3];
    uint32_t x, y;

    for (y = 0; y < g->height; y++) {
        for (x = 0; x < g->width; x++) {
            pattern_rgb(g->seed, x, y, px);
            encode_pixel(g->format, px, raw, rgb + ((size_t)y * g->width + x)
                         * 3);
        }
    }
    return rgb;
}

void gpu_set_mode(Gpu *g, uint32_t width, uint32_t height, uint32_t format,
                  uint32_t pad, uint64_t offset)
{
    g->width = width;
    g->height = height;
    g->format = format;
    g->stride = width * format_bpp(format) + pad;
    g->offset = offset;
    qpci_io_writel(g->dev, g->bar0, REG_HEAD0_ENABLE, 0);
    qpci_io_writel(g->dev, g->bar0, REG_HEAD0_WIDTH, width);
    qpci_io_writel(g->dev, g->bar0, REG_HEAD0_HEIGHT, height);
    qpci_io_writel(g->dev, g->bar0, REG_HEAD0_STRIDE, g->stride);
    qpci_io_writel(g->dev, g->bar0, REG_HEAD0_FORMAT, format);
    qpci_io_writel(g->dev, g->bar0, REG_HEAD0_FB_OFFSET_LO, offset);
    qpci_io_writel(g->dev, g->bar0, REG_HEAD0_FB_OFFSET_HI, offset >> 32);
    qpci_io_writel(g->dev, g->bar0, REG_HEAD0_ENABLE, 1);
}

/* Write picture @seed into the scanout of @g, through BAR1 */
void gpu_draw(Gpu *g, uint32_t seed)
{
    unsigned int bpp = format_bpp(g->format);
    g_autofree uint8_t *buf = g_malloc0((size_t)g->stride * g->height);
    uint8_t px[3], shown[3];
    uint32_t x, y;

    for (y = 0; y < g->height; y++) {
        for (x = 0; x < g->width; x++) {
            pattern_rgb(seed, x, y, px);
            encode_pixel(g->format, px, buf + (size_t)y * g->stride + x * bpp,
                         shown);
        }
    }
    qtest_bufwrite(g->qts, g->fb + g->offset, buf,
                   (size_t)g->stride * g->height);
    g->seed = seed;
}

/* Read a binary PPM; returns the RGB bytes */
uint8_t *read_ppm(const char *path, uint32_t *width, uint32_t *height)
{
    g_autofree char *data = NULL;
    unsigned int w, h, max;
    size_t len;
    int n = 0;

    g_assert_true(g_file_get_contents(path, &data, &len, NULL));
    g_assert_cmpint(sscanf(data, "P6 %u %u %u%n", &w, &h, &max, &n), ==, 3);
    g_assert_cmpuint(max, ==, 255);
    n++;                        /* the one whitespace byte after maxval */
    g_assert_cmpuint(len, ==, n + (size_t)w * h * 3);
    *width = w;
    *height = h;
    return g_memdup2(data + n, (size_t)w * h * 3);
}

/* @rgb must be exactly what @g shows; names the first wrong pixel */
void assert_picture(const Gpu *g, const uint8_t *rgb, uint32_t width,
                           uint32_t height, const char *what)
{
    g_autofree uint8_t *want = expected_rgb(g);
    size_t i;

    if (width != g->width || height != g->height) {
        g_error("%s of %s: %ux%u, want %ux%u", what, g->id, width, height,
                g->width, g->height);
    }
    for (i = 0; i < (size_t)width * height * 3; i++) {
        if (rgb[i] != want[i]) {
            size_t px = i / 3;

            g_error("%s of %s: pixel (%zu,%zu) is %02x%02x%02x, want "
                    "%02x%02x%02x", what, g->id, px % width, px / width,
                    rgb[px * 3], rgb[px * 3 + 1], rgb[px * 3 + 2],
                    want[px * 3], want[px * 3 + 1], want[px * 3 + 2]);
        }
    }
}

/* Console polls are capped at console-fps: let the next one through. */
void wait_next_frame(void)
{
    g_usleep(60 * 1000);
}

char *screendump(Vm *vm, const Gpu *g)
{
    g_autofree char *path = g_strdup_printf("%s/%s.ppm", vm->dir, g->id);
    QDict *rsp;

    wait_next_frame();
    rsp = qtest_qmp(vm->qts, "{ 'execute': 'screendump', 'arguments': "
                    "{ 'filename': %s, 'device': %s } }", path, g->id);
    if (!qdict_haskey(rsp, "return")) {
        g_error("screendump of %s failed: %s", g->id,
                qdict_get_str(qdict_get_qdict(rsp, "error"), "desc"));
    }
    qobject_unref(rsp);
    return g_steal_pointer(&path);
}

void assert_screendump(Vm *vm, const Gpu *g)
{
    g_autofree char *path = screendump(vm, g);
    g_autofree uint8_t *rgb = NULL;
    uint32_t w, h;

    rgb = read_ppm(path, &w, &h);
    assert_picture(g, rgb, w, h, "screendump");
}

Vm *vm_start(char **uuids, int n, const char *dev_props,
             const char *vnc_props, const char *extra, bool attach)
{
    g_autofree char *vgpus[2] = { NULL, NULL };
    Vm *vm;
    int i;

    g_assert_cmpint(n, <=, G_N_ELEMENTS(vgpus));
    for (i = 0; i < n; i++) {
        vgpus[i] = g_strdup_printf("sysfsdev=" MDEV_DEVICES "/%s", uuids[i]);
    }
    vm = vm_start_vgpus((const char **)vgpus, n, dev_props, vnc_props, extra,
                        attach);
    for (i = 0; i < n; i++) {
        vm->gpu[i].uuid = g_strdup(uuids[i]);
    }
    return vm;
}

Vm *vm_start_vgpus(const char **vgpus, int n, const char *dev_props,
                   const char *vnc_props, const char *extra, bool attach)
{
    g_autoptr(GString) args = g_string_new("-machine q35 -nodefaults ");
    g_autofree char *errlog = NULL;
    Vm *vm = g_new0(Vm, 1);
    int i, saved, fd;

    vm->dir = g_dir_make_tmp("nv-vgpu-test-XXXXXX", NULL);
    g_assert_nonnull(vm->dir);
    vm->vnc = g_strdup_printf("%s/vnc.sock", vm->dir);
    g_string_append_printf(args, "-vnc unix:%s%s ", vm->vnc,
                           vnc_props ? vnc_props : "");
    for (i = 0; i < n; i++) {
        g_string_append_printf(args, "-device nv-vgpu,id=gpu%d,addr=%02x.0,"
                               "%s,%s ", i, 4 + i, vgpus[i], dev_props);
        vm->gpu[i].id = i ? "gpu1" : "gpu0";
    }
    vm->ngpus = n;
    g_string_append(args, extra ? extra : "");

    /* QEMU inherits our stderr: catch its warnings in a file. */
    errlog = g_strdup_printf("%s/stderr", vm->dir);
    fd = open(errlog, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    g_assert_cmpint(fd, >=, 0);
    saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    vm->qts = qtest_init(args->str);
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(fd);

    if (attach) {
        vm_attach(vm);
    }
    return vm;
}

void vm_attach(Vm *vm)
{
    int i;

    vm->bus = qpci_new_pc(vm->qts, NULL);
    for (i = 0; i < vm->ngpus; i++) {
        Gpu *g = &vm->gpu[i];

        g->qts = vm->qts;
        g->dev = qpci_device_find(vm->bus, QPCI_DEVFN(4 + i, 0));
        g_assert_nonnull(g->dev);
        qpci_device_enable(g->dev);
        g->bar0 = qpci_iomap(g->dev, 0, NULL);
        /* BAR1 is beyond libqos' 32-bit window: place it by hand. */
        g->fb = 0x400000000ULL + i * (uint64_t)GiB;
        qpci_config_writel(g->dev, PCI_BASE_ADDRESS_1, (uint32_t)g->fb);
        qpci_config_writel(g->dev, PCI_BASE_ADDRESS_2, g->fb >> 32);
    }
}

char *vm_stderr(Vm *vm)
{
    g_autofree char *path = g_strdup_printf("%s/stderr", vm->dir);
    char *s = NULL;

    g_assert_true(g_file_get_contents(path, &s, NULL, NULL));
    return s;
}

void vm_quit(Vm *vm)
{
    g_autoptr(GDir) dir = NULL;
    const char *name;
    int i;

    for (i = 0; i < vm->ngpus; i++) {
        g_free(vm->gpu[i].dev);
        g_free(vm->gpu[i].uuid);
    }
    if (vm->bus) {
        qpci_free_pc(vm->bus);
    }
    qtest_quit(vm->qts);
    dir = g_dir_open(vm->dir, 0, NULL);
    while ((name = g_dir_read_name(dir))) {
        g_autofree char *path = g_build_filename(vm->dir, name, NULL);

        unlink(path);
    }
    rmdir(vm->dir);
    g_free(vm->dir);
    g_free(vm->vnc);
    g_free(vm);
}

/* A real VNC client (tests/vnc/vgpu-vnc-client, on libvncclient) */
const char *vnc_client(void)
{
    const char *client = g_getenv("VGPU_VNC_CLIENT");

    if (!client || !g_file_test(client, G_FILE_TEST_IS_EXECUTABLE)) {
        g_test_skip("needs VGPU_VNC_CLIENT, the libvncclient test client "
                    "(make vnc-client)");
        return NULL;
    }
    return client;
}

void assert_vnc_snapshot(Vm *vm, const Gpu *g, const char *client)
{
    g_autofree char *server = g_strdup_printf("unix:%s", vm->vnc);
    g_autofree char *path = g_strdup_printf("%s/vnc.ppm", vm->dir);
    g_autofree char *out = NULL, *err = NULL;
    g_autofree uint8_t *rgb = NULL;
    const char *argv[] = {
        client, "--timeout-ms", "30000", "--snapshot", path, server, NULL
    };
    uint32_t w, h;
    int status;

    wait_next_frame();
    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, 0, NULL, NULL,
                               &out, &err, &status, NULL));
    if (!WIFEXITED(status) || WEXITSTATUS(status)) {
        g_error("%s: %s%s", client, out, err);
    }
    rgb = read_ppm(path, &w, &h);
    assert_picture(g, rgb, w, h, "VNC picture");
}

/* An mdev of type 1Q showing @plane ("region" or "dmabuf") planes */
char *mdev_with_plane(const char *plane)
{
    char *uuid = nvsim_create(TYPE_1Q);

    mdev_attr_write(uuid, "nvsim/plane", plane);
    return uuid;
}

uint64_t console_counter(const Gpu *g, const char *name)
{
    return qom_get_dev_uint(g->qts, g->id, name);
}

/* The guest's monitor: preferred mode from xres/yres, default 1280x800 */
void assert_guest_edid(Gpu *g, uint32_t width, uint32_t height)
{
    uint8_t edid[128];
    uint32_t size, i;

    /* the monitor is plugged in by the time the guest looks */
    g_assert_cmpuint(qpci_io_readl(g->dev, g->bar0, REG_EDID_LINK), ==, 1);
    size = qpci_io_readl(g->dev, g->bar0, REG_EDID_SIZE);
    g_assert_cmpuint(size, >=, 128);
    g_assert_cmpuint(size % 128, ==, 0);
    for (i = 0; i < 128; i++) {
        edid[i] = qpci_io_readb(g->dev, g->bar0, REG_EDID_DATA + i);
    }
    g_assert_cmphex(ldq_be_p(edid), ==, 0x00ffffffffffff00ULL);
    /* the first detailed timing is the preferred mode */
    g_assert_cmpuint(edid[56] | (edid[58] & 0xf0) << 4, ==, width);
    g_assert_cmpuint(edid[59] | (edid[61] & 0xf0) << 4, ==, height);
}


/* ---------------------------------------------------------------------- */
/* The boot display, as the firmware sets it up */

#define FW_CFG_PORT_DMA         0x514   /* high half; the low one starts */
#define FW_CFG_DIR_KEY          0x19
#define FW_CFG_DMA_CTL_ERR      0x01
#define FW_CFG_DMA_CTL_SELECT   0x08
#define FW_CFG_DMA_CTL_WRITE    0x10
/* Guest RAM below the framebuffer for the DMA descriptor and its data */
#define RAMFB_SCRATCH           0x0f00000

/* The selector of fw_cfg file @name, from fw_cfg's file directory */
static uint16_t fw_cfg_file_key(QTestState *qts, const char *name)
{
    QFWCFG *fw_cfg = pc_fw_cfg_init(qts);
    uint32_t count, i;
    struct {
        uint32_t size;
        uint16_t key;
        uint16_t reserved;
        char name[56];
    } QEMU_PACKED e;

    qfw_cfg_get(fw_cfg, FW_CFG_DIR_KEY, &count, sizeof(count));
    for (i = 0; i < be32_to_cpu(count); i++) {
        qfw_cfg_read_data(fw_cfg, &e, sizeof(e));
        if (!strncmp(e.name, name, sizeof(e.name))) {
            pc_fw_cfg_uninit(fw_cfg);
            return be16_to_cpu(e.key);
        }
    }
    g_error("no fw_cfg file %s", name);
}

void ramfb_config(QTestState *qts, uint64_t addr, uint32_t fourcc,
                  uint32_t width, uint32_t height, uint32_t stride)
{
    struct {
        uint64_t addr;
        uint32_t fourcc, flags, width, height, stride;
    } QEMU_PACKED cfg = {
        cpu_to_be64(addr), cpu_to_be32(fourcc), 0, cpu_to_be32(width),
        cpu_to_be32(height), cpu_to_be32(stride),
    };
    struct {
        uint32_t control, length;
        uint64_t address;
    } QEMU_PACKED dma;
    uint16_t key = fw_cfg_file_key(qts, "etc/ramfb");

    qtest_memwrite(qts, RAMFB_SCRATCH + 64, &cfg, sizeof(cfg));
    dma.control = cpu_to_be32((uint32_t)key << 16 | FW_CFG_DMA_CTL_SELECT |
                              FW_CFG_DMA_CTL_WRITE);
    dma.length = cpu_to_be32(sizeof(cfg));
    dma.address = cpu_to_be64(RAMFB_SCRATCH + 64);
    qtest_memwrite(qts, RAMFB_SCRATCH, &dma, sizeof(dma));
    qtest_outl(qts, FW_CFG_PORT_DMA, 0);
    qtest_outl(qts, FW_CFG_PORT_DMA + 4, cpu_to_be32(RAMFB_SCRATCH));
    qtest_memread(qts, RAMFB_SCRATCH, &dma, sizeof(dma));
    g_assert_cmphex(be32_to_cpu(dma.control) & FW_CFG_DMA_CTL_ERR, ==, 0);
}

void ramfb_draw(QTestState *qts, Ramfb *r, uint32_t seed)
{
    size_t stride = (size_t)r->width * 4;
    g_autofree uint8_t *buf = g_malloc(stride * r->height);
    uint8_t px[3], shown[3];
    uint32_t x, y;

    for (y = 0; y < r->height; y++) {
        for (x = 0; x < r->width; x++) {
            pattern_rgb(seed, x, y, px);
            encode_pixel(FMT_XRGB8888, px, buf + y * stride + x * 4, shown);
        }
    }
    qtest_bufwrite(qts, r->fb, buf, stride * r->height);
    r->seed = seed;
}

void assert_ramfb_screendump(Vm *vm, const Gpu *g, const Ramfb *r)
{
    Gpu as_ramfb = {
        .id = "the boot display",
        .width = r->width, .height = r->height,
        .stride = r->width * 4, .format = FMT_XRGB8888, .seed = r->seed,
    };
    g_autofree char *path = screendump(vm, g);
    g_autofree uint8_t *rgb = NULL;
    uint32_t w, h;

    rgb = read_ppm(path, &w, &h);
    assert_picture(&as_ramfb, rgb, w, h, "screendump");
}
