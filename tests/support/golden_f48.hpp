// The golden net_f48 case (golden/README.md): the bundle-sized network (feature 48) with
// the RNG-free formula weights on the formula input (batch 2), and MONAI's logits of it
// compared three ways: at 4096 stored positions, per-(n, c) statistics over all voxels,
// and the argmax of every voxel. Used by tests/api/test_golden_net_f48.cpp (CPU backends)
// and tests/device/gpu_check.cpp (a device).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "golden.hpp"

namespace swu_test {

constexpr int64_t kF48Batch = 2, kF48Classes = 14, kF48Size = 96;
constexpr int64_t kF48Voxels = kF48Size * kF48Size * kF48Size;

std::vector<swu::NamedTensor> f48_weights();  // formula weights of net_f48/keys.txt
std::vector<float> f48_input();               // the formula input {2, 1, 96, 96, 96}

// Logits {2, 14, 96, 96, 96} at the golden positions, in logits_at_positions.npy's order {2, 14, P}.
std::vector<float> f48_at_positions(const float* logits);

struct F48Tolerance {
    double atol = 1e-4, rtol = 1e-4;              // logits at the positions
    double stats_atol = 1e-4, stats_rtol = 1e-5;  // mean, std, min, max per (n, c)
};

struct F48Result {
    Comparison positions, statistics;
    // Argmax against net_f48/argmax.npy; "clear": the top-2 margin is at least 2e-3.
    int64_t voxels = 0, differ = 0, differ_clear = 0;
    double agreement() const { return voxels ? 1.0 - double(differ) / double(voxels) : 0.0; }
    // fp32's golden rule: no clear difference, at most 0.01 % of the voxels differ.
    bool argmax_golden() const { return voxels > 0 && differ_clear == 0 && differ <= voxels / 10000; }
    std::string argmax_text() const;  // "N of M voxels differ (x %), K with a margin >= 2e-3"
};

// `logits`: {2, 14, 96, 96, 96} of f48_input() through the f48 formula-weight network.
F48Result compare_f48(const float* logits, const F48Tolerance& tolerance);

}  // namespace swu_test
