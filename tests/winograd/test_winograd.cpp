// The oneDNN backend's Winograd F(m x m x m, 3x3x3) convolutions (m = 2, 3, 4) against direct convolution
// in double, for every channel pair the networks use (f12 and f48), in each kernel this
// CPU has. The bounds, against a plain sequential float32 direct convolution: F(2,3) (the
// default on grids below 24^3) at most 4x its error and below 1e-5 of the output's largest
// magnitude; F(3,3) (the default from 24^3 on) at most 10x and below 2.5e-5; F(4,3)
// (opt-in) at most 32x and below 4e-5. README.md in backends/onednn/winograd says why.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "winograd/winograd_conv.hpp"

namespace {

struct Case {
    int64_t c, o, d, h, w;
};

// Direct convolution, channels-last, zero padding 1, summed in T (double or float).
template <class T>
std::vector<double> direct(const std::vector<float>& x, const std::vector<float>& w, const std::vector<float>& b, const Case& k) {
    std::vector<double> y(static_cast<size_t>(k.d * k.h * k.w * k.o));
    for (int64_t z = 0; z < k.d; ++z)
        for (int64_t yy = 0; yy < k.h; ++yy)
            for (int64_t xx = 0; xx < k.w; ++xx)
                for (int64_t oc = 0; oc < k.o; ++oc) {
                    T s = static_cast<T>(b[static_cast<size_t>(oc)]);
                    for (int dz = 0; dz < 3; ++dz)
                        for (int dy = 0; dy < 3; ++dy)
                            for (int dx = 0; dx < 3; ++dx) {
                                const int64_t iz = z + dz - 1, iy = yy + dy - 1, ix = xx + dx - 1;
                                if (iz < 0 || iz >= k.d || iy < 0 || iy >= k.h || ix < 0 || ix >= k.w) continue;
                                const float* xi = x.data() + ((iz * k.h + iy) * k.w + ix) * k.c;
                                for (int64_t ic = 0; ic < k.c; ++ic)
                                    s += static_cast<T>(xi[ic]) * static_cast<T>(w[static_cast<size_t>(((oc * k.c + ic) * 3 + dz) * 9 + dy * 3 + dx)]);
                            }
                    y[static_cast<size_t>(((z * k.h + yy) * k.w + xx) * k.o + oc)] = static_cast<double>(s);
                }
    return y;
}

// Inputs like the network's (instance-normed activations, about N(0, 1)); weights with
// Kaiming scale, bias small; the same for every kernel and precision of one case.
struct Inputs {
    std::vector<float> x, w, b;
};
Inputs random_inputs(const Case& k) {
    std::mt19937 rng(static_cast<unsigned>(k.c * 1000 + k.o));
    std::normal_distribution<float> unit(0.0f, 1.0f);
    Inputs in{std::vector<float>(static_cast<size_t>(k.d * k.h * k.w * k.c)),
              std::vector<float>(static_cast<size_t>(k.o * k.c * 27)), std::vector<float>(static_cast<size_t>(k.o))};
    const float scale = 1.0f / std::sqrt(27.0f * static_cast<float>(k.c));
    for (float& v : in.x) v = unit(rng);
    for (float& v : in.w) v = unit(rng) * scale;
    for (float& v : in.b) v = 0.1f * unit(rng);
    return in;
}

void check(const Case& k, int m) {
    const Inputs in = random_inputs(k);
    const std::vector<float>&x = in.x, &w = in.w, &b = in.b;
    const std::vector<double> ref = direct<double>(x, w, b, k), f32 = direct<float>(x, w, b, k);
    const swu_winograd::Weights wt = swu_winograd::transform_weights(w.data(), b.data(), k.o, k.c, m);
    std::vector<float> y(ref.size(), std::nanf(""));
    swu_winograd::conv3x3x3(wt, x.data(), 1, k.d, k.h, k.w, y.data(), 2);
    double err = 0, err_direct = 0, peak = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
        err = std::max(err, std::fabs(double(y[i]) - ref[i]));
        err_direct = std::max(err_direct, std::fabs(f32[i] - ref[i]));
        peak = std::max(peak, std::fabs(ref[i]));
    }
    std::printf("winograd F(%d,3) %-8s %4lld -> %4lld on %lldx%lldx%lld: max error %.2e (direct fp32 %.2e), %.2e of max |y| %.2f\n",
                m, swu_winograd::kernel_name(), static_cast<long long>(k.c), static_cast<long long>(k.o),
                static_cast<long long>(k.d), static_cast<long long>(k.h), static_cast<long long>(k.w), err, err_direct,
                err / peak, peak);
    INFO("F(" << m << ",3) " << k.c << " -> " << k.o << ": error " << err << ", direct float " << err_direct << ", peak " << peak);
    if (m == 2) {
        CHECK(err <= 4 * err_direct + 1e-7);
        CHECK(err <= 1e-5 * peak);
    } else if (m == 3) {
        CHECK(err <= 10 * err_direct);
        CHECK(err <= 2.5e-5 * peak);
    } else {
        CHECK(err <= 32 * err_direct);
        CHECK(err <= 4e-5 * peak);
    }
}

float round_bf16(float f) {  // to nearest even, as the kernels do
    uint32_t u;
    std::memcpy(&u, &f, sizeof u);
    u = ((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16) << 16;
    std::memcpy(&f, &u, sizeof f);
    return f;
}

// bf16 Winograd (transformed inputs and weights rounded to bf16, products summed in fp32)
// against exact convolution, beside a direct convolution of the bf16-rounded inputs and
// weights summed in double (what oneDNN's bf16 kernels compute, less their fp32 sums).
void check_bf16(const Case& k) {
    const Inputs in = random_inputs(k);
    const std::vector<float>&x = in.x, &w = in.w, &b = in.b;
    std::vector<float> xb(x), wb(w);
    for (float& v : xb) v = round_bf16(v);
    for (float& v : wb) v = round_bf16(v);
    const std::vector<double> ref = direct<double>(x, w, b, k), bf = direct<double>(xb, wb, b, k);
    const swu_winograd::Weights wt = swu_winograd::transform_weights(w.data(), b.data(), k.o, k.c, 2, true);
    REQUIRE(wt.bf16);
    std::vector<float> y(ref.size(), std::nanf(""));
    swu_winograd::conv3x3x3(wt, x.data(), 1, k.d, k.h, k.w, y.data(), 2);
    double err = 0, err_direct = 0, peak = 0, sq = 0, sq_direct = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
        const double e = double(y[i]) - ref[i], ed = bf[i] - ref[i];
        err = std::max(err, std::fabs(e));
        err_direct = std::max(err_direct, std::fabs(ed));
        sq += e * e;
        sq_direct += ed * ed;
        peak = std::max(peak, std::fabs(ref[i]));
    }
    const double rms = std::sqrt(sq / ref.size()), rms_direct = std::sqrt(sq_direct / ref.size());
    std::printf("winograd F(2,3) bf16 %4lld -> %4lld on %lldx%lldx%lld: max error %.2e (direct bf16 %.2e), rms %.2e (direct %.2e), %.2e of max |y| %.2f\n",
                static_cast<long long>(k.c), static_cast<long long>(k.o), static_cast<long long>(k.d),
                static_cast<long long>(k.h), static_cast<long long>(k.w), err, err_direct, rms, rms_direct, err / peak, peak);
    INFO("bf16 " << k.c << " -> " << k.o << ": error " << err << ", direct bf16 " << err_direct << ", peak " << peak);
    CHECK(err <= 4 * err_direct);
    CHECK(rms <= 4 * rms_direct);
}

// Every 3x3x3 channel pair of the f12 and f48 networks (encoder, decoder conv1 over the
// concatenation, conv2), on small odd grids so that partial tiles at every face are tested.
const Case kCases[] = {
    {12, 12, 7, 6, 5},    {24, 12, 7, 6, 5},    {24, 24, 7, 6, 5},    {48, 24, 5, 5, 4},   {48, 48, 7, 6, 5},
    {48, 48, 9, 10, 11},  {96, 48, 5, 5, 4},    {96, 96, 5, 5, 4},    {96, 96, 9, 7, 10},    {192, 96, 4, 3, 5},   {192, 192, 4, 3, 5}, {384, 192, 3, 3, 3},
    {384, 384, 3, 3, 3},  {768, 384, 3, 2, 3},  {768, 768, 3, 2, 3},
};

}  // namespace

TEST_CASE("winograd: every layer shape of f12 and f48 against direct convolution", "[unit][winograd]") {
    for (const Case& k : kCases) {
        check(k, 2);
        check(k, 3);
        check(k, 4);
    }
}

TEST_CASE("winograd: the AVX2 and portable kernels give the same results", "[unit][winograd]") {
    // The kernel is chosen once per process: the test runs itself again with each
    // lower kernel forced (SWU_WINOGRAD_KERNEL), comparing through the same checks.
    if (std::getenv("SWU_WINOGRAD_KERNEL")) return;
    for (const char* k : {"avx2", "portable"}) {
        const std::string cmd = std::string("SWU_WINOGRAD_KERNEL=") + k + " '" + SWU_WINOGRAD_TEST_BINARY +
                                "' 'winograd: every layer shape of f12 and f48 against direct convolution' > /dev/null";
        INFO(cmd);
        CHECK(std::system(cmd.c_str()) == 0);
    }
}

TEST_CASE("winograd: bf16 against direct bf16 convolution, every f48 layer shape", "[unit][winograd]") {
    if (!swu_winograd::bf16_available()) {
        WARN("skipped: this CPU has no AVX512-BF16 (or the kernel is capped below AVX-512)");
        return;
    }
    for (const Case& k : kCases)
        if (k.c % 16 == 0) check_bf16(k);
}
