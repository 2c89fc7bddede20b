#include "pipeline/orientation.hpp"

#include <cmath>

#include "common/error.hpp"

namespace swu {
namespace {

using Mat3 = std::array<std::array<double, 3>, 3>;

Mat3 inverse_transpose(const Mat3& m) {
    const double det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
                       m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    if (std::fabs(det) < 1e-12) fail(SWU_ERR_INVALID_ARGUMENT, "degenerate image direction");
    Mat3 c;  // cofactor matrix = det * inverse^T
    c[0][0] = m[1][1] * m[2][2] - m[1][2] * m[2][1];
    c[0][1] = -(m[1][0] * m[2][2] - m[1][2] * m[2][0]);
    c[0][2] = m[1][0] * m[2][1] - m[1][1] * m[2][0];
    c[1][0] = -(m[0][1] * m[2][2] - m[0][2] * m[2][1]);
    c[1][1] = m[0][0] * m[2][2] - m[0][2] * m[2][0];
    c[1][2] = -(m[0][0] * m[2][1] - m[0][1] * m[2][0]);
    c[2][0] = m[0][1] * m[1][2] - m[0][2] * m[1][1];
    c[2][1] = -(m[0][0] * m[1][2] - m[0][2] * m[1][0]);
    c[2][2] = m[0][0] * m[1][1] - m[0][1] * m[1][0];
    for (auto& row : c)
        for (double& v : row) v /= det;
    return c;
}

// The orthogonal factor of the polar decomposition (what nibabel gets from the SVD:
// R = P @ Qs), by Newton's iteration R <- (R + R^-T) / 2.
Mat3 nearest_rotation(Mat3 r) {
    for (int it = 0; it < 100; ++it) {
        const Mat3 t = inverse_transpose(r);
        double change = 0;
        for (int i = 0; i < 3; ++i)
            for (int j = 0; j < 3; ++j) {
                const double v = 0.5 * (r[i][j] + t[i][j]);
                change = std::max(change, std::fabs(v - r[i][j]));
                r[i][j] = v;
            }
        if (change < 1e-15) break;
    }
    return r;
}

}  // namespace

Orientation orient_to_ras(const Affine& a, const std::array<int64_t, 3>& source_size) {
    // nibabel.orientations.io_orientation: normalise the columns, take the nearest
    // orthogonal matrix, then for each voxel axis the world axis it is closest to.
    Mat3 rs;
    for (int c = 0; c < 3; ++c) {
        double zoom = std::sqrt(a[0][c] * a[0][c] + a[1][c] * a[1][c] + a[2][c] * a[2][c]);
        if (zoom == 0) zoom = 1;
        for (int r = 0; r < 3; ++r) rs[r][c] = a[r][c] / zoom;
    }
    Mat3 rot = nearest_rotation(rs);
    std::array<int, 3> world_of{};  // world axis of source axis
    std::array<bool, 3> negative{};
    std::array<bool, 3> taken{};
    for (int in = 0; in < 3; ++in) {
        int best = 0;
        for (int w = 1; w < 3; ++w)
            if (std::fabs(rot[w][in]) > std::fabs(rot[best][in])) best = w;
        if (taken[best] || rot[best][in] == 0.0) fail(SWU_ERR_INVALID_ARGUMENT, "cannot orient the image: degenerate direction");
        taken[best] = true;
        world_of[in] = best;
        negative[in] = rot[best][in] < 0;
        for (int c = 0; c < 3; ++c) rot[best][c] = 0;  // nibabel zeroes the used world row
    }

    Orientation o;
    for (int in = 0; in < 3; ++in) {
        const int out = world_of[in];
        o.source_axis[out] = in;
        o.flip[out] = negative[in];
        o.size[out] = source_size[in];
    }
    // oriented index -> source index, then the source affine.
    Affine t{};
    t[3][3] = 1;
    for (int out = 0; out < 3; ++out) {
        const int in = o.source_axis[out];
        if (o.flip[out]) {
            t[in][out] = -1;
            t[in][3] = static_cast<double>(o.size[out] - 1);
        } else {
            t[in][out] = 1;
        }
    }
    o.affine = multiply(a, t);
    return o;
}

}  // namespace swu
