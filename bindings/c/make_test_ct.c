/* make_test_ct PHANTOM_IN CT_OUT — the binding tests' CT: the centre of swu_make_phantom's
 * abdomen, every second voxel in-plane (60 x 60 x 50 voxels of 1.56 x 1.56 x 2.5 mm), so
 * that a segmentation is one network window. Geometry is kept exact: the origin moves to
 * the first voxel kept and the spacing grows by the step. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "swinunetr/swinunetr.h"

int main(int argc, char** argv) {
    const int64_t first[3] = {40, 20, 10}, step[3] = {2, 2, 1}, n[3] = {60, 60, 50};
    swu_volume *in = NULL, *out = NULL;
    swu_volume_info info;
    swu_volume_desc d;
    float* voxels = NULL;
    int64_t i, j, k, a, r;
    int rc = 1;

    if (argc != 3) {
        fprintf(stderr, "usage: make_test_ct PHANTOM_IN CT_OUT\n");
        return 2;
    }
    info.struct_size = sizeof info;
    if (swu_volume_read(argv[1], &in) != SWU_OK || swu_volume_get_info(in, &info) != SWU_OK) goto done;
    if ((info.type != SWU_VOXEL_INT16 && info.type != SWU_VOXEL_FLOAT32) || info.size[0] < 160 || info.size[1] < 140 || info.size[2] < 60) {
        fprintf(stderr, "make_test_ct: %s is not swu_make_phantom's CT\n", argv[1]);
        goto done;
    }
    voxels = malloc(sizeof(float) * (size_t)(n[0] * n[1] * n[2]));
    if (!voxels) goto done;
    for (k = 0; k < n[2]; ++k)
        for (j = 0; j < n[1]; ++j)
            for (i = 0; i < n[0]; ++i) {
                const int64_t at = (first[0] + step[0] * i) * info.strides[0] + (first[1] + step[1] * j) * info.strides[1] +
                                   (first[2] + step[2] * k) * info.strides[2];
                voxels[i + n[0] * (j + n[1] * k)] =
                    info.type == SWU_VOXEL_INT16 ? (float)((const int16_t*)info.data)[at] : ((const float*)info.data)[at];
            }
    swu_volume_desc_init(&d);
    d.type = SWU_VOXEL_FLOAT32;
    d.data = voxels;
    for (a = 0; a < 3; ++a) {
        d.size[a] = n[a];
        d.spacing[a] = info.spacing[a] * (double)step[a];
        d.origin[a] = info.origin[a];
        for (r = 0; r < 3; ++r) d.origin[a] += info.direction[3 * a + r] * info.spacing[r] * (double)first[r];
    }
    for (a = 0; a < 9; ++a) d.direction[a] = info.direction[a];
    if (swu_volume_wrap(&d, &out) != SWU_OK || swu_volume_write(out, argv[2]) != SWU_OK) goto done;
    rc = 0;
done:
    if (rc) fprintf(stderr, "make_test_ct: %s\n", swu_last_error());
    swu_volume_free(out);
    swu_volume_free(in);
    free(voxels);
    return rc;
}
