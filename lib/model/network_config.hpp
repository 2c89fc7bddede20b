// The SwinUNETR network as the core sees it: hyper-parameters, the exact state_dict
// layout MONAI produces for them, and the shapes of every tap (intermediate output).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "common/tensor.hpp"
#include "swinunetr/swinunetr.h"

namespace swu {

struct NetworkConfig {
    int in_channels = 0;   // 0 = not known yet (inferred from weights)
    int out_channels = 0;
    int feature_size = 0;
    std::array<int, 4> depths{};
    std::array<int, 4> num_heads{};
    int window_size = 7;
    int patch_size = 2;
    int mlp_ratio = 4;
    swu_merging merging = SWU_MERGING_LEGACY;

    bool complete() const;
    std::string describe() const;  // "feature_size 48, in 1, out 14, depths 2,2,2,2, heads 3,6,12,24"
};

struct ParamSpec {
    std::string name;
    std::vector<int64_t> shape;
    bool is_index = false;  // int64 relative_position_index buffer, not a learnable parameter
};

// Every state_dict entry of MONAI's SwinUNETR for `config`, in MONAI's order.
std::vector<ParamSpec> state_dict_layout(const NetworkConfig& config);
int64_t parameter_count(const NetworkConfig& config);

// Fills the fields of `requested` that are 0 from the weights' shapes; throws
// SWU_ERR_WEIGHTS when a needed key is missing, SWU_ERR_INVALID_ARGUMENT when the
// result is not a valid network (e.g. channels not divisible by heads).
NetworkConfig infer_config(const NetworkConfig& requested, const std::vector<NamedTensor>& weights);
void check_config(const NetworkConfig& config);

// Throws SWU_ERR_INVALID_ARGUMENT unless shape is {N>=1, in_channels, D, H, W} with
// D, H, W positive multiples of 32.
void check_input_shape(const NetworkConfig& config, const int64_t shape[5]);

// Shape {N, C, D, H, W} of a tap (see swu_tap); throws SWU_ERR_INVALID_ARGUMENT for
// an unknown name.
std::array<int64_t, 5> tap_shape(const NetworkConfig& config, const std::string& tap, const int64_t input_shape[5]);

}  // namespace swu
