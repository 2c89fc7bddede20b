#include "image/affine.hpp"

#include <cmath>

#include "common/error.hpp"

namespace swu {

Affine identity_affine() {
    Affine a{};
    for (int i = 0; i < 4; ++i) a[i][i] = 1.0;
    return a;
}

Affine multiply(const Affine& a, const Affine& b) {
    Affine c{};
    for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 4; ++j) {
            double s = 0;
            for (int k = 0; k < 4; ++k) s += a[i][k] * b[k][j];
            c[i][j] = s;
        }
    return c;
}

Affine solve(const Affine& a, const Affine& b) {
    Affine lu = a, x = b;
    for (int col = 0; col < 4; ++col) {
        int pivot = col;
        for (int r = col + 1; r < 4; ++r)
            if (std::fabs(lu[r][col]) > std::fabs(lu[pivot][col])) pivot = r;
        if (lu[pivot][col] == 0.0) fail(SWU_ERR_INVALID_ARGUMENT, "singular affine (a voxel axis has no extent)");
        std::swap(lu[pivot], lu[col]);
        std::swap(x[pivot], x[col]);
        for (int r = col + 1; r < 4; ++r) {
            const double f = lu[r][col] / lu[col][col];
            for (int c = col; c < 4; ++c) lu[r][c] -= f * lu[col][c];
            for (int c = 0; c < 4; ++c) x[r][c] -= f * x[col][c];
        }
    }
    for (int col = 3; col >= 0; --col) {
        for (int c = 0; c < 4; ++c) {
            double s = x[col][c];
            for (int k = col + 1; k < 4; ++k) s -= lu[col][k] * x[k][c];
            x[col][c] = s / lu[col][col];
        }
    }
    return x;
}

Affine inverse(const Affine& a) { return solve(a, identity_affine()); }

bool allclose(const Affine& a, const Affine& b, double rtol, double atol) {
    for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 4; ++j)
            if (!(std::fabs(a[i][j] - b[i][j]) <= atol + rtol * std::fabs(b[i][j]))) return false;
    return true;
}

}  // namespace swu
