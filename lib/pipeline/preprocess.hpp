// The bundle's deterministic preprocessing: orient to RAS, resample to the target
// spacing (bilinear, MONAI's grid conventions), scale -175..250 HU to 0..1 and clip.
#pragma once

#include <array>
#include <vector>

#include "image/volume.hpp"
#include "pipeline/orientation.hpp"
#include "pipeline/spacing.hpp"

namespace swu {

struct PreprocessOptions {
    std::array<double, 3> pixdim{1.5, 1.5, 2.0};  // mm, along the RAS-oriented axes
    float a_min = -175.0f, a_max = 250.0f;          // HU mapped to 0 and 1
    int threads = 1;
};

struct Preprocessed {
    Orientation orientation;        // source grid -> RAS-oriented grid
    Resampling resampling;          // oriented grid -> network grid
    Affine affine{};                // network grid index -> RAS mm
    std::array<int64_t, 3> size{};  // network grid (X, Y, Z)
    std::vector<float> image;       // C order [x][y][z], values in 0..1
};

Preprocessed preprocess(const Volume& volume, const PreprocessOptions& options);
// The network grid preprocess() would make, with nothing allocated.
std::array<int64_t, 3> network_grid(const Volume& volume, const PreprocessOptions& options);

// A label map on the image's network grid (Spacingd mode "nearest": the same
// coordinates, rounded half to even, clamped to the edge). `labels` must share the
// image's geometry (SWU_ERR_INVALID_ARGUMENT otherwise); values must be integers
// 0..255 (SWU_ERR_FORMAT otherwise).
std::vector<uint8_t> resample_labels(const Volume& labels, const Geometry& image_geometry, const Preprocessed& pre,
                                     int threads);

}  // namespace swu
