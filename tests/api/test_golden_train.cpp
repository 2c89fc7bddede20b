// golden train_step/: three DiceCE + Adam steps on net_f12 through the C API — the loss
// of every step, the step-1 gradient norms of every parameter — and the model.pt that
// swu_model_save_weights writes, read back by our own reader.
#include <cmath>
#include <cstdio>

#include "api_helpers.hpp"
#include "golden.hpp"
#include "io/json.hpp"

using namespace swu_test;

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
            TensorMap grad;
            REQUIRE(export_float_tensors(m.get(), SWU_TENSORS_GRADIENTS, grad) == SWU_OK);
            const GradientNorms g1 = compare_gradient_norms(grad, 1e-2);
            std::printf("train_step 1 gradients: %zu tensors, %zu within 1e-2 relative L2, worst %.2e (%s)\n", g1.compared,
                        g1.within, g1.worst, g1.worst_key.c_str());
            CHECK(g1.missing == 0);
            CHECK(g1.within == g1.compared);
            CHECK(g1.compared == grad.size());
        }
    }

    // Optimiser state: one pair of moments per parameter and the step count.
    TensorMap state;
    REQUIRE(export_float_tensors(m.get(), SWU_TENSORS_OPTIMIZER, state) == SWU_OK);
    CHECK(state.count("exp_avg.out.conv.conv.bias") == 1);
    CHECK(state.count("exp_avg_sq.swinViT.patch_embed.proj.weight") == 1);

    // model.pt written by us, read back by us: the same weights.
    const std::string path = "golden_train_model.pt";
    REQUIRE(swu_model_save_weights(m.get(), path.c_str()) == SWU_OK);
    TensorMap before, after;
    REQUIRE(export_float_tensors(m.get(), SWU_TENSORS_WEIGHTS, before) == SWU_OK);
    ModelPtr again = create_model();
    REQUIRE(swu_model_load_weights(again.get(), path.c_str()) == SWU_OK);
    swu_optimizer_params o2;
    swu_optimizer_params_init(&o2);
    REQUIRE(swu_model_train_configure(again.get(), &o2) == SWU_OK);
    REQUIRE(export_float_tensors(again.get(), SWU_TENSORS_WEIGHTS, after) == SWU_OK);
    CHECK(before == after);
    std::remove(path.c_str());
}
