// The oneDNN backend's fused instance norm (backends/onednn/instance_norm.cpp) against
// InstanceNorm3d(affine=False, eps 1e-5) + add + LeakyReLU(0.01) computed in double with
// two passes, in both activation layouts (channels-last; blocked by 8 and 16 with padded
// channels), two items, and data far from zero mean.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "instance_norm.hpp"

using swu_onednn::Act;

namespace {

// Index of (item i, channel c, voxel v) in x's layout.
int64_t at(const Act& x, int64_t i, int64_t c, int64_t v) {
    if (x.block == 0) return (i * x.spatial() + v) * x.c + c;
    return ((i * (x.padded_c() / x.block) + c / x.block) * x.spatial() + v) * x.block + c % x.block;
}

Act filled(int64_t n, int64_t s, int64_t c, int block, double mean, double spread, unsigned seed) {
    Act x(n, s, s + 1, s - 1, c, block);
    std::mt19937 rng(seed);
    std::normal_distribution<double> noise(0.0, 1.0);
    for (int64_t k = 0; k < x.size(); ++k) x.ptr()[k] = 0.f;  // pad channels stay zero
    for (int64_t i = 0; i < n; ++i)
        for (int64_t ch = 0; ch < c; ++ch) {
            const double m = mean * (1 + 0.1 * static_cast<double>(ch)), sd = spread * (1 + 0.05 * static_cast<double>(ch));
            for (int64_t v = 0; v < x.spatial(); ++v) x.ptr()[at(x, i, ch, v)] = static_cast<float>(m + sd * noise(rng));
        }
    return x;
}

// IN of channel (i, c) in double, two passes.
std::vector<double> reference_norm(const Act& x, int64_t i, int64_t c) {
    const int64_t S = x.spatial();
    double sum = 0, sq = 0;
    for (int64_t v = 0; v < S; ++v) sum += x.ptr()[at(x, i, c, v)];
    const double mean = sum / static_cast<double>(S);
    for (int64_t v = 0; v < S; ++v) sq += (x.ptr()[at(x, i, c, v)] - mean) * (x.ptr()[at(x, i, c, v)] - mean);
    const double rstd = 1.0 / std::sqrt(sq / static_cast<double>(S) + 1e-5);
    std::vector<double> y(static_cast<size_t>(S));
    for (int64_t v = 0; v < S; ++v) y[static_cast<size_t>(v)] = (x.ptr()[at(x, i, c, v)] - mean) * rstd;
    return y;
}

double lrelu(double v) { return v > 0 ? v : 0.01 * v; }

enum class Mode { alone, plain_shortcut, normalised_shortcut };

// Largest |error| / (1 + |expected|) of the fused op against the reference, over real
// channels (a plain shortcut adds values in the hundreds); pad channels must come out
// exactly zero.
double worst_error(int block, int64_t c, double mean, double spread, Mode mode) {
    const Act x = filled(2, 6, c, block, mean, spread, 7);
    const Act r = filled(2, 6, c, block, mean / 2, spread * 3, 11);
    Act y(x.n, x.d, x.h, x.w, x.c, x.block);
    for (int64_t k = 0; k < x.size(); ++k) y.ptr()[k] = x.ptr()[k];
    if (mode == Mode::alone) swu_onednn::instance_norm_lrelu(y);
    else swu_onednn::instance_norm_add_lrelu(y, r, mode == Mode::normalised_shortcut);
    double worst = 0;
    for (int64_t i = 0; i < x.n; ++i) {
        for (int64_t ch = 0; ch < c; ++ch) {
            const std::vector<double> nx = reference_norm(x, i, ch);
            const std::vector<double> nr = mode == Mode::normalised_shortcut ? reference_norm(r, i, ch) : std::vector<double>{};
            for (int64_t v = 0; v < x.spatial(); ++v) {
                double want = nx[static_cast<size_t>(v)];
                if (mode == Mode::plain_shortcut) want += r.ptr()[at(r, i, ch, v)];
                if (mode == Mode::normalised_shortcut) want += nr[static_cast<size_t>(v)];
                const double expected = lrelu(want);
                worst = std::max(worst, std::fabs(expected - y.ptr()[at(y, i, ch, v)]) / (1 + std::fabs(expected)));
            }
        }
        for (int64_t ch = c; ch < x.padded_c(); ++ch)
            for (int64_t v = 0; v < x.spatial(); ++v) REQUIRE(y.ptr()[at(y, i, ch, v)] == 0.f);
    }
    return worst;
}

}  // namespace

TEST_CASE("onednn instance norm + shortcut + LeakyReLU match a double reference in every layout") {
    for (int block : {0, 8, 16})
        for (int64_t c : {12, 24, 48})
            for (Mode mode : {Mode::alone, Mode::plain_shortcut, Mode::normalised_shortcut}) {
                INFO("block " << block << ", " << c << " channels, mode " << static_cast<int>(mode));
                // Unit spread around a mean of 3: the error is float rounding of (x - mean) * rstd.
                CHECK(worst_error(block, c, 3.0, 1.0, mode) < 2e-6);
                // A mean 1000 times the spread: one-pass float sums would lose the variance
                // entirely; what is left is the float mean's rounding over the spread
                // (ulp(570) / 2 / 0.33 ~ 9e-5 at the 48th channel).
                CHECK(worst_error(block, c, 100.0, 0.1, mode) < 1e-4);
            }
}

TEST_CASE("onednn instance norm refuses a shortcut of another shape") {
    Act y(1, 4, 4, 4, 8, 0), r(1, 4, 4, 4, 8, 8);
    CHECK_THROWS(swu_onednn::instance_norm_add_lrelu(y, r, true));
}

TEST_CASE("onednn instance norm also writes bf16 (rounded to nearest even) when asked") {
    for (int block : {0, 8, 16})
        for (int64_t c : {12, 48}) {
            INFO("block " << block << ", " << c << " channels");
            Act y = filled(2, 6, c, block, 3.0, 1.0, 7), x = filled(2, 6, c, block, 3.0, 1.0, 7);
            swu_onednn::instance_norm_lrelu(y);
            std::vector<uint16_t> low(static_cast<size_t>(x.size()), 0xFFFF);
            swu_onednn::instance_norm_lrelu(x, low.data());
            int64_t wrong = 0, differ = 0;
            for (int64_t i = 0; i < x.size(); ++i) {
                uint32_t u;
                std::memcpy(&u, &y.ptr()[i], sizeof u);
                const uint16_t expect = static_cast<uint16_t>((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
                wrong += low[static_cast<size_t>(i)] != expect;
                differ += x.ptr()[i] != y.ptr()[i];
            }
            CHECK(wrong == 0);
            CHECK(differ == 0);
        }
}
