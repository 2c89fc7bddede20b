/* See phantom.h. */
#include "phantom.h"

#include <stddef.h>

typedef struct {
    double ci, cj, ck, ri, rj, rk; /* centre and radii in voxels */
    int hu;
    int label;                     /* class of the bundle, 0 = none */
} ellipsoid;

/* (distance from the centre / radius)^2: <= 1 inside. */
static double radius2(const ellipsoid* e, int i, int j, int k) {
    const double a = (i - e->ci) / e->ri, b = (j - e->cj) / e->rj, c = (k - e->ck) / e->rk;
    return a * a + b * b + c * c;
}

static int inside(const ellipsoid* e, int i, int j, int k) { return radius2(e, i, j, k) <= 1.0; }

/* What is inside a hollow organ: the stomach's enhancing wall (the outer 20 % of its
 * radius), its gas cap (anterior, low j) over the fluid; the esophagus's air-filled lumen
 * (the inner 40 % of its cross-section). */
static double hollow_organ_hu(const ellipsoid* e, int i, int j, int k) {
    const double a = (i - e->ci) / e->ri, b = (j - e->cj) / e->rj;
    if (e->label == 7) return radius2(e, i, j, k) > 0.64 ? 100 : b < -0.45 ? -900 : e->hu;
    if (e->label == 5 && a * a + b * b < 0.16) return -900;
    return e->hu;
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

/* splitmix64's finaliser: neighbouring seeds become unrelated LCG states (seeded
 * directly, an LCG's outputs move almost linearly with the seed, so seeds 1, 2, 3, ...
 * would make a row of near-identical patients). */
static uint64_t scramble(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

/* A uniform value in [-1, 1) (the layout's generator). */
static double jitter(uint64_t* state) { return (double)(lcg(state) >> 11) / 4503599627370496.0 - 1.0; }

void swu_phantom_generate(uint64_t seed, int16_t* ct, uint8_t* labels) {
    /* Later entries overwrite earlier ones. Image left (low i) = patient right in LPS.
     * HU as in a portal-venous-phase contrast CT (BTCV's): enhanced liver, spleen, kidneys
     * and vessels, fluid in the stomach (with a gas cap) and gallbladder, against unenhanced
     * soft tissue (40). */
    ellipsoid organs[] = {
        {70, 70, 38, 42, 34, 22, 110, 6},    /* liver */
        {140, 85, 40, 16, 14, 12, 125, 1},   /* spleen */
        {125, 60, 35, 26, 14, 10, 15, 7},    /* stomach (fluid, a gas cap, enhancing wall) */
        {72, 100, 30, 11, 9, 12, 170, 2},    /* right kidney */
        {128, 100, 30, 11, 9, 12, 180, 3},   /* left kidney */
        {105, 82, 26, 26, 9, 6, 90, 11},     /* pancreas */
        {80, 60, 28, 12, 10, 8, 5, 4},       /* gallbladder (bile) */
        {108, 95, 35, 8, 8, 40, 160, 8},     /* aorta */
        {88, 95, 35, 9, 7, 40, 130, 9},      /* inferior vena cava */
        {114, 81, 60, 6, 6, 12, 55, 5},      /* esophagus (upper slices, above the stomach; air in its lumen) */
        {108, 74, 33, 18, 6, 5, 185, 10},    /* portal / splenic vein */
        {70, 102, 46, 8, 6, 6, 65, 12},      /* right adrenal gland (above the kidney) */
        {128, 102, 46, 8, 6, 6, 70, 13},     /* left adrenal gland */
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
        layout_rng = scramble(seed);
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
        rng ^= scramble(~seed);
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
                        if (inside(&organs[o], i, j, k)) hu = hollow_organ_hu(&organs[o], i, j, k), label = organs[o].label;
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
