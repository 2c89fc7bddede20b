/* See phantom.h. */
#include "phantom.h"

#include <stddef.h>

typedef struct {
    double ci, cj, ck, ri, rj, rk; /* centre and radii in voxels */
    int hu;
    int label;                     /* class of the bundle, 0 = none */
} ellipsoid;

static int inside(const ellipsoid* e, int i, int j, int k) {
    const double a = (i - e->ci) / e->ri, b = (j - e->cj) / e->rj, c = (k - e->ck) / e->rk;
    return a * a + b * b + c * c <= 1.0;
}

/* 64-bit LCG step. */
static uint64_t lcg(uint64_t* state) {
    *state = *state * 6364136223846793005ull + 1442695040888963407ull;
    return *state;
}

/* A small deterministic Gaussian-ish noise: the sum of four uniforms, unit variance. */
static double noise(uint64_t* state) {
    double s = 0;
    int n;
    for (n = 0; n < 4; ++n) s += (double)(lcg(state) >> 11) / 9007199254740992.0 - 0.5;
    return s * 1.732;
}

/* A uniform value in [-1, 1) (the layout's generator). */
static double jitter(uint64_t* state) { return (double)(lcg(state) >> 11) / 4503599627370496.0 - 1.0; }

void swu_phantom_generate(uint64_t seed, int16_t* ct, uint8_t* labels) {
    /* Later entries overwrite earlier ones. Image left (low i) = patient right in LPS.
     * HU as in a portal-venous-phase contrast CT (BTCV's): enhanced liver, spleen, kidneys
     * and vessels, water-filled stomach and bile against unenhanced soft tissue (40). */
    ellipsoid organs[] = {
        {70, 70, 38, 42, 34, 22, 110, 6},    /* liver */
        {140, 85, 40, 16, 14, 12, 125, 1},   /* spleen */
        {125, 60, 35, 26, 14, 10, 15, 7},    /* stomach (water-filled) */
        {72, 100, 30, 11, 9, 12, 170, 2},    /* right kidney */
        {128, 100, 30, 11, 9, 12, 180, 3},   /* left kidney */
        {105, 80, 28, 22, 6, 5, 90, 11},     /* pancreas */
        {82, 62, 28, 7, 6, 6, 5, 4},         /* gallbladder (bile) */
        {108, 95, 35, 6, 6, 40, 160, 8},     /* aorta */
        {88, 95, 35, 7, 6, 40, 130, 9},      /* inferior vena cava */
        {104, 102, 60, 4, 4, 12, 55, 5},     /* esophagus (upper slices, behind the stomach) */
        {110, 74, 33, 16, 3, 3, 185, 10},    /* portal / splenic vein */
        {80, 96, 44, 5, 3, 4, 65, 12},       /* right adrenal gland (above the kidney) */
        {120, 96, 44, 5, 3, 4, 70, 13},      /* left adrenal gland */
        {100, 118, 35, 10, 10, 40, 700, 0},  /* spine */
        {100, 118, 35, 3, 3, 40, 20, 0},     /* spinal canal */
    };
    const ellipsoid body = {100, 80, 35, 90, 62, 200, 40, 0}, inner = {100, 80, 35, 84, 56, 200, -100, 0};
    const ellipsoid lungs[] = {{65, 75, 75, 35, 30, 18, -850, 0}, {135, 75, 75, 35, 30, 18, -850, 0}};
    uint64_t rng = 0x5eed, layout_rng = 0;
    size_t o, v = 0;
    int i, j, k;

    if (seed) {
        /* Another patient: shift the whole abdomen a little, then each organ; scale radii
         * by 0.85..1.15 and shade by +-10 HU. Every organ stays where anatomy puts it. */
        double di, dj, dk;
        layout_rng = seed * 0x9E3779B97F4A7C15ull + 1;
        di = 6 * jitter(&layout_rng), dj = 5 * jitter(&layout_rng), dk = 4 * jitter(&layout_rng);
        for (o = 0; o < sizeof organs / sizeof organs[0]; ++o) {
            ellipsoid* e = &organs[o];
            const double scale = 1.0 + 0.15 * jitter(&layout_rng);
            e->ci += di + 3 * jitter(&layout_rng);
            e->cj += dj + 3 * jitter(&layout_rng);
            e->ck += dk + 2 * jitter(&layout_rng);
            e->ri *= scale;
            e->rj *= scale;
            if (e->rk < 30) e->rk *= scale;
            e->hu += (int)(10 * jitter(&layout_rng));
        }
        rng ^= seed * 0xD1B54A32D192ED03ull;
    }
    for (k = 0; k < SWU_PHANTOM_NK; ++k)
        for (j = 0; j < SWU_PHANTOM_NJ; ++j)
            for (i = 0; i < SWU_PHANTOM_NI; ++i) {
                double hu = -1000;
                int label = 0;
                if (inside(&body, i, j, k)) {
                    hu = inside(&inner, i, j, k) ? 40 : -100;
                    for (o = 0; o < sizeof lungs / sizeof lungs[0]; ++o)
                        if (inside(&lungs[o], i, j, k)) hu = lungs[o].hu;
                    for (o = 0; o < sizeof organs / sizeof organs[0]; ++o)
                        if (inside(&organs[o], i, j, k)) hu = organs[o].hu, label = organs[o].label;
                    hu += 12 * noise(&rng);
                }
                ct[v] = (int16_t)(hu < 0 ? hu - 0.5 : hu + 0.5);
                if (labels) labels[v] = (uint8_t)label;
                ++v;
            }
}

swu_volume* swu_phantom_wrap(swu_voxel_type type, void* data) {
    swu_volume_desc desc;
    swu_volume* volume = NULL;
    swu_volume_desc_init(&desc);
    desc.type = type;
    desc.data = data;
    desc.size[0] = SWU_PHANTOM_NI;
    desc.size[1] = SWU_PHANTOM_NJ;
    desc.size[2] = SWU_PHANTOM_NK;
    desc.spacing[0] = desc.spacing[1] = 0.78;
    desc.spacing[2] = 2.5;
    desc.origin[0] = -77.9; /* LPS mm */
    desc.origin[1] = -101.4;
    desc.origin[2] = -318.75;
    return swu_volume_wrap(&desc, &volume) == SWU_OK ? volume : NULL;
}
