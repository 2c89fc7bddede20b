#include "model/network_config.hpp"

#include <algorithm>
#include <map>

#include "common/error.hpp"

namespace swu {
namespace {

std::string join4(const std::array<int, 4>& a) {
    return std::to_string(a[0]) + "," + std::to_string(a[1]) + "," + std::to_string(a[2]) + "," + std::to_string(a[3]);
}

const char* kEncoders[] = {"encoder1", "encoder2", "encoder3", "encoder4", "encoder10"};
const char* kDecoders[] = {"decoder5", "decoder4", "decoder3", "decoder2", "decoder1"};

}  // namespace

bool NetworkConfig::complete() const {
    if (in_channels <= 0 || out_channels <= 0 || feature_size <= 0) return false;
    for (int i = 0; i < 4; ++i)
        if (depths[i] <= 0 || num_heads[i] <= 0) return false;
    return true;
}

std::string NetworkConfig::describe() const {
    return "feature_size " + std::to_string(feature_size) + ", in " + std::to_string(in_channels) + ", out " +
           std::to_string(out_channels) + ", depths " + join4(depths) + ", heads " + join4(num_heads);
}

std::vector<ParamSpec> state_dict_layout(const NetworkConfig& c) {
    const int64_t F = c.feature_size, W = c.window_size, P = c.patch_size;
    const int64_t table = (2 * W - 1) * (2 * W - 1) * (2 * W - 1), tokens = W * W * W;
    std::vector<ParamSpec> out;
    auto add = [&](std::string name, std::vector<int64_t> shape, bool index = false) {
        out.push_back({std::move(name), std::move(shape), index});
    };
    add("swinViT.patch_embed.proj.weight", {F, c.in_channels, P, P, P});
    add("swinViT.patch_embed.proj.bias", {F});
    for (int s = 0; s < 4; ++s) {
        const int64_t C = F << s, H = c.num_heads[s], hidden = C * c.mlp_ratio;
        const std::string layer = "swinViT.layers" + std::to_string(s + 1) + ".0.";
        for (int b = 0; b < c.depths[s]; ++b) {
            const std::string p = layer + "blocks." + std::to_string(b) + ".";
            add(p + "norm1.weight", {C});
            add(p + "norm1.bias", {C});
            add(p + "attn.relative_position_bias_table", {table, H});
            add(p + "attn.relative_position_index", {tokens, tokens}, true);
            add(p + "attn.qkv.weight", {3 * C, C});
            add(p + "attn.qkv.bias", {3 * C});
            add(p + "attn.proj.weight", {C, C});
            add(p + "attn.proj.bias", {C});
            add(p + "norm2.weight", {C});
            add(p + "norm2.bias", {C});
            add(p + "mlp.linear1.weight", {hidden, C});
            add(p + "mlp.linear1.bias", {hidden});
            add(p + "mlp.linear2.weight", {C, hidden});
            add(p + "mlp.linear2.bias", {C});
        }
        add(layer + "downsample.reduction.weight", {2 * C, 8 * C});
        add(layer + "downsample.norm.weight", {8 * C});
        add(layer + "downsample.norm.bias", {8 * C});
    }
    // UnetResBlocks: conv1 3x3x3 in->out, conv2 3x3x3 out->out, conv3 1x1x1 only when in != out.
    auto res_block = [&](const std::string& p, int64_t in, int64_t o) {
        add(p + "conv1.conv.weight", {o, in, 3, 3, 3});
        add(p + "conv2.conv.weight", {o, o, 3, 3, 3});
        if (in != o) add(p + "conv3.conv.weight", {o, in, 1, 1, 1});
    };
    const int64_t enc_in[] = {c.in_channels, F, 2 * F, 4 * F, 16 * F};
    const int64_t enc_out[] = {F, F, 2 * F, 4 * F, 16 * F};
    for (int i = 0; i < 5; ++i) res_block(std::string(kEncoders[i]) + ".layer.", enc_in[i], enc_out[i]);
    const int64_t dec_in[] = {16 * F, 8 * F, 4 * F, 2 * F, F};
    const int64_t dec_out[] = {8 * F, 4 * F, 2 * F, F, F};
    for (int i = 0; i < 5; ++i) {
        const std::string p = kDecoders[i];
        add(p + ".transp_conv.conv.weight", {dec_in[i], dec_out[i], 2, 2, 2});
        res_block(p + ".conv_block.", 2 * dec_out[i], dec_out[i]);
    }
    add("out.conv.conv.weight", {c.out_channels, F, 1, 1, 1});
    add("out.conv.conv.bias", {c.out_channels});
    return out;
}

int64_t parameter_count(const NetworkConfig& config) {
    int64_t n = 0;
    for (const ParamSpec& p : state_dict_layout(config)) {
        if (p.is_index) continue;
        int64_t k = 1;
        for (int64_t d : p.shape) k *= d;
        n += k;
    }
    return n;
}

void check_config(const NetworkConfig& c) {
    auto bad = [&](const std::string& why) { fail(SWU_ERR_INVALID_ARGUMENT, "invalid network (" + c.describe() + "): " + why); };
    if (!c.complete()) bad("every field must be positive");
    if (c.feature_size % 12 != 0) bad("feature_size must be a multiple of 12 (MONAI's rule)");
    if (c.in_channels > 64 || c.out_channels > 1024 || c.feature_size > 768) bad("sizes beyond this library's limits");
    for (int s = 0; s < 4; ++s) {
        if (c.depths[s] > 64 || c.num_heads[s] > 256) bad("depths or heads beyond this library's limits");
        if (((c.feature_size << s) % c.num_heads[s]) != 0)
            bad("stage " + std::to_string(s + 1) + " channels " + std::to_string(c.feature_size << s) +
                " not divisible by " + std::to_string(c.num_heads[s]) + " heads");
    }
    if (c.merging != SWU_MERGING_LEGACY && c.merging != SWU_MERGING_MONAI15 && c.merging != SWU_MERGING_V2)
        bad("unknown merging variant " + std::to_string(static_cast<int>(c.merging)));
}

NetworkConfig infer_config(const NetworkConfig& requested, const std::vector<NamedTensor>& weights) {
    std::map<std::string, const Tensor*> by_name;
    for (const NamedTensor& w : weights) by_name[w.name] = &w.tensor;
    auto need = [&](const std::string& key, size_t ndim, const char* what) -> const Tensor& {
        auto it = by_name.find(key);
        if (it == by_name.end())
            fail(SWU_ERR_WEIGHTS, "cannot infer " + std::string(what) + " from the weights: key '" + key +
                                      "' is missing (is this a MONAI SwinUNETR state_dict?); set it in the model params");
        if (it->second->shape.size() != ndim)
            fail(SWU_ERR_WEIGHTS, "cannot infer " + std::string(what) + ": '" + key + "' has shape " +
                                      shape_string(it->second->shape));
        return *it->second;
    };
    NetworkConfig c = requested;
    if (c.feature_size == 0) c.feature_size = static_cast<int>(need("swinViT.patch_embed.proj.weight", 5, "feature_size").shape[0]);
    if (c.in_channels == 0) c.in_channels = static_cast<int>(need("swinViT.patch_embed.proj.weight", 5, "in_channels").shape[1]);
    if (c.out_channels == 0) c.out_channels = static_cast<int>(need("out.conv.conv.weight", 5, "out_channels").shape[0]);
    const bool infer_depths = std::all_of(c.depths.begin(), c.depths.end(), [](int d) { return d == 0; });
    const bool infer_heads = std::all_of(c.num_heads.begin(), c.num_heads.end(), [](int d) { return d == 0; });
    for (int s = 0; s < 4; ++s) {
        const std::string layer = "swinViT.layers" + std::to_string(s + 1) + ".0.blocks.";
        if (infer_depths) {
            int d = 0;
            while (by_name.count(layer + std::to_string(d) + ".norm1.weight")) ++d;
            if (d == 0) need(layer + "0.norm1.weight", 1, "depths");
            c.depths[s] = d;
        }
        if (infer_heads)
            c.num_heads[s] = static_cast<int>(need(layer + "0.attn.relative_position_bias_table", 2, "num_heads").shape[1]);
    }
    if (!infer_depths && std::any_of(c.depths.begin(), c.depths.end(), [](int d) { return d == 0; }))
        fail(SWU_ERR_INVALID_ARGUMENT, "depths must be all 0 (inferred) or all positive");
    if (!infer_heads && std::any_of(c.num_heads.begin(), c.num_heads.end(), [](int d) { return d == 0; }))
        fail(SWU_ERR_INVALID_ARGUMENT, "num_heads must be all 0 (inferred) or all positive");
    check_config(c);
    return c;
}

void check_input_shape(const NetworkConfig& c, const int64_t shape[5]) {
    auto text = [&] {
        return "{" + std::to_string(shape[0]) + ", " + std::to_string(shape[1]) + ", " + std::to_string(shape[2]) +
               ", " + std::to_string(shape[3]) + ", " + std::to_string(shape[4]) + "}";
    };
    if (shape[0] < 1 || shape[0] > 4096)
        fail(SWU_ERR_INVALID_ARGUMENT, "input shape " + text() + ": batch N must be 1..4096");
    if (shape[1] != c.in_channels)
        fail(SWU_ERR_INVALID_ARGUMENT, "input shape " + text() + ": the network expects " +
                                           std::to_string(c.in_channels) + " input channel(s)");
    for (int i = 2; i < 5; ++i)
        if (shape[i] < 32 || shape[i] % 32 != 0 || shape[i] > 32768)
            fail(SWU_ERR_INVALID_ARGUMENT, "input shape " + text() +
                                               ": spatial sizes D, H, W must be positive multiples of 32");
    // Bound the largest activation (the full-resolution decoder) before anything is allocated.
    const double voxels = static_cast<double>(shape[0]) * shape[2] * shape[3] * shape[4];
    if (voxels * std::max(c.feature_size * 2, c.out_channels) * 4.0 > 64.0 * (1ull << 30))
        fail(SWU_ERR_OUT_OF_MEMORY, "input shape " + text() + " needs more than 64 GiB per activation; use smaller patches or batches");
}

std::array<int64_t, 5> tap_shape(const NetworkConfig& c, const std::string& tap, const int64_t in[5]) {
    const int64_t F = c.feature_size;
    auto at = [&](int64_t channels, int down) {
        return std::array<int64_t, 5>{in[0], channels, in[2] >> down, in[3] >> down, in[4] >> down};
    };
    if (tap == "logits") return at(c.out_channels, 0);
    if (tap.size() == 7 && tap.compare(0, 6, "hidden") == 0 && tap[6] >= '0' && tap[6] <= '4') {
        const int s = tap[6] - '0';
        return at(F << s, s + 1);
    }
    static const std::map<std::string, std::pair<int, int>> fixed = {
        // name -> (channel multiple of F, downsampling exponent)
        {"enc0", {1, 0}}, {"enc1", {1, 1}}, {"enc2", {2, 2}}, {"enc3", {4, 3}}, {"dec4", {16, 5}},
        {"dec3", {8, 4}}, {"dec2", {4, 3}}, {"dec1", {2, 2}}, {"dec0", {1, 1}}, {"dec_out", {1, 0}}};
    auto it = fixed.find(tap);
    if (it != fixed.end()) return at(F * it->second.first, it->second.second);
    // "stage<s>.block<b>"
    if (tap.size() >= 13 && tap.compare(0, 5, "stage") == 0 && tap.compare(6, 6, ".block") == 0) {
        const int s = tap[5] - '1';
        const std::string b = tap.substr(12);
        if (s >= 0 && s < 4 && !b.empty() && b.size() <= 2 && std::all_of(b.begin(), b.end(), ::isdigit) &&
            std::stoi(b) < c.depths[s])
            return at(F << s, s + 1);
    }
    fail(SWU_ERR_INVALID_ARGUMENT, "unknown tap '" + tap +
                                       "' (hidden0..4, enc0..3, dec4..0, dec_out, logits, stage<s>.block<b>)");
}

}  // namespace swu
