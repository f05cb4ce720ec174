/*
 * vGPU profiles of SR-IOV vGPUs: from NVIDIA's vgpuConfig.xml, or from
 * what the profile name says
 *
 * An SR-IOV vGPU's type is a number in nvidia/current_vgpu_type; sysfs
 * says nothing more about it than a name in creatable_vgpu_types.  The
 * vGPU manager reads the types it supports from vgpuConfig.xml, whose
 * parts that matter here look like
 *   <vgpuType id="1062" name="NVIDIA L4-4Q" class="Quadro">
 *     <framebuffer>0xF0000000</framebuffer>
 *     <numHeads>4</numHeads>
 *     <display width="5120" height="2880"/>
 *     <frlConfig>0x3c</frlConfig> ...
 *   </vgpuType>
 *   <pgpu><devId deviceId="0x27B8" .../>
 *     <supportedVgpu vgpuId="1062"><maxVgpus>6</maxVgpus>...</supportedVgpu>
 *   </pgpu>
 * Only those elements are looked at; numbers may be decimal or 0x hex.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/cutils.h"
#include "qemu/units.h"
#include "hw/vgpu/vgpu-profile.h"

/* The real file is a few MiB; anything much larger is not it. */
#define VGPU_CONFIG_MAX_BYTES   (64 * MiB)

typedef enum {
    FIELD_NONE,
    FIELD_FRAMEBUFFER,
    FIELD_HEADS,
    FIELD_FRL,
    FIELD_MAX_VGPUS,
} ConfigField;

typedef struct ConfigScan {
    uint32_t type_id;
    uint32_t gpu_device;

    int type_depth;         /* depth of our vgpuType, 0: not inside */
    int pgpu_depth;         /* depth of the pgpu element we are in */
    bool pgpu_ours;         /* its devId is gpu_device */
    bool in_supported;      /* in its supportedVgpu of our type */
    ConfigField field;      /* the element whose text we collect */
    GString *text;
    int depth;

    bool found;
    char *name;
    bool have_fb, have_heads, have_display, have_frl;
    uint64_t framebuffer;
    uint64_t heads, frl, xres, yres, max_vgpus;
} ConfigScan;

static const char *attr(const char **names, const char **values,
                        const char *want)
{
    for (; *names; names++, values++) {
        if (!strcmp(*names, want)) {
            return *values;
        }
    }
    return NULL;
}

/* A number as the file writes them, decimal or 0x hex, within bounds. */
static bool config_number(const char *s, uint64_t min, uint64_t max,
                          uint64_t *out)
{
    g_autofree char *t = g_strstrip(g_strdup(s ? s : ""));
    uint64_t v;

    if (!*t || qemu_strtou64(t, NULL, 0, &v) < 0 || v < min || v > max) {
        return false;
    }
    *out = v;
    return true;
}

static void config_start(GMarkupParseContext *ctx, const char *element,
                         const char **names, const char **values,
                         gpointer opaque, GError **error)
{
    ConfigScan *c = opaque;
    const char *v;
    uint64_t n;

    c->depth++;
    c->field = FIELD_NONE;
    if (!strcmp(element, "vgpuType") && !c->type_depth && !c->pgpu_depth) {
        v = attr(names, values, "id");
        if (config_number(v, 1, UINT32_MAX, &n) && n == c->type_id &&
            !c->found) {
            c->found = true;
            c->type_depth = c->depth;
            v = attr(names, values, "name");
            c->name = v && *v && strlen(v) < 128 ? g_strdup(v) : NULL;
        }
    } else if (c->type_depth) {
        if (!strcmp(element, "framebuffer")) {
            c->field = FIELD_FRAMEBUFFER;
        } else if (!strcmp(element, "numHeads")) {
            c->field = FIELD_HEADS;
        } else if (!strcmp(element, "frlConfig")) {
            c->field = FIELD_FRL;
        } else if (!strcmp(element, "display") && !c->have_display) {
            c->have_display =
                config_number(attr(names, values, "width"), 1, VGPU_MAX_DIM,
                              &c->xres) &&
                config_number(attr(names, values, "height"), 1,
                              VGPU_MAX_DIM, &c->yres);
        }
    } else if (!strcmp(element, "pgpu") && !c->pgpu_depth) {
        c->pgpu_depth = c->depth;
        c->pgpu_ours = false;
    } else if (c->pgpu_depth) {
        if (!strcmp(element, "devId") && c->depth == c->pgpu_depth + 1) {
            c->pgpu_ours = c->gpu_device &&
                config_number(attr(names, values, "deviceId"), 0, 0xffff,
                              &n) && n == c->gpu_device;
        } else if (!strcmp(element, "supportedVgpu") && c->pgpu_ours) {
            c->in_supported =
                config_number(attr(names, values, "vgpuId"), 1, UINT32_MAX,
                              &n) && n == c->type_id;
        } else if (!strcmp(element, "maxVgpus") && c->in_supported) {
            c->field = FIELD_MAX_VGPUS;
        }
    }
    g_string_truncate(c->text, 0);
}

static void config_end(GMarkupParseContext *ctx, const char *element,
                       gpointer opaque, GError **error)
{
    ConfigScan *c = opaque;

    switch (c->field) {
    case FIELD_FRAMEBUFFER:
        c->have_fb = !c->have_fb &&
            config_number(c->text->str, 1, VGPU_MAX_FB, &c->framebuffer);
        break;
    case FIELD_HEADS:
        c->have_heads = !c->have_heads &&
            config_number(c->text->str, 1, VGPU_MAX_HEADS, &c->heads);
        break;
    case FIELD_FRL:
        c->have_frl = !c->have_frl &&
            config_number(c->text->str, 0, VGPU_MAX_FPS, &c->frl);
        break;
    case FIELD_MAX_VGPUS:
        if (!config_number(c->text->str, 1, UINT32_MAX, &c->max_vgpus)) {
            c->max_vgpus = 0;
        }
        break;
    case FIELD_NONE:
        break;
    }
    c->field = FIELD_NONE;
    if (c->depth == c->type_depth) {
        c->type_depth = 0;
    }
    if (!strcmp(element, "supportedVgpu")) {
        c->in_supported = false;
    }
    if (c->depth == c->pgpu_depth) {
        c->pgpu_depth = 0;
        c->pgpu_ours = false;
    }
    c->depth--;
}

static void config_text(GMarkupParseContext *ctx, const char *text,
                        gsize len, gpointer opaque, GError **error)
{
    ConfigScan *c = opaque;

    if (c->field != FIELD_NONE && c->text->len < 64) {
        g_string_append_len(c->text, text, MIN(len, 64));
    }
}

bool vgpu_profile_from_config(VgpuProfile *p, const char *path,
                              uint32_t type_id, uint32_t gpu_device,
                              char **why)
{
    static const GMarkupParser parser = {
        .start_element = config_start,
        .end_element = config_end,
        .text = config_text,
    };
    g_autoptr(GError) gerr = NULL;
    g_autofree char *xml = NULL;
    ConfigScan c = {
        .type_id = type_id, .gpu_device = gpu_device,
        .text = g_string_new(NULL),
    };
    GMarkupParseContext *ctx;
    gsize len;
    bool ok = false;

    *why = NULL;
    if (!g_file_get_contents(path, &xml, &len, &gerr)) {
        *why = g_strdup(gerr->message);
        goto out;
    }
    if (len > VGPU_CONFIG_MAX_BYTES) {
        *why = g_strdup_printf("%s is larger than %d MiB", path,
                               (int)(VGPU_CONFIG_MAX_BYTES / MiB));
        goto out;
    }
    ctx = g_markup_parse_context_new(&parser, 0, &c, NULL);
    ok = g_markup_parse_context_parse(ctx, xml, len, &gerr) &&
         g_markup_parse_context_end_parse(ctx, &gerr);
    g_markup_parse_context_free(ctx);
    if (!ok) {
        *why = g_strdup_printf("%s is not well-formed: %s", path,
                               gerr->message);
        goto out;
    }
    ok = false;
    if (!c.found) {
        *why = g_strdup_printf("%s has no vgpuType with id %u", path,
                               type_id);
    } else if (!c.have_fb || !c.have_heads || !c.have_display) {
        *why = g_strdup_printf("vgpuType %u in %s lacks a valid %s", type_id,
                               path, !c.have_fb ? "framebuffer" :
                               !c.have_heads ? "numHeads" : "display");
    } else {
        if (!p->name && c.name) {
            p->name = g_steal_pointer(&c.name);
        }
        p->framebuffer = c.framebuffer;
        p->num_heads = c.heads;
        p->max_xres = c.xres;
        p->max_yres = c.yres;
        p->frl_config = c.have_frl ? c.frl : 0;
        p->max_instance = c.max_vgpus;
        p->nvidia = true;
        p->source = VGPU_PROFILE_FROM_CONFIG;
        ok = true;
    }
out:
    g_free(c.name);
    g_string_free(c.text, true);
    return ok;
}

/*
 * Heads, maximum resolution and frame rate limit by series, the letter
 * after the size: virtual workstations (Q), virtual PCs (B), virtual
 * applications (A), compute (C).  The largest each series offers, so that
 * a guess never refuses a mode the real profile allows.
 */
static const struct {
    char series;
    uint32_t heads, xres, yres, fps;
} name_series[] = {
    { 'Q', 4, 7680, 4320, 60 },
    { 'B', 2, 5120, 2880, 45 },
    { 'A', 1, 1280, 1024, 60 },
    { 'C', 1, 4096, 2160, 60 },
};

bool vgpu_profile_from_name(VgpuProfile *p)
{
    const char *dash = p->name ? strrchr(p->name, '-') : NULL;
    const char *end;
    uint64_t gib;
    size_t i;

    if (!dash || qemu_strtou64(dash + 1, &end, 10, &gib) < 0 ||
        end == dash + 1 || !end[0] || end[1] || gib > 1024) {
        return false;
    }
    for (i = 0; i < G_N_ELEMENTS(name_series); i++) {
        if (g_ascii_toupper(end[0]) == name_series[i].series) {
            break;
        }
    }
    if (i == G_N_ELEMENTS(name_series)) {
        return false;
    }
    /* "-0B" and "-0Q" are the 512 MiB profiles */
    p->framebuffer = gib ? gib * GiB : 512 * MiB;
    p->num_heads = name_series[i].heads;
    p->max_xres = name_series[i].xres;
    p->max_yres = name_series[i].yres;
    p->frl_config = name_series[i].fps;
    p->max_instance = 0;
    p->nvidia = true;
    p->source = VGPU_PROFILE_FROM_NAME;
    return true;
}
