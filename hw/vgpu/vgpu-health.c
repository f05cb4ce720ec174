/*
 * nv-vgpu: the vGPU's error and request interrupts as QMP events
 *
 * vfio-pci sets up an eventfd for each of the two VFIO interrupts that
 * say something about the device's health (VFIO_PCI_ERR_IRQ_INDEX and
 * VFIO_PCI_REQ_IRQ_INDEX) when the device has them, and stops the VM or
 * unplugs the device when they fire.  nv-vgpu keeps vfio-pci's eventfds
 * and their registration with the kernel, and only points the main loop
 * at its own handlers, which name the vGPU in an event and follow the
 * device's policy.  vfio-pci's unrealize tears the eventfds down as usual.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/qapi-events-vgpu.h"
#include "qemu/error-report.h"
#include "qemu/main-loop.h"
#include "system/runstate.h"
#include "hw/vgpu/nv-vgpu.h"
#include "hw/vgpu/vgpu-health.h"
#include "trace.h"

static void vgpu_health_count(NvVgpuState *s, VgpuIrqStats *st,
                              const char *irq, const char *action)
{
    st->count++;
    st->last_us = g_get_real_time();
    trace_vgpu_health_irq(s->host.id, irq, st->count, action);
}

static const char *vgpu_health_name(NvVgpuState *s)
{
    return DEVICE(s)->id ?: s->host.id;
}

static void vgpu_health_error(void *opaque)
{
    NvVgpuState *s = opaque;
    VFIOPCIDevice *vdev = VFIO_PCI(s);
    g_autofree char *path = NULL;

    if (!event_notifier_test_and_clear(&vdev->err_notifier)) {
        return;
    }
    vgpu_health_count(s, &s->health.error, "error",
                      VgpuErrorPolicy_str(s->on_error));
    path = object_get_canonical_path(OBJECT(s));
    /* The event first: it says why the VM stops. */
    qapi_event_send_vgpu_error(DEVICE(s)->id ?: "", path, s->host.id,
                               s->host.parent ?: "",
                               s->host.profile.type_id ?: "", s->on_error,
                               s->health.error.count);
    if (s->on_error == VGPU_ERROR_POLICY_STOP) {
        error_report("nv-vgpu %s: the host driver reports an unrecoverable "
                     "error of vGPU %s; stopping the VM (on-error=stop)",
                     vgpu_health_name(s), s->host.id);
        vm_stop(RUN_STATE_INTERNAL_ERROR);
    } else {
        warn_report("nv-vgpu %s: the host driver reports an unrecoverable "
                    "error of vGPU %s; the VM keeps running "
                    "(on-error=report)", vgpu_health_name(s), s->host.id);
    }
}

static void vgpu_health_request(void *opaque)
{
    NvVgpuState *s = opaque;
    VFIOPCIDevice *vdev = VFIO_PCI(s);
    g_autofree char *path = NULL;
    Error *err = NULL;

    if (!event_notifier_test_and_clear(&vdev->req_notifier)) {
        return;
    }
    vgpu_health_count(s, &s->health.request, "request",
                      VgpuRequestPolicy_str(s->on_request));
    path = object_get_canonical_path(OBJECT(s));
    qapi_event_send_vgpu_request(DEVICE(s)->id ?: "", path, s->host.id,
                                 s->host.parent ?: "",
                                 s->host.profile.type_id ?: "",
                                 s->on_request,
                                 s->health.request.count);
    if (s->on_request == VGPU_REQUEST_POLICY_REPORT) {
        warn_report("nv-vgpu %s: the host asks for vGPU %s back; it stays "
                    "until it is unplugged (on-request=report)",
                    vgpu_health_name(s), s->host.id);
        return;
    }
    qdev_unplug(DEVICE(s), &err);
    if (err) {
        warn_reportf_err(err, "nv-vgpu %s: the host asks for vGPU %s back, "
                         "but it cannot be unplugged: ", vgpu_health_name(s),
                         s->host.id);
    }
}

void vgpu_health_attach(NvVgpuState *s)
{
    VFIOPCIDevice *vdev = VFIO_PCI(s);

    /* vfio-pci leaves pci_aer set only with the error eventfd in place */
    s->health.error.present = vdev->pci_aer;
    s->health.request.present = vdev->req_enabled;
    if (vdev->pci_aer) {
        qemu_set_fd_handler(event_notifier_get_fd(&vdev->err_notifier),
                            vgpu_health_error, NULL, s);
    }
    if (vdev->req_enabled) {
        qemu_set_fd_handler(event_notifier_get_fd(&vdev->req_notifier),
                            vgpu_health_request, NULL, s);
    }
    trace_vgpu_health_attach(s->host.id, vdev->pci_aer, vdev->req_enabled);
}

static VgpuIrqInfo *vgpu_irq_info(const VgpuIrqStats *st)
{
    VgpuIrqInfo *info = g_new0(VgpuIrqInfo, 1);

    info->present = st->present;
    info->count = st->count;
    info->has_last = st->count > 0;
    info->last = st->last_us;
    return info;
}

VgpuHealthInfo *vgpu_health_info(NvVgpuState *s)
{
    VgpuHealthInfo *info = g_new0(VgpuHealthInfo, 1);

    info->on_error = s->on_error;
    info->on_request = s->on_request;
    info->error = vgpu_irq_info(&s->health.error);
    info->request = vgpu_irq_info(&s->health.request);
    return info;
}
