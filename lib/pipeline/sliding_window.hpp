// MONAI's SlidingWindowInferer: windows of roi^3 over the (padded) network grid, run
// in batches through the model, blended by a constant or Gaussian importance map.
#pragma once

#include <array>
#include <vector>

#include "model/model.hpp"
#include "pipeline/progress.hpp"

namespace swu {

enum class Blend { Constant = 0, Gaussian = 1 };

// Where the windows are stitched: Auto uses the backend's sliding_window entry when it has
// one and the model is on a non-CPU device (only probabilities cross back to the host);
// Never keeps the core's host loop; Always uses the entry whenever the backend has one
// (tests), the host loop otherwise.
enum class OnBackend { Auto = 0, Never = 1, Always = 2 };

struct SlidingWindowOptions {
    int roi = 96;           // voxels per axis, a multiple of 32
    double overlap = 0.5;   // fraction of the roi shared by neighbouring windows, [0, 1)
    int sw_batch = 4;       // windows per network call
    Blend blend = Blend::Constant;
    double sigma_scale = 0.125;  // Gaussian sigma as a fraction of the roi
    OnBackend on_backend = OnBackend::Auto;  // internal: not in the C API
};

// Throws SWU_ERR_INVALID_ARGUMENT for an roi, overlap, sw_batch, blend or sigma out of range.
void check_window_options(const SlidingWindowOptions& o);

// Window start positions along one axis of length `length` (already padded to >= roi):
// MONAI's dense_patch_slices, ascending, the last at length - roi.
std::vector<int64_t> window_starts(int64_t length, int roi, double overlap);

// The windows over an image of `size`: axes shorter than the roi padded with 0,
// floor(diff / 2) before and the rest after; window starts per axis in padded
// coordinates. The host loop and the backend's sliding_window entry both use it.
struct WindowGrid {
    std::array<int64_t, 3> padded{}, before{};
    std::array<std::vector<int64_t>, 3> starts;
};
WindowGrid window_grid(const std::array<int64_t, 3>& size, const SlidingWindowOptions& options);

// MONAI's compute_importance_map in float32, roi^3 C order: 1 (constant), or the Gaussian
// exp(-x^2 / (2 sigma^2)) per axis (x = i - (roi-1)/2, sigma = roi * sigma_scale)
// multiplied over the axes and floored at max(its minimum, 1e-3), so never 0.
std::vector<float> importance_map(const SlidingWindowOptions& options);

// The backend's view of a grid and a map (backend.h): it points into both, so they must
// outlive its use.
swu_backend_window_params backend_window_params(const WindowGrid& grid, const std::vector<float>& map,
                                                const SlidingWindowOptions& options);
// Checks backend.h's guarantees for a layout over an image of `size` (SWU_ERR_INVALID_ARGUMENT
// naming the broken one), so that a plugin can index its buffers with its values as they
// are: window_probabilities checks what it hands to Model::stitch.
void check_backend_window_params(const swu_backend_window_params& params, const int64_t size[3]);

// image: C order [x][y][z] of `size`; returns the blended logits {C, X, Y, Z} (C order).
std::vector<float> sliding_window(Model& model, const std::vector<float>& image, const std::array<int64_t, 3>& size,
                                  const SlidingWindowOptions& options, const ProgressFn& progress);

// Whether window_probabilities stitches through the backend's sliding_window entry.
bool stitch_on_backend(const Model& model, const SlidingWindowOptions& options);

// The softmaxed probabilities {C, X, Y, Z}: sliding_window + softmax_channels on the host,
// or the backend's sliding_window entry (stitch_on_backend). `threads` for the softmax.
std::vector<float> window_probabilities(Model& model, const std::vector<float>& image, const std::array<int64_t, 3>& size,
                                        const SlidingWindowOptions& options, int threads, const ProgressFn& progress);

}  // namespace swu
