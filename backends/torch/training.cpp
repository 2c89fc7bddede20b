#include "training.hpp"

#include <ATen/core/grad_mode.h>

#include <cmath>
#include <stdexcept>
#include <vector>

#include "torch_compat.hpp"

namespace swu_torch {
namespace {

bool trainable(const at::Tensor& t) { return t.is_floating_point(); }

}  // namespace

LossParts dice_ce_loss(const at::Tensor& logits, const at::Tensor& labels) {
    constexpr double kSmooth = 1e-5;
    const int64_t classes = logits.size(1);
    const at::Tensor target = labels.squeeze(1).to(at::kLong);
    // one_hot gives {N, D, H, W, C}; the Dice sums run over every axis but C (batch=True).
    const at::Tensor onehot = at::one_hot(target, classes).permute({0, 4, 1, 2, 3}).to(logits.scalar_type());
    const at::Tensor p = at::softmax(logits, 1);
    const std::vector<int64_t> dims = {0, 2, 3, 4};
    const at::Tensor intersection = (onehot * p).sum(dims);
    const at::Tensor ground = (onehot * onehot).sum(dims);  // squared_pred squares both terms
    const at::Tensor pred = (p * p).sum(dims);
    const at::Tensor f = 1.0 - (2.0 * intersection + kSmooth) / (ground + pred + kSmooth);
    LossParts parts;
    parts.dice = f.mean();
    parts.ce = at::cross_entropy_loss(logits, target);
    parts.total = parts.dice + parts.ce;
    return parts;
}

void adam_update(at::Tensor& param, at::Tensor grad, AdamMoments& m, int64_t step, const AdamConfig& c) {
    if (c.weight_decay != 0.0) grad = grad.add(param, c.weight_decay);
    if (!m.exp_avg.defined()) {
        m.exp_avg = at::zeros_like(param, at::MemoryFormat::Preserve);
        m.exp_avg_sq = at::zeros_like(param, at::MemoryFormat::Preserve);
    }
    m.exp_avg.mul_(c.beta1).add_(grad, 1.0 - c.beta1);
    m.exp_avg_sq.mul_(c.beta2).addcmul_(grad, grad, 1.0 - c.beta2);
    const double bias_correction1 = 1.0 - std::pow(c.beta1, static_cast<double>(step));
    const double bias_correction2 = 1.0 - std::pow(c.beta2, static_cast<double>(step));
    const double step_size = c.lr / bias_correction1;
    const at::Tensor denom = (m.exp_avg_sq.sqrt() / std::sqrt(bias_correction2)).add_(c.eps);
    param.addcdiv_(m.exp_avg, denom, -step_size);
}

void Trainer::configure(const AdamConfig& adam, bool amp, bool checkpointing, int micro_batches, bool reset,
                        Params& params) {
    if (micro_batches < 1) throw std::invalid_argument("micro_batches must be >= 1");
    adam_ = adam;
    amp_ = amp;
    checkpointing_ = checkpointing;
    micro_batches_ = micro_batches;
    if (reset) {
        moments_.clear();
        step_ = 0;
        scale_ = 65536.0;
        growth_tracker_ = 0;
    }
    for (auto& [name, t] : params)
        if (trainable(t)) t.requires_grad_(true);
    configured_ = true;
}

Trainer::Result Trainer::step(Params& params, const swu_backend_network& net, const at::Tensor& x, const at::Tensor& y) {
    const int64_t k = micro_batches_, n = x.size(0);
    if (n % k != 0)
        throw std::invalid_argument("a batch of " + std::to_string(n) + " does not split into " + std::to_string(k) +
                                    " micro-batches");
    for (auto& [name, t] : params)
        if (trainable(t)) t.mutable_grad().reset();

    NoTaps none;
    Result r;
    for (int64_t i = 0; i < k; ++i) {
        // A micro-batch in memory of its own, as a rank of a data-parallel run holds it.
        const at::Tensor xi = k == 1 ? x : x.narrow(0, i * (n / k), n / k).clone();
        const at::Tensor yi = k == 1 ? y : y.narrow(0, i * (n / k), n / k).clone();
        LossParts loss;
        {
            compat::optional<compat::CudaAutocast> autocast;
            if (amp_) autocast.emplace(at::kHalf);
            const CheckpointBlocks checkpoint(checkpointing_);
            const at::Tensor logits = swin_unetr(params, net, xi, none);
            // The loss in float32 (the head already is; softmax statistics would be fp32 anyway).
            loss = dice_ce_loss(logits.to(at::kFloat), yi);
        }
        const double total = loss.total.item<double>();
        if (!std::isfinite(total)) throw std::runtime_error("the loss is not finite (" + std::to_string(total) + ")");
        r.total += total;
        r.dice += loss.dice.item<double>();
        r.ce += loss.ce.item<double>();
        // Gradients of the micro-batches add up in .grad (autograd's accumulation).
        if (k == 1 && !checkpointing_ && before_backward_) before_backward_(params);
        if (amp_) {
            (loss.total * scale_).backward();
        } else {
            loss.total.backward();
        }
    }
    r.total /= static_cast<double>(k);
    r.dice /= static_cast<double>(k);
    r.ce /= static_cast<double>(k);

    {
        const at::NoGradGuard no_grad;
        if (k > 1)
            for (auto& [name, t] : params)
                if (trainable(t) && t.grad().defined()) t.mutable_grad().div_(static_cast<double>(k));
    }
    if (reduce_gradients_) reduce_gradients_(params);

    const at::NoGradGuard no_grad;
    if (amp_) {
        // GradScaler: unscale; skip the step and halve the scale on inf/NaN; double it
        // after 2000 clean steps.
        // One device synchronisation for all tensors, not one per tensor.
        std::vector<at::Tensor> finite_parts;
        for (auto& [name, t] : params) {
            if (!trainable(t) || !t.grad().defined()) continue;
            t.mutable_grad().div_(scale_);
            finite_parts.push_back(at::isfinite(t.grad()).all());
        }
        const bool finite = finite_parts.empty() || at::stack(finite_parts).all().item<bool>();
        if (!finite) {
            scale_ *= 0.5;
            growth_tracker_ = 0;
            r.skipped = true;
            return r;
        }
        if (++growth_tracker_ == 2000) {
            scale_ *= 2.0;
            growth_tracker_ = 0;
        }
    }
    ++step_;
    for (auto& [name, t] : params) {
        if (!trainable(t) || !t.grad().defined()) continue;
        adam_update(t, t.grad(), moments_[name], step_, adam_);
    }
    return r;
}

void Trainer::restore(const std::map<std::string, at::Tensor>& state, const Params& params) {
    std::map<std::string, AdamMoments> moments;
    for (const auto& [name, t] : params) {
        if (!trainable(t)) continue;
        const auto a = state.find("exp_avg." + name), b = state.find("exp_avg_sq." + name);
        if (a == state.end() && b == state.end()) continue;  // never updated (e.g. no gradient yet)
        if (a == state.end() || b == state.end())
            throw std::invalid_argument("optimizer state for '" + name + "' is incomplete");
        if (!a->second.sizes().equals(t.sizes()) || !b->second.sizes().equals(t.sizes()))
            throw std::invalid_argument("optimizer state for '" + name + "' has the wrong shape");
        moments[name] = {a->second.to(t.device(), at::kFloat), b->second.to(t.device(), at::kFloat)};
    }
    const auto s = state.find("step");
    if (s == state.end() || s->second.numel() != 1) throw std::invalid_argument("optimizer state has no 'step'");
    const int64_t step = s->second.to(at::kLong).item<int64_t>();
    if (step < 0) throw std::invalid_argument("optimizer state has a negative step");
    moments_ = std::move(moments);
    step_ = step;
}

}  // namespace swu_torch
