/*
 * Fuzz target: the EDID region of a vGPU as its driver describes it, and
 * the monitor modes asked of it (hw/vgpu/vgpu-edid.c)
 *
 * The driver's region info and region header come from the input, and so
 * do the profile's limits and a few mode requests (a display client's
 * resize, a migrated monitor).  The file I/O of vgpu-edid.c goes to a
 * model of the device fd here (the target links with --wrap=pread64 and
 * --wrap=pwrite64, what glibc's pread and pwrite are with 64-bit off_t):
 * every access must stay inside the EDID region the driver declared, and
 * the EDID blob inside the space its header gives it.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <linux/vfio.h>
#include "qapi/error.h"
#include "qemu/timer.h"
#include "hw/vgpu/vgpu-edid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);
ssize_t __wrap_pread64(int fd, void *buf, size_t count, off_t offset);
ssize_t __wrap_pwrite64(int fd, const void *buf, size_t count, off_t offset);
ssize_t __real_pread64(int fd, void *buf, size_t count, off_t offset);
ssize_t __real_pwrite64(int fd, const void *buf, size_t count, off_t offset);

#define DEVICE_FD 1000

typedef struct QEMU_PACKED EdidInput {
    uint8_t has_region;         /* odd: the vGPU has an EDID region */
    uint8_t writes_ok;          /* writes that succeed; 255: all */
    uint32_t flags;             /* of the region info */
    uint64_t region_size;
    uint64_t region_offset;     /* in the device fd */
    struct vfio_region_gfx_edid hdr;
    uint32_t max_xres, max_yres, xres, yres;
    uint32_t modes[8][2];       /* vgpu_edid_set_mode() requests */
} EdidInput;

/* the device fd: the region's first bytes, as far as the model keeps */
#define MODEL_SIZE (64 * 1024)
static struct {
    const EdidInput *in;
    struct vfio_region_gfx_edid hdr;    /* the input's, aligned */
    uint8_t bytes[MODEL_SIZE];
    unsigned int writes;
} dev;

static void check_access(size_t count, off_t offset)
{
    uint64_t start = dev.in->region_offset;

    /* inside the EDID region, nowhere else in the device */
    assert(offset >= 0 && (uint64_t)offset >= start);
    assert((uint64_t)offset - start <= dev.in->region_size);
    assert(count <= dev.in->region_size - ((uint64_t)offset - start));
}

ssize_t __wrap_pread64(int fd, void *buf, size_t count, off_t offset)
{
    uint64_t at;

    if (fd != DEVICE_FD) {
        return __real_pread64(fd, buf, count, offset);
    }
    check_access(count, offset);
    at = offset - dev.in->region_offset;
    memset(buf, 0, count);
    if (at < MODEL_SIZE) {
        memcpy(buf, dev.bytes + at, MIN(count, MODEL_SIZE - at));
    }
    return count;
}

ssize_t __wrap_pwrite64(int fd, const void *buf, size_t count, off_t offset)
{
    const struct vfio_region_gfx_edid *hdr = &dev.hdr;
    uint64_t at;

    if (fd != DEVICE_FD) {
        return __real_pwrite64(fd, buf, count, offset);
    }
    check_access(count, offset);
    at = offset - dev.in->region_offset;
    if (at >= sizeof(*hdr)) {
        /* the blob: within the space the header gives it */
        assert(at >= hdr->edid_offset &&
               count <= hdr->edid_max_size - (at - hdr->edid_offset));
        assert(count >= 128 && count % 128 == 0);
    } else {
        /* a header field: link_state or edid_size, one u32 */
        assert(count == 4 &&
               (at == offsetof(struct vfio_region_gfx_edid, link_state) ||
                at == offsetof(struct vfio_region_gfx_edid, edid_size)));
    }
    if (dev.in->writes_ok != 255 && dev.writes++ >= dev.in->writes_ok) {
        errno = EIO;
        return -1;
    }
    if (at < MODEL_SIZE) {
        memcpy(dev.bytes + at, buf, MIN(count, MODEL_SIZE - at));
    }
    return count;
}

/* What the driver says about its EDID region: from the input. */
int vfio_get_dev_region_info(VFIODevice *vbasedev, uint32_t type,
                             uint32_t subtype, struct vfio_region_info **info)
{
    assert(type == VFIO_REGION_TYPE_GFX &&
           subtype == VFIO_REGION_SUBTYPE_GFX_EDID);
    if (!(dev.in->has_region & 1)) {
        return -ENODEV;
    }
    *info = g_new0(struct vfio_region_info, 1);
    (*info)->argsz = sizeof(**info);
    (*info)->flags = dev.in->flags;
    (*info)->size = dev.in->region_size;
    (*info)->offset = dev.in->region_offset;
    return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    init_clocks(NULL);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    VFIODevice vbasedev = { .fd = DEVICE_FD, .name = (char *)"fuzz" };
    EdidInput in;
    VgpuEdid edid;
    Error *err = NULL;
    unsigned int i;

    if (size < sizeof(in)) {
        return 0;
    }
    memcpy(&in, data, sizeof(in));
    /* the model's offsets are off_t, as a device fd's are */
    in.region_offset &= INT64_MAX >> 1;
    in.region_size &= INT64_MAX >> 1;
    memset(&dev, 0, sizeof(dev));
    dev.in = &in;
    memcpy(&dev.hdr, &in.hdr, sizeof(in.hdr));
    memcpy(dev.bytes, &in.hdr, sizeof(in.hdr));

    if (!vgpu_edid_init(&edid, &vbasedev, in.max_xres, in.max_yres,
                        in.xres, in.yres, &err)) {
        assert(err && !edid.blob);
        error_free(err);
        return 0;
    }
    assert(!err);
    for (i = 0; edid.blob && i < ARRAY_SIZE(in.modes); i++) {
        vgpu_edid_set_mode(&edid, in.modes[i][0], in.modes[i][1]);
        /* never a mode beyond the limits */
        assert(!edid.max_xres || edid.cur_xres <= edid.max_xres);
        assert(!edid.max_yres || edid.cur_yres <= edid.max_yres);
    }
    vgpu_edid_finalize(&edid);
    return 0;
}
