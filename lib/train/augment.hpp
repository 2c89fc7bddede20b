// The bundle's random training transforms on a preprocessed case, with our own seeded
// generator (MONAI's numpy streams cannot be reproduced; the distributions are the same):
// RandCropByPosNegLabeld(roi^3, pos 1, neg 1, num_samples, image_threshold 0), then per
// crop RandFlipd on each axis (p 0.1), RandRotate90d (max_k 3, p 0.1, axes 0-1) and
// RandShiftIntensityd (offsets 0.1, p 0.5).
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "train/dataset.hpp"

namespace swu {

using Rng = std::mt19937_64;

struct Patch {
    std::vector<float> image;    // roi^3, C order
    std::vector<uint8_t> label;  // roi^3
};

struct AugmentOptions {
    int roi = 96;
    int num_samples = 2;
    double pos = 1, neg = 1;
    float image_threshold = 0.0f;
    double flip_prob = 0.1, rotate_prob = 0.1, shift_prob = 0.5;
    float shift_offset = 0.1f;
};

// Crop centres: with probability pos / (pos + neg) a foreground voxel (label > 0), else
// a background voxel whose image value exceeds image_threshold; uniformly among them.
// Centres are moved inward so the crop fits (MONAI correct_crop_centers). An axis
// shorter than roi is zero-padded at its far end first (where MONAI would refuse).
std::vector<Patch> random_patches(const Case& c, const AugmentOptions& options, Rng& rng);

}  // namespace swu
