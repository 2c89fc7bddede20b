// Reading a swu_volume from the CLI's own code (organ report, preview): its info, a
// voxel as a double, and an index's position in patient coordinates.
#pragma once

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "swinunetr/swinunetr.h"

namespace swu_cli {

inline swu_volume_info info_of(const swu_volume* v) {
    swu_volume_info info{};
    info.struct_size = sizeof info;
    if (swu_volume_get_info(v, &info) != SWU_OK) throw std::runtime_error(swu_last_error());
    return info;
}

// The voxel `offset` elements from the start (i * strides[0] + j * strides[1] + ...).
inline double voxel(const swu_volume_info& v, int64_t offset) {
    switch (v.type) {
        case SWU_VOXEL_INT16: return static_cast<const int16_t*>(v.data)[offset];
        case SWU_VOXEL_UINT16: return static_cast<const uint16_t*>(v.data)[offset];
        case SWU_VOXEL_UINT8: return static_cast<const uint8_t*>(v.data)[offset];
        default: return static_cast<const float*>(v.data)[offset];
    }
}

// Patient coordinates (LPS mm) of the (possibly fractional) index (i, j, k).
inline std::array<double, 3> world(const swu_volume_info& g, double i, double j, double k) {
    const double idx[3] = {i * g.spacing[0], j * g.spacing[1], k * g.spacing[2]};
    std::array<double, 3> p{};
    for (int r = 0; r < 3; ++r)
        p[r] = g.origin[r] + g.direction[r * 3] * idx[0] + g.direction[r * 3 + 1] * idx[1] + g.direction[r * 3 + 2] * idx[2];
    return p;
}

}  // namespace swu_cli
