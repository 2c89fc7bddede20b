// 3x3x3 stride-1 convolutions by 3D Winograd F(2x2x2, 3x3x3): each 2x2x2 block of
// outputs comes from a 4x4x4 input tile through 64 element-wise products per channel
// pair instead of 216 (3.4x fewer multiplies), done as 64 small GEMMs in the transformed
// domain. README.md names the algorithm and its error analysis.
#pragma once

#include <cstdint>
#include <vector>

namespace swu_winograd {

// The weights {O, C, 3, 3, 3} (PyTorch's order) transformed once for output tiles of
// m^3 (m = 2: F(2,3), 64 positions; m = 4: F(4,3), 216 positions): u[positions][C][op],
// op = O rounded up to 16 (zero columns), plus the bias (zeros when none) padded alike.
struct Weights {
    int64_t c = 0, o = 0, op = 0;
    int m = 2;
    std::vector<float> u, bias;
};
Weights transform_weights(const float* w, const float* bias, int64_t o, int64_t c, int m = 2);

// y{N, D, H, W, O} = conv3d(x{N, D, H, W, C}, w, stride 1, zero padding 1) + bias, both
// channels-last float32, on `threads` OpenMP threads.
void conv3x3x3(const Weights& w, const float* x, int64_t n, int64_t d, int64_t h, int64_t wd, float* y, int threads);

// The GEMM kernel this CPU runs: "avx512", "avx2" or "portable" (SWU_WINOGRAD_KERNEL
// = portable|avx2 forces a lower one, for tests).
const char* kernel_name();

}  // namespace swu_winograd
