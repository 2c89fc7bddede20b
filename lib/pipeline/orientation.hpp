// Orientation to RAS as MONAI's Orientationd(axcodes="RAS"): only flips and axis
// permutations of the voxel grid, never interpolation (nibabel io_orientation rules).
#pragma once

#include <array>
#include <cstdint>

#include "image/affine.hpp"

namespace swu {

struct Orientation {
    std::array<int, 3> source_axis{0, 1, 2};  // oriented axis a reads source axis source_axis[a]
    std::array<bool, 3> flip{};               // ... counted from its far end
    std::array<int64_t, 3> size{};            // oriented grid size
    Affine affine{};                          // oriented index -> RAS mm

    // Source index along source_axis[a] for oriented index o along a.
    int64_t source_index(int a, int64_t o) const { return flip[a] ? size[a] - 1 - o : o; }
};

Orientation orient_to_ras(const Affine& source_affine, const std::array<int64_t, 3>& source_size);

}  // namespace swu
