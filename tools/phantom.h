/* Synthetic abdomen-like CT phantoms with label maps, through the public C API only
 * (swu_make_phantom writes one; swu_train_phantoms trains on them in memory).
 * Body with a fat rim, the bundle's 13 organs as ellipsoids (liver, spleen, kidneys,
 * stomach with an enhancing wall and a gas cap, pancreas, gallbladder, aorta, IVC,
 * esophagus with air in its lumen, portal/splenic vein, adrenal glands), spine, lung bases
 * and noise, shaded as a portal-venous-phase contrast CT; int16 HU and a uint8 label map
 * (the bundle's classes) on a grid of 200 x 150 x 70 voxels of 0.78 x 0.78 x 2.5 mm: an
 * abdomen at about half an adult's width, the small organs drawn to its scale. A demo and
 * training input, not anatomy.
 * Seed 0 is the fixed reference layout; other seeds move, resize and re-shade every organ
 * a little (a different "patient"), deterministically. */
#ifndef SWU_TOOLS_PHANTOM_H
#define SWU_TOOLS_PHANTOM_H

#include <stdint.h>

#include "swinunetr/swinunetr.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { SWU_PHANTOM_NI = 200, SWU_PHANTOM_NJ = 150, SWU_PHANTOM_NK = 70 };
#define SWU_PHANTOM_VOXELS ((size_t)SWU_PHANTOM_NI * SWU_PHANTOM_NJ * SWU_PHANTOM_NK)

/* Fills ct and labels (SWU_PHANTOM_VOXELS each, i fastest, as NIfTI stores voxels);
 * labels may be NULL. */
void swu_phantom_generate(uint64_t seed, int16_t* ct, uint8_t* labels);

/* Wraps voxels of the phantom's grid (its spacing and LPS origin) as a volume that
 * borrows `data`; NULL (with swu_last_error) on failure. */
swu_volume* swu_phantom_wrap(swu_voxel_type type, void* data);

#ifdef __cplusplus
}
#endif

#endif
