// Resampling geometry as MONAI's Spacingd(pixdim, bilinear, border, align_corners=False)
// and its inverse: output shape, output affine, and the voxel-to-voxel map.
#pragma once

#include <array>
#include <cstdint>

#include "image/affine.hpp"

namespace swu {

// Maps every output voxel j to the continuous input index xform @ j.
struct Resampling {
    std::array<int64_t, 3> in_size{}, out_size{};
    Affine xform{};
    bool identity = false;  // MONAI skips interpolation when xform ~ I (atol 1e-3) and sizes agree
};

struct SpacingResult {
    Affine affine{};           // of the resampled grid
    Resampling resampling;     // input grid -> resampled grid
};

// zoom_affine(diagonal=False) + compute_shape_offset(scale_extent=False), MONAI 1.3.
SpacingResult plan_spacing(const Affine& in_affine, const std::array<int64_t, 3>& in_size,
                           const std::array<double, 3>& pixdim);

// SpatialResample from src (affine, size) onto dst (affine, size): xform = inv(src) @ dst.
Resampling plan_resampling(const Affine& src, const std::array<int64_t, 3>& src_size, const Affine& dst,
                           const std::array<int64_t, 3>& dst_size);

}  // namespace swu
