// SwinUNETR forward on oneDNN, exactly as MONAI 1.3.2 computes it (SPEC.md, and the
// LibTorch backend's op order). Parameters are kept by their MONAI state_dict names.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "../common/plugin_support.hpp"
#include "../common/swin_geometry.hpp"
#include "primitive_cache.hpp"
#include "swinunetr/backend.h"
#include "tensor.hpp"
#include "worker.hpp"

namespace swu_onednn {

struct Param {
    std::vector<int64_t> shape;
    std::vector<float> values;     // float entries
    std::vector<int64_t> indices;  // int64 entries (relative_position_index)
};

// Receives intermediate results by tap name, in either layout (the sink converts).
class TapSink {
public:
    virtual ~TapSink() = default;
    virtual bool wants(const std::string& name) const = 0;
    virtual void put(const std::string& name, const Act& value) = 0;
};

struct Network {
    swu_backend_network net{};
    int threads = 1;
    std::unique_ptr<Worker> worker;  // runs the forwards on `threads` OpenMP threads
    std::unordered_map<std::string, Param> params;
    Context ctx;
    // Relative position bias per attention block and window size, {heads, n, n}.
    std::unordered_map<std::string, std::vector<float>> expanded_bias;

    swu_plugin::Interrupt interrupt;  // the core's, for the next forward (set_interrupt)

    // Between blocks and layers: a cancel asked for since the forward began ends it here.
    void check_cancel() const {
        if (ctx.cancel.load(std::memory_order_relaxed)) throw swu_plugin::cancelled();
    }

    const Param& param(const std::string& name) const;
    const float* at(const std::string& name) const { return param(name).values.data(); }
    bool has(const std::string& name) const { return params.count(name) != 0; }
    // Weights changed: every cached primitive and derived table is stale.
    void reset_derived() {
        ctx.clear();
        expanded_bias.clear();
    }
};

// The whole network; fills the requested taps ("logits" among them).
void forward(Network& m, const float* input, const int64_t shape[5], TapSink& taps);

// ---- pieces, one file each --------------------------------------------------------------
// UnetResBlock and UnetrUpBlock (conv_blocks.cpp). A bf16 model's encoder blocks keep fp32
// Winograd and its decoder blocks (up_block) take bf16 Winograd where that is faster
// (conv3d's bf16_winograd): on the golden net_f48 case bf16 Winograd everywhere left
// 99.06 % argmax agreement and 0.028 max |logit error|, the encoder in fp32 99.32 % and
// 0.019 (the encoder holds 28 % of the Winograd multiplies, the decoder 72 %).
Act res_block(Network& m, const std::string& name, const Act& x, bool bf16_winograd = false);
Act up_block(Network& m, const std::string& name, const Act& x, const Act& skip);

// Effective window and shift per axis (../common/swin_geometry.hpp).
using swu_swin::Windows;
using swu_swin::windows_for;
// One SwinTransformerBlock on channels-last tokens, in place.
void swin_block(Network& m, const std::string& name, Act& x, int64_t heads, const Windows& w);

// Window attention on `windows` windows of n tokens each, {windows * n, C} -> out (window_attention.cpp).
// bias {heads, n, n}; labels {image windows, n} region labels of the shift mask or null;
// first_window = global index of the first window (for the label lookup, modulo image_windows).
void window_attention(Network& m, const std::string& name, const float* in, int64_t windows, int64_t n, int64_t C,
                      int64_t heads, const float* bias, const int32_t* labels, int64_t first_window,
                      int64_t image_windows, float* out);
const std::vector<float>& relative_bias(Network& m, const std::string& name, int64_t n, int64_t heads);

// PatchMerging (patch_merging.cpp): {B, D, H, W, C} -> {B, D/2, H/2, W/2, 2C}.
Act patch_merging(Network& m, const std::string& name, const Act& x);

// Parameter-free layer norm over channels (MONAI proj_out).
Act normalize_channels(Network& m, const Act& x);

}  // namespace swu_onednn
