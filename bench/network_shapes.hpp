// The SwinUNETR state_dict layout (MONAI key names and shapes) and its MAC count, both
// derived from the network's sizes, for the benchmark's own weights.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace swu_bench {

struct Net {
    int64_t in = 1, out = 14, feature = 48;
    int64_t depths[4] = {2, 2, 2, 2};
    int64_t heads[4] = {3, 6, 12, 24};
    int64_t window = 7;
};

struct Key {
    std::string name;
    std::vector<int64_t> shape;
    bool index = false;  // int64 relative_position_index
};

std::vector<Key> state_dict_layout(const Net& net);

// Multiply-accumulates of one forward pass on one {d, h, w} patch (convolutions, linears,
// attention matmuls; normalisation and element-wise work not counted).
double forward_macs(const Net& net, int64_t d, int64_t h, int64_t w);

}  // namespace swu_bench
