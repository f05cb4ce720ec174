/*
 * NVIDIA vGPU plugin parameters
 *
 * The NVIDIA vGPU manager reads a vGPU's plugin parameters from
 * /sys/bus/mdev/devices/UUID/nvidia/vgpu_params when the VFIO device is
 * opened; the attribute takes "key=value, key=value" and can only be
 * written while nobody has the vGPU open.  nv-vgpu writes what its
 * properties ask for before vfio-pci opens the device, and puts back what
 * it found on a vGPU that someone else made once it lets go of it.
 *
 * QEMU lets go of a vGPU itself on unplug or a failed start, but not when
 * it quits or dies: the process ends with the vGPU open.  For that case a
 * small helper (/bin/sh) waits on a socket only QEMU holds; at its end,
 * unless QEMU said "done", it writes the old value back, retrying while
 * the driver still sees the vGPU open (the kernel closes QEMU's files in
 * no particular order).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/error-report.h"
#include "qemu/sockets.h"
#include "hw/vgpu/vgpu-backend.h"
#include "hw/vgpu/vgpu-params.h"
#include "hw/vgpu/vgpu-reaper.h"
#include "hw/vgpu/vgpu-sysfs.h"
#include "trace.h"

/* Keys and values: what NVIDIA's parameters look like, nothing to quote. */
static bool vgpu_param_word_ok(const char *s, bool is_key)
{
    if (!*s) {
        return false;
    }
    for (; *s; s++) {
        if (!g_ascii_isalnum(*s) && *s != '_' &&
            (is_key || (*s != '.' && *s != '-'))) {
            return false;
        }
    }
    return true;
}

static int vgpu_params_find(GPtrArray *items, const char *key)
{
    size_t klen = strlen(key);

    for (guint i = 0; i < items->len; i++) {
        const char *item = g_ptr_array_index(items, i);

        if (!strncmp(item, key, klen) && item[klen] == '=') {
            return i;
        }
    }
    return -1;
}

bool vgpu_params_build(const char *list, OnOffAuto frame_rate_limiter,
                       GStrv *out, Error **errp)
{
    g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func(g_free);
    g_auto(GStrv) parts = g_strsplit_set(list ? list : "", ":,", -1);

    for (char **p = parts; *p; p++) {
        g_autofree char *item = g_strstrip(g_strdup(*p));
        char *eq = strchr(item, '=');
        const char *key, *value;

        if (!*item) {
            continue;
        }
        if (!eq) {
            error_setg(errp, "vgpu-params: '%s' is not key=value", item);
            return false;
        }
        *eq = '\0';
        key = g_strstrip(item);
        value = g_strstrip(eq + 1);
        if (!vgpu_param_word_ok(key, true)) {
            error_setg(errp, "vgpu-params: key '%s' is not a plugin "
                       "parameter name (letters, digits and _)", key);
            return false;
        }
        if (!vgpu_param_word_ok(value, false)) {
            error_setg(errp, "vgpu-params: %s='%s' is not a plugin "
                       "parameter value (letters, digits, _, . and -)",
                       key, value);
            return false;
        }
        if (vgpu_params_find(items, key) >= 0) {
            error_setg(errp, "vgpu-params: %s is given twice", key);
            return false;
        }
        g_ptr_array_add(items, g_strdup_printf("%s=%s", key, value));
    }

    if (frame_rate_limiter != ON_OFF_AUTO_AUTO) {
        const char *want = frame_rate_limiter == ON_OFF_AUTO_ON ? "1" : "0";
        int i = vgpu_params_find(items, "frame_rate_limiter");

        if (i >= 0) {
            const char *have = strchr(g_ptr_array_index(items, i), '=') + 1;

            if (strcmp(have, want)) {
                error_setg(errp, "frame-rate-limiter=%s contradicts "
                           "vgpu-params' frame_rate_limiter=%s",
                           frame_rate_limiter == ON_OFF_AUTO_ON ? "on" : "off",
                           have);
                return false;
            }
        } else {
            g_ptr_array_add(items,
                            g_strdup_printf("frame_rate_limiter=%s", want));
        }
    }
    g_ptr_array_add(items, NULL);
    *out = (GStrv)g_ptr_array_free(g_steal_pointer(&items), false);
    return true;
}

GStrv vgpu_params_split(const char *value)
{
    g_auto(GStrv) parts = g_strsplit(value ? value : "", ",", -1);
    g_autoptr(GPtrArray) items = g_ptr_array_new();

    for (char **p = parts; *p; p++) {
        g_autofree char *item = g_strstrip(g_strdup(*p));
        char *eq = strchr(item, '=');

        if (!*item) {
            continue;
        }
        if (eq) {
            g_autofree char *key = g_strstrip(g_strndup(item, eq - item));
            g_autofree char *val = g_strstrip(g_strdup(eq + 1));

            g_ptr_array_add(items, g_strdup_printf("%s=%s", key, val));
        } else {
            g_ptr_array_add(items, g_steal_pointer(&item));
        }
    }
    g_ptr_array_add(items, NULL);
    return (GStrv)g_ptr_array_free(g_steal_pointer(&items), false);
}

bool vgpu_params_has(GStrv params, const char *key, const char *value)
{
    g_autofree char *item = g_strdup_printf("%s=%s", key, value);

    return params && g_strv_contains((const char * const *)params, item);
}

/* What the driver's errno means for a write of plugin parameters */
static const char *vgpu_params_why(int err)
{
    switch (err) {
    case EINVAL:
        return "it does not know a key or does not take a value";
    case EBUSY:
        return "the vGPU is open, by this or another process; parameters "
               "can only change while it is closed";
    case EACCES:
    case EPERM:
        return "no permission to write it";
    }
    return "the driver refused them";
}

/* $1 UUID, $2 attribute, $3 value to put back */
static const char params_helper_script[] =
    "trap '' HUP INT QUIT TERM; done=; "
    "while read -r m; do [ \"$m\" != done ] || done=1; done; "
    "[ -z \"$done\" ] || exit 0; i=0; "
    "until { printf '%s' \"$3\" >\"$2\"; } 2>/dev/null; do "
    "i=$((i + 1)); if [ $i -ge 100 ]; then "
    "echo \"nv-vgpu: could not put back the plugin parameters '$3' of vGPU "
    "$1 ($2)\" >&2; exit 1; fi; sleep 0.05; done";

/* In the helper, between fork and exec: outlive QEMU's process group. */
static void params_helper_setup(gpointer unused)
{
    vgpu_helper_detach();
}

static void params_helper_start(VgpuHost *h)
{
    /* The driver wants something to parse: a space clears everything. */
    const char *value = *h->params_restore ? h->params_restore : " ";
    const char *argv[] = {
        "/bin/sh", "-c", params_helper_script, "nv-vgpu-params", h->id,
        h->params_path, value, NULL
    };
    g_autoptr(GError) gerr = NULL;
    int fds[2];

    if (qemu_socketpair(AF_UNIX, SOCK_STREAM, 0, fds) < 0) {
        warn_report("nv-vgpu: cannot make a socket pair (%s): if QEMU ends "
                    "with vGPU %s in use, its plugin parameters stay "
                    "QEMU's", strerror(errno), h->id);
        return;
    }
    /* Without G_SPAWN_DO_NOT_REAP_CHILD the helper is not our child. */
    if (!g_spawn_async_with_fds(NULL, (char **)argv, NULL,
                                G_SPAWN_STDOUT_TO_DEV_NULL,
                                params_helper_setup, NULL, NULL,
                                fds[1], -1, -1, &gerr)) {
        close(fds[0]);
        close(fds[1]);
        warn_report("nv-vgpu: cannot start the helper that puts back the "
                    "plugin parameters of vGPU %s when QEMU ends (%s): if "
                    "QEMU ends with the vGPU in use, they stay QEMU's",
                    h->id, gerr->message);
        return;
    }
    close(fds[1]);
    h->params_helper = fds[0];
}

bool vgpu_host_apply_params(VgpuHost *h, GStrv params, Error **errp)
{
    g_autofree char *path = vgpu_host_path(h->root, "%s/nvidia/vgpu_params",
                                           h->sysfsdev);
    g_autofree char *value = NULL;
    g_autofree char *before = vgpu_sysfs_read_opt(path);
    Error *err = NULL;
    int ret;

    h->params_supported = before != NULL;
    if (!params || !*params) {
        h->params_in_force = g_steal_pointer(&before);
        return true;
    }
    value = g_strjoinv(", ", params);
    if (!h->params_supported) {
        error_setg(errp, "vgpu-params: the host driver of vGPU %s takes no "
                   "plugin parameters (%s does not exist), so '%s' cannot "
                   "be applied", h->id, path, value);
        return false;
    }
    ret = vgpu_sysfs_write(path, value, &err);
    if (ret) {
        error_free(err);
        error_setg(errp, "vgpu-params: the host driver of vGPU %s refused "
                   "plugin parameters '%s' (%s: %s): %s", h->id, value,
                   path, strerror(ret), vgpu_params_why(ret));
        return false;
    }
    trace_vgpu_params_write(h->id, value, before ? before : "");
    if (!h->created) {
        h->params_path = g_steal_pointer(&path);
        h->params_restore = g_steal_pointer(&before);
        h->params_in_force = vgpu_sysfs_read_opt(h->params_path);
        params_helper_start(h);
    } else {
        h->params_in_force = vgpu_sysfs_read_opt(path);
    }
    return true;
}

void vgpu_host_restore_params(VgpuHost *h)
{
    Error *err = NULL;

    if (!h->params_restore) {
        return;
    }
    trace_vgpu_params_restore(h->id, h->params_restore);
    /* An empty value, as the driver shows "none", clears them all. */
    if (vgpu_sysfs_write(h->params_path, *h->params_restore ?
                         h->params_restore : " ", &err)) {
        warn_reportf_err(err, "nv-vgpu: could not put back the plugin "
                         "parameters '%s' of vGPU %s: ", h->params_restore,
                         h->id);
    }
    /* Whatever came of it: the vGPU may be someone else's again now. */
    if (h->params_helper >= 0) {
        if (RETRY_ON_EINTR(send(h->params_helper, "done\n", 5,
                                MSG_NOSIGNAL)) != 5) {
            /* the helper is gone: nothing left to stop */
        }
        close(h->params_helper);
        h->params_helper = -1;
    }
}
