#include "attention_core.hpp"

#include "simd.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace swu_onednn {

namespace {

constexpr float kMaskValue = -100.0f;
constexpr float kPad = -1e30f;  // bias past a row's n keys: their e^(x - max) is e^-80, nothing
constexpr int kRows = 8;  // query rows whose scores are held at once


template <class Vec>
__attribute__((always_inline)) inline void load(Vec& v, const float* p) {
    std::memcpy(&v, p, sizeof(Vec));
}
template <class Vec>
__attribute__((always_inline)) inline void store(float* p, const Vec& v) {
    std::memcpy(p, &v, sizeof(Vec));
}

// Every lane = x, as an initialiser of identical elements (a single broadcast; Vec{} + x
// would keep an addition, since -0 + 0 is +0).
__attribute__((always_inline)) inline void splat(float& v, float x) { v = x; }
__attribute__((always_inline)) inline void splat(Vec8& v, float x) {
    const Vec8 a{x};
    v = __builtin_shufflevector(a, a, 0, 0, 0, 0, 0, 0, 0, 0);
}
__attribute__((always_inline)) inline void splat(Vec16& v, float x) {
    const Vec16 a{x};
    v = __builtin_shufflevector(a, a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
}

// e^x for x <= 0 (softmax arguments after the row maximum is subtracted), in place, on a
// float or a GCC vector of them (VecU: its uint32 counterpart): Cody-Waite range reduction
// and Cephes' degree-6 polynomial, ~1 ulp. x below kExpFloor gives e^kExpFloor (1.8e-35,
// nothing beside a row sum >= 1, and products with it stay clear of subnormals). Adding
// 1.5 * 2^23 + 127 rounds x / ln 2 to an integer n and leaves n + 127 in the low mantissa
// bits: shifted left by 23 they are the exponent field of 2^n (the rest shifts out).
template <class Vec, class VecU>
__attribute__((always_inline)) inline void exp_nonpositive(Vec& x) {
    constexpr float kExpFloor = -80.0f, kMagic = 12582912.0f + 127.0f;
    const Vec lo = Vec{} + kExpFloor;
    x = x > lo ? x : lo;
    const Vec nb = x * 1.44269504088896341f + kMagic;
    const Vec n = nb - kMagic;
    const Vec r = (x - n * 0.693359375f) + n * 2.12194440e-4f;
    Vec p = Vec{} + 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    VecU bits;
    std::memcpy(&bits, &nb, sizeof bits);
    bits <<= 23;
    Vec scale;
    std::memcpy(&scale, &bits, sizeof scale);
    x = p * scale;
}

template <int L> struct IntVec;
template <> struct IntVec<16> { typedef VecI16 type; };
template <> struct IntVec<8> { typedef VecI8 type; };
template <> struct IntVec<1> { typedef int32_t type; };
typedef uint32_t VecU16 __attribute__((vector_size(64)));
typedef uint32_t VecU8 __attribute__((vector_size(32)));
template <int L> struct UintVec;
template <> struct UintVec<16> { typedef VecU16 type; };
template <> struct UintVec<8> { typedef VecU8 type; };
template <> struct UintVec<1> { typedef uint32_t type; };

// Largest and sum of the lanes, halving (a chain of 15 scalar steps costs each row ~60
// cycles of latency).
__attribute__((always_inline)) inline float lanes_max(float v) { return v; }
__attribute__((always_inline)) inline float lanes_sum(float v) { return v; }
__attribute__((always_inline)) inline float lanes_max(const Vec8& x) {
    Vec8 v = x;
    const Vec8 a = __builtin_shufflevector(v, v, 4, 5, 6, 7, 0, 1, 2, 3);
    v = v > a ? v : a;
    const Vec8 b = __builtin_shufflevector(v, v, 2, 3, 0, 1, 6, 7, 4, 5);
    v = v > b ? v : b;
    return std::max(v[0], v[1]);
}
__attribute__((always_inline)) inline float lanes_sum(const Vec8& x) {
    Vec8 v = x;
    v += __builtin_shufflevector(v, v, 4, 5, 6, 7, 0, 1, 2, 3);
    v += __builtin_shufflevector(v, v, 2, 3, 0, 1, 6, 7, 4, 5);
    return v[0] + v[1];
}
__attribute__((always_inline)) inline float lanes_max(const Vec16& v) {
    const Vec8 lo = __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7);
    const Vec8 hi = __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15);
    return lanes_max(lo > hi ? lo : hi);
}
__attribute__((always_inline)) inline float lanes_sum(const Vec16& v) {
    return lanes_sum(__builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7) +
                     __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15));
}

// One row of scores, np wide: + bias, + mask where the key's region differs from `own`
// (MONAI's order: (attn + bias) + mask), then e^(x - max) in place. The bias row is padded
// past the window's n keys with kPad, so those columns drop out with no tail loop. Returns
// 1 / the row's sum: the softmax's division is applied to the row's output (apply_values),
// not to its n probabilities.
template <class Vec, int L>
__attribute__((always_inline)) inline float softmax_row(float* row, int64_t np, const float* brow, const int32_t* lab,
                                                        int32_t own) {
    typedef typename IntVec<L>::type VecI;
    Vec mv;
    splat(mv, kPad);
    for (int64_t b = 0; b < np; b += L) {
        Vec v, bv;
        load(v, row + b);
        load(bv, brow + b);
        v += bv;
        if (lab) {
            VecI lv;
            std::memcpy(&lv, lab + b, sizeof lv);
            v += lv != own ? Vec{} + kMaskValue : Vec{};
        }
        store(row + b, v);
        mv = v > mv ? v : mv;
    }
    const float mx = lanes_max(mv);
    Vec sv = Vec{};
    for (int64_t b = 0; b < np; b += L) {
        Vec v;
        load(v, row + b);
        v -= mx;
        exp_nonpositive<Vec, typename UintVec<L>::type>(v);
        store(row + b, v);
        sv += v;
    }
    return 1.0f / lanes_sum(sv);
}

// Scores of rows [a0, a0 + R) against all keys, then bias, mask and e^(x - max), in s {R, np},
// with each row's 1 / sum in inv_sum.
// kt {hd, np} is k transposed (columns past n are zeros), q {n, hd} already scaled, bias
// {n, np} and lab {np} padded.
template <class Vec, int L>
__attribute__((always_inline)) inline void scores(const float* q, const float* kt, int64_t np, int64_t hd, int64_t a0,
                                                  int R, const float* bias, const int32_t* lab, float* s,
                                                  float* inv_sum) {
    for (int64_t j = 0; j < np; j += 2 * L) {
        Vec acc[kRows][2];
#pragma GCC unroll 8
        for (int r = 0; r < kRows; ++r) acc[r][0] = acc[r][1] = Vec{};
        for (int64_t d = 0; d < hd; ++d) {
            Vec k0, k1;
            load(k0, kt + d * np + j);
            load(k1, kt + d * np + j + L);
#pragma GCC unroll 8
            for (int r = 0; r < kRows; ++r) {  // q has whole blocks of kRows rows (zeros past n)
                Vec qb;
                splat(qb, q[(a0 + r) * hd + d]);
                acc[r][0] += qb * k0;
                acc[r][1] += qb * k1;
            }
        }
        for (int r = 0; r < R; ++r) {
            store(s + r * np + j, acc[r][0]);
            store(s + r * np + j + L, acc[r][1]);
        }
    }
    for (int r = 0; r < R; ++r)
        inv_sum[r] = softmax_row<Vec, L>(s + r * np, np, bias + (a0 + r) * np, lab, lab ? lab[a0 + r] : 0);
}

// o rows [a0, a0 + R) = (p {R, np} @ v {n, hd}) * inv_sum, written at out + a * ostride.
template <class Vec, int L>
__attribute__((always_inline)) inline void apply_values(const float* p, const float* inv_sum, int64_t np, const float* v,
                                                        int64_t n, int64_t hd, int R, float* out, int64_t ostride) {
    for (int64_t e = 0; e < hd; e += L) {
        Vec acc[kRows];
#pragma GCC unroll 8
        for (int r = 0; r < kRows; ++r) acc[r] = Vec{};
        for (int64_t b = 0; b < n; ++b) {
            Vec vb;
            load(vb, v + b * hd + e);
#pragma GCC unroll 8
            for (int r = 0; r < kRows; ++r) {  // rows past R hold stale scores, never stored
                Vec pb;
                splat(pb, p[r * np + b]);
                acc[r] += pb * vb;
            }
        }
        for (int r = 0; r < R; ++r) store(out + r * ostride + e, acc[r] * inv_sum[r]);
    }
}

// In-register transpose of L rows of L floats: row i becomes column i. log2(L) rounds; the
// round of size b swaps the off-diagonal b x b blocks of every 2b x 2b block: rows i and
// i + b exchange the halves selected by lo/hi (two-source shuffles, vpermt2ps).
#define SWU_LIST(...) __VA_ARGS__
#define SWU_TRANSPOSE_ROUND(B, LO, HI)                                        \
    for (int i = 0; i < L; ++i)                                               \
        if ((i & (B)) == 0) {                                                 \
            const Vec a = r[i], c = r[i + (B)];                               \
            r[i] = __builtin_shufflevector(a, c, LO);                         \
            r[i + (B)] = __builtin_shufflevector(a, c, HI);                   \
        }
__attribute__((always_inline)) inline void transpose(Vec16 (&r)[16]) {
    typedef Vec16 Vec;
    constexpr int L = 16;
    SWU_TRANSPOSE_ROUND(8, SWU_LIST(0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23),
                        SWU_LIST(8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31))
    SWU_TRANSPOSE_ROUND(4, SWU_LIST(0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27),
                        SWU_LIST(4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31))
    SWU_TRANSPOSE_ROUND(2, SWU_LIST(0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29),
                        SWU_LIST(2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31))
    SWU_TRANSPOSE_ROUND(1, SWU_LIST(0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30),
                        SWU_LIST(1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31))
}
__attribute__((always_inline)) inline void transpose(Vec8 (&r)[8]) {
    typedef Vec8 Vec;
    constexpr int L = 8;
    SWU_TRANSPOSE_ROUND(4, SWU_LIST(0, 1, 2, 3, 8, 9, 10, 11), SWU_LIST(4, 5, 6, 7, 12, 13, 14, 15))
    SWU_TRANSPOSE_ROUND(2, SWU_LIST(0, 1, 8, 9, 4, 5, 12, 13), SWU_LIST(2, 3, 10, 11, 6, 7, 14, 15))
    SWU_TRANSPOSE_ROUND(1, SWU_LIST(0, 8, 2, 10, 4, 12, 6, 14), SWU_LIST(1, 9, 3, 11, 5, 13, 7, 15))
}
#undef SWU_TRANSPOSE_ROUND
#undef SWU_LIST

// One (window, head): q, k, v gathered from qkv into per-thread buffers (k transposed, L x L
// blocks at a time), then kRows rows at a time. bias {n, np} and lab {np}: padded rows.
template <class Vec, int L>
__attribute__((always_inline)) inline void window_head(const float* qkv, int64_t n, int64_t np, int64_t heads,
                                                       int64_t hd, float scale, const float* bias, const int32_t* lab,
                                                       float* out) {
    const int64_t C = heads * hd, nq = (n + kRows - 1) / kRows * kRows;
    thread_local aligned_vector<float> q, kt, v, s;
    if (q.size() < static_cast<size_t>(nq * hd)) q.resize(static_cast<size_t>(nq * hd));
    if (v.size() < static_cast<size_t>(n * hd)) v.resize(static_cast<size_t>(n * hd));
    if (kt.size() < static_cast<size_t>(hd * np)) kt.resize(static_cast<size_t>(hd * np));
    if (s.size() < static_cast<size_t>(kRows * np)) s.resize(static_cast<size_t>(kRows * np));
    for (int64_t t = 0; t < n; ++t) {
        const float* row = qkv + t * 3 * C;
        for (int64_t e = 0; e < hd; e += L) {
            Vec x;
            load(x, row + e);
            store(q.data() + t * hd + e, x * scale);
            load(x, row + 2 * C + e);
            store(v.data() + t * hd + e, x);
        }
    }
    int64_t t0 = 0;
    if constexpr (L > 1) {
        for (; t0 + L <= n; t0 += L)
            for (int64_t e0 = 0; e0 < hd; e0 += L) {
                Vec r[L];
                for (int i = 0; i < L; ++i) load(r[i], qkv + (t0 + i) * 3 * C + C + e0);
                transpose(r);
                for (int i = 0; i < L; ++i) store(kt.data() + (e0 + i) * np + t0, r[i]);
            }
    }
    for (int64_t t = t0; t < n; ++t)
        for (int64_t e = 0; e < hd; ++e) kt[static_cast<size_t>(e * np + t)] = qkv[t * 3 * C + C + e];
    for (int64_t e = 0; e < hd; ++e) std::fill(kt.data() + e * np + n, kt.data() + (e + 1) * np, 0.0f);
    std::fill(q.data() + n * hd, q.data() + nq * hd, 0.0f);
    for (int64_t a0 = 0; a0 < n; a0 += kRows) {
        const int R = static_cast<int>(std::min<int64_t>(kRows, n - a0));
        float inv_sum[kRows];
        scores<Vec, L>(q.data(), kt.data(), np, hd, a0, R, bias, lab, s.data(), inv_sum);
        apply_values<Vec, L>(s.data(), inv_sum, np, v.data(), n, hd, R, out + a0 * C, C);
    }
}

__attribute__((target("avx512f"))) void window_head_avx512(const float* qkv, int64_t n, int64_t np, int64_t heads,
                                                            int64_t hd, float scale, const float* bias,
                                                            const int32_t* lab, float* out) {
    window_head<Vec16, 16>(qkv, n, np, heads, hd, scale, bias, lab, out);
}
__attribute__((target("avx2,fma"))) void window_head_avx2(const float* qkv, int64_t n, int64_t np, int64_t heads,
                                                          int64_t hd, float scale, const float* bias,
                                                          const int32_t* lab, float* out) {
    window_head<Vec8, 8>(qkv, n, np, heads, hd, scale, bias, lab, out);
}
void window_head_scalar(const float* qkv, int64_t n, int64_t np, int64_t heads, int64_t hd, float scale,
                        const float* bias, const int32_t* lab, float* out) {
    window_head<float, 1>(qkv, n, np, heads, hd, scale, bias, lab, out);
}

}  // namespace

void attention_core(const float* qkv, int64_t windows, int64_t n, int64_t heads, int64_t hd, float scale,
                    const float* bias, const int32_t* labels, int64_t first_window, int64_t image_windows, float* out) {
    const Simd isa = simd_level();
    const int L = isa == Simd::avx512 && hd % 16 == 0 ? 16 : isa != Simd::portable && hd % 8 == 0 ? 8 : 1;
    const int64_t C = heads * hd, np = (n + 2 * L - 1) / (2 * L) * (2 * L);
    // Bias and labels with rows np long and line-aligned: kPad past n in the bias masks the
    // padding columns out of the softmax. Kept by the calling thread (at most ~6 MB, the
    // f48 stage 3): allocated per call, their fresh pages cost more than the copy.
    thread_local aligned_vector<float> pbias;
    thread_local aligned_vector<int32_t> plabels;
    if (pbias.size() < static_cast<size_t>(heads * n * np)) pbias.resize(static_cast<size_t>(heads * n * np));
    if (labels && plabels.size() < static_cast<size_t>(image_windows * np))
        plabels.resize(static_cast<size_t>(image_windows * np));
    float* const pb = pbias.data();  // inside the parallel loops the names would be the workers' own
    int32_t* const pl = plabels.data();
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < heads * n; ++r) {
        std::copy(bias + r * n, bias + (r + 1) * n, pb + r * np);
        std::fill(pb + r * np + n, pb + (r + 1) * np, kPad);
    }
    for (int64_t w = 0; labels && w < image_windows; ++w) {
        std::copy(labels + w * n, labels + (w + 1) * n, pl + w * np);
        std::fill(pl + w * np + n, pl + (w + 1) * np, -1);
    }
    // Head-major, so that each thread walks the windows of one head and its bias stays in cache.
#pragma omp parallel for schedule(static)
    for (int64_t task = 0; task < heads * windows; ++task) {
        const int64_t h = task / windows, w = task % windows;
        const float* src = qkv + w * n * 3 * C + h * hd;
        const float* b = pb + h * n * np;
        const int32_t* lab = labels ? pl + ((first_window + w) % image_windows) * np : nullptr;
        float* dst = out + w * n * C + h * hd;
        if (L == 16) window_head_avx512(src, n, np, heads, hd, scale, b, lab, dst);
        else if (L == 8) window_head_avx2(src, n, np, heads, hd, scale, b, lab, dst);
        else window_head_scalar(src, n, np, heads, hd, scale, b, lab, dst);
    }
}

}  // namespace swu_onednn
