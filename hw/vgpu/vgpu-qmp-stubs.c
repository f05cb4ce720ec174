/*
 * nv-vgpu's QMP and HMP commands where nv-vgpu is not built in
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/qapi-commands-vgpu.h"
#include "monitor/hmp.h"
#include "monitor/monitor.h"

VgpuDescriptor *qmp_query_vgpu_descriptor(const char *id, Error **errp)
{
    error_setg(errp, "this QEMU has no nv-vgpu device");
    return NULL;
}

VgpuCompatibility *qmp_vgpu_check_descriptor(const char *id,
                                             VgpuDescriptor *descriptor,
                                             Error **errp)
{
    error_setg(errp, "this QEMU has no nv-vgpu device");
    return NULL;
}

VgpuInfoList *qmp_query_vgpus(Error **errp)
{
    return NULL;
}

void hmp_info_vgpus(Monitor *mon, const QDict *qdict)
{
    monitor_printf(mon, "No nv-vgpu devices\n");
}

VgpuCreateInfo *qmp_vgpu_create(const char *parent, const char *mdev_type,
                                const char *uuid, Error **errp)
{
    error_setg(errp, "this QEMU has no nv-vgpu device");
    return NULL;
}

void qmp_vgpu_discard(const char *uuid, Error **errp)
{
    error_setg(errp, "this QEMU has no nv-vgpu device");
}
