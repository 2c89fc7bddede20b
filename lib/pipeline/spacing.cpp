#include "pipeline/spacing.hpp"

#include <cfenv>
#include <cmath>

#include "common/error.hpp"
#include "common/limits.hpp"

namespace swu {
namespace {

constexpr double kAffineTol = 1e-3;  // MONAI AFFINE_TOL

// Upper-triangular U with rzs^T rzs = U^T U (numpy: cholesky(M).T).
std::array<std::array<double, 3>, 3> cholesky_upper(const Affine& a) {
    double m[3][3];
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) {
            m[i][j] = 0;
            for (int k = 0; k < 3; ++k) m[i][j] += a[k][i] * a[k][j];
        }
    std::array<std::array<double, 3>, 3> l{};
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j <= i; ++j) {
            double s = m[i][j];
            for (int k = 0; k < j; ++k) s -= l[i][k] * l[j][k];
            if (i == j) {
                if (!(s > 0)) fail(SWU_ERR_INVALID_ARGUMENT, "image affine is degenerate");
                l[i][i] = std::sqrt(s);
            } else {
                l[i][j] = s / l[j][j];
            }
        }
    std::array<std::array<double, 3>, 3> u{};
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) u[i][j] = l[j][i];
    return u;
}

}  // namespace

Resampling plan_resampling(const Affine& src, const std::array<int64_t, 3>& src_size, const Affine& dst,
                           const std::array<int64_t, 3>& dst_size) {
    Resampling r;
    r.in_size = src_size;
    r.out_size = dst_size;
    r.xform = solve(src, dst);
    r.identity = src_size == dst_size &&
                 (allclose(src, dst, 1e-5, kAffineTol) || allclose(r.xform, identity_affine(), 1e-5, kAffineTol));
    return r;
}

SpacingResult plan_spacing(const Affine& in, const std::array<int64_t, 3>& in_size, const std::array<double, 3>& pixdim) {
    // zoom_affine: keep the rotation of the input, set the column norms to pixdim.
    const auto zs = cholesky_upper(in);
    Affine zs4 = identity_affine();
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) zs4[i][j] = zs[i][j];
    Affine rzs = identity_affine();
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) rzs[i][j] = in[i][j];
    const Affine rotation = multiply(rzs, inverse(zs4));
    Affine out = identity_affine();
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) out[i][j] = rotation[i][j] * ((zs[j][j] > 0 ? 1.0 : -1.0) * std::fabs(pixdim[j]));

    // compute_shape_offset: map the 8 corner voxel centres into the output grid.
    const Affine mat = solve(out, in);
    double corners[4][8], mapped[4][8];
    for (int c = 0; c < 8; ++c) {
        corners[0][c] = (c & 4) ? static_cast<double>(in_size[0] - 1) : 0.0;
        corners[1][c] = (c & 2) ? static_cast<double>(in_size[1] - 1) : 0.0;
        corners[2][c] = (c & 1) ? static_cast<double>(in_size[2] - 1) : 0.0;
        corners[3][c] = 1.0;
    }
    for (int r = 0; r < 4; ++r)
        for (int c = 0; c < 8; ++c) {
            double s = 0;
            for (int k = 0; k < 4; ++k) s += mat[r][k] * corners[k][c];
            mapped[r][c] = s;
        }
    std::array<int64_t, 3> out_size{};
    double extent[3];
    const int old_round = std::fegetround();
    std::fesetround(FE_TONEAREST);  // numpy.round: half to even
    for (int r = 0; r < 3; ++r) {
        double lo = INFINITY, hi = -INFINITY;
        for (int c = 0; c < 8; ++c) {
            const double v = mapped[r][c] / mapped[3][c];
            lo = std::min(lo, v);
            hi = std::max(hi, v);
        }
        extent[r] = std::nearbyint(hi - lo + 1.0);
    }
    std::fesetround(old_round);
    // Huge voxel spacings make a huge grid: refuse it before casting or allocating.
    check_voxel_limit(extent[0], extent[1], extent[2], "the resampled network grid (1.5 x 1.5 x 2 mm)");
    for (int r = 0; r < 3; ++r) {
        if (!(extent[r] >= 1)) fail(SWU_ERR_INVALID_ARGUMENT, "resampled grid would be empty");
        out_size[r] = static_cast<int64_t>(extent[r]);
    }

    bool found = false;
    double offset[3] = {0, 0, 0};
    for (int i = 0; i < 8 && !found; ++i) {
        bool minimal = true;
        for (int r = 0; r < 3; ++r) {
            double m = INFINITY;
            for (int c = 0; c < 8; ++c) m = std::min(m, mapped[r][c] - mapped[r][i]);
            if (!(std::fabs(m) <= 1e-8)) minimal = false;
        }
        if (minimal) {
            found = true;
            for (int r = 0; r < 3; ++r) {
                double s = 0;
                for (int k = 0; k < 4; ++k) s += in[r][k] * corners[k][i];
                offset[r] = s;
            }
        }
    }
    if (!found) {  // centre-aligned, as MONAI does when no corner is minimal on every axis
        for (int r = 0; r < 3; ++r) {
            double s = in[r][3];
            for (int k = 0; k < 3; ++k) s += in[r][k] * (in_size[k] / 2.0) - out[r][k] * (out_size[k] / 2.0);
            offset[r] = s;
        }
    }
    for (int r = 0; r < 3; ++r) out[r][3] = offset[r];

    SpacingResult result;
    result.affine = out;
    result.resampling = plan_resampling(in, in_size, out, out_size);
    return result;
}

}  // namespace swu
