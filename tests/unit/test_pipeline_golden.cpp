// The bundle's sliding-window inference and inversion against MONAI's golden
// pipeline case, stage by stage (net_f12 weights, the torch backend).
#include <catch2/catch.hpp>

#include "checkpoint/checkpoint.hpp"
#include "golden.hpp"
#include "image/image_io.hpp"
#include "pipeline/postprocess.hpp"
#include "pipeline/preprocess.hpp"
#include "pipeline/sliding_window.hpp"
#include "plugin/plugin_registry.hpp"

TEST_CASE("pipeline: sliding-window logits and inverted probabilities match MONAI", "[golden]") {
    swu::PluginRegistry::instance().load_folder(SWU_BUILD_BACKEND_DIR);
    swu::ModelOptions mo;
    mo.backend = "torch";
    mo.threads = 2;
    swu::Model model(mo);
    model.load_weights(swu::read_checkpoint_file(swu_test::golden_path("net_f12/model.pt")));

    const swu::Volume image = swu::read_volume(swu_test::golden_path("pipeline/image.nii.gz"));
    swu::PreprocessOptions po;
    po.threads = 2;
    const swu::Preprocessed pre = swu::preprocess(image, po);
    std::vector<float> logits = swu::sliding_window(model, pre.image, pre.size, swu::SlidingWindowOptions(), nullptr);
    const int64_t C = 14, X = pre.size[0], Y = pre.size[1], Z = pre.size[2], V = X * Y * Z;

    auto at_positions = [&](const std::vector<float>& full, const swu::Tensor& pos, std::array<int64_t, 3> dims) {
        const int64_t P = pos.shape[0], D1 = dims[1], D2 = dims[2], N = dims[0] * D1 * D2;
        std::vector<float> out(static_cast<size_t>(C * P));
        for (int64_t c = 0; c < C; ++c)
            for (int64_t j = 0; j < P; ++j) {
                const int64_t* p = pos.as<int64_t>() + 3 * j;
                out[static_cast<size_t>(c * P + j)] = full[static_cast<size_t>(c * N + (p[0] * D1 + p[1]) * D2 + p[2])];
            }
        return out;
    };
    const swu::Tensor sw_pos = swu_test::load_golden("pipeline/sw_positions.npy");
    const swu::Tensor sw_golden = swu_test::load_golden("pipeline/sw_logits_at_positions.npy");
    const std::vector<float> ours = at_positions(logits, sw_pos, pre.size);
    const swu_test::Comparison cl = swu_test::compare(ours.data(), sw_golden.as<float>(), sw_golden.numel(), 1e-4, 1e-4);
    swu_test::print_comparison("pipeline/sw_logits_at_positions.npy", cl);
    CHECK(cl.ok());

    // Plane X = 52 of the full logits.
    const swu::Tensor plane = swu_test::load_golden("pipeline/sw_logits_plane_axis0.npy");
    std::vector<float> our_plane;
    for (int64_t c = 0; c < C; ++c)
        for (int64_t y = 0; y < Y; ++y)
            for (int64_t z = 0; z < Z; ++z) our_plane.push_back(logits[static_cast<size_t>(c * V + (52 * Y + y) * Z + z)]);
    const swu_test::Comparison cp = swu_test::compare(our_plane.data(), plane.as<float>(), plane.numel(), 1e-4, 1e-4);
    swu_test::print_comparison("pipeline/sw_logits_plane_axis0.npy", cp);
    CHECK(cp.ok());

    // Argmax of the sliding-window logits on the network grid.
    const swu::Tensor sw_argmax = swu_test::load_golden("pipeline/sw_argmax.npy");
    int64_t argmax_differ = 0;
    for (int64_t v = 0; v < V; ++v) {
        int64_t best = 0;
        for (int64_t c = 1; c < C; ++c)
            if (logits[static_cast<size_t>(c * V + v)] > logits[static_cast<size_t>(best * V + v)]) best = c;
        argmax_differ += best != sw_argmax.as<uint8_t>()[v];
    }
    std::printf("golden %-34s %lld of %lld voxels differ\n", "pipeline/sw_argmax.npy", static_cast<long long>(argmax_differ),
                static_cast<long long>(V));
    CHECK(argmax_differ <= V / 10000);

    swu::softmax_channels(logits, C, 2);
    const swu::Inverter inverter(logits, C, pre);
    const swu::Tensor inv_pos = swu_test::load_golden("pipeline/inv_positions.npy");
    const swu::Tensor inv_golden = swu_test::load_golden("pipeline/probs_inverted_at_positions.npy");
    const int64_t P = inv_pos.shape[0];
    std::vector<float> probs(static_cast<size_t>(C * P)), one(static_cast<size_t>(C));
    for (int64_t j = 0; j < P; ++j) {
        const int64_t* p = inv_pos.as<int64_t>() + 3 * j;
        inverter.at(p[0], p[1], p[2], one.data());
        for (int64_t c = 0; c < C; ++c) probs[static_cast<size_t>(c * P + j)] = one[static_cast<size_t>(c)];
    }
    const swu_test::Comparison ci = swu_test::compare(probs.data(), inv_golden.as<float>(), inv_golden.numel(), 1e-5, 0.0);
    swu_test::print_comparison("pipeline/probs_inverted_at_positions.npy", ci);
    CHECK(ci.ok());

    // The label map on the source grid.
    swu::LabelOptions lo;
    lo.threads = 2;
    const swu::Volume labels = swu::invert_to_source(logits, C, pre, image.geometry(), lo, nullptr).labels;
    const swu::Volume golden_labels = swu::read_volume(swu_test::golden_path("pipeline/labels.nii.gz"));
    int64_t differ = 0;
    const auto& g = image.geometry();
    for (int64_t k = 0; k < g.size[2]; ++k)
        for (int64_t j = 0; j < g.size[1]; ++j)
            for (int64_t i = 0; i < g.size[0]; ++i)
                differ += labels.value(labels.offset(i, j, k)) != golden_labels.value(golden_labels.offset(i, j, k));
    std::printf("golden %-34s %lld of %lld voxels differ\n", "pipeline/labels.nii.gz", static_cast<long long>(differ),
                static_cast<long long>(g.voxels()));
    CHECK(differ <= g.voxels() / 10000);
}
