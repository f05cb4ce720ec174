/*
 * Tests for the vGPU profile parser
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/units.h"
#include "hw/vgpu/vgpu-profile.h"

/* The description of nvidia-289 (GRID P4-8C) on a real host. */
#define P4_8C "num_heads=1, frl_config=60, framebuffer=8192M, " \
              "max_resolution=4096x2160, max_instance=1"

static void test_real_p4_8c(void)
{
    VgpuProfile p = { 0 };

    g_assert_true(vgpu_profile_parse_description(&p, P4_8C, &error_abort));
    g_assert_true(p.nvidia);
    g_assert_cmpuint(p.num_heads, ==, 1);
    g_assert_cmpuint(p.frl_config, ==, 60);
    g_assert_cmpuint(p.framebuffer, ==, 8 * GiB);
    g_assert_cmpuint(p.max_xres, ==, 4096);
    g_assert_cmpuint(p.max_yres, ==, 2160);
    g_assert_cmpuint(p.max_instance, ==, 1);
}

static void test_multi_instance(void)
{
    VgpuProfile p = { 0 };

    g_assert_true(vgpu_profile_parse_description(&p,
        "num_heads=4, frl_config=45, framebuffer=1024M, "
        "max_resolution=5120x2880, max_instance=8", &error_abort));
    g_assert_cmpuint(p.num_heads, ==, 4);
    g_assert_cmpuint(p.frl_config, ==, 45);
    g_assert_cmpuint(p.framebuffer, ==, 1 * GiB);
    g_assert_cmpuint(p.max_xres, ==, 5120);
    g_assert_cmpuint(p.max_yres, ==, 2880);
    g_assert_cmpuint(p.max_instance, ==, 8);
}

static void test_unknown_keys_and_order(void)
{
    VgpuProfile p = { 0 };

    g_assert_true(vgpu_profile_parse_description(&p,
        "max_instance=2,frl_config=0, ecc_support=1 ,framebuffer=2G, "
        "some_new_key=whatever-value,", &error_abort));
    g_assert_true(p.nvidia);
    g_assert_cmpuint(p.max_instance, ==, 2);
    g_assert_cmpuint(p.frl_config, ==, 0);
    g_assert_cmpuint(p.framebuffer, ==, 2 * GiB);
    g_assert_cmpuint(p.num_heads, ==, 0);
    g_assert_cmpuint(p.max_xres, ==, 0);
}

/* Other vendors' mdevs: the device still works, the profile is unknown. */
static void test_other_vendors(void)
{
    static const char *const descs[] = {
        "low_gm_size: 128MB\nhigh_gm_size: 512MB\nfence: 4\n"
        "resolution: 1920x1200\nweight: 2",
        "This is a virtual serial port",
        "",
        "only_unknown_keys=1, another=2",
    };
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(descs); i++) {
        VgpuProfile p = { .num_heads = 7 };

        g_assert_true(vgpu_profile_parse_description(&p, descs[i],
                                                     &error_abort));
        g_assert_false(p.nvidia);
        g_assert_cmpuint(p.num_heads, ==, 0);
        g_assert_cmpuint(p.framebuffer, ==, 0);
    }
    {
        VgpuProfile p = { 0 };

        g_assert_true(vgpu_profile_parse_description(&p, NULL, &error_abort));
        g_assert_false(p.nvidia);
    }
}

static void test_malformed(void)
{
    static const struct {
        const char *desc;
        const char *error;
    } cases[] = {
        { "num_heads=1, framebuffer=8192X", "framebuffer=8192X is not a size" },
        { "num_heads=1, framebuffer=M", "framebuffer=M is not a size" },
        { "num_heads=1, framebuffer=0M", "framebuffer=0M is not a size" },
        { "num_heads=1, framebuffer=8192", "framebuffer=8192 is not a size" },
        { "num_heads=1, framebuffer=99999999999T", "framebuffer=" },
        { "num_heads=0, framebuffer=8192M", "num_heads=0 is not a number" },
        { "num_heads=abc", "num_heads=abc is not a number" },
        { "num_heads=-1", "num_heads=-1 is not a number" },
        { "num_heads=99999", "num_heads=99999 is not a number" },
        { "frl_config=60fps", "frl_config=60fps is not a number" },
        { "max_resolution=4096", "max_resolution=4096 is not a resolution" },
        { "max_resolution=0x2160", "max_resolution=0x2160 is not a" },
        { "max_resolution=4096x", "max_resolution=4096x is not a" },
        { "max_resolution=100000x100", "max_resolution=100000x100" },
        { "max_instance=0", "max_instance=0 is not a number" },
        { "num_heads=1, num_heads=2", "num_heads is given twice" },
    };
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(cases); i++) {
        VgpuProfile p = { 0 };
        Error *err = NULL;

        g_assert_false(vgpu_profile_parse_description(&p, cases[i].desc,
                                                      &err));
        g_assert_nonnull(err);
        if (!strstr(error_get_pretty(err), cases[i].error)) {
            g_error("'%s': got '%s', want '%s'", cases[i].desc,
                    error_get_pretty(err), cases[i].error);
        }
        g_assert_false(p.nvidia);
        error_free(err);
    }
}

static void test_summary(void)
{
    VgpuProfile p = { 0 };
    g_autofree char *s = NULL;
    g_autofree char *bare = NULL;

    vgpu_profile_clear(&p);
    p.type_id = g_strdup("nvidia-289");
    bare = vgpu_profile_summary(&p);
    g_assert_cmpstr(bare, ==, "nvidia-289");
    p.name = g_strdup("GRID P4-8C");
    g_assert_true(vgpu_profile_parse_description(&p, P4_8C, &error_abort));
    s = vgpu_profile_summary(&p);
    g_assert_cmpstr(s, ==, "GRID P4-8C (nvidia-289: 8192 MiB, 1 head, "
                    "4096x2160, 60 fps)");
    vgpu_profile_clear(&p);
    g_assert_null(p.name);
    g_assert_cmpint(p.available, ==, -1);
}

static void test_check_pci(void)
{
    VgpuProfile p = { 0 };
    Error *err = NULL;

    p.type_id = g_strdup("vfio_ap-passthrough");
    p.device_api = g_strdup("vfio-ap");
    g_assert_false(vgpu_profile_check_pci(&p, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "device_api vfio-ap"));
    error_free(err);
    g_free(p.device_api);
    p.device_api = g_strdup("vfio-pci");
    g_assert_true(vgpu_profile_check_pci(&p, &error_abort));
    vgpu_profile_clear(&p);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vgpu/profile/real-p4-8c", test_real_p4_8c);
    g_test_add_func("/vgpu/profile/multi-instance", test_multi_instance);
    g_test_add_func("/vgpu/profile/unknown-keys", test_unknown_keys_and_order);
    g_test_add_func("/vgpu/profile/other-vendors", test_other_vendors);
    g_test_add_func("/vgpu/profile/malformed", test_malformed);
    g_test_add_func("/vgpu/profile/summary", test_summary);
    g_test_add_func("/vgpu/profile/check-pci", test_check_pci);
    return g_test_run();
}
