// Trilinear sampling exactly as torch.nn.functional.grid_sample(mode="bilinear",
// padding_mode="border") evaluates it on CPU in float64 — the interpolation MONAI's
// Spacingd and Invertd use: coordinates clamped to [0, L-1] per axis, the eight corner
// weights formed and summed in PyTorch's order.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>

#include "image/affine.hpp"

namespace swu {

struct TrilinearStencil {
    int64_t index[8][3];  // corner indices (axis 0, 1, 2)
    double weight[8];
    bool inside[8];       // corners past the far edge have weight 0 and are skipped, as in PyTorch
};

// Continuous index -> stencil. Axis 0 plays grid_sample's z, axis 2 its x.
inline TrilinearStencil trilinear_stencil(const double coord[3], const std::array<int64_t, 3>& size) {
    double c[3];
    int64_t lo[3];
    for (int a = 0; a < 3; ++a) {
        c[a] = std::min(static_cast<double>(size[a] - 1), std::max(coord[a], 0.0));
        lo[a] = static_cast<int64_t>(std::floor(c[a]));
    }
    const double z = c[0], y = c[1], x = c[2];
    const double z0 = static_cast<double>(lo[0]), y0 = static_cast<double>(lo[1]), x0 = static_cast<double>(lo[2]);
    const double z1 = z0 + 1, y1 = y0 + 1, x1 = x0 + 1;
    // PyTorch order: tnw, tne, tsw, tse, bnw, bne, bsw, bse (t/b: z, n/s: y, w/e: x).
    const double w[8] = {(x1 - x) * (y1 - y) * (z1 - z), (x - x0) * (y1 - y) * (z1 - z), (x1 - x) * (y - y0) * (z1 - z),
                         (x - x0) * (y - y0) * (z1 - z), (x1 - x) * (y1 - y) * (z - z0), (x - x0) * (y1 - y) * (z - z0),
                         (x1 - x) * (y - y0) * (z - z0), (x - x0) * (y - y0) * (z - z0)};
    TrilinearStencil s;
    for (int n = 0; n < 8; ++n) {
        const int64_t dz = (n >> 2) & 1, dy = (n >> 1) & 1, dx = n & 1;
        s.index[n][0] = lo[0] + dz;
        s.index[n][1] = lo[1] + dy;
        s.index[n][2] = lo[2] + dx;
        s.weight[n] = w[n];
        s.inside[n] = s.index[n][0] < size[0] && s.index[n][1] < size[1] && s.index[n][2] < size[2];
    }
    return s;
}

// xform (output index -> input continuous index) applied to an integer index.
inline void map_index(const Affine& xform, int64_t i, int64_t j, int64_t k, double out[3]) {
    for (int r = 0; r < 3; ++r) out[r] = xform[r][0] * i + xform[r][1] * j + xform[r][2] * k + xform[r][3];
}

}  // namespace swu
