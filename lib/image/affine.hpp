// 4x4 homogeneous affines in float64, as MONAI / nibabel use them: voxel index
// (i, j, k, 1) -> world millimetres.
#pragma once

#include <array>

namespace swu {

using Affine = std::array<std::array<double, 4>, 4>;

Affine identity_affine();
Affine multiply(const Affine& a, const Affine& b);
// inv(a) @ b by LU with partial pivoting (numpy.linalg.solve); throws SWU_ERR_INVALID_ARGUMENT if singular.
Affine solve(const Affine& a, const Affine& b);
Affine inverse(const Affine& a);
// |a - b| <= atol + rtol |b| element-wise (numpy.allclose).
bool allclose(const Affine& a, const Affine& b, double rtol, double atol);

}  // namespace swu
