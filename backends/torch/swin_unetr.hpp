// SwinUNETR forward in ATen, exactly as MONAI 1.3.2 computes it (see SPEC.md).
// Parameters are kept by their MONAI state_dict names.
#pragma once

#include <ATen/ATen.h>

#include <array>
#include <map>
#include <string>

#include "../common/plugin_support.hpp"
#include "swinunetr/backend.h"

namespace swu_torch {

using Params = std::map<std::string, at::Tensor>;

// Receives intermediate results (channel-first) by tap name.
class TapSink {
public:
    virtual ~TapSink() = default;
    virtual bool wants(const std::string& name) const = 0;
    virtual void put(const std::string& name, const at::Tensor& value) = 0;
};

// Asks for no intermediate output (training, stitching: only the logits are used).
class NoTaps : public TapSink {
public:
    bool wants(const std::string&) const override { return false; }
    void put(const std::string&, const at::Tensor&) override {}
};

// While in scope on this thread, forward passes with gradients checkpoint every Swin
// block (recomputed in backward; MONAI's use_checkpoint).
class CheckpointBlocks {
public:
    explicit CheckpointBlocks(bool on);
    ~CheckpointBlocks();
    CheckpointBlocks(const CheckpointBlocks&) = delete;
    CheckpointBlocks& operator=(const CheckpointBlocks&) = delete;

private:
    bool previous_;
};

// While in scope on this thread, the network's blocks and layers ask `interrupt` whether
// to stop (check_interrupt). The plugin's forward and sliding_window open one.
class InterruptScope {
public:
    explicit InterruptScope(const swu_plugin::Interrupt& interrupt);
    ~InterruptScope();
    InterruptScope(const InterruptScope&) = delete;
    InterruptScope& operator=(const InterruptScope&) = delete;

private:
    const swu_plugin::Interrupt* previous_;
};
// Throws swu_plugin::cancelled() when the scope's interrupt function asks to stop.
void check_interrupt();

// swinViT(x, normalize=True): the five layer-normalised hidden states.
std::array<at::Tensor, 5> swin_transformer(const Params& p, const swu_backend_network& net, const at::Tensor& x,
                                           TapSink& taps);

// The whole network: logits {N, out_channels, D, H, W}.
at::Tensor swin_unetr(const Params& p, const swu_backend_network& net, const at::Tensor& x, TapSink& taps);

}  // namespace swu_torch
