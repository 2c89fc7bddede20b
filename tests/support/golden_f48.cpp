#include "golden_f48.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "io/json.hpp"

namespace swu_test {

std::vector<swu::NamedTensor> f48_weights() {
    return formula_weights(read_keys(golden_path("net_f48/keys.txt")), 0);
}

std::vector<float> f48_input() { return formula_input(static_cast<int>(kF48Batch), 0); }

std::vector<float> f48_at_positions(const float* logits) {
    const swu::Tensor pos = load_golden("net_f48/positions.npy");
    const int64_t S = kF48Size, P = pos.shape[0];
    std::vector<float> out(static_cast<size_t>(kF48Batch * kF48Classes * P));
    for (int64_t nc = 0; nc < kF48Batch * kF48Classes; ++nc)
        for (int64_t j = 0; j < P; ++j) {
            const int64_t* p = pos.as<int64_t>() + 3 * j;
            out[static_cast<size_t>(nc * P + j)] = logits[nc * kF48Voxels + (p[0] * S + p[1]) * S + p[2]];
        }
    return out;
}

std::string F48Result::argmax_text() const {
    char buf[160];
    std::snprintf(buf, sizeof buf, "%lld of %lld voxels differ (%.4f %%), %lld with a margin >= 2e-3",
                  static_cast<long long>(differ), static_cast<long long>(voxels),
                  voxels ? 100.0 * double(differ) / double(voxels) : 0.0, static_cast<long long>(differ_clear));
    return buf;
}

F48Result compare_f48(const float* logits, const F48Tolerance& t) {
    const int64_t N = kF48Batch, C = kF48Classes, V = kF48Voxels;
    auto at = [&](int64_t n, int64_t c, int64_t v) { return logits[(n * C + c) * V + v]; };
    F48Result r;

    const swu::Tensor golden_pos = load_golden("net_f48/logits_at_positions.npy");
    const std::vector<float> ours = f48_at_positions(logits);
    r.positions = compare(ours.data(), golden_pos.as<float>(), golden_pos.numel(), t.atol, t.rtol);

    const swu::json::Value stats = swu::json::parse_file(golden_path("net_f48/logits_stats.json"));
    std::vector<float> ours_stats, golden_stats;
    for (int64_t n = 0; n < N; ++n)
        for (int64_t c = 0; c < C; ++c) {
            double sum = 0, sq = 0, lo = INFINITY, hi = -INFINITY;
            for (int64_t v = 0; v < V; ++v) {
                const double a = at(n, c, v);
                sum += a;
                lo = std::min(lo, a);
                hi = std::max(hi, a);
            }
            const double mean = sum / static_cast<double>(V);
            for (int64_t v = 0; v < V; ++v) sq += (at(n, c, v) - mean) * (at(n, c, v) - mean);
            const double values[4] = {mean, std::sqrt(sq / static_cast<double>(V)), lo, hi};
            const char* names[4] = {"mean", "std", "min", "max"};
            for (int k = 0; k < 4; ++k) {
                ours_stats.push_back(static_cast<float>(values[k]));
                golden_stats.push_back(static_cast<float>(
                    stats.at(names[k]).at(static_cast<size_t>(n)).at(static_cast<size_t>(c)).as_number()));
            }
        }
    r.statistics = compare(ours_stats.data(), golden_stats.data(), static_cast<int64_t>(ours_stats.size()), t.stats_atol,
                           t.stats_rtol);

    const swu::Tensor golden_argmax = load_golden("net_f48/argmax.npy");
    for (int64_t n = 0; n < N; ++n)
        for (int64_t v = 0; v < V; ++v) {
            int best = 0;
            float top = at(n, 0, v), second = -INFINITY;
            for (int c = 1; c < C; ++c) {
                const float a = at(n, c, v);
                if (a > top) {
                    second = top;
                    top = a;
                    best = c;
                } else if (a > second) {
                    second = a;
                }
            }
            ++r.voxels;
            if (best != golden_argmax.as<uint8_t>()[n * V + v]) {
                ++r.differ;
                if (top - second >= 2e-3) ++r.differ_clear;
            }
        }
    return r;
}

}  // namespace swu_test
