/* swu_make_phantom OUT.nii.gz [--labels LABELS.nii.gz] [--seed N]
 * Writes a synthetic abdomen-like CT (int16 HU, see phantom.h) through the public C API
 * and, with --labels, its label map (uint8, the bundle's classes). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phantom.h"

static int write_volume(swu_voxel_type type, void* data, const char* path) {
    swu_volume* volume = swu_phantom_wrap(type, data);
    const int ok = volume && swu_volume_write(volume, path) == SWU_OK;
    if (!ok) fprintf(stderr, "swu_make_phantom: %s: %s\n", path, swu_last_error());
    swu_volume_free(volume);
    return ok;
}

int main(int argc, char** argv) {
    static int16_t ct[SWU_PHANTOM_VOXELS];
    static uint8_t labels[SWU_PHANTOM_VOXELS];
    const char* out = NULL;
    const char* label_path = NULL;
    unsigned long long seed = 0;
    int a;

    for (a = 1; a < argc; ++a) {
        if (!strcmp(argv[a], "--labels") && a + 1 < argc) label_path = argv[++a];
        else if (!strcmp(argv[a], "--seed") && a + 1 < argc) seed = strtoull(argv[++a], NULL, 10);
        else if (argv[a][0] != '-' && !out) out = argv[a];
        else out = NULL, a = argc;
    }
    if (!out) {
        fprintf(stderr, "usage: swu_make_phantom OUT.nii.gz [--labels LABELS.nii.gz] [--seed N]\n");
        return 2;
    }
    swu_phantom_generate(seed, ct, labels);
    if (!write_volume(SWU_VOXEL_INT16, ct, out)) return 1;
    if (label_path && !write_volume(SWU_VOXEL_UINT8, labels, label_path)) return 1;
    printf("wrote %s (%d x %d x %d voxels, int16 HU, seed %llu)%s%s\n", out, SWU_PHANTOM_NI, SWU_PHANTOM_NJ,
           SWU_PHANTOM_NK, seed, label_path ? " and " : "", label_path ? label_path : "");
    return 0;
}
