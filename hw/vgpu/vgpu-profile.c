/*
 * vGPU profiles: parsing NVIDIA's mdev type descriptions
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/cutils.h"
#include "qemu/units.h"
#include "hw/vgpu/vgpu-profile.h"


static bool parse_number(const char *key, const char *val, uint64_t min,
                         uint64_t max, uint64_t *out, Error **errp)
{
    uint64_t v;

    if (qemu_strtou64(val, NULL, 10, &v) < 0 || v < min || v > max) {
        error_setg(errp, "vGPU description: %s=%s is not a number from "
                   "%" PRIu64 " to %" PRIu64, key, val, min, max);
        return false;
    }
    *out = v;
    return true;
}

/* NVIDIA writes sizes as "8192M"; accept K, M, G and T (binary units). */
static bool parse_size(const char *key, const char *val, uint64_t *out,
                       Error **errp)
{
    const char *end;
    uint64_t v, unit;

    if (qemu_strtou64(val, &end, 10, &v) < 0 || end == val) {
        goto bad;
    }
    switch (*end) {
    case 'K':
        unit = KiB;
        break;
    case 'M':
        unit = MiB;
        break;
    case 'G':
        unit = GiB;
        break;
    case 'T':
        unit = TiB;
        break;
    default:
        goto bad;
    }
    if (end[1] || v == 0 || v > VGPU_MAX_FB / unit) {
        goto bad;
    }
    *out = v * unit;
    return true;

bad:
    error_setg(errp, "vGPU description: %s=%s is not a size such as 8192M",
               key, val);
    return false;
}

static bool parse_resolution(const char *key, const char *val,
                             uint32_t *x, uint32_t *y, Error **errp)
{
    const char *end;
    uint64_t w, h;

    if (qemu_strtou64(val, &end, 10, &w) < 0 || *end != 'x' ||
        qemu_strtou64(end + 1, NULL, 10, &h) < 0 ||
        !w || !h || w > VGPU_MAX_DIM || h > VGPU_MAX_DIM) {
        error_setg(errp, "vGPU description: %s=%s is not a resolution "
                   "such as 4096x2160", key, val);
        return false;
    }
    *x = w;
    *y = h;
    return true;
}

/* A key as NVIDIA writes them: lower case letters, digits and '_'. */
static bool is_key(const char *s, size_t len)
{
    size_t i;

    if (!len || !g_ascii_islower(s[0])) {
        return false;
    }
    for (i = 0; i < len; i++) {
        if (!g_ascii_islower(s[i]) && !g_ascii_isdigit(s[i]) && s[i] != '_') {
            return false;
        }
    }
    return true;
}

enum {
    KEY_NUM_HEADS,
    KEY_FRL_CONFIG,
    KEY_FRAMEBUFFER,
    KEY_MAX_RESOLUTION,
    KEY_MAX_INSTANCE,
    KEY_COUNT,
};

static const char *const known_keys[KEY_COUNT] = {
    [KEY_NUM_HEADS] = "num_heads",
    [KEY_FRL_CONFIG] = "frl_config",
    [KEY_FRAMEBUFFER] = "framebuffer",
    [KEY_MAX_RESOLUTION] = "max_resolution",
    [KEY_MAX_INSTANCE] = "max_instance",
};

static int known_key(const char *key)
{
    int i;

    for (i = 0; i < KEY_COUNT; i++) {
        if (!strcmp(key, known_keys[i])) {
            return i;
        }
    }
    return -1;
}

bool vgpu_profile_parse_description(VgpuProfile *p, const char *desc,
                                    Error **errp)
{
    g_auto(GStrv) items = NULL;
    bool seen[KEY_COUNT] = { false };
    bool any_known = false;
    VgpuProfile out = { 0 };
    size_t i;

    p->nvidia = false;
    p->source = VGPU_PROFILE_FROM_NONE;
    p->num_heads = p->frl_config = p->max_xres = p->max_yres = 0;
    p->max_instance = 0;
    p->framebuffer = 0;
    if (!desc) {
        return true;
    }

    /* First pass: is this NVIDIA's "key=value, key=value" format at all? */
    items = g_strsplit(desc, ",", -1);
    for (i = 0; items[i]; i++) {
        char *item = g_strstrip(items[i]);
        char *eq = strchr(item, '=');

        if (!*item && !items[i + 1]) {
            break;                          /* a trailing comma */
        }
        if (!eq || !is_key(item, eq - item)) {
            return true;                    /* another vendor's format */
        }
        *eq = '\0';
        any_known |= known_key(item) >= 0;
    }
    if (!any_known) {
        return true;
    }

    for (i = 0; items[i] && *items[i]; i++) {
        const char *key = items[i];
        const char *val = g_strstrip(items[i] + strlen(key) + 1);
        int k = known_key(key);
        uint64_t v;

        if (k < 0) {
            continue;
        }
        if (seen[k]) {
            error_setg(errp, "vGPU description: %s is given twice", key);
            return false;
        }
        seen[k] = true;
        switch (k) {
        case KEY_NUM_HEADS:
            if (!parse_number(key, val, 1, VGPU_MAX_HEADS, &v, errp)) {
                return false;
            }
            out.num_heads = v;
            break;
        case KEY_FRL_CONFIG:
            if (!parse_number(key, val, 0, VGPU_MAX_FPS, &v, errp)) {
                return false;
            }
            out.frl_config = v;
            break;
        case KEY_FRAMEBUFFER:
            if (!parse_size(key, val, &out.framebuffer, errp)) {
                return false;
            }
            break;
        case KEY_MAX_RESOLUTION:
            if (!parse_resolution(key, val, &out.max_xres, &out.max_yres,
                                  errp)) {
                return false;
            }
            break;
        case KEY_MAX_INSTANCE:
            if (!parse_number(key, val, 1, UINT32_MAX, &v, errp)) {
                return false;
            }
            out.max_instance = v;
            break;
        }
    }

    p->nvidia = true;
    p->source = VGPU_PROFILE_FROM_DESCRIPTION;
    p->num_heads = out.num_heads;
    p->frl_config = out.frl_config;
    p->framebuffer = out.framebuffer;
    p->max_xres = out.max_xres;
    p->max_yres = out.max_yres;
    p->max_instance = out.max_instance;
    return true;
}

bool vgpu_profile_check_pci(const VgpuProfile *p, Error **errp)
{
    g_autofree char *summary = NULL;

    if (!g_strcmp0(p->device_api, "vfio-pci")) {
        return true;
    }
    summary = vgpu_profile_summary(p);
    error_setg(errp, "vGPU type %s has device_api %s, but nv-vgpu needs a "
               "vfio-pci vGPU; choose a PCI vGPU type", summary,
               p->device_api ? p->device_api : "(none)");
    return false;
}

char *vgpu_profile_summary(const VgpuProfile *p)
{
    GString *s = g_string_new(p->name ? p->name : p->type_id);
    const char *sep = " (";

    if (p->name && p->type_id) {
        g_string_append_printf(s, "%s%s", sep, p->type_id);
        sep = ": ";
    }
    if (p->framebuffer) {
        g_string_append_printf(s, "%s%" PRIu64 " MiB", sep,
                               p->framebuffer / MiB);
        sep = ", ";
    }
    if (p->num_heads) {
        g_string_append_printf(s, "%s%u head%s", sep, p->num_heads,
                               p->num_heads == 1 ? "" : "s");
        sep = ", ";
    }
    if (p->max_xres) {
        g_string_append_printf(s, "%s%ux%u", sep, p->max_xres, p->max_yres);
        sep = ", ";
    }
    if (p->frl_config) {
        g_string_append_printf(s, "%s%u fps", sep, p->frl_config);
        sep = ", ";
    }
    if (strcmp(sep, " (")) {
        g_string_append_c(s, ')');
    }
    return g_string_free(s, false);
}

void vgpu_profile_clear(VgpuProfile *p)
{
    g_free(p->type_id);
    g_free(p->name);
    g_free(p->description);
    g_free(p->device_api);
    memset(p, 0, sizeof(*p));
    p->available = -1;
}
