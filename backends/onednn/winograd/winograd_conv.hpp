// 3x3x3 stride-1 convolutions by 3D Winograd F(m x m x m, 3x3x3): each m^3 block of
// outputs comes from an (m + 2)^3 input tile through (m + 2)^3 element-wise products per
// channel pair instead of 27 m^3 (m = 2: 64 instead of 216, 3.4x fewer multiplies; m = 3:
// 125 instead of 729, 5.8x), done as (m + 2)^3 small GEMMs in the transformed domain.
// README.md names the algorithm and its error analysis.
#pragma once

#include "../simd.hpp"

#include <atomic>
#include <cstdint>

namespace swu_winograd {

using swu_onednn::aligned_vector;

// The weights {O, C, 3, 3, 3} (PyTorch's order) transformed once for output tiles of
// m^3 (m = 2: F(2,3), 64 positions; m = 3: F(3,3), 125; m = 4: F(4,3), 216): u[positions][C][op],
// op = O rounded up to 16 (zero columns), plus the bias (zeros when none) padded alike.
// bf16 (asked for, and granted where the CPU has AVX512-BF16, m = 2 and C is a multiple of
// 16): u is empty and ub holds u rounded to bf16 in pairs of input channels,
// ub[positions][C / 2][op][2], the operand layout of vdpbf16ps; the transformed inputs are
// then rounded to bf16 too and the products summed in fp32 (README.md: bf16).
struct Weights {
    int64_t c = 0, o = 0, op = 0;
    int m = 2;
    bool bf16 = false;
    aligned_vector<float> u, bias;
    aligned_vector<uint16_t> ub;
};
Weights transform_weights(const float* w, const float* bias, int64_t o, int64_t c, int m = 2, bool bf16 = false);

// y{N, D, H, W, O} = conv3d(x{N, D, H, W, C}, w, stride 1, zero padding 1) + bias, both
// channels-last float32, on `threads` OpenMP threads. Once *stop (optional) is true the
// remaining blocks of tiles are skipped: y is then incomplete (a cancelled forward).
void conv3x3x3(const Weights& w, const float* x, int64_t n, int64_t d, int64_t h, int64_t wd, float* y, int threads,
               const std::atomic<bool>* stop = nullptr);

// The GEMM kernel this CPU runs: "avx512", "avx2" or "portable" (SWU_WINOGRAD_KERNEL
// = portable|avx2 forces a lower one, for tests).
const char* kernel_name();

// Whether transform_weights(..., bf16 = true) can grant bf16 on this CPU (AVX512-BF16 and
// the avx512 kernel).
bool bf16_available();

// Whether bf16 is also the faster choice here: vdpbf16ps does at least 1.3x the
// multiply-adds per second of an fp32 FMA (timed once per process, ~0.5 ms: about 2 on AMD
// Zen 4, 0.5 on Intel Sapphire Rapids). SWU_WINOGRAD_BF16=0|1 decides instead.
bool bf16_faster();

}  // namespace swu_winograd
