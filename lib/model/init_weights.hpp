// Fresh weights for training from scratch: the initialisation of MONAI's SwinUNETR
// modules (PyTorch defaults for convolutions, truncated normal std 0.02 for the
// Swin linears and relative-position tables, ones / zeros for layer norms) and the
// fixed relative_position_index buffers. Deterministic for a seed.
#pragma once

#include <cstdint>
#include <vector>

#include "common/tensor.hpp"
#include "model/network_config.hpp"

namespace swu {

// The relative_position_index buffer of a window_size^3 window (MONAI WindowAttention).
Tensor relative_position_index(int window_size);

// Every state_dict entry of `config` (which must be complete), in MONAI's order.
std::vector<NamedTensor> initial_weights(const NetworkConfig& config, uint64_t seed);

}  // namespace swu
