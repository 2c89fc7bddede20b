// The torch backend's training arithmetic in isolation: DiceCELoss values and gradients
// against golden loss_metric/, and Adam against golden train_step/updated_params/
// (initial values, the gradients PyTorch computed, and its parameters after each step).
#include <cmath>
#include <cstdio>

#include "golden.hpp"
#include "io/json.hpp"
#include "training.hpp"

// c10's logging defines an aborting CHECK(); Catch2's must win in this file.
#undef CHECK
#include <catch2/catch.hpp>

using namespace swu_test;

namespace {

at::Tensor to_aten(const swu::Tensor& t) {
    const at::ScalarType type = t.dtype == swu::DType::UInt8 ? at::kByte : at::kFloat;
    return at::from_blob(const_cast<uint8_t*>(t.data.data()), t.shape, type).clone();
}

at::Tensor golden_tensor(const std::string& file) { return to_aten(load_golden(file)); }

}  // namespace

TEST_CASE("DiceCELoss values and gradients match MONAI", "[golden]") {
    REQUIRE(golden_available());
    const at::Tensor logits = golden_tensor("loss_metric/loss_logits.npy");      // {4, 2, 14, 8, 8, 8}
    const at::Tensor labels = golden_tensor("loss_metric/loss_labels.npy");      // {4, 2, 1, 8, 8, 8}
    const at::Tensor grads = golden_tensor("loss_metric/loss_grad_logits.npy");  // {4, 2, 14, 8, 8, 8}
    const swu::json::Value results = swu::json::parse_file(golden_path("loss_metric/loss_results.json"));
    for (int64_t c = 0; c < logits.size(0); ++c) {
        INFO("case " << c);
        const swu::json::Value& want = results.at("cases").at(static_cast<size_t>(c));
        const at::Tensor z = logits[c].clone().requires_grad_(true);
        const swu_torch::LossParts loss = swu_torch::dice_ce_loss(z, labels[c].to(at::kLong));
        loss.total.backward();
        const double total = loss.total.item<double>(), dice = loss.dice.item<double>(), ce = loss.ce.item<double>();
        const double grad_err = (z.grad() - grads[c]).abs().max().item<double>();
        std::printf("loss case %lld: total %.9g (MONAI %.9g), dice %.9g (%.9g), ce %.9g (%.9g), max |grad diff| %.2e\n",
                    static_cast<long long>(c), total, want.at("total").as_number(), dice, want.at("dice").as_number(), ce,
                    want.at("ce").as_number(), grad_err);
        CHECK(std::fabs(total - want.at("total").as_number()) <= 1e-5 * std::fabs(want.at("total").as_number()) + 1e-7);
        CHECK(std::fabs(dice - want.at("dice").as_number()) <= 1e-5 * std::fabs(want.at("dice").as_number()) + 1e-7);
        CHECK(std::fabs(ce - want.at("ce").as_number()) <= 1e-5 * std::fabs(want.at("ce").as_number()) + 1e-7);
        CHECK(grad_err <= 1e-7 + 1e-4 * grads[c].abs().max().item<double>());
    }
}

TEST_CASE("Adam updates match torch.optim.Adam step by step", "[golden]") {
    REQUIRE(golden_available());
    const swu::json::Value c = swu::json::parse_file(golden_path("train_step/case.json"));
    const at::NoGradGuard no_grad;
    double worst = 0;
    for (const swu::json::Value& key : c.at("small_keys").elements()) {
        const std::string k = key.as_string();
        INFO(k);
        at::Tensor param = golden_tensor("train_step/updated_params/initial.param." + k + ".npy");
        swu_torch::AdamMoments moments;
        for (int step = 1; step <= 3; ++step) {
            const std::string s = "train_step/updated_params/step" + std::to_string(step);
            const at::Tensor grad = golden_tensor(s + ".grad." + k + ".npy");
            swu_torch::adam_update(param, grad, moments, step, swu_torch::AdamConfig{});
            const at::Tensor want = golden_tensor(s + ".param." + k + ".npy");
            const double err = (param - want).abs().max().item<double>();
            worst = std::max(worst, err);
            CHECK(err <= 1e-7);
        }
    }
    std::printf("Adam: 8 parameters x 3 steps, max |ours - PyTorch| = %.3g\n", worst);
}
