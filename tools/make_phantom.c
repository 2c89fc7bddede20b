/* swu_make_phantom OUT.nii.gz — writes a synthetic abdomen-like CT (int16 HU) through
 * the public C API: body with a fat rim, liver, spleen, kidneys, stomach, pancreas,
 * gallbladder, aorta, IVC, spine, lung bases and noise. A demo input, not anatomy.
 * Size 200 x 150 x 70 voxels of 0.78 x 0.78 x 2.5 mm, deterministic. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "swinunetr/swinunetr.h"

enum { NI = 200, NJ = 150, NK = 70 };

typedef struct {
    double ci, cj, ck, ri, rj, rk; /* centre and radii in voxels */
    int hu;
} ellipsoid;

static int inside(const ellipsoid* e, int i, int j, int k) {
    const double a = (i - e->ci) / e->ri, b = (j - e->cj) / e->rj, c = (k - e->ck) / e->rk;
    return a * a + b * b + c * c <= 1.0;
}

/* A small deterministic Gaussian-ish noise: the sum of four uniforms from an LCG. */
static uint64_t rng = 0x5eed;
static double noise(void) {
    double s = 0;
    int n;
    for (n = 0; n < 4; ++n) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        s += (double)(rng >> 11) / 9007199254740992.0 - 0.5;
    }
    return s * 1.732; /* unit variance */
}

int main(int argc, char** argv) {
    static int16_t ct[NK][NJ][NI]; /* i fastest, as NIfTI stores voxels */
    const ellipsoid organs[] = {
        {70, 70, 38, 42, 34, 22, 60},    /* liver (image left = patient right in LPS) */
        {140, 85, 40, 16, 14, 12, 50},   /* spleen */
        {125, 60, 35, 26, 14, 10, 30},   /* stomach */
        {72, 100, 30, 11, 9, 12, 150},   /* right kidney */
        {128, 100, 30, 11, 9, 12, 160},  /* left kidney */
        {105, 80, 28, 22, 6, 5, 90},     /* pancreas */
        {82, 62, 28, 7, 6, 6, 35},       /* gallbladder */
        {108, 95, 35, 6, 6, 40, 200},    /* aorta */
        {88, 95, 35, 7, 6, 40, 120},     /* inferior vena cava */
        {100, 118, 35, 10, 10, 40, 700}, /* spine */
        {100, 118, 35, 3, 3, 40, 20},    /* spinal canal */
    };
    const ellipsoid body = {100, 80, 35, 90, 62, 200, 40}, inner = {100, 80, 35, 84, 56, 200, -100};
    const ellipsoid lungs[] = {{65, 75, 75, 35, 30, 18, -850}, {135, 75, 75, 35, 30, 18, -850}};
    swu_volume_desc desc;
    swu_volume* volume = NULL;
    size_t o;
    int i, j, k;

    if (argc != 2) {
        fprintf(stderr, "usage: swu_make_phantom OUT.nii.gz\n");
        return 2;
    }
    for (k = 0; k < NK; ++k)
        for (j = 0; j < NJ; ++j)
            for (i = 0; i < NI; ++i) {
                double hu = -1000;
                if (inside(&body, i, j, k)) {
                    hu = inside(&inner, i, j, k) ? 40 : -100;
                    for (o = 0; o < sizeof lungs / sizeof lungs[0]; ++o)
                        if (inside(&lungs[o], i, j, k)) hu = lungs[o].hu;
                    for (o = 0; o < sizeof organs / sizeof organs[0]; ++o)
                        if (inside(&organs[o], i, j, k)) hu = organs[o].hu;
                    hu += 12 * noise();
                }
                ct[k][j][i] = (int16_t)(hu < 0 ? hu - 0.5 : hu + 0.5);
            }

    swu_volume_desc_init(&desc);
    desc.type = SWU_VOXEL_INT16;
    desc.data = ct;
    desc.size[0] = NI;
    desc.size[1] = NJ;
    desc.size[2] = NK;
    desc.spacing[0] = desc.spacing[1] = 0.78;
    desc.spacing[2] = 2.5;
    desc.origin[0] = -77.9; /* LPS mm */
    desc.origin[1] = -101.4;
    desc.origin[2] = -318.75;
    if (swu_volume_wrap(&desc, &volume) != SWU_OK || swu_volume_write(volume, argv[1]) != SWU_OK) {
        fprintf(stderr, "swu_make_phantom: %s\n", swu_last_error());
        swu_volume_free(volume);
        return 1;
    }
    swu_volume_free(volume);
    printf("wrote %s (%d x %d x %d voxels, int16 HU)\n", argv[1], NI, NJ, NK);
    return 0;
}
