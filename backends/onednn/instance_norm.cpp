#include "instance_norm.hpp"

#include "simd.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

namespace swu_onednn {

namespace {

constexpr double kEps = 1e-5;
constexpr float kSlope = 0.01f;

// Sums of (x - pivot) and (x - pivot)^2 per channel over voxels [s0, s1) of one group
// {S, W}, added to sum and sq: in float over chunks of kChunk rows (16 lanes an instruction,
// against 8 in double with two conversions: the pass ran at half the memory bandwidth), each
// chunk's sums then added in double. A chunk's float rounding is ~kChunk * 2^-24 of its
// own sum at worst, about 1e-6; the pivot (the group's first voxel) keeps the squares small
// beside a large mean.
constexpr int64_t kChunk = 16;

__attribute__((target_clones("avx512f", "avx2", "default")))
void accumulate(const float* x, int64_t s0, int64_t s1, int64_t W, const float* pivot, double* sum, double* sq,
                float* fsum, float* fsq) {
    for (int64_t c0 = s0; c0 < s1; c0 += kChunk) {
        for (int64_t c = 0; c < W; ++c) fsum[c] = fsq[c] = 0.0f;
        for (int64_t s = c0; s < std::min(s1, c0 + kChunk); ++s) {
            const float* row = x + s * W;
            for (int64_t c = 0; c < W; ++c) {
                const float d = row[c] - pivot[c];
                fsum[c] += d;
                fsq[c] += d * d;
            }
        }
        for (int64_t c = 0; c < W; ++c) {
            sum[c] += static_cast<double>(fsum[c]);
            sq[c] += static_cast<double>(fsq[c]);
        }
    }
}

// A group {S, W} is walked as {S / reps, P} "wide rows" of P = reps * W floats (reps rows
// of W each) plus S % reps tail rows: thin groups (the blocked layouts' W = 8 or 16) get
// inner loops long enough to vectorise, per-channel values repeated reps times.
int64_t repeats(int64_t W) { return std::max<int64_t>(1, 64 / W); }

template <class T>
std::vector<T> repeated(const T* v, int64_t W, int64_t reps) {
    std::vector<T> r(static_cast<size_t>(W * reps));
    for (int64_t i = 0; i < W * reps; ++i) r[static_cast<size_t>(i)] = v[i % W];
    return r;
}

// Per channel of one group {S, W}: mean and 1/sqrt(var + eps), biased variance.
void group_stats(const float* x, int64_t S, int64_t W, float* mean, float* rstd) {
    const int64_t reps = repeats(W), P = W * reps, wide = S / reps;
    std::vector<double> sum(static_cast<size_t>(W), 0.0), sq(static_cast<size_t>(W), 0.0);
    const float* pivot = x;  // the first voxel's channels
    const std::vector<float> wide_pivot = repeated(pivot, W, reps);
#pragma omp parallel
    {
        std::vector<double> ls(static_cast<size_t>(P), 0.0), lq(static_cast<size_t>(P), 0.0);
        std::vector<float> fs(static_cast<size_t>(P)), fq(static_cast<size_t>(P));
        const int nt = omp_get_num_threads(), t = omp_get_thread_num();
        accumulate(x, wide * t / nt, wide * (t + 1) / nt, P, wide_pivot.data(), ls.data(), lq.data(), fs.data(),
                   fq.data());
        if (t == nt - 1)
            accumulate(x + wide * P, 0, S - wide * reps, W, pivot, ls.data(), lq.data(), fs.data(), fq.data());
#pragma omp critical
        for (int64_t c = 0; c < P; ++c) {
            sum[static_cast<size_t>(c % W)] += ls[static_cast<size_t>(c)];
            sq[static_cast<size_t>(c % W)] += lq[static_cast<size_t>(c)];
        }
    }
    for (int64_t c = 0; c < W; ++c) {
        const double m = sum[static_cast<size_t>(c)] / static_cast<double>(S);
        const double var = std::max(0.0, sq[static_cast<size_t>(c)] / static_cast<double>(S) - m * m);
        mean[c] = static_cast<float>(static_cast<double>(pivot[c]) + m);
        rstd[c] = static_cast<float>(1.0 / std::sqrt(var + kEps));
    }
}

struct Norm {
    std::vector<float> mean, rstd;  // per padded channel of one item
};

// An item is padded_c / W groups of {S, W}: one group when channels-last, one per channel
// block when blocked (pad channels are zeros: mean 0, output 0).
int64_t group_width(const Act& x) { return x.block ? x.block : x.c; }

Norm item_norm(const Act& x, int64_t item) {
    const int64_t S = x.spatial(), W = group_width(x), Cp = x.padded_c();
    Norm n{std::vector<float>(static_cast<size_t>(Cp)), std::vector<float>(static_cast<size_t>(Cp))};
    const float* p = x.ptr() + item * S * Cp;
    for (int64_t g = 0; g < Cp / W; ++g) group_stats(p + g * S * W, S, W, n.mean.data() + g * W, n.rstd.data() + g * W);
    return n;
}

enum class Add { none, plain, normalised, none_to_bf16 };

template <Add add>
inline void apply_rows(float* x, const float* r, uint16_t* low, int64_t s0, int64_t s1, int64_t W, const float* m,
                       const float* k, const float* rm, const float* rk) {
    for (int64_t s = s0; s < s1; ++s) {
        float* row = x + s * W;
        const float* rrow = r ? r + s * W : nullptr;
        for (int64_t c = 0; c < W; ++c) {
            float v = (row[c] - m[c]) * k[c];
            if (add == Add::plain) v += rrow[c];
            if (add == Add::normalised) v += (rrow[c] - rm[c]) * rk[c];
            row[c] = v > 0.f ? v : v * kSlope;
        }
        if (add == Add::none_to_bf16)
            for (int64_t c = 0; c < W; ++c) low[s * W + c] = to_bf16(row[c]);
    }
}

__attribute__((target_clones("avx512f", "avx2", "default")))
void apply(Add add, float* x, const float* r, uint16_t* low, int64_t s0, int64_t s1, int64_t W, const float* m,
           const float* k, const float* rm, const float* rk) {
    switch (add) {
        case Add::none: apply_rows<Add::none>(x, r, low, s0, s1, W, m, k, rm, rk); return;
        case Add::plain: apply_rows<Add::plain>(x, r, low, s0, s1, W, m, k, rm, rk); return;
        case Add::normalised: apply_rows<Add::normalised>(x, r, low, s0, s1, W, m, k, rm, rk); return;
        case Add::none_to_bf16: apply_rows<Add::none_to_bf16>(x, r, low, s0, s1, W, m, k, rm, rk); return;
    }
}

void run(Act& x, const Act* shortcut, Add add, uint16_t* bf16_out = nullptr) {
    if (shortcut && (shortcut->block != x.block || shortcut->c != x.c || shortcut->n != x.n ||
                     shortcut->spatial() != x.spatial()))
        throw std::runtime_error("instance norm: the shortcut's shape or layout differs from the output's");
    const int64_t S = x.spatial(), W = group_width(x), Cp = x.padded_c(), groups = Cp / W;
    for (int64_t i = 0; i < x.n; ++i) {
        const Norm n = item_norm(x, i);
        const Norm rn = add == Add::normalised ? item_norm(*shortcut, i) : Norm{};
        float* p = x.ptr() + i * S * Cp;
        const float* r = shortcut ? shortcut->ptr() + i * S * Cp : nullptr;
        uint16_t* low = bf16_out ? bf16_out + i * S * Cp : nullptr;
        const int64_t nt = omp_get_max_threads();  // each group in nt contiguous parts
        const int64_t reps = repeats(W), P = W * reps, wide = S / reps;
        for (int64_t g = 0; g < groups; ++g) {
            const int64_t off = g * S * W;
            const bool both = add == Add::normalised;
            const std::vector<float> m = repeated(n.mean.data() + g * W, W, reps), k = repeated(n.rstd.data() + g * W, W, reps);
            const std::vector<float> rm = both ? repeated(rn.mean.data() + g * W, W, reps) : std::vector<float>();
            const std::vector<float> rk = both ? repeated(rn.rstd.data() + g * W, W, reps) : std::vector<float>();
#pragma omp parallel for schedule(static)
            for (int64_t part = 0; part < nt; ++part)
                apply(add, p + off, r ? r + off : nullptr, low ? low + off : nullptr, wide * part / nt,
                      wide * (part + 1) / nt, P, m.data(), k.data(), both ? rm.data() : nullptr,
                      both ? rk.data() : nullptr);
            const int64_t tail = wide * P;  // the last S % reps rows, W wide
            apply(add, p + off + tail, r ? r + off + tail : nullptr, low ? low + off + tail : nullptr, 0,
                  S - wide * reps, W, m.data(), k.data(), both ? rm.data() : nullptr, both ? rk.data() : nullptr);
        }
    }
}

}  // namespace

void instance_norm_lrelu(Act& x, uint16_t* bf16_out) {
    run(x, nullptr, bf16_out ? Add::none_to_bf16 : Add::none, bf16_out);
}

void instance_norm_add_lrelu(Act& out, const Act& shortcut, bool normalise_shortcut) {
    run(out, &shortcut, normalise_shortcut ? Add::normalised : Add::plain);
}

}  // namespace swu_onednn
