// Checks a state_dict against the network layout and converts it to what backends
// receive: float32 parameters and int64 index buffers, in MONAI's order.
#pragma once

#include <vector>

#include "common/tensor.hpp"
#include "model/network_config.hpp"

namespace swu {

// Removes a "module." prefix (DDP) when every key carries it.
void strip_module_prefix(std::vector<NamedTensor>& weights);

// Throws SWU_ERR_WEIGHTS naming the first offenders among duplicate, missing and
// unexpected keys and shape mismatches. Reads names and shapes only: checkpoint headers
// (tensor_screen.hpp) pass before their data is read.
void check_weights_fit(const NetworkConfig& config, const std::vector<NamedTensor>& weights);

// check_weights_fit, then the values: throws SWU_ERR_WEIGHTS for non-floating
// parameters, non-finite values and out-of-range index buffers.
std::vector<NamedTensor> prepare_weights(const NetworkConfig& config, std::vector<NamedTensor> weights);

}  // namespace swu
