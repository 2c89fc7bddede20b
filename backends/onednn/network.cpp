// SwinUNETR.forward: the Swin encoder (patch embedding, four stages, normalised hidden
// states) and the convolutional U-Net (encoders, decoders, 1x1x1 head).
#include "network.hpp"

#include <stdexcept>

#include "dnnl_ops.hpp"

namespace swu_onednn {

const Param& Network::param(const std::string& name) const {
    const auto it = params.find(name);
    if (it == params.end()) throw std::runtime_error("the onednn backend has no weight '" + name + "'");
    return it->second;
}

namespace {

// Passes `value` on (in whatever layout: the sink reorders).
Act tap(TapSink& taps, const std::string& name, Act value) {
    if (taps.wants(name)) taps.put(name, value);
    return value;
}

// BasicLayer: blocks alternate un-shifted / shifted windows; then patch merging.
Act stage(Network& m, int s, Act x, TapSink& taps) {
    const int64_t grid[3] = {x.d, x.h, x.w};
    const Windows plain = windows_for(grid, m.net.window_size, false);
    const Windows shifted = windows_for(grid, m.net.window_size, true);
    const std::string layer = "swinViT.layers" + std::to_string(s + 1) + ".0.";
    for (int b = 0; b < m.net.depths[s]; ++b) {
        m.check_cancel();
        swin_block(m, layer + "blocks." + std::to_string(b), x, m.net.num_heads[s], b % 2 ? shifted : plain);
        const std::string name = "stage" + std::to_string(s + 1) + ".block" + std::to_string(b);
        if (taps.wants(name)) taps.put(name, x);
    }
    return patch_merging(m, layer + "downsample", x);
}

}  // namespace

void forward(Network& m, const float* input, const int64_t shape[5], TapSink& taps) {
    const int64_t N = shape[0], Cin = shape[1], D = shape[2], H = shape[3], W = shape[4], S = D * H * W;
    Act x(N, D, H, W, Cin);
    {
        float* dst = x.ptr();
#pragma omp parallel for schedule(static)
        for (int64_t t = 0; t < N * S; ++t) {
            const int64_t b = t / S, v = t % S;
            for (int64_t c = 0; c < Cin; ++c) dst[t * Cin + c] = input[(b * Cin + c) * S + v];
        }
    }
    // Stages are chained un-normalised; only the hidden states are normalised.
    const int P = m.net.patch_size;
    const std::string pe = "swinViT.patch_embed.proj.";
    Act xs = conv3d(m.ctx, pe + "weight", m.at(pe + "weight"), m.at(pe + "bias"), x, m.net.feature_size, P, P, 0,
                    0);
    Act hidden[5];
    hidden[0] = tap(taps, "hidden0", normalize_channels(m, xs));
    for (int s = 0; s < 4; ++s) {
        xs = stage(m, s, std::move(xs), taps);
        hidden[s + 1] = tap(taps, "hidden" + std::to_string(s + 1), normalize_channels(m, xs));
    }
    xs = Act();
    const Act enc0 = tap(taps, "enc0", res_block(m, "encoder1.layer.", x));
    x = Act();
    const Act enc1 = tap(taps, "enc1", res_block(m, "encoder2.layer.", hidden[0]));
    const Act enc2 = tap(taps, "enc2", res_block(m, "encoder3.layer.", hidden[1]));
    const Act enc3 = tap(taps, "enc3", res_block(m, "encoder4.layer.", hidden[2]));
    Act dec = tap(taps, "dec4", res_block(m, "encoder10.layer.", hidden[4]));
    dec = tap(taps, "dec3", up_block(m, "decoder5", dec, hidden[3]));
    dec = tap(taps, "dec2", up_block(m, "decoder4", dec, enc3));
    dec = tap(taps, "dec1", up_block(m, "decoder3", dec, enc2));
    dec = tap(taps, "dec0", up_block(m, "decoder2", dec, enc1));
    dec = tap(taps, "dec_out", up_block(m, "decoder1", dec, enc0));
    const std::string head = "out.conv.conv.";
    const int64_t out_c = m.param(head + "weight").shape[0];
    tap(taps, "logits", conv3d(m.ctx, head + "weight", m.at(head + "weight"), m.at(head + "bias"), dec, out_c, 1, 1, 0,
                               m.ctx.block));
}

}  // namespace swu_onednn
