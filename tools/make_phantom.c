/* swu_make_phantom OUT.nii.gz [--labels LABELS.nii.gz] [--seed N]
 * Writes a synthetic abdomen-like CT (int16 HU) through the public C API: body with a
 * fat rim, the bundle's 13 organs (liver, spleen, kidneys, stomach, pancreas,
 * gallbladder, aorta, IVC, esophagus, portal/splenic vein, adrenal glands), spine, lung
 * bases and noise — and, with --labels, its label map (uint8, the bundle's classes).
 * A demo and training input, not anatomy. Size 200 x 150 x 70 voxels of 0.78 x 0.78 x
 * 2.5 mm. Seed 0 (default) is the fixed reference layout; other seeds move, resize and
 * re-shade every organ a little (a different "patient"), deterministically. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swinunetr/swinunetr.h"

enum { NI = 200, NJ = 150, NK = 70 };

typedef struct {
    double ci, cj, ck, ri, rj, rk; /* centre and radii in voxels */
    int hu;
    int label;                     /* class of the bundle, 0 = none */
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

/* A uniform value in [-1, 1) from a second generator (the layout's), seeded per phantom. */
static uint64_t layout_rng = 0;
static double jitter(void) {
    layout_rng = layout_rng * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(layout_rng >> 11) / 4503599627370496.0 - 1.0;
}

static int write_volume(swu_voxel_type type, void* data, const char* path) {
    swu_volume_desc desc;
    swu_volume* volume = NULL;
    int ok;
    swu_volume_desc_init(&desc);
    desc.type = type;
    desc.data = data;
    desc.size[0] = NI;
    desc.size[1] = NJ;
    desc.size[2] = NK;
    desc.spacing[0] = desc.spacing[1] = 0.78;
    desc.spacing[2] = 2.5;
    desc.origin[0] = -77.9; /* LPS mm */
    desc.origin[1] = -101.4;
    desc.origin[2] = -318.75;
    ok = swu_volume_wrap(&desc, &volume) == SWU_OK && swu_volume_write(volume, path) == SWU_OK;
    if (!ok) fprintf(stderr, "swu_make_phantom: %s: %s\n", path, swu_last_error());
    swu_volume_free(volume);
    return ok;
}

int main(int argc, char** argv) {
    static int16_t ct[NK][NJ][NI]; /* i fastest, as NIfTI stores voxels */
    static uint8_t labels[NK][NJ][NI];
    /* Later entries overwrite earlier ones. Image left (low i) = patient right in LPS. */
    ellipsoid organs[] = {
        {70, 70, 38, 42, 34, 22, 60, 6},     /* liver */
        {140, 85, 40, 16, 14, 12, 50, 1},    /* spleen */
        {125, 60, 35, 26, 14, 10, 30, 7},    /* stomach */
        {72, 100, 30, 11, 9, 12, 150, 2},    /* right kidney */
        {128, 100, 30, 11, 9, 12, 160, 3},   /* left kidney */
        {105, 80, 28, 22, 6, 5, 90, 11},     /* pancreas */
        {82, 62, 28, 7, 6, 6, 35, 4},        /* gallbladder */
        {108, 95, 35, 6, 6, 40, 200, 8},     /* aorta */
        {88, 95, 35, 7, 6, 40, 120, 9},      /* inferior vena cava */
        {104, 102, 60, 4, 4, 12, 45, 5},     /* esophagus (upper slices, behind the stomach) */
        {110, 74, 33, 16, 3, 3, 175, 10},    /* portal / splenic vein */
        {80, 96, 44, 5, 3, 4, 70, 12},       /* right adrenal gland (above the kidney) */
        {120, 96, 44, 5, 3, 4, 75, 13},      /* left adrenal gland */
        {100, 118, 35, 10, 10, 40, 700, 0},  /* spine */
        {100, 118, 35, 3, 3, 40, 20, 0},     /* spinal canal */
    };
    const ellipsoid body = {100, 80, 35, 90, 62, 200, 40, 0}, inner = {100, 80, 35, 84, 56, 200, -100, 0};
    const ellipsoid lungs[] = {{65, 75, 75, 35, 30, 18, -850, 0}, {135, 75, 75, 35, 30, 18, -850, 0}};
    const char* out = NULL;
    const char* label_path = NULL;
    unsigned long long seed = 0;
    size_t o;
    int i, j, k, a;

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
    if (seed) {
        /* Another patient: shift the whole abdomen a little, then each organ; scale radii
         * by 0.85..1.15 and shade by +-10 HU. Every organ stays where anatomy puts it. */
        double di, dj, dk;
        layout_rng = seed * 0x9E3779B97F4A7C15ull + 1;
        di = 6 * jitter(), dj = 5 * jitter(), dk = 4 * jitter();
        for (o = 0; o < sizeof organs / sizeof organs[0]; ++o) {
            ellipsoid* e = &organs[o];
            const double scale = 1.0 + 0.15 * jitter();
            e->ci += di + 3 * jitter();
            e->cj += dj + 3 * jitter();
            e->ck += dk + 2 * jitter();
            e->ri *= scale;
            e->rj *= scale;
            if (e->rk < 30) e->rk *= scale;
            e->hu += (int)(10 * jitter());
        }
        rng ^= seed * 0xD1B54A32D192ED03ull;
    }
    for (k = 0; k < NK; ++k)
        for (j = 0; j < NJ; ++j)
            for (i = 0; i < NI; ++i) {
                double hu = -1000;
                int label = 0;
                if (inside(&body, i, j, k)) {
                    hu = inside(&inner, i, j, k) ? 40 : -100;
                    for (o = 0; o < sizeof lungs / sizeof lungs[0]; ++o)
                        if (inside(&lungs[o], i, j, k)) hu = lungs[o].hu;
                    for (o = 0; o < sizeof organs / sizeof organs[0]; ++o)
                        if (inside(&organs[o], i, j, k)) hu = organs[o].hu, label = organs[o].label;
                    hu += 12 * noise();
                }
                ct[k][j][i] = (int16_t)(hu < 0 ? hu - 0.5 : hu + 0.5);
                labels[k][j][i] = (uint8_t)label;
            }

    if (!write_volume(SWU_VOXEL_INT16, ct, out)) return 1;
    if (label_path && !write_volume(SWU_VOXEL_UINT8, labels, label_path)) return 1;
    printf("wrote %s (%d x %d x %d voxels, int16 HU, seed %llu)%s%s\n", out, NI, NJ, NK, seed,
           label_path ? " and " : "", label_path ? label_path : "");
    return 0;
}
