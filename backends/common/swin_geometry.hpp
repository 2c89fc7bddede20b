// The Swin geometry both backends compute with: the effective window and shift per axis
// (MONAI's get_window_size) and the order in which patch merging concatenates the 8
// strided sub-grids (the merging variant). One definition, so the backends cannot drift.
#pragma once

#include <array>
#include <cstdint>

#include "swinunetr/swinunetr.h"

namespace swu_swin {

// A grid no larger than the window along an axis is one window there and is never
// shifted; otherwise windows of `window` voxels, shifted by window / 2 on shifted blocks,
// over the grid padded at the far end to a multiple of the window.
struct Windows {
    std::array<int64_t, 3> size{}, shift{}, padded{};
    bool shifted() const { return shift[0] > 0 || shift[1] > 0 || shift[2] > 0; }
    int64_t tokens() const { return size[0] * size[1] * size[2]; }
    int64_t count() const { return (padded[0] / size[0]) * (padded[1] / size[1]) * (padded[2] / size[2]); }
};

inline Windows windows_for(const int64_t grid[3], int64_t window, bool shift) {
    Windows w;
    for (int i = 0; i < 3; ++i) {
        const bool whole = grid[i] <= window;
        w.size[i] = whole ? grid[i] : window;
        w.shift[i] = (whole || !shift) ? 0 : window / 2;
        w.padded[i] = (grid[i] + w.size[i] - 1) / w.size[i] * w.size[i];
    }
    return w;
}
inline Windows windows_for(const std::array<int64_t, 3>& grid, int64_t window, bool shift) {
    return windows_for(grid.data(), window, shift);
}

// (d, h, w) offsets of the 8 sub-grids patch merging concatenates, in its order: legacy =
// MONAI v0.9 (the bundle's), which repeats two sub-grids; monai15 = MONAI >= 1.5's
// PatchMerging; v2 = PatchMergingV2 (raster order).
using MergeOffsets = std::array<std::array<int, 3>, 8>;
inline const MergeOffsets& merge_offsets(int32_t merging) {
    static const MergeOffsets legacy = {
        {{0, 0, 0}, {1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {1, 0, 1}, {0, 1, 0}, {0, 0, 1}, {1, 1, 1}}};
    static const MergeOffsets monai15 = {
        {{0, 0, 0}, {1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {1, 1, 0}, {1, 0, 1}, {0, 1, 1}, {1, 1, 1}}};
    static const MergeOffsets v2 = {
        {{0, 0, 0}, {0, 0, 1}, {0, 1, 0}, {0, 1, 1}, {1, 0, 0}, {1, 0, 1}, {1, 1, 0}, {1, 1, 1}}};
    return merging == SWU_MERGING_MONAI15 ? monai15 : merging == SWU_MERGING_V2 ? v2 : legacy;
}

}  // namespace swu_swin
