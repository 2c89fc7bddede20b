// Training in ATen: the bundle's DiceCELoss, torch.optim.Adam's arithmetic and one
// optimisation step (forward, loss, backward, update), with AMP gradient scaling on CUDA.
#pragma once

#include <ATen/ATen.h>

#include <functional>
#include <map>
#include <string>

#include "swin_unetr.hpp"

namespace swu_torch {

// DiceCELoss(to_onehot_y, softmax, squared_pred, batch=True), MONAI 1.3.2 defaults
// otherwise: total = dice + ce. logits {N, C, D, H, W} float32; labels {N, 1, D, H, W}
// integer class indices.
struct LossParts {
    at::Tensor total, dice, ce;
};
LossParts dice_ce_loss(const at::Tensor& logits, const at::Tensor& labels);

struct AdamConfig {
    double lr = 2e-4, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0.0;
};
struct AdamMoments {
    at::Tensor exp_avg, exp_avg_sq;
};
// torch.optim.Adam (PyTorch 1.13, single-tensor, amsgrad off) for one parameter at
// step `step` (1-based). Must run with gradients disabled.
void adam_update(at::Tensor& param, at::Tensor grad, AdamMoments& moments, int64_t step, const AdamConfig& config);

// The optimiser state and options of one backend instance.
class Trainer {
public:
    // Makes the floating-point parameters trainable; reset drops moments and step count.
    // micro_batches k >= 1: a step splits its batch into k equal parts (gradient
    // accumulation: k backward passes, gradients summed, then divided by k).
    void configure(const AdamConfig& adam, bool amp, bool checkpointing, int micro_batches, bool reset, Params& params);
    bool configured() const { return configured_; }
    // Called between backward and the update with the summed-and-averaged gradients in
    // place (data parallelism averages them over the ranks here). `before_backward`, if
    // set, is called right before a backward that alone makes the step's gradients (one
    // micro-batch, no checkpointing), so the reducer may start during that backward.
    void set_gradient_reducer(std::function<void(Params&)> reducer, std::function<void(Params&)> before_backward = {}) {
        reduce_gradients_ = std::move(reducer);
        before_backward_ = std::move(before_backward);
    }

    struct Result {
        double total = 0, dice = 0, ce = 0;
        bool skipped = false;
    };
    // x {N, C, D, H, W} float32, y {N, 1, D, H, W} int64, both on the parameters' device;
    // N a multiple of micro_batches. The losses are the mean over the micro-batches.
    Result step(Params& params, const swu_backend_network& net, const at::Tensor& x, const at::Tensor& y);

    int64_t step_count() const { return step_; }
    const std::map<std::string, AdamMoments>& moments() const { return moments_; }
    // Restores moments and step count (names "exp_avg.<key>", "exp_avg_sq.<key>", "step").
    void restore(const std::map<std::string, at::Tensor>& state, const Params& params);

private:
    bool configured_ = false;
    AdamConfig adam_;
    bool amp_ = false;
    bool checkpointing_ = false;
    int micro_batches_ = 1;
    std::function<void(Params&)> reduce_gradients_, before_backward_;
    int64_t step_ = 0;
    std::map<std::string, AdamMoments> moments_;
    // AMP gradient scaling as torch.cuda.amp.GradScaler's defaults.
    double scale_ = 65536.0;
    int64_t growth_tracker_ = 0;
};

}  // namespace swu_torch
