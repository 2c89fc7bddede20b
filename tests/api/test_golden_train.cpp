// golden train_step/: three DiceCE + Adam steps on net_f12 through the C API — the loss
// of every step, the step-1 gradient norms of every parameter — and the model.pt that
// swu_model_save_weights writes, read back by our own reader.
#include <cmath>
#include <cstdio>
#include <map>

#include "api_helpers.hpp"
#include "golden.hpp"
#include "io/json.hpp"

using namespace swu_test;

namespace {

int collect(const swu_named_tensor* t, void* user) {
    auto& out = *static_cast<std::map<std::string, std::vector<float>>*>(user);
    int64_t n = 1;
    for (int32_t d = 0; d < t->ndim; ++d) n *= t->shape[d];
    if (t->dtype == SWU_DTYPE_FLOAT32) {
        const float* v = static_cast<const float*>(t->data);
        out[t->name].assign(v, v + n);
    }
    return 0;
}

double l2(const std::vector<float>& v) {
    double s = 0;
    for (float x : v) s += static_cast<double>(x) * x;
    return std::sqrt(s);
}

}  // namespace

TEST_CASE("train_step: DiceCE losses and step-1 gradients match MONAI, model.pt round-trips", "[golden][slow][train]") {
    REQUIRE(golden_available());
    ModelPtr m = create_model();
    REQUIRE(swu_model_load_weights(m.get(), golden_path("net_f12/model.pt").c_str()) == SWU_OK);
    swu_optimizer_params o;
    REQUIRE(swu_optimizer_params_init(&o) == SWU_OK);
    CHECK(o.learning_rate == 2e-4);
    {
        INFO(swu_last_error());
        REQUIRE(swu_model_train_configure(m.get(), &o) == SWU_OK);
    }

    const swu::Tensor input = load_golden("train_step/input.npy");
    const swu::Tensor labels = load_golden("train_step/labels.npy");
    REQUIRE(input.shape == std::vector<int64_t>{2, 1, 64, 64, 64});
    const swu::json::Value losses = swu::json::parse_file(golden_path("train_step/losses.json"));
    const swu::json::Value grads = swu::json::parse_file(golden_path("train_step/grad_checksums_step1.json"));

    for (int step = 0; step < 3; ++step) {
        swu_train_step_result r{};
        r.struct_size = sizeof r;
        const swu_status st = swu_model_train_step(m.get(), input.as<float>(), input.shape.data(), labels.as<uint8_t>(), &r);
        INFO(swu_last_error());
        REQUIRE(st == SWU_OK);
        const swu::json::Value& g = losses.at("steps").at(static_cast<size_t>(step));
        const double want = g.at("loss").as_number(), want_dice = g.at("dice").as_number(), want_ce = g.at("ce").as_number();
        std::printf("train_step %d: loss %.9f (MONAI %.9f, rel %.2e), dice %.9f, ce %.9f\n", step + 1, r.loss, want,
                    std::fabs(r.loss - want) / want, r.dice_loss, r.ce_loss);
        CHECK(std::fabs(r.loss - want) <= 1e-5 * want);
        CHECK(std::fabs(r.dice_loss - want_dice) <= 1e-5 * want_dice);
        CHECK(std::fabs(r.ce_loss - want_ce) <= 1e-5 * want_ce);

        if (step == 0) {
            std::map<std::string, std::vector<float>> grad;
            REQUIRE(swu_model_export_tensors(m.get(), SWU_TENSORS_GRADIENTS, collect, &grad) == SWU_OK);
            size_t compared = 0, within = 0;
            double worst = 0;
            std::string worst_key;
            for (const auto& [key, value] : grads.as_object()) {
                const swu::json::Value* norm = value.find("l2");
                if (!norm) continue;  // q / k / v parts
                const auto it = grad.find(key);
                INFO(key);
                REQUIRE(it != grad.end());
                const double want_l2 = norm->as_number(), got = l2(it->second);
                const double rel = std::fabs(got - want_l2) / std::max(want_l2, 1e-30);
                ++compared;
                if (rel <= 1e-2) ++within;
                if (rel > worst) worst = rel, worst_key = key;
                CHECK(rel <= 1e-2);
            }
            std::printf("train_step 1 gradients: %zu tensors, %zu within 1e-2 relative L2, worst %.2e (%s)\n", compared,
                        within, worst, worst_key.c_str());
            CHECK(compared == grad.size());
        }
    }

    // Optimiser state: one pair of moments per parameter and the step count.
    std::map<std::string, std::vector<float>> state;
    REQUIRE(swu_model_export_tensors(m.get(), SWU_TENSORS_OPTIMIZER, collect, &state) == SWU_OK);
    CHECK(state.count("exp_avg.out.conv.conv.bias") == 1);
    CHECK(state.count("exp_avg_sq.swinViT.patch_embed.proj.weight") == 1);

    // model.pt written by us, read back by us: the same weights.
    const std::string path = "golden_train_model.pt";
    REQUIRE(swu_model_save_weights(m.get(), path.c_str()) == SWU_OK);
    std::map<std::string, std::vector<float>> before, after;
    REQUIRE(swu_model_export_tensors(m.get(), SWU_TENSORS_WEIGHTS, collect, &before) == SWU_OK);
    ModelPtr again = create_model();
    REQUIRE(swu_model_load_weights(again.get(), path.c_str()) == SWU_OK);
    swu_optimizer_params o2;
    swu_optimizer_params_init(&o2);
    REQUIRE(swu_model_train_configure(again.get(), &o2) == SWU_OK);
    REQUIRE(swu_model_export_tensors(again.get(), SWU_TENSORS_WEIGHTS, collect, &after) == SWU_OK);
    CHECK(before == after);
    std::remove(path.c_str());
}
