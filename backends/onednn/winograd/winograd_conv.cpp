#include "winograd_conv.hpp"

#include "../simd.hpp"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <string>

namespace swu_winograd {
namespace {


// ---- which GEMM kernel ------------------------------------------------------------------

using Kernel = swu_onednn::Simd;

// The CPU's (and ONEDNN_MAX_CPU_ISA's) level; SWU_WINOGRAD_KERNEL=avx2|portable forces a
// lower kernel still (tests).
Kernel detect() {
    Kernel k = swu_onednn::simd_level();
    std::string cap;
    if (const char* e = std::getenv("SWU_WINOGRAD_KERNEL")) cap = e;
    for (char& ch : cap) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (k == Kernel::avx512 && cap == "avx2") k = Kernel::avx2;
    if (cap == "portable") k = Kernel::portable;
    return k;
}

Kernel kernel() {
    static const Kernel k = detect();
    return k;
}

// ---- C{rows, op} = A{rows, k} B{k, op}, row-major, rows a multiple of the kernel's ----
// `next` (or null): the B of the next GEMM, which the last block of rows fetches into L1 as
// it goes (B is in L2 between points; its misses stalled the first block of each point).

void gemm_portable(int64_t rows, int64_t k, int64_t op, const float* a, int64_t lda, const float* b, float* c,
                   int64_t ldc, const float*) {
    for (int64_t r = 0; r < rows; ++r) {
        float* cr = c + r * ldc;
        std::fill(cr, cr + op, 0.0f);
        for (int64_t p = 0; p < k; ++p) {
            const float av = a[r * lda + p];
            const float* bp = b + p * op;
            for (int64_t j = 0; j < op; ++j) cr[j] += av * bp[j];
        }
    }
}

// 6 rows x 16 columns in 12 ymm accumulators.
__attribute__((target("avx2,fma"))) void gemm_avx2(int64_t rows, int64_t k, int64_t op, const float* a, int64_t lda,
                                                   const float* b, float* c, int64_t ldc, const float* next) {
    for (int64_t r = 0; r < rows; r += 6) {
        const float* pf = r + 6 >= rows ? next : nullptr;
        for (int64_t j = 0; j < op; j += 16) {
            __m256 acc[6][2];
#pragma GCC unroll 6
            for (int i = 0; i < 6; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
            const float* ar = a + r * lda;
            for (int64_t p = 0; p < k; ++p) {
                const __m256 b0 = _mm256_loadu_ps(b + p * op + j), b1 = _mm256_loadu_ps(b + p * op + j + 8);
                if (pf) _mm_prefetch(reinterpret_cast<const char*>(pf + p * op + j), _MM_HINT_T0);
#pragma GCC unroll 6
                for (int i = 0; i < 6; ++i) {
                    const __m256 av = _mm256_broadcast_ss(ar + i * lda + p);
                    acc[i][0] = _mm256_fmadd_ps(av, b0, acc[i][0]);
                    acc[i][1] = _mm256_fmadd_ps(av, b1, acc[i][1]);
                }
            }
#pragma GCC unroll 6
            for (int i = 0; i < 6; ++i) {
                _mm256_storeu_ps(c + (r + i) * ldc + j, acc[i][0]);
                _mm256_storeu_ps(c + (r + i) * ldc + j + 8, acc[i][1]);
            }
        }
    }
}

// 8 rows x 16*NV columns in 8*NV zmm accumulators.
template <int NV>
__attribute__((target("avx512f"))) inline void block_avx512(int64_t k, int64_t op, const float* a, int64_t lda,
                                                            const float* b, float* c, int64_t ldc, const float* pf) {
    __m512 acc[8][NV];
#pragma GCC unroll 8
    for (int i = 0; i < 8; ++i)
#pragma GCC unroll 3
        for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_setzero_ps();
    for (int64_t p = 0; p < k; ++p) {
        __m512 bv[NV];
#pragma GCC unroll 3
        for (int v = 0; v < NV; ++v) bv[v] = _mm512_loadu_ps(b + p * op + 16 * v);
        if (pf) {
#pragma GCC unroll 3
            for (int v = 0; v < NV; ++v) _mm_prefetch(reinterpret_cast<const char*>(pf + p * op + 16 * v), _MM_HINT_T0);
        }
#pragma GCC unroll 8
        for (int i = 0; i < 8; ++i) {
            const __m512 av = _mm512_set1_ps(a[i * lda + p]);
#pragma GCC unroll 3
            for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_fmadd_ps(av, bv[v], acc[i][v]);
        }
    }
#pragma GCC unroll 8
    for (int i = 0; i < 8; ++i)
#pragma GCC unroll 3
        for (int v = 0; v < NV; ++v) _mm512_storeu_ps(c + i * ldc + 16 * v, acc[i][v]);
}

__attribute__((target("avx512f"))) void gemm_avx512(int64_t rows, int64_t k, int64_t op, const float* a, int64_t lda,
                                                    const float* b, float* c, int64_t ldc, const float* next) {
    for (int64_t r = 0; r < rows; r += 8) {
        const float* ar = a + r * lda;
        float* cr = c + r * ldc;
        const float* pf = r + 8 >= rows ? next : nullptr;
        int64_t j = 0;
        for (; j + 48 <= op; j += 48) block_avx512<3>(k, op, ar, lda, b + j, cr + j, ldc, pf ? pf + j : nullptr);
        if (op - j == 32) block_avx512<2>(k, op, ar, lda, b + j, cr + j, ldc, pf ? pf + j : nullptr);
        else if (op - j == 16) block_avx512<1>(k, op, ar, lda, b + j, cr + j, ldc, pf ? pf + j : nullptr);
    }
}

// Rows of A are lda floats apart, rows of C ldc apart.
void gemm(int64_t rows, int64_t k, int64_t op, const float* a, int64_t lda, const float* b, float* c, int64_t ldc,
          const float* next) {
    switch (kernel()) {
        case Kernel::avx512: gemm_avx512(rows, k, op, a, lda, b, c, ldc, next); return;
        case Kernel::avx2: gemm_avx2(rows, k, op, a, lda, b, c, ldc, next); return;
        case Kernel::portable: gemm_portable(rows, k, op, a, lda, b, c, ldc, next); return;
    }
}

// ---- bf16: C{rows, op} += A{rows, k} B{k, op} by vdpbf16ps ------------------------------
// A's rows are bf16, lda apart; B is in pairs of k, b[k / 2][op][2] (Weights::ub). Each
// vdpbf16ps adds the products of two k at once (32 multiplies per instruction, twice an
// fp32 FMA's), summed in fp32.

bool cpu_bf16() {
    __builtin_cpu_init();
    return kernel() == Kernel::avx512 && __builtin_cpu_supports("avx512bf16");
}

// 8 rows x 16*NV columns in 8*NV zmm accumulators, as block_avx512.
template <int NV>
__attribute__((target("avx512f,avx512bf16"))) inline void block_bf16(int64_t k, int64_t op, const uint16_t* a,
                                                                     int64_t lda, const uint16_t* b, float* c,
                                                                     int64_t ldc, const uint16_t* pf) {
    __m512 acc[8][NV];
#pragma GCC unroll 8
    for (int i = 0; i < 8; ++i)
#pragma GCC unroll 3
        for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_setzero_ps();
    for (int64_t p = 0; p < k; p += 2) {
        __m512bh bv[NV];
#pragma GCC unroll 3
        for (int v = 0; v < NV; ++v) bv[v] = (__m512bh)_mm512_loadu_si512(b + (p * op + 32 * v));
        if (pf) {
#pragma GCC unroll 3
            for (int v = 0; v < NV; ++v) _mm_prefetch(reinterpret_cast<const char*>(pf + (p * op + 32 * v)), _MM_HINT_T0);
        }
#pragma GCC unroll 8
        for (int i = 0; i < 8; ++i) {
            int32_t pair;
            std::memcpy(&pair, a + i * lda + p, sizeof pair);
            const __m512bh av = (__m512bh)_mm512_set1_epi32(pair);
#pragma GCC unroll 3
            for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_dpbf16_ps(acc[i][v], av, bv[v]);
        }
    }
#pragma GCC unroll 8
    for (int i = 0; i < 8; ++i)
#pragma GCC unroll 3
        for (int v = 0; v < NV; ++v) _mm512_storeu_ps(c + i * ldc + 16 * v, acc[i][v]);
}

// Rows a multiple of 8, k even (b + j * 2: column j of the pair layout).
__attribute__((target("avx512f,avx512bf16"))) void gemm(int64_t rows, int64_t k, int64_t op, const uint16_t* a,
                                                        int64_t lda, const uint16_t* b, float* c, int64_t ldc,
                                                        const uint16_t* next) {
    for (int64_t r = 0; r < rows; r += 8) {
        const uint16_t* ar = a + r * lda;
        float* cr = c + r * ldc;
        const uint16_t* pf = r + 8 >= rows ? next : nullptr;
        int64_t j = 0;
        for (; j + 48 <= op; j += 48) block_bf16<3>(k, op, ar, lda, b + 2 * j, cr + j, ldc, pf ? pf + 2 * j : nullptr);
        if (op - j == 32) block_bf16<2>(k, op, ar, lda, b + 2 * j, cr + j, ldc, pf ? pf + 2 * j : nullptr);
        else if (op - j == 16) block_bf16<1>(k, op, ar, lda, b + 2 * j, cr + j, ldc, pf ? pf + 2 * j : nullptr);
    }
}

// Multiply-adds per second of a chain-free loop of vdpbf16ps over one of FMAs, both on
// zmm registers, the best of three short runs (about 0.2 ms each). Zen 4 runs a vdpbf16ps
// (32 products) per cycle like an FMA (16), so about 2; Intel's Sapphire Rapids runs it
// at half the FMA's rate, so about 0.5 (it has AMX for bf16 instead).
template <int DP>
__attribute__((target("avx512f,avx512bf16"), noinline)) double dot_seconds(long n) {
    volatile float seed = 0.5f;
    const __m512 b = _mm512_set1_ps(seed), c = _mm512_set1_ps(seed * 0.25f);
    const __m512bh bb = (__m512bh)_mm512_set1_epi32(0x3f003f00), cc = bb;  // pairs of bf16 0.5
    __m512 acc[12];
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) acc[i] = _mm512_set1_ps(seed * static_cast<float>(i));
    const auto start = std::chrono::steady_clock::now();
    for (long k = 0; k < n; ++k)
#pragma GCC unroll 12
        for (int i = 0; i < 12; ++i) acc[i] = DP ? _mm512_dpbf16_ps(acc[i], bb, cc) : _mm512_fmadd_ps(acc[i], b, c);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    float sum = 0;
    for (int i = 0; i < 12; ++i) {
        alignas(64) float lanes[16];
        _mm512_store_ps(lanes, acc[i]);
        sum += lanes[0];
    }
    seed = sum;  // keeps the loops
    return seconds;
}

double dot_ratio() {
    constexpr long n = 20000;
    double fma = 1e9, dp = 1e9;
    for (int r = 0; r < 3; ++r) {
        fma = std::min(fma, dot_seconds<0>(n));
        dp = std::min(dp, dot_seconds<1>(n));
    }
    return (32.0 / dp) / (16.0 / fma);
}

// ---- transforms ---------------------------------------------------------------------------
// One call per tile, cloned per ISA so that the channel loops inside are vectorised at the
// CPU's width. Points of a line are `step` floats apart; n channels per point. M is the
// output tile (2: F(2,3), input tile 4; 4: F(4,3), input tile 6).

template <int M> struct Line;

template <> struct Line<2> {
    // Bᵀ d: Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1].
    static inline void bt(const float* __restrict s, int64_t ss, float* __restrict d, int64_t ds, int64_t n) {
        for (int64_t ch = 0; ch < n; ++ch) {
            const float a0 = s[ch], a1 = s[ss + ch], a2 = s[2 * ss + ch], a3 = s[3 * ss + ch];
            d[ch] = a0 - a2;
            d[ds + ch] = a1 + a2;
            d[2 * ds + ch] = a2 - a1;
            d[3 * ds + ch] = a1 - a3;
        }
    }
    // Aᵀ m: Aᵀ = [1 1 1 0; 0 1 -1 -1].
    static inline void at(const float* __restrict m, int64_t ms, float* __restrict o, int64_t os, int64_t n) {
        for (int64_t ch = 0; ch < n; ++ch) {
            const float a1 = m[ms + ch], a2 = m[2 * ms + ch];
            o[ch] = m[ch] + a1 + a2;
            o[os + ch] = a1 - a2 - m[3 * ms + ch];
        }
    }
};

template <> struct Line<3> {
    // Bᵀ d (points 0, 1, -1, -2, ∞): Bᵀ = [2 1 -2 -1 0; 0 2 3 1 0; 0 -2 1 1 0; 0 1 0 -1 0; 0 -2 -1 2 1].
    static inline void bt(const float* __restrict s, int64_t ss, float* __restrict d, int64_t ds, int64_t n) {
        for (int64_t ch = 0; ch < n; ++ch) {
            const float a0 = s[ch], a1 = s[ss + ch], a2 = s[2 * ss + ch], a3 = s[3 * ss + ch], a4 = s[4 * ss + ch];
            d[ch] = 2.0f * (a0 - a2) + a1 - a3;
            d[ds + ch] = 2.0f * a1 + 3.0f * a2 + a3;
            d[2 * ds + ch] = a2 + a3 - 2.0f * a1;
            d[3 * ds + ch] = a1 - a3;
            d[4 * ds + ch] = 2.0f * (a3 - a1) - a2 + a4;
        }
    }
    // Aᵀ m: Aᵀ = [1 1 1 1 0; 0 1 -1 -2 0; 0 1 1 4 1].
    static inline void at(const float* __restrict m, int64_t ms, float* __restrict o, int64_t os, int64_t n) {
        for (int64_t ch = 0; ch < n; ++ch) {
            const float a0 = m[ch], a1 = m[ms + ch], a2 = m[2 * ms + ch], a3 = m[3 * ms + ch], a4 = m[4 * ms + ch];
            const float s12 = a1 + a2;
            o[ch] = a0 + s12 + a3;
            o[os + ch] = a1 - a2 - 2.0f * a3;
            o[2 * os + ch] = s12 + 4.0f * a3 + a4;
        }
    }
};

template <> struct Line<4> {
    // Bᵀ d: Bᵀ = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1].
    static inline void bt(const float* __restrict s, int64_t ss, float* __restrict d, int64_t ds, int64_t n) {
        for (int64_t ch = 0; ch < n; ++ch) {
            const float a0 = s[ch], a1 = s[ss + ch], a2 = s[2 * ss + ch], a3 = s[3 * ss + ch], a4 = s[4 * ss + ch],
                        a5 = s[5 * ss + ch];
            const float p = a4 - 4.0f * a2, q = a3 - 4.0f * a1, r = a4 - a2, t = 2.0f * (a3 - a1);
            d[ch] = 4.0f * a0 - 5.0f * a2 + a4;
            d[ds + ch] = p + q;
            d[2 * ds + ch] = p - q;
            d[3 * ds + ch] = r + t;
            d[4 * ds + ch] = r - t;
            d[5 * ds + ch] = 4.0f * a1 - 5.0f * a3 + a5;
        }
    }
    // Aᵀ m: Aᵀ = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1].
    static inline void at(const float* __restrict m, int64_t ms, float* __restrict o, int64_t os, int64_t n) {
        for (int64_t ch = 0; ch < n; ++ch) {
            const float a0 = m[ch], a1 = m[ms + ch], a2 = m[2 * ms + ch], a3 = m[3 * ms + ch], a4 = m[4 * ms + ch],
                        a5 = m[5 * ms + ch];
            const float s12 = a1 + a2, d12 = a1 - a2, s34 = a3 + a4, d34 = a3 - a4;
            o[ch] = a0 + s12 + s34;
            o[os + ch] = d12 + 2.0f * d34;
            o[2 * os + ch] = s12 + 4.0f * s34;
            o[3 * os + ch] = d12 + 8.0f * d34 + a5;
        }
    }
};

// Input tile -> A^3 transformed rows of C, row p at v + p * C. The tile's points are
// row (iz, iy) at src + iz * zstep + iy * ystep, points C apart along x.
template <int M>
inline void input_tile_t(const float* src, int64_t zstep, int64_t ystep, int64_t C, float* ta, float* tb, float* v) {
    constexpr int A = M + 2;
    for (int iz = 0; iz < A; ++iz)
        for (int iy = 0; iy < A; ++iy) Line<M>::bt(src + iz * zstep + iy * ystep, C, ta + (iz * A + iy) * A * C, C, C);
    for (int iz = 0; iz < A; ++iz)
        for (int ix = 0; ix < A; ++ix) Line<M>::bt(ta + (iz * A * A + ix) * C, A * C, tb + (iz * A * A + ix) * C, A * C, C);
    for (int iy = 0; iy < A; ++iy)
        for (int ix = 0; ix < A; ++ix)
            Line<M>::bt(tb + (iy * A + ix) * C, A * A * C, v + (iy * A + ix) * C, A * A * C, C);
}

// A^3 products (row p at m + p * OP, OP wide) -> the M^3 outputs plus bias, written
// where `inside` says (output (oz, oy, ox) at y + oz * zstep + oy * ystep + ox * O).
template <int M>
inline void output_tile_t(const float* m, int64_t OP, int64_t O, const float* bias, float* ta, float* tb, float* y,
                          int64_t zstep, int64_t ystep, const bool* inside) {
    constexpr int A = M + 2;
    // x: [A][A][A] -> [A][A][M] in ta; y: -> [A][M][M] in tb; z: -> [M][M][M] in ta.
    for (int a = 0; a < A * A; ++a) Line<M>::at(m + a * A * OP, OP, ta + a * M * OP, OP, OP);
    for (int iz = 0; iz < A; ++iz)
        for (int ox = 0; ox < M; ++ox) Line<M>::at(ta + (iz * A * M + ox) * OP, M * OP, tb + (iz * M * M + ox) * OP, M * OP, OP);
    for (int b = 0; b < M * M; ++b) Line<M>::at(tb + b * OP, M * M * OP, ta + b * OP, M * M * OP, OP);
    for (int q = 0; q < M * M * M; ++q) {
        if (!inside[q]) continue;
        const float* src = ta + q * OP;
        float* dst = y + (q / (M * M)) * zstep + ((q / M) % M) * ystep + (q % M) * O;
        for (int64_t oc = 0; oc < O; ++oc) dst[oc] = src[oc] + bias[oc];
    }
}

// The line transforms of F(2,3) and F(3,3) on vectors of channels (Line<M> for GCC vectors).
template <int M> struct VecLine;
template <> struct VecLine<2> {
    template <class Vec>
    static inline void bt(const Vec* a, Vec* d) {
        d[0] = a[0] - a[2];
        d[1] = a[1] + a[2];
        d[2] = a[2] - a[1];
        d[3] = a[1] - a[3];
    }
    template <class Vec>
    static inline void at(const Vec* a, Vec* o) {
        o[0] = a[0] + a[1] + a[2];
        o[1] = a[1] - a[2] - a[3];
    }
};
template <> struct VecLine<3> {
    template <class Vec>
    static inline void bt(const Vec* a, Vec* d) {
        const Vec d13 = a[1] - a[3];
        d[0] = 2.0f * (a[0] - a[2]) + d13;
        d[1] = 2.0f * a[1] + 3.0f * a[2] + a[3];
        d[2] = a[2] + a[3] - 2.0f * a[1];
        d[3] = d13;
        d[4] = a[4] - a[2] - 2.0f * d13;
    }
    template <class Vec>
    static inline void at(const Vec* a, Vec* o) {
        const Vec s12 = a[1] + a[2];
        o[0] = a[0] + s12 + a[3];
        o[1] = a[1] - a[2] - 2.0f * a[3];
        o[2] = s12 + 4.0f * a[3] + a[4];
    }
};

// F(2,3)'s and F(3,3)'s input transform with a vector of L channels held in registers
// through the x and y passes of each z plane (A^2 values, A = M + 2), then the z pass from
// a stack buffer: two trips through memory per point instead of three line passes. Vec is
// a GCC vector of L floats; C must be a multiple of L. Out: float, or uint16_t for bf16
// (16 lanes).
template <class Vec>
__attribute__((always_inline)) inline void store(float* dst, const Vec& r) {
    std::memcpy(dst, &r, sizeof(Vec));
}
// bf16 by vcvtneps2bf16: rounded to nearest even like to_bf16, but subnormal floats (below
// 1.2e-38) become zeros. One instruction instead of the five of the integer rounding (the
// F(2,3) bf16 input transform ran 26 % faster from L1 with it); inline assembly, since an
// intrinsic would need a target on every function this is inlined through. Only called
// where the CPU has AVX512-BF16 (Weights::bf16).
__attribute__((always_inline)) inline void store(uint16_t* dst, const swu_onednn::Vec16& r) {
    typedef uint16_t H16 __attribute__((vector_size(32)));
    H16 h;
    asm("vcvtneps2bf16 %1, %0" : "=v"(h) : "v"(r));
    std::memcpy(dst, &h, sizeof h);
}

template <int M, class Vec, int L, class Out>
__attribute__((always_inline)) inline void input_tile_reg(const float* src, int64_t zstep, int64_t ystep, int64_t C,
                                                          Out* v) {
    constexpr int A = M + 2;
    for (int64_t ch = 0; ch < C; ch += L) {
        Vec plane[A][A * A];
        for (int iz = 0; iz < A; ++iz) {
            Vec d[A][A], t[A][A];
            for (int iy = 0; iy < A; ++iy)
                for (int ix = 0; ix < A; ++ix)
                    std::memcpy(&d[iy][ix], src + iz * zstep + iy * ystep + ix * C + ch, sizeof(Vec));
            for (int iy = 0; iy < A; ++iy) VecLine<M>::bt(d[iy], t[iy]);  // along x
            for (int ex = 0; ex < A; ++ex) {                               // along y
                Vec col[A], out[A];
                for (int iy = 0; iy < A; ++iy) col[iy] = t[iy][ex];
                VecLine<M>::bt(col, out);
                for (int ey = 0; ey < A; ++ey) plane[iz][ey * A + ex] = out[ey];
            }
        }
        for (int q = 0; q < A * A; ++q) {  // along z: rows ez * A^2 + q
            Vec col[A], out[A];
            for (int iz = 0; iz < A; ++iz) col[iz] = plane[iz][q];
            VecLine<M>::bt(col, out);
            for (int ez = 0; ez < A; ++ez) store(v + (ez * A * A + q) * C + ch, out[ez]);
        }
    }
}

using swu_onednn::Vec16;
using swu_onednn::Vec8;

template <int M>
__attribute__((target("avx512f"))) void input_tile_avx512(const float* src, int64_t zstep, int64_t ystep, int64_t C,
                                                           float* v) {
    input_tile_reg<M, Vec16, 16>(src, zstep, ystep, C, v);
}
__attribute__((target("avx512f"))) void input_tile_f2_bf16(const float* src, int64_t zstep, int64_t ystep, int64_t C,
                                                            uint16_t* v) {
    input_tile_reg<2, Vec16, 16>(src, zstep, ystep, C, v);
}
template <int M>
__attribute__((target("avx2,fma"))) void input_tile_avx2(const float* src, int64_t zstep, int64_t ystep, int64_t C,
                                                         float* v) {
    input_tile_reg<M, Vec8, 8>(src, zstep, ystep, C, v);
}

__attribute__((target_clones("avx512f", "avx2", "default")))
void input_tile_lines(int m, const float* src, int64_t zstep, int64_t ystep, int64_t C, float* ta, float* tb, float* v) {
    if (m == 4) input_tile_t<4>(src, zstep, ystep, C, ta, tb, v);
    else if (m == 3) input_tile_t<3>(src, zstep, ystep, C, ta, tb, v);
    else input_tile_t<2>(src, zstep, ystep, C, ta, tb, v);
}

// The output transform the same way: per vector of L output channels, the x and y passes
// of each z-frequency plane in registers, then the z pass, the bias and the store of the
// outputs inside the volume. O must be a multiple of L.
template <int M, class Vec, int L>
__attribute__((always_inline)) inline void output_tile_reg(const float* m, int64_t OP, int64_t O, const float* bias,
                                                           float* y, int64_t zstep, int64_t ystep, const bool* inside) {
    constexpr int A = M + 2;
    for (int64_t oc = 0; oc < O; oc += L) {
        Vec plane[A][M * M];
        for (int a = 0; a < A; ++a) {
            Vec d[A][A], t[A][M];
            for (int b = 0; b < A; ++b)
                for (int e = 0; e < A; ++e) std::memcpy(&d[b][e], m + ((a * A + b) * A + e) * OP + oc, sizeof(Vec));
            for (int b = 0; b < A; ++b) VecLine<M>::at(d[b], t[b]);  // along x
            for (int ox = 0; ox < M; ++ox) {                          // along y
                Vec col[A], out[M];
                for (int b = 0; b < A; ++b) col[b] = t[b][ox];
                VecLine<M>::at(col, out);
                for (int oy = 0; oy < M; ++oy) plane[a][oy * M + ox] = out[oy];
            }
        }
        Vec bv;
        std::memcpy(&bv, bias + oc, sizeof(Vec));
        for (int q = 0; q < M * M; ++q) {  // along z: outputs (oz, q)
            Vec col[A], out[M];
            for (int a = 0; a < A; ++a) col[a] = plane[a][q];
            VecLine<M>::at(col, out);
            for (int oz = 0; oz < M; ++oz) {
                if (!inside[oz * M * M + q]) continue;
                const Vec r = out[oz] + bv;
                std::memcpy(y + oz * zstep + (q / M) * ystep + (q % M) * O + oc, &r, sizeof(Vec));
            }
        }
    }
}

template <int M>
__attribute__((target("avx512f"))) void output_tile_avx512(const float* m, int64_t OP, int64_t O, const float* bias,
                                                            float* y, int64_t zstep, int64_t ystep, const bool* inside) {
    output_tile_reg<M, Vec16, 16>(m, OP, O, bias, y, zstep, ystep, inside);
}
template <int M>
__attribute__((target("avx2,fma"))) void output_tile_avx2(const float* m, int64_t OP, int64_t O, const float* bias,
                                                          float* y, int64_t zstep, int64_t ystep, const bool* inside) {
    output_tile_reg<M, Vec8, 8>(m, OP, O, bias, y, zstep, ystep, inside);
}

// The vector width of the register-held F(2,3) and F(3,3) transforms for `channels`
// channels: 16 (AVX-512), 8 (AVX2), or 0: the line passes (F(4,3), the portable kernel,
// other counts).
int fused_lanes(int m, int64_t channels) {
    if (m == 4) return 0;
    if (kernel() == Kernel::avx512 && channels % 16 == 0) return 16;
    if (kernel() != Kernel::portable && channels % 8 == 0) return 8;
    return 0;
}

// Tile -> its P transformed rows of C channels, contiguous at v (bf16: F(2,3), AVX-512,
// C a multiple of 16, as transform_weights grants it).
void input_tile(int, const float* src, int64_t zstep, int64_t ystep, int64_t C, float*, float*, uint16_t* v) {
    input_tile_f2_bf16(src, zstep, ystep, C, v);
}
void input_tile(int m, const float* src, int64_t zstep, int64_t ystep, int64_t C, float* ta, float* tb, float* v) {
    switch (fused_lanes(m, C)) {
        case 16: return m == 3 ? input_tile_avx512<3>(src, zstep, ystep, C, v) : input_tile_avx512<2>(src, zstep, ystep, C, v);
        case 8: return m == 3 ? input_tile_avx2<3>(src, zstep, ystep, C, v) : input_tile_avx2<2>(src, zstep, ystep, C, v);
        default: return input_tile_lines(m, src, zstep, ystep, C, ta, tb, v);
    }
}

__attribute__((target_clones("avx512f", "avx2", "default")))
void output_tile_lines(int m, const float* mm, int64_t OP, int64_t O, const float* bias, float* ta, float* tb, float* y,
                       int64_t zstep, int64_t ystep, const bool* inside) {
    if (m == 4) output_tile_t<4>(mm, OP, O, bias, ta, tb, y, zstep, ystep, inside);
    else if (m == 3) output_tile_t<3>(mm, OP, O, bias, ta, tb, y, zstep, ystep, inside);
    else output_tile_t<2>(mm, OP, O, bias, ta, tb, y, zstep, ystep, inside);
}

// A tile's P product rows (OP wide, contiguous at mm) -> its outputs plus bias.
void output_tile(int m, const float* mm, int64_t OP, int64_t O, const float* bias, float* ta, float* tb, float* y,
                 int64_t zstep, int64_t ystep, const bool* inside) {
    switch (fused_lanes(m, O)) {
        case 16:
            return m == 3 ? output_tile_avx512<3>(mm, OP, O, bias, y, zstep, ystep, inside)
                          : output_tile_avx512<2>(mm, OP, O, bias, y, zstep, ystep, inside);
        case 8:
            return m == 3 ? output_tile_avx2<3>(mm, OP, O, bias, y, zstep, ystep, inside)
                          : output_tile_avx2<2>(mm, OP, O, bias, y, zstep, ystep, inside);
        default: return output_tile_lines(m, mm, OP, O, bias, ta, tb, y, zstep, ystep, inside);
    }
}

template <class T>
void grow(aligned_vector<T>& v, int64_t n) {
    if (static_cast<int64_t>(v.size()) < n) v.resize(static_cast<size_t>(n));
}

struct Geometry {
    int64_t n, d, h, w, m, td, th, tw;
    int64_t tiles() const { return n * td * th * tw; }
};

// Tile `t`'s origin (item, z0, y0, x0) in output (= input) voxels.
void tile_origin(const Geometry& g, int64_t t, int64_t& item, int64_t& z0, int64_t& y0, int64_t& x0) {
    x0 = (t % g.tw) * g.m;
    t /= g.tw;
    y0 = (t % g.th) * g.m;
    t /= g.th;
    z0 = (t % g.td) * g.m;
    item = t / g.td;
}

}  // namespace

const char* kernel_name() {
    switch (kernel()) {
        case Kernel::avx512: return "avx512";
        case Kernel::avx2: return "avx2";
        case Kernel::portable: return "portable";
    }
    return "portable";
}

Weights transform_weights(const float* w, const float* bias, int64_t o, int64_t c, int m, bool bf16) {
    if (m != 2 && m != 3 && m != 4) m = 2;
    const int A = m + 2, P = A * A * A;
    Weights r;
    r.c = c;
    r.o = o;
    r.m = m;
    r.op = (o + 15) / 16 * 16;
    r.u.assign(static_cast<size_t>(P * c * r.op), 0.0f);
    r.bias.assign(static_cast<size_t>(r.op), 0.0f);
    if (bias) std::copy(bias, bias + o, r.bias.begin());
    // G, applied along each axis in double. F(2,3): [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1].
    // F(4,3): [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1].
    static const double G2[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
    static const double G4[6][3] = {{0.25, 0, 0},           {-1.0 / 6, -1.0 / 6, -1.0 / 6}, {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                    {1.0 / 24, 1.0 / 12, 1.0 / 6}, {1.0 / 24, -1.0 / 12, 1.0 / 6}, {0, 0, 1}};
    // F(3,3): [1/2 0 0; 1/6 1/6 1/6; 1/2 -1/2 1/2; 1/6 -1/3 2/3; 0 0 1].
    static const double G3[5][3] = {
        {0.5, 0, 0}, {1.0 / 6, 1.0 / 6, 1.0 / 6}, {0.5, -0.5, 0.5}, {1.0 / 6, -1.0 / 3, 2.0 / 3}, {0, 0, 1}};
    auto G = [&](int row, int col) { return m == 4 ? G4[row][col] : m == 3 ? G3[row][col] : G2[row][col]; };
    for (int64_t oc = 0; oc < o; ++oc)
        for (int64_t ic = 0; ic < c; ++ic) {
            const float* g = w + (oc * c + ic) * 27;
            double t1[6][3][3], t2[6][6][3];
            for (int a = 0; a < A; ++a)
                for (int y = 0; y < 3; ++y)
                    for (int x = 0; x < 3; ++x) {
                        double s = 0;
                        for (int z = 0; z < 3; ++z) s += G(a, z) * g[(z * 3 + y) * 3 + x];
                        t1[a][y][x] = s;
                    }
            for (int a = 0; a < A; ++a)
                for (int b = 0; b < A; ++b)
                    for (int x = 0; x < 3; ++x) {
                        double s = 0;
                        for (int y = 0; y < 3; ++y) s += G(b, y) * t1[a][y][x];
                        t2[a][b][x] = s;
                    }
            for (int a = 0; a < A; ++a)
                for (int b = 0; b < A; ++b)
                    for (int e = 0; e < A; ++e) {
                        double s = 0;
                        for (int x = 0; x < 3; ++x) s += G(e, x) * t2[a][b][x];
                        r.u[static_cast<size_t>(((a * A + b) * A + e) * c * r.op + ic * r.op + oc)] = static_cast<float>(s);
                    }
        }
    r.bf16 = bf16 && m == 2 && c % 16 == 0 && cpu_bf16();
    if (r.bf16) {  // u[p][ic][oc] -> ub[p][ic / 2][oc][ic % 2]
        r.ub.resize(r.u.size());
        for (int64_t p = 0; p < P; ++p)
            for (int64_t ic = 0; ic < c; ++ic)
                for (int64_t oc = 0; oc < r.op; ++oc)
                    r.ub[static_cast<size_t>(p * c * r.op + (ic / 2) * r.op * 2 + oc * 2 + ic % 2)] =
                        swu_onednn::to_bf16(r.u[static_cast<size_t>((p * c + ic) * r.op + oc)]);
        aligned_vector<float>().swap(r.u);
    }
    return r;
}

bool bf16_available() { return cpu_bf16(); }

bool bf16_faster() {
    static const bool faster = [] {
        if (!cpu_bf16()) return false;
        if (const char* e = std::getenv("SWU_WINOGRAD_BF16")) return std::strcmp(e, "0") != 0;
        return dot_ratio() >= 1.3;
    }();
    return faster;
}

namespace {

// The transformed operand V's element: float, or uint16_t (bf16) with Weights::ub.
template <class In>
const In* operand(const Weights& wt);
template <>
const float* operand<float>(const Weights& wt) { return wt.u.data(); }
template <>
const uint16_t* operand<uint16_t>(const Weights& wt) { return wt.ub.data(); }

template <class In>
void run(const Weights& wt, const float* x, int64_t n, int64_t d, int64_t h, int64_t wd, float* y, int threads,
         const std::atomic<bool>* stop) {
    const int64_t C = wt.c, O = wt.o, OP = wt.op;
    const int M = wt.m, A = M + 2, P = A * A * A;
    const Geometry g{n, d, h, wd, M, (d + M - 1) / M, (h + M - 1) / M, (wd + M - 1) / M};
    // Tiles per block: a multiple of 24 (both kernels' row counts) whose transformed
    // input and products (P x T x (C + OP) floats) stay within about 1 MB per thread.
    const int64_t fit = (int64_t(1) << 20) / (P * (int64_t(sizeof(In)) * C + 4 * OP));
    const int64_t T = std::max<int64_t>(24, fit / 24 * 24);
    const int64_t tiles = g.tiles(), blocks = (tiles + T - 1) / T;
    // A tile's rows in V and M: P * C (P * OP) values plus 64 bytes, so that the 8 tiles a
    // GEMM block reads (writes) at once do not all fall in one L1 set (P * C * 4 bytes is
    // a multiple of 4 KB for C = 48, 96, ...).
    const int64_t vstride = P * C + 64 / int64_t(sizeof(In)), mstride = P * OP + 16;
    const int nthreads = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, blocks)));

#pragma omp parallel num_threads(nthreads)
    {
        // Per-thread scratch, kept between calls (OpenMP's threads persist): fresh pages
        // for every convolution cost as much as the transforms (the kernel clears them).
        thread_local aligned_vector<In> V;
        thread_local aligned_vector<float> Mm, gather, ta, tb;
        const int64_t width = std::max(C, OP);
        grow(V, vstride * T);
        grow(Mm, mstride * T);
        grow(gather, P * C);
        grow(ta, P * width);
        grow(tb, P * width);
#pragma omp for schedule(static)
        for (int64_t blk = 0; blk < blocks; ++blk) {
            if (stop && stop->load(std::memory_order_relaxed)) continue;
            const int64_t t0 = blk * T, count = std::min(T, tiles - t0);
            // Input transform: V[tt][p][C], one tile's P rows contiguous.
            for (int64_t tt = 0; tt < T; ++tt) {
                In* vt = V.data() + tt * vstride;
                if (tt >= count) {  // rows past the last tile: zeros, never written out
                    std::fill_n(vt, P * C, In(0));
                    continue;
                }
                int64_t item, z0, y0, x0;
                tile_origin(g, t0 + tt, item, z0, y0, x0);
                const float* xi = x + item * d * h * wd * C;
                const bool interior = z0 >= 1 && y0 >= 1 && x0 >= 1 && z0 + M < d && y0 + M < h && x0 + M < wd;
                if (interior) {  // straight from the volume
                    input_tile(M, xi + (((z0 - 1) * h + (y0 - 1)) * wd + (x0 - 1)) * C, h * wd * C, wd * C, C, ta.data(),
                               tb.data(), vt);
                    continue;
                }
                for (int iz = 0; iz < A; ++iz)
                    for (int iy = 0; iy < A; ++iy)
                        for (int ix = 0; ix < A; ++ix) {
                            const int64_t z = z0 - 1 + iz, yy = y0 - 1 + iy, xx = x0 - 1 + ix;
                            float* dst = gather.data() + ((iz * A + iy) * A + ix) * C;
                            if (z < 0 || z >= d || yy < 0 || yy >= h || xx < 0 || xx >= wd) std::fill_n(dst, C, 0.0f);
                            else std::memcpy(dst, xi + ((z * h + yy) * wd + xx) * C, static_cast<size_t>(C) * 4);
                        }
                input_tile(M, gather.data(), A * A * C, A * C, C, ta.data(), tb.data(), vt);
            }
            // P GEMMs: M[.][p] {T, OP} = V[.][p] {T, C} U[p] {C, OP} (rows vstride and mstride apart).
            for (int p = 0; p < P; ++p)
                gemm(T, C, OP, V.data() + p * C, vstride, operand<In>(wt) + p * C * OP, Mm.data() + p * OP, mstride,
                     p + 1 < P ? operand<In>(wt) + (p + 1) * C * OP : nullptr);
            // Output transform, bias, store.
            for (int64_t tt = 0; tt < count; ++tt) {
                int64_t item, z0, y0, x0;
                tile_origin(g, t0 + tt, item, z0, y0, x0);
                bool inside[64];
                for (int q = 0; q < M * M * M; ++q)
                    inside[q] = z0 + q / (M * M) < d && y0 + (q / M) % M < h && x0 + q % M < wd;
                output_tile(M, Mm.data() + tt * mstride, OP, O, wt.bias.data(), ta.data(), tb.data(),
                            y + item * d * h * wd * O + ((z0 * h + y0) * wd + x0) * O, h * wd * O, wd * O, inside);
            }
        }
    }
}

}  // namespace

void conv3x3x3(const Weights& wt, const float* x, int64_t n, int64_t d, int64_t h, int64_t wd, float* y, int threads,
               const std::atomic<bool>* stop) {
    if (wt.bf16) run<uint16_t>(wt, x, n, d, h, wd, y, threads, stop);
    else run<float>(wt, x, n, d, h, wd, y, threads, stop);
}

}  // namespace swu_winograd
