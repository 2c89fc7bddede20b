#include "fp32_peak.hpp"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace swu_bench {

namespace {

constexpr long kIterations = 200000000;  // x 10 chains x 2 pipes: ~0.3 s at 3.5 GHz

// Ten independent accumulator chains hide the FMA latency (4-5 cycles, 2 pipes). One body
// for every vector width: V the register type, SET1 / MADD / ADD / STORE its operations.
#define SWU_CHAINS(OP) OP(0) OP(1) OP(2) OP(3) OP(4) OP(5) OP(6) OP(7) OP(8) OP(9)
#define SWU_DECL(i) V a##i = SET1(1.f + i);
#define SWU_STEP(i) a##i = MADD(a##i, m, b);
#define SWU_SUM(i) s = ADD(s, a##i);
#define SWU_FMA_LOOP                                       \
    {                                                      \
        const V m = SET1(0.999999f), b = SET1(1e-7f);      \
        SWU_CHAINS(SWU_DECL)                               \
        for (long k = 0; k < kIterations; ++k) {           \
            SWU_CHAINS(SWU_STEP)                           \
        }                                                  \
        V s = SET1(0.f);                                   \
        SWU_CHAINS(SWU_SUM)                                \
        float f[sizeof(V) / sizeof(float)];                \
        STORE(f, s);                                       \
        return static_cast<double>(f[0]);                  \
    }

#define V __m512
#define SET1 _mm512_set1_ps
#define MADD _mm512_fmadd_ps
#define ADD _mm512_add_ps
#define STORE _mm512_storeu_ps
__attribute__((target("avx512f"))) double run_avx512() SWU_FMA_LOOP
#undef V
#undef SET1
#undef MADD
#undef ADD
#undef STORE

#define V __m256
#define SET1 _mm256_set1_ps
#define MADD _mm256_fmadd_ps
#define ADD _mm256_add_ps
#define STORE _mm256_storeu_ps
__attribute__((target("avx2,fma"))) double run_avx2() SWU_FMA_LOOP
#undef V
#undef SET1
#undef MADD
#undef ADD
#undef STORE

// Multiply then add: 2 flops per lane, as an FMA counts.
__m128 sse_madd(__m128 a, __m128 m, __m128 b) { return _mm_add_ps(_mm_mul_ps(a, m), b); }
#define V __m128
#define SET1 _mm_set1_ps
#define MADD sse_madd
#define ADD _mm_add_ps
#define STORE _mm_storeu_ps
double run_sse() SWU_FMA_LOOP
#undef V
#undef SET1
#undef MADD
#undef ADD
#undef STORE

#undef SWU_FMA_LOOP
#undef SWU_SUM
#undef SWU_STEP
#undef SWU_DECL
#undef SWU_CHAINS

double measure_once(int threads) {
    int lanes = 4;
    double (*kernel)() = run_sse;
    if (__builtin_cpu_supports("avx512f")) {
        lanes = 16;
        kernel = run_avx512;
    } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        lanes = 8;
        kernel = run_avx2;
    }
    std::atomic<double> sink{0.0};
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) pool.emplace_back([&] {
        const double v = kernel();
        double cur = sink.load();
        while (!sink.compare_exchange_weak(cur, cur + v)) {
        }
    });
    for (std::thread& t : pool) t.join();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double flops = static_cast<double>(threads) * kIterations * 10.0 * lanes * 2.0;
    return sink.load() == 12345.0 ? 0.0 : flops / seconds / 1e9;  // read the sink so the loops stay
}

}  // namespace

double measured_fp32_peak(int threads) {  // the best of three: other load only lowers a figure
    double best = 0.0;
    for (int i = 0; i < 3; ++i) best = std::max(best, measure_once(threads));
    return best;
}

}  // namespace swu_bench
