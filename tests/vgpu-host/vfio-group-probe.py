#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""vfio-group-probe.py BDF: open PCI device BDF (bound to vfio-pci) the way
a VMM does through the VFIO group interface -- group into a type1
container, one DMA mapping, the device fd, its BAR regions -- and print
one line "bar0=SIZE bar1=SIZE".  Any step that fails exits 1 with the step
and the errno.  sriov-smoke-test.sh uses it on a VF of the simulated
SR-IOV GPU: this is what the test host's IOMMU must allow."""
import ctypes
import errno
import fcntl
import mmap
import os
import struct
import sys

VFIO_TYPE = ord(';')
VFIO_BASE = 100


def vfio_io(nr):
    """_IO(VFIO_TYPE, VFIO_BASE + nr): VFIO's ioctls carry no size."""
    return (VFIO_TYPE << 8) | (VFIO_BASE + nr)


VFIO_GET_API_VERSION = vfio_io(0)
VFIO_CHECK_EXTENSION = vfio_io(1)
VFIO_SET_IOMMU = vfio_io(2)
VFIO_GROUP_GET_STATUS = vfio_io(3)
VFIO_GROUP_SET_CONTAINER = vfio_io(4)
VFIO_GROUP_GET_DEVICE_FD = vfio_io(6)
VFIO_DEVICE_GET_REGION_INFO = vfio_io(8)
VFIO_IOMMU_MAP_DMA = vfio_io(13)
VFIO_IOMMU_UNMAP_DMA = vfio_io(14)
VFIO_API_VERSION = 0
VFIO_TYPE1v2_IOMMU = 3
VFIO_GROUP_FLAGS_VIABLE = 1 << 0
VFIO_DMA_MAP_FLAG_READ_WRITE = 3


def fail(step, err):
    code = err.errno if isinstance(err, OSError) else None
    name = errno.errorcode.get(code, str(code)) if code else ''
    print(f'vfio-group-probe: {step}: {err}{" (" + name + ")" if name else ""}',
          file=sys.stderr)
    sys.exit(1)


def main():
    bdf = sys.argv[1]
    try:
        group = os.path.basename(
            os.readlink(f'/sys/bus/pci/devices/{bdf}/iommu_group'))
    except OSError as e:
        fail('iommu_group link', e)

    try:
        container = os.open('/dev/vfio/vfio', os.O_RDWR)
        if fcntl.ioctl(container, VFIO_GET_API_VERSION) != VFIO_API_VERSION:
            fail('VFIO_GET_API_VERSION', 'unknown VFIO API')
        if not fcntl.ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU):
            fail('VFIO_CHECK_EXTENSION', 'no type1v2 IOMMU')
    except OSError as e:
        fail('container', e)

    try:
        gfd = os.open(f'/dev/vfio/{group}', os.O_RDWR)
        # struct vfio_group_status { u32 argsz, flags; }
        status = bytearray(struct.pack('=II', 8, 0))
        fcntl.ioctl(gfd, VFIO_GROUP_GET_STATUS, status)
        if not struct.unpack('=II', status)[1] & VFIO_GROUP_FLAGS_VIABLE:
            fail('VFIO_GROUP_GET_STATUS', f'group {group} is not viable')
        fcntl.ioctl(gfd, VFIO_GROUP_SET_CONTAINER,
                    struct.pack('=i', container))
    except OSError as e:
        fail(f'group {group}', e)
    # Where the IOMMU has no isolated MSI (no interrupt remapping), type1
    # refuses here with EPERM.
    try:
        fcntl.ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)
    except OSError as e:
        fail('VFIO_SET_IOMMU', e)

    # One mapping, which goes into the emulated IOMMU's page tables.
    size = 1 << 20
    buf = mmap.mmap(-1, size)
    vaddr = ctypes.addressof(ctypes.c_char.from_buffer(buf))
    iova = 1 << 32
    try:
        # struct vfio_iommu_type1_dma_map { u32 argsz, flags;
        #                                   u64 vaddr, iova, size; }
        fcntl.ioctl(container, VFIO_IOMMU_MAP_DMA,
                    struct.pack('=IIQQQ', 32, VFIO_DMA_MAP_FLAG_READ_WRITE,
                                vaddr, iova, size))
        # struct vfio_iommu_type1_dma_unmap { u32 argsz, flags;
        #                                     u64 iova, size; }
        fcntl.ioctl(container, VFIO_IOMMU_UNMAP_DMA,
                    bytearray(struct.pack('=IIQQ', 24, 0, iova, size)))
    except OSError as e:
        fail('VFIO_IOMMU_MAP_DMA/UNMAP_DMA', e)

    # It returns the fd, which fcntl.ioctl() does not pass on for a
    # buffer argument: libc's ioctl().
    libc = ctypes.CDLL(None, use_errno=True)
    libc.ioctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_char_p]
    dfd = libc.ioctl(gfd, VFIO_GROUP_GET_DEVICE_FD, bdf.encode())
    if dfd < 0:
        e = ctypes.get_errno()
        fail('VFIO_GROUP_GET_DEVICE_FD', OSError(e, os.strerror(e)))
    sizes = []
    for index in (0, 1):
        # struct vfio_region_info { u32 argsz, flags, index, cap_offset;
        #                           u64 size, offset; }
        info = bytearray(struct.pack('=IIIIQQ', 32, 0, index, 0, 0, 0))
        try:
            fcntl.ioctl(dfd, VFIO_DEVICE_GET_REGION_INFO, info)
        except OSError as e:
            fail(f'VFIO_DEVICE_GET_REGION_INFO {index}', e)
        sizes.append(struct.unpack('=IIIIQQ', info)[4])
    print(f'bar0={sizes[0]} bar1={sizes[1]}')
    for fd in (dfd, gfd, container):
        os.close(fd)


if __name__ == '__main__':
    main()
