// The Swin encoder (MONAI's SwinTransformer): patch embedding, four stages of shifted
// window attention with patch merging, and the parameter-free normalised outputs.
#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "../common/swin_geometry.hpp"
#include "swin_unetr.hpp"
#include "torch_compat.hpp"

namespace swu_torch {
namespace {

constexpr double kEps = 1e-5;
constexpr float kMaskValue = -100.0f;

at::Tensor linear(const Params& p, const std::string& name, const at::Tensor& x, bool bias = true) {
    return at::linear(x, p.at(name + ".weight"), bias ? p.at(name + ".bias") : at::Tensor());
}

at::Tensor layer_norm(const Params& p, const std::string& name, const at::Tensor& x) {
    return at::layer_norm(x, {x.size(-1)}, p.at(name + ".weight"), p.at(name + ".bias"), kEps);
}

// Channel-first -> LN over channels without affine -> channel-first (MONAI proj_out).
at::Tensor normalize_channels(const at::Tensor& x) {
    const at::Tensor cl = x.permute({0, 2, 3, 4, 1});
    return at::layer_norm(cl, {cl.size(-1)}, {}, {}, kEps).permute({0, 4, 1, 2, 3});
}

// Effective window and shift per axis (../common/swin_geometry.hpp).
using swu_swin::Windows;
using swu_swin::windows_for;

// {B, D, H, W, C} -> {B * windows, tokens, C}; windows in (d, h, w) raster order.
at::Tensor partition(const at::Tensor& x, const Windows& w) {
    const int64_t B = x.size(0), C = x.size(4);
    return x.view({B, w.padded[0] / w.size[0], w.size[0], w.padded[1] / w.size[1], w.size[1], w.padded[2] / w.size[2],
                   w.size[2], C})
        .permute({0, 1, 3, 5, 2, 4, 6, 7})
        .contiguous()
        .view({-1, w.tokens(), C});
}

at::Tensor reverse(const at::Tensor& windows, const Windows& w, int64_t B) {
    const int64_t C = windows.size(-1);
    return windows
        .view({B, w.padded[0] / w.size[0], w.padded[1] / w.size[1], w.padded[2] / w.size[2], w.size[0], w.size[1],
               w.size[2], C})
        .permute({0, 1, 4, 2, 5, 3, 6, 7})
        .contiguous()
        .view({B, w.padded[0], w.padded[1], w.padded[2], C});
}

// MONAI compute_mask: regions from the Python slices [:-w], [-w:-s], [-s:] per axis
// (with s = 0 the last slice is the whole axis), labelled in loop order; tokens of
// one window in different regions get -100. Emulated literally, slice semantics included.
// Built on `device` from the small label grid (the mask itself has windows * tokens^2
// entries, 40 M for a 96^3 input: too big to build on the host and copy per call).
at::Tensor shift_mask(const Windows& w, const at::Device& device) {
    const int64_t D = w.padded[0], H = w.padded[1], W = w.padded[2];
    std::vector<int32_t> label(static_cast<size_t>(D * H * W), 0);
    auto ranges = [](int64_t len, int64_t win, int64_t s) {
        std::array<std::pair<int64_t, int64_t>, 3> r;
        r[0] = {0, len - win};                               // slice(-win)
        r[1] = s > 0 ? std::make_pair(len - win, len - s)    // slice(-win, -s)
                     : std::make_pair(len - win, int64_t(0)); //   slice(-win, 0): empty
        r[2] = s > 0 ? std::make_pair(len - s, len) : std::make_pair(int64_t(0), len);  // slice(-s, None)
        return r;
    };
    const auto rd = ranges(D, w.size[0], w.shift[0]), rh = ranges(H, w.size[1], w.shift[1]),
               rw = ranges(W, w.size[2], w.shift[2]);
    int32_t count = 0;
    for (const auto& d : rd)
        for (const auto& h : rh)
            for (const auto& x : rw) {
                for (int64_t i = d.first; i < d.second; ++i)
                    for (int64_t j = h.first; j < h.second; ++j)
                        for (int64_t k = x.first; k < x.second; ++k) label[static_cast<size_t>((i * H + j) * W + k)] = count;
                ++count;
            }
    at::Tensor labels = at::from_blob(label.data(), {1, D, H, W, 1}, at::kInt).to(device, at::kFloat);
    at::Tensor lw = partition(labels, w).squeeze(-1);  // {windows, tokens}
    at::Tensor diff = lw.unsqueeze(1) - lw.unsqueeze(2);
    return at::zeros_like(diff).masked_fill(diff != 0, kMaskValue);
}

// Attention of a group of windows; `mask` (per window, or undefined) already matches them.
at::Tensor attend(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& bias,
                  const at::Tensor& mask) {
    at::Tensor attn = at::matmul(q, k.transpose(-2, -1));
    attn.add_(bias);
    if (mask.defined()) attn.add_(mask.unsqueeze(1));
    return at::matmul(at::softmax(attn, -1), v);
}

at::Tensor window_attention(const Params& p, const std::string& name, const at::Tensor& x, int64_t heads,
                            const at::Tensor& mask) {
    const int64_t Bw = x.size(0), n = x.size(1), C = x.size(2), hd = C / heads;
    const at::Tensor qkv = linear(p, name + ".qkv", x).reshape({Bw, n, 3, heads, hd}).permute({2, 0, 3, 1, 4});
    const at::Tensor q = qkv[0] * std::pow(static_cast<double>(hd), -0.5);
    // MONAI indexes the 7x7x7 table with its first n rows/columns even for smaller windows.
    const at::Tensor index = p.at(name + ".relative_position_index").slice(0, 0, n).slice(1, 0, n).reshape({-1});
    const at::Tensor bias =
        p.at(name + ".relative_position_bias_table").index_select(0, index).reshape({n, n, heads}).permute({2, 0, 1});
    // Windows are independent: attend to them in groups of about 64 MB of scores, so the
    // score matrices of a 96^3 window (~0.5 GB at stage 1) never exist all at once.
    // Each window's arithmetic is unchanged.
    const int64_t nw = mask.defined() ? mask.size(0) : Bw;  // windows per batch item when masked
    const int64_t group = std::max<int64_t>(1, (int64_t(64) << 20) / (heads * n * n * 4));
    std::vector<at::Tensor> parts;
    for (int64_t item = 0; item < Bw; item += nw)
        for (int64_t w = 0; w < nw && item + w < Bw; w += group) {
            const int64_t len = std::min(group, std::min(nw - w, Bw - item - w));
            const int64_t at = item + w;
            check_interrupt();
            parts.push_back(attend(q.narrow(0, at, len), qkv[1].narrow(0, at, len), qkv[2].narrow(0, at, len), bias,
                                   mask.defined() ? mask.narrow(0, w, len) : at::Tensor()));
        }
    const at::Tensor out = (parts.size() == 1 ? parts[0] : at::cat(parts, 0)).transpose(1, 2).reshape({Bw, n, C});
    return linear(p, name + ".proj", out);
}

// One SwinTransformerBlock on channels-last tokens {B, D, H, W, C}.
at::Tensor swin_block(const Params& p, const std::string& name, const at::Tensor& x, int64_t heads, const Windows& w,
                      const at::Tensor& mask) {
    const int64_t B = x.size(0), D = x.size(1), H = x.size(2), W = x.size(3);
    at::Tensor t = layer_norm(p, name + ".norm1", x);
    // Pad after the norm, at the far end, so padded tokens are exact zeros.
    const bool padded = w.padded[0] != D || w.padded[1] != H || w.padded[2] != W;
    if (padded) t = at::constant_pad_nd(t, {0, 0, 0, w.padded[2] - W, 0, w.padded[1] - H, 0, w.padded[0] - D}, 0);
    if (w.shifted()) t = at::roll(t, {-w.shift[0], -w.shift[1], -w.shift[2]}, {1, 2, 3});
    check_interrupt();
    at::Tensor a = window_attention(p, name + ".attn", partition(t, w), heads, w.shifted() ? mask : at::Tensor());
    check_interrupt();
    t = reverse(a, w, B);
    if (w.shifted()) t = at::roll(t, {w.shift[0], w.shift[1], w.shift[2]}, {1, 2, 3});
    if (padded) t = t.slice(1, 0, D).slice(2, 0, H).slice(3, 0, W).contiguous();
    const at::Tensor y = x + t;
    check_interrupt();
    const at::Tensor h = linear(p, name + ".mlp.linear2", at::gelu(linear(p, name + ".mlp.linear1", layer_norm(p, name + ".norm2", y))));
    return y + h;
}

// Activation checkpointing of one Swin block (MONAI use_checkpoint, torch.utils.checkpoint):
// the forward pass keeps only the block's input; the backward pass recomputes the block
// with gradients and differentiates it. Same values, less memory.
thread_local bool checkpoint_blocks_flag = false;

struct CheckpointedBlock : public torch::autograd::Function<CheckpointedBlock> {
    // params: the block's floating-point parameters (what gradients flow to), in the
    // order `names` lists them; they are also reachable through `p`.
    static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, at::TensorList params,
                              const Params* p, const std::string& name, int64_t heads, const Windows& w,
                              const compat::optional<at::Tensor>& mask_or_none) {
        (void)params;
        const at::Tensor mask = mask_or_none ? *mask_or_none : at::Tensor();
        ctx->save_for_backward(mask.defined() ? std::vector<at::Tensor>{x, mask} : std::vector<at::Tensor>{x});
        ctx->saved_data["p"] = reinterpret_cast<int64_t>(p);
        ctx->saved_data["name"] = name;
        ctx->saved_data["heads"] = heads;
        ctx->saved_data["amp"] = compat::cuda_autocast_enabled();
        ctx->saved_data["w"] = std::vector<int64_t>{w.size[0], w.size[1], w.size[2], w.shift[0], w.shift[1], w.shift[2],
                                                    w.padded[0], w.padded[1], w.padded[2]};
        return swin_block(*p, name, x, heads, w, mask);
    }
    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                    torch::autograd::variable_list grad_out) {
        const auto saved = ctx->get_saved_variables();
        const Params& p = *reinterpret_cast<const Params*>(ctx->saved_data["p"].toInt());
        const std::string name = ctx->saved_data["name"].toStringRef();
        const int64_t heads = ctx->saved_data["heads"].toInt();
        const std::vector<int64_t> v = ctx->saved_data["w"].toIntVector();
        Windows w;
        for (int i = 0; i < 3; ++i) w.size[i] = v[i], w.shift[i] = v[3 + i], w.padded[i] = v[6 + i];
        const std::vector<at::Tensor> params = block_parameters(p, name);
        const at::Tensor x = saved[0].detach().requires_grad_(true);
        at::Tensor y;
        {
            const at::AutoGradMode grad(true);
            compat::optional<compat::CudaAutocast> amp;  // AMP training uses fp16 autocast
            if (ctx->saved_data["amp"].toBool()) amp.emplace(at::kHalf);
            y = swin_block(p, name, x, heads, w, saved.size() > 1 ? saved[1] : at::Tensor());
        }
        std::vector<at::Tensor> inputs = {x};
        inputs.insert(inputs.end(), params.begin(), params.end());
        torch::autograd::variable_list g =
            torch::autograd::grad({y}, inputs, {grad_out[0]}, /*retain_graph=*/false, /*create_graph=*/false,
                                  /*allow_unused=*/true);
        // One entry per forward argument (params expanded): p, name, heads, w, mask get none.
        for (int i = 0; i < 5; ++i) g.emplace_back();
        return g;
    }
    static std::vector<at::Tensor> block_parameters(const Params& p, const std::string& name) {
        std::vector<at::Tensor> out;
        const std::string prefix = name + ".";
        for (auto it = p.lower_bound(prefix); it != p.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it)
            if (it->second.is_floating_point()) out.push_back(it->second);
        return out;
    }
};

at::Tensor run_block(const Params& p, const std::string& name, const at::Tensor& x, int64_t heads, const Windows& w,
                     const at::Tensor& mask) {
    if (!checkpoint_blocks_flag || !at::GradMode::is_enabled()) return swin_block(p, name, x, heads, w, mask);
    const std::vector<at::Tensor> params = CheckpointedBlock::block_parameters(p, name);
    const compat::optional<at::Tensor> mask_or_none =
        mask.defined() ? compat::optional<at::Tensor>(mask) : compat::optional<at::Tensor>();
    return CheckpointedBlock::apply(x, at::TensorList(params), &p, name, heads, w, mask_or_none);
}

at::Tensor patch_merging(const Params& p, const std::string& name, at::Tensor x, int32_t merging) {
    const int64_t D = x.size(1), H = x.size(2), W = x.size(3);
    if (D % 2 || H % 2 || W % 2) x = at::constant_pad_nd(x, {0, 0, 0, W % 2, 0, H % 2, 0, D % 2}, 0);
    std::vector<at::Tensor> parts;
    for (const auto& o : swu_swin::merge_offsets(merging))
        parts.push_back(x.slice(1, o[0], c10::nullopt, 2).slice(2, o[1], c10::nullopt, 2).slice(3, o[2], c10::nullopt, 2));
    return linear(p, name + ".reduction", layer_norm(p, name + ".norm", at::cat(parts, -1)), false);
}

// BasicLayer: blocks alternate un-shifted / shifted windows; then patch merging.
at::Tensor stage(const Params& p, const swu_backend_network& net, int s, const at::Tensor& x_ncdhw, TapSink& taps) {
    at::Tensor x = x_ncdhw.permute({0, 2, 3, 4, 1});
    const std::array<int64_t, 3> grid = {x.size(1), x.size(2), x.size(3)};
    const Windows plain = windows_for(grid, net.window_size, false);
    const Windows shifted = windows_for(grid, net.window_size, true);
    const at::Tensor mask = shifted.shifted() ? shift_mask(shifted, x.device()).to(x.scalar_type()) : at::Tensor();
    const std::string layer = "swinViT.layers" + std::to_string(s + 1) + ".0.";
    for (int b = 0; b < net.depths[s]; ++b) {
        check_interrupt();
        x = run_block(p, layer + "blocks." + std::to_string(b), x, net.num_heads[s], b % 2 ? shifted : plain, mask);
        const std::string tap = "stage" + std::to_string(s + 1) + ".block" + std::to_string(b);
        if (taps.wants(tap)) taps.put(tap, x.permute({0, 4, 1, 2, 3}));
    }
    return patch_merging(p, layer + "downsample", x, net.merging).permute({0, 4, 1, 2, 3});
}

}  // namespace

CheckpointBlocks::CheckpointBlocks(bool on) : previous_(checkpoint_blocks_flag) { checkpoint_blocks_flag = on; }
CheckpointBlocks::~CheckpointBlocks() { checkpoint_blocks_flag = previous_; }

std::array<at::Tensor, 5> swin_transformer(const Params& p, const swu_backend_network& net, const at::Tensor& x,
                                           TapSink& taps) {
    const int64_t P = net.patch_size;
    // Stages are chained un-normalised; only the returned hidden states are normalised.
    // In float32 also under AMP, like every convolution of the raw input (encoder1):
    // bf16 rounding of the input (spacing 2^-8 near 1) would erase its finer grey levels
    // and doubled the bf16 argmax disagreement on net_f48; with one input channel
    // these convolutions cost next to nothing.
    at::Tensor xs;
    {
        const compat::NoAutocast fp32;
        xs = at::conv3d(x, p.at("swinViT.patch_embed.proj.weight"), p.at("swinViT.patch_embed.proj.bias"), {P, P, P});
    }
    std::array<at::Tensor, 5> hidden;
    hidden[0] = normalize_channels(xs);
    for (int s = 0; s < 4; ++s) {
        xs = stage(p, net, s, xs, taps);
        hidden[s + 1] = normalize_channels(xs);
    }
    return hidden;
}

}  // namespace swu_torch
