/*
 * nv-vgpu: an NVIDIA vGPU (VFIO mediated device) as a vfio-pci device
 *
 * The device is vfio-pci with the vGPU's life cycle around it: before
 * vfio-pci's realize it finds or creates the host vGPU and reads its
 * profile, and it removes a vGPU that it created once QEMU lets go of it.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <sys/ioctl.h>
#include <linux/vfio.h>
#include "qapi/error.h"
#include "qapi/visitor.h"
#include "block/aio.h"
#include "qemu/main-loop.h"
#include "hw/qdev-core.h"
#include "qemu/module.h"
#include "qemu/uuid.h"
#include "hw/qdev-properties.h"
#include "hw/core/qdev-prop-internal.h"
#include "qapi/qapi-types-vgpu.h"
#include "qemu/error-report.h"
#include "migration/blocker.h"
#include "hw/vgpu/nv-vgpu.h"
#include "hw/vgpu/vgpu-migration.h"
#include "hw/vgpu/vgpu-params.h"
#include "hw/vgpu/vgpu-prepare.h"
#include "hw/vgpu/vgpu-multi.h"
#include "hw/vgpu/vgpu-reaper.h"
#include "hw/vgpu/vgpu-sysfs.h"
#include "trace.h"

/*
 * Which of the ways to name a vGPU was used, and used consistently?
 *   sysfsdev=MDEV                 an existing mdev
 *   parent=GPU,profile=TYPE       a new mdev, or a free VF of an SR-IOV PF
 *   host=VF (or sysfsdev=VF)      a VF that has a vGPU type
 *   host=VF,profile=TYPE          that VF, given the type first
 * mdev-type= is the old name of profile=.
 */
static bool nv_vgpu_check_options(NvVgpuState *s, Error **errp)
{
    VFIOPCIDevice *vdev = VFIO_PCI(s);
    bool by_host = ~vdev->host.domain || ~vdev->host.bus ||
                   ~vdev->host.slot || ~vdev->host.function;
    bool by_path = vdev->vbasedev.sysfsdev;
    QemuUUID uuid;

    if (s->mdev_type && s->vgpu_type_req &&
        strcmp(s->mdev_type, s->vgpu_type_req)) {
        error_setg(errp, "profile=%s and mdev-type=%s disagree: mdev-type= "
                   "is the old name of profile=, give one of them",
                   s->vgpu_type_req, s->mdev_type);
        return false;
    }
    if (!s->vgpu_type_req) {
        s->vgpu_type_req = g_strdup(s->mdev_type);
    }
    if (by_host && by_path) {
        error_setg(errp, "use either host= or sysfsdev=, not both");
        return false;
    }
    if ((by_host || by_path) && (s->mdev_parent || s->mdev_uuid)) {
        error_setg(errp, "use either %s= (an existing vGPU or VF) or "
                   "parent= (a vGPU that nv-vgpu makes on a GPU), not both",
                   by_host ? "host" : "sysfsdev");
        return false;
    }
    if (!by_host && !by_path && !s->mdev_parent && s->vgpu_type_req) {
        error_setg(errp, "profile=%s needs a place to make the vGPU: "
                   "parent=GPU (an mdev parent, or an SR-IOV physical "
                   "function whose free VF is taken) or host=VF",
                   s->vgpu_type_req);
        return false;
    }
    if (!by_host && !by_path && !s->mdev_parent) {
        error_setg(errp, "nv-vgpu needs a vGPU: sysfsdev=/sys/bus/mdev/"
                   "devices/UUID for an existing mdev, host=VF for an "
                   "SR-IOV VF (with profile=TYPE to give it a type), or "
                   "parent=GPU,profile=TYPE to make one");
        return false;
    }
    if (s->mdev_parent && !s->vgpu_type_req) {
        error_setg(errp, "parent= and profile= go together: name the GPU "
                   "(an mdev parent in /sys/class/mdev_bus/ or an SR-IOV "
                   "physical function) and the vGPU type or profile to make "
                   "on it");
        return false;
    }
    if (by_host) {
        g_free(s->host_vf);
        s->host_vf = g_strdup_printf("%04x:%02x:%02x.%01x", vdev->host.domain,
                                     vdev->host.bus, vdev->host.slot,
                                     vdev->host.function);
    }
    if (s->ramfb && vdev->display == ON_OFF_AUTO_OFF) {
        error_setg(errp, "ramfb=on shows the boot display on head 0's "
                   "console, which display=off turns off");
        return false;
    }
    if (s->ramfb && !vgpu_ramfb_check(DEVICE(s)->hotplugged, errp)) {
        return false;
    }
    if (s->mdev_uuid) {
        if (qemu_uuid_parse(s->mdev_uuid, &uuid) < 0) {
            error_setg(errp, "uuid=%s is not a valid UUID: expected 32 hex "
                       "digits as 8-4-4-4-12, e.g. "
                       "aa618089-8b16-4d01-a136-25a0f3c73123", s->mdev_uuid);
            return false;
        }
        /* The kernel names mdevs in lower case. */
        g_free(s->mdev_uuid);
        s->mdev_uuid = qemu_uuid_unparse_strdup(&uuid);
    }
    return true;
}

/* The guest's display may not be asked for more than the profile allows. */
static bool nv_vgpu_check_display(NvVgpuState *s, Error **errp)
{
    VFIOPCIDevice *vdev = VFIO_PCI(s);
    const VgpuProfile *p = &s->host.profile;
    g_auto(GStrv) in_force = vgpu_params_split(s->host.params_in_force);
    /* The profile's frame rate limit holds unless the limiter is off. */
    bool limited = !vgpu_params_has(in_force, "frame_rate_limiter", "0");
    uint32_t max_fps = limited && p->frl_config ?
                       MIN(p->frl_config, VGPU_DISPLAY_MAX_FPS) :
                       VGPU_DISPLAY_MAX_FPS;

    if (!s->console_fps || s->console_fps > max_fps) {
        g_autofree char *summary = vgpu_profile_summary(p);

        if (limited) {
            error_setg(errp, "console-fps=%u is outside 1 to %u, the frame "
                       "rate limit of vGPU profile %s", s->console_fps,
                       max_fps, summary);
            error_append_hint(errp, "frame-rate-limiter=off lifts the "
                              "profile's limit\n");
        } else {
            error_setg(errp, "console-fps=%u is outside 1 to %u",
                       s->console_fps, max_fps);
        }
        return false;
    }
    if (vgpu_params_has(in_force, "disable_vnc", "1")) {
        /* The driver then offers no display plane at all. */
        if (vdev->display == ON_OFF_AUTO_ON) {
            error_setg(errp, "display=on asks for a console, but the "
                       "vGPU's plugin parameters have disable_vnc=1, which "
                       "switches its console off; drop one of them");
            return false;
        }
        if (vdev->display == ON_OFF_AUTO_AUTO) {
            warn_report("nv-vgpu %s: no console: the vGPU's plugin "
                        "parameters have disable_vnc=1 (display=off "
                        "silences this)", DEVICE(s)->id ?: s->host.id);
        }
    }
    if (vdev->display == ON_OFF_AUTO_OFF &&
        (vdev->display_xres || vdev->display_yres)) {
        error_setg(errp, "xres= and yres= set the guest's monitor, which "
                   "needs display=on or display=auto");
        return false;
    }

    if (p->max_xres && (vdev->display_xres > p->max_xres ||
                        vdev->display_yres > p->max_yres)) {
        g_autofree char *summary = vgpu_profile_summary(p);

        error_setg(errp, "xres=%u,yres=%u is beyond the maximum resolution "
                   "%ux%u of vGPU profile %s", vdev->display_xres,
                   vdev->display_yres, p->max_xres, p->max_yres, summary);
        return false;
    }
    return true;
}

static bool nv_vgpu_display_init(NvVgpuState *s, Error **errp)
{
    VFIOPCIDevice *vdev = VFIO_PCI(s);
    VgpuDisplayConfig cfg = {
        .mode = vdev->display,
        .fps = s->console_fps,
        .xres = vdev->display_xres,
        .yres = vdev->display_yres,
        .follow_viewer = s->monitor_follows_viewer,
        .warn_interval_ms = s->console_warn_interval_ms,
        .ramfb = s->ramfb,
        .owner = DEVICE(s)->id ?: s->host.id,
    };

    return vgpu_display_init(&s->display, DEVICE(s), &vdev->vbasedev, &cfg,
                             &s->host.profile, errp);
}

/*
 * Hosts whose release waits for its bottom half: vfio-pci has closed
 * their vGPU already, but the bottom half has not run yet.
 */
static GSList *nv_vgpu_pending_releases;

static void nv_vgpu_release_bh(void *opaque)
{
    VgpuHost *h = opaque;

    if (!g_slist_find(nv_vgpu_pending_releases, h)) {
        return;                 /* released early, and freed */
    }
    nv_vgpu_pending_releases = g_slist_remove(nv_vgpu_pending_releases, h);
    vgpu_host_release(h);
    g_free(h);
}

/*
 * A device being plugged takes the UUID of one just unplugged (re-plug):
 * let go of the old one now, not after this realize, so that its removal
 * is pending (and waited for) rather than still to come.  Safe: by the
 * time another device realizes, vfio-pci's instance_finalize has run.
 */
static void nv_vgpu_release_pending(const char *uuid)
{
    GSList *l;

    for (l = nv_vgpu_pending_releases; l; l = l->next) {
        VgpuHost *h = l->data;

        if (!g_strcmp0(h->id, uuid)) {
            nv_vgpu_pending_releases = g_slist_remove(nv_vgpu_pending_releases,
                                                      h);
            vgpu_host_release(h);
            g_free(h);
            return;
        }
    }
}

/*
 * Let go of the host vGPU, and so remove it if we created it, only once
 * vfio-pci has closed its VFIO device and group: removing it earlier makes
 * the kernel take the group away from under QEMU.  vfio-pci closes them in
 * its instance_finalize, which runs right after this one (with the BQL
 * held, also when the last reference goes from an RCU callback), so the
 * host side is handed to a bottom half that runs after both.
 */
static void nv_vgpu_instance_finalize(Object *obj)
{
    NvVgpuState *s = NV_VGPU(obj);
    VgpuHost *h;

    g_clear_pointer(&s->params, g_strfreev);
    g_clear_pointer(&s->host_vf, g_free);
    g_clear_pointer(&s->host_vf_path, g_free);
    if (!s->host.ops) {
        return;                 /* never realized */
    }
    h = g_memdup2(&s->host, sizeof(s->host));
    if (h->created) {
        trace_nv_vgpu_remove(h->id);
    }
    nv_vgpu_pending_releases = g_slist_prepend(nv_vgpu_pending_releases, h);
    aio_bh_schedule_oneshot(qemu_get_aio_context(), nv_vgpu_release_bh, h);
}

/*
 * vfio-pci has a display of its own (display=, xres=, yres=), which
 * refuses dma-buf planes without OpenGL and copies region planes whole on
 * every refresh.  nv-vgpu takes those properties over: vfio-pci's realize
 * sees its display off, and ours starts once the VFIO device is open.
 */
static void nv_vgpu_parent_realize(NvVgpuState *s, Error **errp)
{
    NvVgpuClass *nc = NV_VGPU_GET_CLASS(s);
    VFIOPCIDevice *vdev = VFIO_PCI(s);
    VFIODevice *vbasedev = &vdev->vbasedev;
    OnOffAuto display = vdev->display;
    OnOffAuto migration = vbasedev->enable_migration;
    uint32_t xres = vdev->display_xres, yres = vdev->display_yres;

    vdev->display = ON_OFF_AUTO_OFF;
    vdev->display_xres = vdev->display_yres = 0;
    /* on is checked by nv_vgpu_check_migration(), with its own error */
    if (migration == ON_OFF_AUTO_ON) {
        vbasedev->enable_migration = ON_OFF_AUTO_AUTO;
    }
    nc->parent_realize(DEVICE(s), errp);
    vdev->display = display;
    vdev->display_xres = xres;
    vdev->display_yres = yres;
    vbasedev->enable_migration = migration;
}

/* Replace vfio-pci's migration blocker by one that says what it is. */
static bool G_GNUC_PRINTF(3, 4)
nv_vgpu_set_blocker(NvVgpuState *s, Error **errp, const char *fmt, ...)
{
    VFIODevice *vbasedev = &VFIO_PCI(s)->vbasedev;
    g_autofree char *why = NULL;
    va_list ap;

    va_start(ap, fmt);
    why = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    migrate_del_blocker(&vbasedev->migration_blocker);
    error_setg(&vbasedev->migration_blocker, "nv-vgpu %s: %s",
               DEVICE(s)->id ?: s->host.id, why);
    trace_nv_vgpu_migration_blocked(s->host.id, why);
    return !migrate_add_blocker_normal(&vbasedev->migration_blocker, errp);
}

/*
 * Whether the vGPU migrates, decided by the vGPU itself (the default,
 * enable-migration=auto): with its host driver's VFIO migration, and
 * without a vIOMMU, it migrates; otherwise it runs with a migration
 * blocker that says why.  vfio-pci's own auto cannot be used as it is:
 * it blocks migration of every mdev, for the device or IOMMU dirty
 * tracking they do not have.  A vGPU reaches guest memory only through
 * pages its host driver pinned, and the VFIO container reports those as
 * dirty: that is the dirty tracking a vGPU needs (device DMA logging,
 * which vfio-pci's defaults also ask for, fails on Linux 6.12's mdev path
 * with "Failed to get DMA logging report").  So vfio-pci realizes with
 * auto, and what it blocked for dirty tracking alone is unblocked here,
 * after the checks vfio-pci skipped on that path.  enable-migration=on
 * makes a vGPU that cannot migrate an error; off is vfio-pci's.
 */
static bool nv_vgpu_check_migration(NvVgpuState *s, Error **errp)
{
    VFIODevice *vbasedev = &VFIO_PCI(s)->vbasedev;
    OnOffAuto want = vbasedev->enable_migration;
    uint64_t buf[DIV_ROUND_UP(sizeof(struct vfio_device_feature) +
                              sizeof(struct vfio_device_feature_migration),
                              sizeof(uint64_t))] = {};
    struct vfio_device_feature *feature = (void *)buf;
    int err = 0;

    if (want == ON_OFF_AUTO_OFF) {
        return true;            /* vfio-pci's blocker says it is off */
    }
    if (!vbasedev->migration) {
        feature->argsz = sizeof(buf);
        feature->flags = VFIO_DEVICE_FEATURE_GET |
                         VFIO_DEVICE_FEATURE_MIGRATION;
        if (ioctl(vbasedev->fd, VFIO_DEVICE_FEATURE, feature)) {
            err = errno;
        }
        if (want == ON_OFF_AUTO_ON) {
            error_setg(errp, "enable-migration=on, but the host driver of "
                       "vGPU %s offers no VFIO migration (%s); without "
                       "enable-migration=on (the default is auto) the vGPU "
                       "runs, and migration of its VM is refused",
                       s->host.id, err ? strerror(err) :
                       "no STOP_COPY support");
            return false;
        }
        return nv_vgpu_set_blocker(s, errp, "the vGPU's host driver offers "
                                   "no VFIO migration "
                                   "(VFIO_DEVICE_FEATURE_MIGRATION: %s)",
                                   err ? strerror(err) :
                                   "no STOP_COPY support");
    }
    if (vfio_viommu_preset(vbasedev)) {
        if (want == ON_OFF_AUTO_ON) {
            error_setg(errp, "enable-migration=on, but vGPU migration is "
                       "not supported with a vIOMMU");
            return false;
        }
        return nv_vgpu_set_blocker(s, errp, "vGPU migration is not "
                                   "supported with a vIOMMU");
    }
    if (vbasedev->migration_blocker) {
        /* vfio-pci's dirty tracking blocker: not ours to keep */
        migrate_del_blocker(&vbasedev->migration_blocker);
        if (vfio_block_multiple_devices_migration(vbasedev, errp)) {
            return false;
        }
    }
    return true;
}

/*
 * Creating a vGPU blocks: the host driver's create (NVIDIA's takes a while),
 * the wait for the mdev to appear in sysfs and the start of its removal
 * helper (a fork of QEMU).  At start-up nothing else runs yet.  On hot-plug
 * the VM runs, so the creation runs without the BQL and the vCPUs go on.
 * That is safe because:
 *  - create() touches only s->host, which nothing else sees yet, host files
 *    and a child process; error, warning and trace calls are thread-safe;
 *  - the device is not on its PCI bus yet (vfio-pci's realize, later,
 *    registers it), so no guest access reaches it;
 *  - the main loop does not run (this is its thread, inside device_add),
 *    so no monitor command, bottom half or timer can unplug it, plug
 *    another device, start a migration or reset the machine meanwhile;
 *  - a vCPU that resets the root port's bus (secondary bus reset) walks
 *    this unrealized device too: nv_vgpu_reset() ignores that;
 *  - the RCU thread may finalize a device unplugged earlier: that touches
 *    only the pending releases, which are settled before the creation.
 * x-create-with-bql keeps the lock, to measure the difference.
 */
static bool nv_vgpu_create(NvVgpuState *s, Error **errp)
{
    VgpuHost *h = &s->host;
    bool unlock = phase_check(PHASE_MACHINE_READY) && !s->create_with_bql &&
                  bql_locked();
    VgpuRequest req = {
        .parent = s->mdev_parent,
        .device = s->host_vf,
        .type = s->vgpu_type_req,
        .uuid = s->mdev_uuid,
    };
    bool ok;

    if (unlock) {
        bql_unlock();
    }
    ok = h->ops->create(h, &req, errp);
    if (unlock) {
        bql_lock();
    }
    return ok;
}

/*
 * mdev or SR-IOV, by what sysfs shows of the GPU or device named.  host=
 * is always a VF; it goes to vfio-pci as the VF's sysfs path.
 */
static bool nv_vgpu_pick_backend(NvVgpuState *s, Error **errp)
{
    VFIOPCIDevice *vdev = VFIO_PCI(s);
    VgpuHost *h = &s->host;

    if (s->host_vf) {
        h->ops = &vgpu_sriov_backend;
        g_free(s->host_vf_path);
        s->host_vf_path = g_strdup_printf("/sys/bus/pci/devices/%s",
                                          s->host_vf);
        return true;
    }
    if (vdev->vbasedev.sysfsdev) {
        h->ops = vgpu_backend_for_device(h->root, vdev->vbasedev.sysfsdev);
        if (h->ops == &vgpu_mdev_backend && s->vgpu_type_req) {
            error_setg(errp, "use either sysfsdev= (an existing vGPU) or "
                       "parent= and profile= (a vGPU that nv-vgpu creates), "
                       "not both");
            return false;
        }
        if (h->ops == &vgpu_sriov_backend && s->vgpu_type_req) {
            /* sysfsdev=VF,profile=TYPE: as host=VF,profile=TYPE */
            s->host_vf = g_path_get_basename(vdev->vbasedev.sysfsdev);
            s->host_vf_path = g_strdup(vdev->vbasedev.sysfsdev);
        }
        return true;
    }
    h->ops = vgpu_backend_for_parent(h->root, s->mdev_parent);
    if (!h->ops) {
        /* neither: the mdev backend explains what it looked for */
        h->ops = &vgpu_mdev_backend;
    }
    if (h->ops == &vgpu_sriov_backend && s->mdev_uuid) {
        error_setg(errp, "uuid= names an mdev, but %s is an SR-IOV GPU, "
                   "whose vGPUs are VFs: drop uuid=", s->mdev_parent);
        return false;
    }
    return true;
}

/* A bus reset can reach a device being hot-plugged: see nv_vgpu_create(). */
static void nv_vgpu_reset(DeviceState *dev)
{
    if (dev->realized) {
        NV_VGPU_GET_CLASS(dev)->parent_reset(dev);
    }
}

static void nv_vgpu_realize(DeviceState *dev, Error **errp)
{
    ERRP_GUARD();
    NvVgpuState *s = NV_VGPU(dev);
    NvVgpuClass *nc = NV_VGPU_GET_CLASS(dev);
    VFIOPCIDevice *vdev = VFIO_PCI(dev);
    VFIODevice *vbasedev = &vdev->vbasedev;
    VgpuHost *h = &s->host;
    int taken = 0;

    vgpu_host_init(h, &vgpu_mdev_backend, s->host_root);
    h->stop_at = g_strdup(s->stop_at);
    if (!nv_vgpu_check_options(s, errp) ||
        !vgpu_driver_match_parse(s->driver_match_str,
                                 &s->driver_match, errp) ||
        !vgpu_params_build(s->params_str, s->frame_rate_limiter, &s->params,
                           errp) ||
        !vgpu_multi_parse_rules(s->multi_rules_str, &s->multi_rules, errp) ||
        !nv_vgpu_pick_backend(s, errp)) {
        goto fail;
    }
    if (s->mdev_parent || (h->ops == &vgpu_sriov_backend &&
                           s->vgpu_type_req)) {
        if (s->mdev_uuid || s->host_vf) {
            const char *id = s->mdev_uuid ?: s->host_vf;

            if (!vgpu_multi_check_uuid(s, id, errp)) {
                goto fail;
            }
            nv_vgpu_release_pending(id);
        }
        if (s->mdev_uuid) {
            /* Made ahead by vgpu-create? */
            taken = vgpu_prepared_take(s->mdev_uuid, s->mdev_parent,
                                       s->vgpu_type_req, h, errp);
        }
        if (taken < 0 || (!taken && !nv_vgpu_create(s, errp))) {
            goto fail;
        }
    } else {
        g_autofree char *id = g_path_get_basename(s->host_vf ?:
                                                  vbasedev->sysfsdev);

        if (!vgpu_multi_check_uuid(s, id, errp)) {
            goto fail;
        }
        nv_vgpu_release_pending(id);
        if (!h->ops->open(h, s->host_vf ? s->host_vf_path :
                          vbasedev->sysfsdev, errp)) {
            goto fail;
        }
    }
    if (h->ops == &vgpu_sriov_backend || s->mdev_parent) {
        /* vfio-pci opens what the backend found, under the host root */
        g_free(vbasedev->sysfsdev);
        vbasedev->sysfsdev = vgpu_host_path(h->root, "%s", h->sysfsdev);
    }
    if (h->reaper) {
        /* A helper that someone kills is replaced while QEMU runs. */
        vgpu_reaper_watch(h->reaper);
    }
    /* The driver reads its plugin parameters when the device opens. */
    if (!h->ops->describe(h, errp) ||
        !vgpu_host_apply_params(h, s->params, errp) ||
        !vgpu_profile_check_pci(&h->profile, errp) ||
        !nv_vgpu_check_display(s, errp) ||
        !vgpu_multi_check_device(s, errp) ||
        !vgpu_multi_check_plug(s, errp)) {
        goto fail;
    }
    vgpu_locality_init(&s->locality, h, dev->id ?: h->id);
    trace_nv_vgpu_realize(h->id, h->profile.type_id,
                          h->profile.name ? h->profile.name : "", h->created);

    /* Before vfio-pci's, so that the descriptor leads the stream. */
    vgpu_migration_init(s);
    nv_vgpu_parent_realize(s, errp);
    if (*errp) {
        goto fail;
    }
    vgpu_health_attach(s);
    if (!nv_vgpu_check_migration(s, errp)) {
        nc->parent_unrealize(dev);
        goto fail;
    }
    if (!nv_vgpu_display_init(s, errp)) {
        vgpu_display_finalize(&s->display);
        nc->parent_unrealize(dev);
        goto fail;
    }
    vgpu_multi_add(s);
    return;

fail:
    vgpu_locality_clear(&s->locality);
    vgpu_migration_exit(s);
    /* nv_vgpu_instance_finalize() lets go of what we found or made. */
    error_prepend(errp, "nv-vgpu: ");
}

static void nv_vgpu_unrealize(DeviceState *dev)
{
    NvVgpuState *s = NV_VGPU(dev);

    vgpu_multi_remove(s);
    /* The console goes before vfio-pci closes the device it reads. */
    vgpu_display_finalize(&s->display);
    vgpu_migration_exit(s);
    vgpu_locality_clear(&s->locality);
    NV_VGPU_GET_CLASS(dev)->parent_unrealize(dev);
}

static void nv_vgpu_instance_init(Object *obj)
{
    VFIOPCIDevice *vdev = VFIO_PCI(obj);

    /* vfio-pci's display= defaults to off; a vGPU's console to auto */
    vdev->display = ON_OFF_AUTO_AUTO;
    /*
     * Not device DMA logging: see nv_vgpu_check_migration().  Whether the
     * vGPU migrates is decided there (enable-migration=auto, vfio-pci's
     * default too).
     */
    vdev->vbasedev.device_dirty_page_tracking = ON_OFF_AUTO_OFF;
    vdev->vbasedev.enable_migration = ON_OFF_AUTO_AUTO;
    vgpu_migration_instance_init(NV_VGPU(obj));
}

/* Read-only properties that show the vGPU to management tools. */

static char *nv_vgpu_get_uuid(Object *obj, Error **errp)
{
    return g_strdup(NV_VGPU(obj)->host.uuid);
}

static char *nv_vgpu_get_vf(Object *obj, Error **errp)
{
    NvVgpuState *s = NV_VGPU(obj);

    return g_strdup(s->host.ops == &vgpu_sriov_backend && s->host.id ?
                    s->host.id : "");
}

static char *nv_vgpu_get_type(Object *obj, Error **errp)
{
    return g_strdup(NV_VGPU(obj)->host.profile.type_id);
}

static char *nv_vgpu_get_profile(Object *obj, Error **errp)
{
    return g_strdup(NV_VGPU(obj)->host.profile.name);
}

static char *nv_vgpu_get_max_resolution(Object *obj, Error **errp)
{
    const VgpuProfile *p = &NV_VGPU(obj)->host.profile;

    return p->max_xres ? g_strdup_printf("%ux%u", p->max_xres, p->max_yres)
                       : g_strdup("");
}

static bool nv_vgpu_get_created(Object *obj, Error **errp)
{
    return NV_VGPU(obj)->host.created;
}

typedef enum {
    NV_VGPU_FRAMEBUFFER,
    NV_VGPU_HEADS,
    NV_VGPU_FRL,
    NV_VGPU_MAX_INSTANCES,
    NV_VGPU_CONSOLE_POLLS,
    NV_VGPU_CONSOLE_TILES,
    NV_VGPU_CONSOLE_BAD_FRAMES,
    NV_VGPU_CONSOLE_CAPPED,
    NV_VGPU_CONSOLE_EARLY_POLLS,
} NvVgpuNumber;

static void nv_vgpu_get_number(Object *obj, Visitor *v, const char *name,
                               void *opaque, Error **errp)
{
    const VgpuProfile *p = &NV_VGPU(obj)->host.profile;
    const VgpuDisplay *d = &NV_VGPU(obj)->display;
    uint64_t value = 0;

    switch ((NvVgpuNumber)(uintptr_t)opaque) {
    case NV_VGPU_FRAMEBUFFER:
        value = p->framebuffer;
        break;
    case NV_VGPU_HEADS:
        value = p->num_heads;
        break;
    case NV_VGPU_FRL:
        value = p->frl_config;
        break;
    case NV_VGPU_MAX_INSTANCES:
        value = p->max_instance;
        break;
    case NV_VGPU_CONSOLE_POLLS:
        value = d->polls;
        break;
    case NV_VGPU_CONSOLE_TILES:
        value = d->tiles;
        break;
    case NV_VGPU_CONSOLE_BAD_FRAMES:
        value = d->bad_frames;
        break;
    case NV_VGPU_CONSOLE_CAPPED:
        value = d->capped;
        break;
    case NV_VGPU_CONSOLE_EARLY_POLLS:
        value = d->early_polls;
        break;
    }
    visit_type_uint64(v, name, &value, errp);
}

static const PropertyInfo nv_vgpu_prop_on_error = {
    .type = "VgpuErrorPolicy",
    .description = "stop/report",
    .enum_table = &VgpuErrorPolicy_lookup,
    .get = qdev_propinfo_get_enum,
    .set = qdev_propinfo_set_enum,
    .set_default_value = qdev_propinfo_set_default_value_enum,
};

static const PropertyInfo nv_vgpu_prop_on_request = {
    .type = "VgpuRequestPolicy",
    .description = "unplug/report",
    .enum_table = &VgpuRequestPolicy_lookup,
    .get = qdev_propinfo_get_enum,
    .set = qdev_propinfo_set_enum,
    .set_default_value = qdev_propinfo_set_default_value_enum,
};

static const Property nv_vgpu_properties[] = {
    DEFINE_PROP_STRING("parent", NvVgpuState, mdev_parent),
    DEFINE_PROP_STRING("profile", NvVgpuState, vgpu_type_req),
    DEFINE_PROP_STRING("mdev-type", NvVgpuState, mdev_type),
    DEFINE_PROP_STRING("uuid", NvVgpuState, mdev_uuid),
    DEFINE_PROP_STRING("x-host-root", NvVgpuState, host_root),
    DEFINE_PROP_STRING("x-stop-at", NvVgpuState, stop_at),
    DEFINE_PROP_UINT32("console-fps", NvVgpuState, console_fps,
                       VGPU_DISPLAY_DEFAULT_FPS),
    DEFINE_PROP_BOOL("monitor-follows-viewer", NvVgpuState,
                     monitor_follows_viewer, false),
    DEFINE_PROP_UINT32("x-console-warn-interval-ms", NvVgpuState,
                       console_warn_interval_ms,
                       VGPU_DISPLAY_WARN_INTERVAL_MS),
    DEFINE_PROP_STRING("migration-driver-match", NvVgpuState,
                       driver_match_str),
    DEFINE_PROP_SIGNED("on-error", NvVgpuState, on_error,
                       VGPU_ERROR_POLICY_STOP, nv_vgpu_prop_on_error,
                       VgpuErrorPolicy),
    DEFINE_PROP_SIGNED("on-request", NvVgpuState, on_request,
                       VGPU_REQUEST_POLICY_UNPLUG, nv_vgpu_prop_on_request,
                       VgpuRequestPolicy),
    DEFINE_PROP_STRING("vgpu-params", NvVgpuState, params_str),
    DEFINE_PROP_ON_OFF_AUTO("frame-rate-limiter", NvVgpuState,
                            frame_rate_limiter, ON_OFF_AUTO_AUTO),
    DEFINE_PROP_BOOL("ramfb", NvVgpuState, ramfb, false),
    DEFINE_PROP_STRING("multi-vgpu", NvVgpuState, multi_rules_str),
    DEFINE_PROP_INT32("p2p-clique", NvVgpuState, p2p_clique,
                      VGPU_P2P_CLIQUE_NONE),
    DEFINE_PROP_BOOL("x-create-with-bql", NvVgpuState, create_with_bql,
                     false),
};

static void nv_vgpu_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    NvVgpuClass *nc = NV_VGPU_CLASS(klass);
    static const struct {
        const char *name;
        NvVgpuNumber which;
        const char *desc;
    } numbers[] = {
        { "vgpu-framebuffer", NV_VGPU_FRAMEBUFFER,
          "Framebuffer size of the vGPU profile in bytes, 0 if unknown "
          "(read-only)" },
        { "vgpu-heads", NV_VGPU_HEADS,
          "Display heads of the vGPU profile, 0 if unknown (read-only)" },
        { "vgpu-frame-rate-limit", NV_VGPU_FRL,
          "Frame rate limit of the vGPU profile in frames/s, 0 if "
          "unknown (read-only)" },
        { "vgpu-max-instances", NV_VGPU_MAX_INSTANCES,
          "How many vGPUs of this profile fit one GPU, 0 if unknown "
          "(read-only)" },
        { "x-console-polls", NV_VGPU_CONSOLE_POLLS,
          "Head 0 plane queries so far (read-only, for tests)" },
        { "x-console-tiles", NV_VGPU_CONSOLE_TILES,
          "64x64 console tiles copied and updated so far (read-only, "
          "for tests)" },
        { "x-console-bad-frames", NV_VGPU_CONSOLE_BAD_FRAMES,
          "Head 0 frames dropped as invalid so far (read-only, for tests)" },
        { "x-console-capped", NV_VGPU_CONSOLE_CAPPED,
          "Display refreshes that console-fps held back to the next slot "
          "so far (read-only, for tests)" },
        { "x-console-early-polls", NV_VGPU_CONSOLE_EARLY_POLLS,
          "Head 0 polls allowed before the next slot because the screen "
          "had been static (read-only, for tests)" },
    };
    size_t i;

    device_class_set_props(dc, nv_vgpu_properties);
    nc->parent_reset = dc->legacy_reset;
    device_class_set_legacy_reset(dc, nv_vgpu_reset);
    device_class_set_parent_realize(dc, nv_vgpu_realize, &nc->parent_realize);
    device_class_set_parent_unrealize(dc, nv_vgpu_unrealize,
                                      &nc->parent_unrealize);
    dc->desc = "NVIDIA vGPU (VFIO mediated device or SR-IOV VF)";
    dc->vmsd = &vmstate_nv_vgpu;
    set_bit(DEVICE_CATEGORY_DISPLAY, dc->categories);

    object_class_property_set_description(klass, "parent",
        "Host GPU to create the vGPU on: an mdev parent as listed in "
        "/sys/class/mdev_bus/ or an SR-IOV physical function whose free VF "
        "is taken (e.g. 0000:83:00.0); goes with profile=");
    object_class_property_set_description(klass, "profile",
        "vGPU type id (e.g. nvidia-289, 1062) or profile name (e.g. GRID "
        "P4-8C, NVIDIA L4-4Q) to make: with parent= on that GPU, with "
        "host= on that VF");
    object_class_property_set_description(klass, "mdev-type",
        "Old name of profile= (same meaning)");
    object_class_property_set_description(klass, "uuid",
        "UUID of the vGPU to create with parent= and mdev-type= "
        "(default: a new random one); an existing vGPU of that type with "
        "it is used and kept");
    object_class_property_set_description(klass, "console-fps",
        "Most frames per second the console shows of head 0 (default 10, "
        "at most the profile's frame rate limit)");
    object_class_property_set_description(klass, "monitor-follows-viewer",
        "Let a display client's window size (VNC SetDesktopSize) set the "
        "preferred mode of the guest's monitor, replugging it; off: the "
        "monitor stays xres x yres");
    object_class_property_set_description(klass,
        "x-console-warn-interval-ms",
        "Least time in ms between two warnings about dropped console "
        "frames (for tests)");
    object_class_property_set_description(klass, "migration-driver-match",
        "Host drivers whose vGPU state this vGPU accepts: branch (the "
        "same driver branch, default), version (the same version) or any");
    object_class_property_set_description(klass, "on-error",
        "What the vGPU's error interrupt does besides a VGPU_ERROR event: "
        "stop the VM (stop, as vfio-pci) or nothing (report)");
    object_class_property_set_description(klass, "on-request",
        "What the host's request for the vGPU does besides a VGPU_REQUEST "
        "event: unplug the device (unplug, as vfio-pci) or nothing "
        "(report)");
    object_class_property_set_description(klass, "vgpu-params",
        "NVIDIA plugin parameters written to nvidia/vgpu_params before the "
        "vGPU is opened: key=value items separated by ':' (or ',,' on the "
        "command line), e.g. frame_rate_limiter=0:disable_vnc=1");
    object_class_property_set_description(klass, "frame-rate-limiter",
        "The vGPU's frame rate limiter (plugin parameter "
        "frame_rate_limiter): on, off, or auto (as the driver or the vGPU "
        "has it)");
    object_class_property_set_description(klass, "ramfb",
        "Show the VM's boot display (ramfb: firmware, boot loader, early "
        "boot) on head 0's console while head 0 is off; one device per "
        "VM, not hot-pluggable");
    object_class_property_set_description(klass, "multi-vgpu",
        "How strictly this VM's vGPUs are checked against each other: "
        "full (1:1 vGPUs of one board and series, one per GPU), "
        "fractional (default: any size, one board and series) or any");
    object_class_property_set_description(klass, "p2p-clique",
        "P2P clique (0-15) of this 1:1 vGPU, shown to the guest driver; "
        "needs another vGPU of the VM in it, on an NVLink peer GPU");
    object_class_property_set_description(klass, "x-create-with-bql",
        "Create a hot-plugged vGPU holding the BQL (TESTING ONLY)");
    object_class_property_set_description(klass, "x-host-root",
        "Prefix for every host sysfs and /dev path (TESTING ONLY)");
    object_class_property_set_description(klass, "x-stop-at",
        "Stop QEMU with SIGSTOP at this step of the vGPU's creation: "
        "recorded, armed, created or removal-pending (TESTING ONLY)");

    object_class_property_add_str(klass, "vgpu-uuid", nv_vgpu_get_uuid, NULL);
    object_class_property_set_description(klass, "vgpu-uuid",
        "UUID of the host vGPU (read-only)");
    object_class_property_add_str(klass, "vgpu-type", nv_vgpu_get_type, NULL);
    object_class_property_set_description(klass, "vgpu-type",
        "Type id of the host vGPU: mdev type or SR-IOV type number "
        "(read-only)");
    object_class_property_add_str(klass, "vgpu-vf", nv_vgpu_get_vf, NULL);
    object_class_property_set_description(klass, "vgpu-vf",
        "PCI address of the SR-IOV VF of the host vGPU, \"\" for an mdev "
        "(read-only)");
    object_class_property_add_str(klass, "vgpu-profile", nv_vgpu_get_profile,
                                  NULL);
    object_class_property_set_description(klass, "vgpu-profile",
        "Profile name of the host vGPU, e.g. GRID P4-8C (read-only)");
    object_class_property_add_str(klass, "vgpu-max-resolution",
                                  nv_vgpu_get_max_resolution, NULL);
    object_class_property_set_description(klass, "vgpu-max-resolution",
        "Maximum resolution of the vGPU profile, WIDTHxHEIGHT (read-only)");
    object_class_property_add_bool(klass, "vgpu-created",
                                   nv_vgpu_get_created, NULL);
    object_class_property_set_description(klass, "vgpu-created",
        "Whether QEMU created the vGPU and removes it (read-only)");
    for (i = 0; i < ARRAY_SIZE(numbers); i++) {
        object_class_property_add(klass, numbers[i].name, "uint64",
                                  nv_vgpu_get_number, NULL, NULL,
                                  (void *)(uintptr_t)numbers[i].which);
        object_class_property_set_description(klass, numbers[i].name,
                                              numbers[i].desc);
    }
}

static const TypeInfo nv_vgpu_info = {
    .name = TYPE_NV_VGPU,
    .parent = TYPE_VFIO_PCI,
    .instance_size = sizeof(NvVgpuState),
    .class_size = sizeof(NvVgpuClass),
    .class_init = nv_vgpu_class_init,
    .instance_init = nv_vgpu_instance_init,
    .instance_finalize = nv_vgpu_instance_finalize,
};

static void nv_vgpu_register_types(void)
{
    type_register_static(&nv_vgpu_info);
}

type_init(nv_vgpu_register_types)
