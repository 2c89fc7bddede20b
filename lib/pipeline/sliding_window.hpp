// MONAI's SlidingWindowInferer: windows of roi^3 over the (padded) network grid, run
// in batches through the model, blended by a constant or Gaussian importance map.
#pragma once

#include <array>
#include <vector>

#include "model/model.hpp"
#include "pipeline/progress.hpp"

namespace swu {

enum class Blend { Constant = 0, Gaussian = 1 };

struct SlidingWindowOptions {
    int roi = 96;           // voxels per axis, a multiple of 32
    double overlap = 0.5;   // fraction of the roi shared by neighbouring windows, [0, 1)
    int sw_batch = 4;       // windows per network call
    Blend blend = Blend::Constant;
    double sigma_scale = 0.125;  // Gaussian sigma as a fraction of the roi
};

// Window start positions along one axis of length `length` (already padded to >= roi).
std::vector<int64_t> window_starts(int64_t length, int roi, double overlap);

// image: C order [x][y][z] of `size`; returns the blended logits {C, X, Y, Z} (C order).
std::vector<float> sliding_window(Model& model, const std::vector<float>& image, const std::array<int64_t, 3>& size,
                                  const SlidingWindowOptions& options, const ProgressFn& progress);

}  // namespace swu
