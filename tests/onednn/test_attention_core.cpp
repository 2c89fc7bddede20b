// The oneDNN backend's fused window-attention core (backends/onednn/attention_core.cpp)
// against MONAI's WindowAttention arithmetic in double: q scaled, q k^T, + relative
// bias, + shift mask (-100 across regions), softmax, @ v, heads side by side. Head sizes 4
// (scalar kernel), 8 (AVX2 where the CPU has it) and 16, 32 (AVX-512 where it has it);
// windows of 343, 64 and 27 tokens (not multiples of the 8-row or 32-column blocks).
#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <vector>

#include "attention_core.hpp"

namespace {

struct Case {
    int64_t windows, n, heads, hd;
    bool masked;
};

double worst_error(const Case& k) {
    const int64_t C = k.heads * k.hd, image_windows = 2, first = 1;
    std::mt19937 rng(static_cast<unsigned>(k.n * 131 + k.hd));
    std::normal_distribution<float> g(0.f, 1.f);
    std::vector<float> qkv(static_cast<size_t>(k.windows * k.n * 3 * C)), bias(static_cast<size_t>(k.heads * k.n * k.n));
    for (float& v : qkv) v = 2.f * g(rng);
    for (float& v : bias) v = 0.5f * g(rng);
    std::vector<int32_t> labels(static_cast<size_t>(image_windows * k.n));
    for (size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<int32_t>((i * 7 / 5) % 4);
    const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(k.hd)));
    std::vector<float> out(static_cast<size_t>(k.windows * k.n * C), -7.f);
    swu_onednn::attention_core(qkv.data(), k.windows, k.n, k.heads, k.hd, scale, bias.data(),
                               k.masked ? labels.data() : nullptr, first, image_windows, out.data());
    double worst = 0;
    std::vector<double> p(static_cast<size_t>(k.n));
    for (int64_t w = 0; w < k.windows; ++w)
        for (int64_t h = 0; h < k.heads; ++h) {
            const int32_t* lab = labels.data() + ((first + w) % image_windows) * k.n;
            auto at = [&](int64_t t, int part, int64_t e) {
                return static_cast<double>(qkv[static_cast<size_t>((w * k.n + t) * 3 * C + part * C + h * k.hd + e)]);
            };
            for (int64_t a = 0; a < k.n; ++a) {
                double mx = -1e300;
                for (int64_t b = 0; b < k.n; ++b) {
                    double s = 0;
                    for (int64_t e = 0; e < k.hd; ++e) s += at(a, 0, e) * scale * at(b, 1, e);
                    s += bias[static_cast<size_t>((h * k.n + a) * k.n + b)];
                    if (k.masked && lab[a] != lab[b]) s += -100.0;
                    p[static_cast<size_t>(b)] = s;
                    mx = std::max(mx, s);
                }
                double sum = 0;
                for (double& v : p) sum += v = std::exp(v - mx);
                for (int64_t e = 0; e < k.hd; ++e) {
                    double o = 0;
                    for (int64_t b = 0; b < k.n; ++b) o += p[static_cast<size_t>(b)] / sum * at(b, 2, e);
                    const float got = out[static_cast<size_t>((w * k.n + a) * C + h * k.hd + e)];
                    worst = std::max(worst, std::fabs(o - got));
                }
            }
        }
    return worst;
}

}  // namespace

TEST_CASE("onednn fused window attention matches MONAI's arithmetic in double") {
    for (int64_t hd : {4, 8, 16, 32})
        for (int64_t n : {343, 64, 27})
            for (bool masked : {false, true}) {
                const Case k{3, n, 3, hd, masked};
                INFO("head size " << hd << ", " << n << " tokens, " << (masked ? "shift mask" : "no mask"));
                // Values of v are ~2 in size; float rounding of scores, e^x and sums stays near 1e-6.
                CHECK(worst_error(k) < 2e-5);
            }
}
