// The convolutional U-Net around the Swin encoder: UnetResBlock encoders, UnetrUpBlock
// decoders and the 1x1x1 output head (MONAI SwinUNETR.forward).
#include "swin_unetr.hpp"
#include "torch_compat.hpp"

namespace swu_torch {
namespace {

at::Tensor conv(const at::Tensor& x, const at::Tensor& w, int64_t padding) { return at::conv3d(x, w, {}, 1, padding); }

at::Tensor instance_norm(const at::Tensor& x) {
    return at::instance_norm(x, {}, {}, {}, {}, /*use_input_stats=*/true, 0.1, 1e-5, /*cudnn_enabled=*/true);
}

// conv() in float32 even under AMP (a no-op in fp32); for convolutions of the raw
// network input, see swin_transformer.
at::Tensor fp32_conv(const at::Tensor& x, const at::Tensor& w, int64_t padding) {
    const compat::NoAutocast fp32;
    return conv(x, w, padding);
}

// UnetResBlock: conv-IN-LReLU-conv-IN + (1x1x1 conv-IN shortcut when channels change), LReLU.
// raw_input: x is the network input (encoder1), whose convolutions stay float32 under AMP.
// Temporaries are released as early as the arithmetic allows (at full resolution each
// is ~170 MB per window of the bundle's network); the values are MONAI's.
at::Tensor res_block(const Params& p, const std::string& name, at::Tensor x, bool raw_input = false) {
    auto input_conv = raw_input ? fp32_conv : conv;
    check_interrupt();
    at::Tensor out = input_conv(x, p.at(name + "conv1.conv.weight"), 1);
    check_interrupt();
    out = instance_norm(out);
    at::leaky_relu_(out, 0.01);
    const auto shortcut = p.find(name + "conv3.conv.weight");
    at::Tensor residual = shortcut == p.end() ? x : instance_norm(input_conv(x, shortcut->second, 0));
    x.reset();  // frees the input when the caller handed over its only reference
    check_interrupt();
    out = instance_norm(conv(out, p.at(name + "conv2.conv.weight"), 1));
    out = out + residual;
    residual.reset();
    at::leaky_relu_(out, 0.01);
    return out;
}

// UnetrUpBlock: transposed conv k2 s2, concatenate the skip, res block.
at::Tensor up_block(const Params& p, const std::string& name, const at::Tensor& x, const at::Tensor& skip) {
    at::Tensor joined;
    {
        const at::Tensor up = at::conv_transpose3d(x, p.at(name + ".transp_conv.conv.weight"), {}, 2);
        joined = at::cat({up, skip}, 1);
    }  // the transposed-conv output is freed before the res block runs
    return res_block(p, name + ".conv_block.", std::move(joined));
}

thread_local const swu_plugin::Interrupt* interrupt_scope = nullptr;

}  // namespace

InterruptScope::InterruptScope(const swu_plugin::Interrupt& interrupt) : previous_(interrupt_scope) {
    interrupt_scope = &interrupt;
}
InterruptScope::~InterruptScope() { interrupt_scope = previous_; }

void check_interrupt() {
    if (interrupt_scope && interrupt_scope->requested()) throw swu_plugin::cancelled();
}

at::Tensor swin_unetr(const Params& p, const swu_backend_network& net, const at::Tensor& x, TapSink& taps) {
    auto tap = [&](const char* name, const at::Tensor& t) {
        if (taps.wants(name)) taps.put(name, t);
        return t;
    };
    std::array<at::Tensor, 5> h = swin_transformer(p, net, x, taps);
    for (int s = 0; s < 5; ++s) tap(("hidden" + std::to_string(s)).c_str(), h[s]);
    const at::Tensor enc0 = tap("enc0", res_block(p, "encoder1.layer.", x, /*raw_input=*/true));
    const at::Tensor enc1 = tap("enc1", res_block(p, "encoder2.layer.", h[0]));
    const at::Tensor enc2 = tap("enc2", res_block(p, "encoder3.layer.", h[1]));
    const at::Tensor enc3 = tap("enc3", res_block(p, "encoder4.layer.", h[2]));
    const at::Tensor dec4 = tap("dec4", res_block(p, "encoder10.layer.", h[4]));
    const at::Tensor dec3 = tap("dec3", up_block(p, "decoder5", dec4, h[3]));
    const at::Tensor dec2 = tap("dec2", up_block(p, "decoder4", dec3, enc3));
    const at::Tensor dec1 = tap("dec1", up_block(p, "decoder3", dec2, enc2));
    const at::Tensor dec0 = tap("dec0", up_block(p, "decoder2", dec1, enc1));
    const at::Tensor out = tap("dec_out", up_block(p, "decoder1", dec0, enc0));
    // The 1x1x1 output head always in float32 (a no-op in fp32): under AMP the logits
    // would otherwise be rounded to fp16 / bf16 (bf16 moves logits of ~2 by up to 8e-3).
    // It is ~0.1 % of the network's work.
    const compat::NoAutocast fp32_head;
    return tap("logits", at::conv3d(out.to(at::kFloat), p.at("out.conv.conv.weight"), p.at("out.conv.conv.bias")));
}

}  // namespace swu_torch
