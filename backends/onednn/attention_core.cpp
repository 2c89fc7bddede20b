#include "attention_core.hpp"

#include "simd.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <vector>

namespace swu_onednn {

namespace {

constexpr float kMaskValue = -100.0f;
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
// float or a GCC vector of them (VecI: its int32 counterpart): Cody-Waite range reduction
// and Cephes' degree-6 polynomial, ~1 ulp; x < -87 gives 0.
template <class Vec, class VecI>
__attribute__((always_inline)) inline void exp_nonpositive(Vec& x) {
    const Vec lo = Vec{} - 87.0f;
    const auto under = x < lo;
    x = under ? lo : x;
    const Vec t = x * 1.44269504088896341f;
    const Vec k = (t + 12582912.0f) - 12582912.0f;  // round to nearest (|t| < 2^22)
    const Vec r = (x - k * 0.693359375f) + k * 2.12194440e-4f;
    Vec p = Vec{} + 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    VecI bits;
    if constexpr (std::is_same<Vec, float>::value) {
        bits = (static_cast<int32_t>(k) + 127) << 23;
    } else {
        bits = (__builtin_convertvector(k, VecI) + 127) << 23;
    }
    Vec scale;
    std::memcpy(&scale, &bits, sizeof scale);
    x = under ? Vec{} : p * scale;
}

template <int L> struct IntVec;
template <> struct IntVec<16> { typedef VecI16 type; };
template <> struct IntVec<8> { typedef VecI8 type; };

// One row of scores (n valid of np): + bias, + mask where the key's region differs from
// `own` (MONAI's order: (attn + bias) + mask), then e^(x - max) in place (columns past n
// become 0). Returns 1 / the row's sum: the softmax's division is applied to the row's
// output (apply_values), not to its n probabilities.
template <class Vec, int L>
__attribute__((always_inline)) inline float softmax_row(float* row, int64_t n, int64_t np, const float* brow,
                                                        const int32_t* lab, int32_t own) {
    if constexpr (L == 1) {
        float mx = -1e30f;
        for (int64_t b = 0; b < n; ++b) {
            row[b] = (row[b] + brow[b]) + (lab && lab[b] != own ? kMaskValue : 0.0f);
            mx = std::max(mx, row[b]);
        }
        float sum = 0.0f;
        for (int64_t b = 0; b < n; ++b) {
            float e = row[b] - mx;
            exp_nonpositive<float, int32_t>(e);
            sum += row[b] = e;
        }
        for (int64_t b = n; b < np; ++b) row[b] = 0.0f;
        return 1.0f / sum;
    } else {
        typedef typename IntVec<L>::type VecI;
        Vec mv;
        splat(mv, -1e30f);
        int64_t b = 0;
        for (; b + L <= n; b += L) {
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
        float mx = mv[0];
        for (int i = 1; i < L; ++i) mx = std::max(mx, mv[i]);
        for (; b < n; ++b) {
            row[b] = (row[b] + brow[b]) + (lab && lab[b] != own ? kMaskValue : 0.0f);
            mx = std::max(mx, row[b]);
        }
        for (; b < np; ++b) row[b] = -1e30f;  // e^(-1e30 - max) = 0
        Vec sv = Vec{};
        for (b = 0; b < np; b += L) {
            Vec v;
            load(v, row + b);
            v -= mx;
            exp_nonpositive<Vec, VecI>(v);
            store(row + b, v);
            sv += v;
        }
        float sum = 0.0f;
        for (int i = 0; i < L; ++i) sum += sv[i];
        return 1.0f / sum;
    }
}

// Scores of rows [a0, a0 + R) against all keys, then bias, mask and e^(x - max), in s {R, np},
// with each row's 1 / sum in inv_sum.
// kt {hd, np} is k transposed (columns past n are zeros), q {n, hd} already scaled.
template <class Vec, int L>
__attribute__((always_inline)) inline void scores(const float* q, const float* kt, int64_t n, int64_t np, int64_t hd,
                                                  int64_t a0, int R, const float* bias, const int32_t* lab, float* s,
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
        inv_sum[r] = softmax_row<Vec, L>(s + r * np, n, np, bias + (a0 + r) * n, lab, lab ? lab[a0 + r] : 0);
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

// One (window, head): q, k, v gathered from qkv into per-thread buffers, then R rows at a time.
template <class Vec, int L>
__attribute__((always_inline)) inline void window_head(const float* qkv, int64_t n, int64_t heads, int64_t hd,
                                                       float scale, const float* bias, const int32_t* lab, float* out) {
    const int64_t C = heads * hd, np = (n + 2 * L - 1) / (2 * L) * (2 * L);
    const int64_t nq = (n + kRows - 1) / kRows * kRows;
    thread_local aligned_vector<float> q, kt, v, s;
    if (q.size() < static_cast<size_t>(nq * hd)) q.resize(static_cast<size_t>(nq * hd));
    if (v.size() < static_cast<size_t>(n * hd)) v.resize(static_cast<size_t>(n * hd));
    if (kt.size() < static_cast<size_t>(hd * np)) kt.resize(static_cast<size_t>(hd * np));
    if (s.size() < static_cast<size_t>(kRows * np)) s.resize(static_cast<size_t>(kRows * np));
    for (int64_t t = 0; t < n; ++t) {
        const float* row = qkv + t * 3 * C;
        for (int64_t e = 0; e < hd; ++e) {
            q[static_cast<size_t>(t * hd + e)] = row[e] * scale;
            kt[static_cast<size_t>(e * np + t)] = row[C + e];
            v[static_cast<size_t>(t * hd + e)] = row[2 * C + e];
        }
    }
    for (int64_t e = 0; e < hd; ++e) std::fill(kt.data() + e * np + n, kt.data() + (e + 1) * np, 0.0f);
    std::fill(q.data() + n * hd, q.data() + nq * hd, 0.0f);
    for (int64_t a0 = 0; a0 < n; a0 += kRows) {
        const int R = static_cast<int>(std::min<int64_t>(kRows, n - a0));
        float inv_sum[kRows];
        scores<Vec, L>(q.data(), kt.data(), n, np, hd, a0, R, bias, lab, s.data(), inv_sum);
        apply_values<Vec, L>(s.data(), inv_sum, np, v.data(), n, hd, R, out + a0 * C, C);
    }
}

__attribute__((target("avx512f"))) void window_head_avx512(const float* qkv, int64_t n, int64_t heads, int64_t hd,
                                                            float scale, const float* bias, const int32_t* lab,
                                                            float* out) {
    window_head<Vec16, 16>(qkv, n, heads, hd, scale, bias, lab, out);
}
__attribute__((target("avx2,fma"))) void window_head_avx2(const float* qkv, int64_t n, int64_t heads, int64_t hd,
                                                          float scale, const float* bias, const int32_t* lab, float* out) {
    window_head<Vec8, 8>(qkv, n, heads, hd, scale, bias, lab, out);
}
void window_head_scalar(const float* qkv, int64_t n, int64_t heads, int64_t hd, float scale, const float* bias,
                        const int32_t* lab, float* out) {
    window_head<float, 1>(qkv, n, heads, hd, scale, bias, lab, out);
}

}  // namespace

void attention_core(const float* qkv, int64_t windows, int64_t n, int64_t heads, int64_t hd, float scale,
                    const float* bias, const int32_t* labels, int64_t first_window, int64_t image_windows, float* out) {
    const Simd isa = simd_level();
    const int64_t C = heads * hd;
    // Head-major, so that each thread walks the windows of one head and its n x n bias stays in cache.
#pragma omp parallel for schedule(static)
    for (int64_t task = 0; task < heads * windows; ++task) {
        const int64_t h = task / windows, w = task % windows;
        const float* src = qkv + w * n * 3 * C + h * hd;
        const float* b = bias + h * n * n;
        const int32_t* lab = labels ? labels + ((first_window + w) % image_windows) * n : nullptr;
        float* dst = out + w * n * C + h * hd;
        if (isa == Simd::avx512 && hd % 16 == 0) window_head_avx512(src, n, heads, hd, scale, b, lab, dst);
        else if (isa != Simd::portable && hd % 8 == 0) window_head_avx2(src, n, heads, hd, scale, b, lab, dst);
        else window_head_scalar(src, n, heads, hd, scale, b, lab, dst);
    }
}

}  // namespace swu_onednn
