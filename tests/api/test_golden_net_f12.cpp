// net_f12: MONAI's SwinUNETR (feature 12, torch-initialised weights from the real
// model.pt format) — logits and every intermediate activation, through the C API.
#include <algorithm>
#include <map>

#include "api_helpers.hpp"
#include "golden.hpp"

using namespace swu_test;

namespace {

struct GoldenTap {
    const char* tap;
    const char* file;
    bool plane;          // the file holds the plane D = size/2 of the first spatial axis
    bool channels_last;  // the file is {N, H, W, C} (Swin block outputs)
};

const GoldenTap kTaps[] = {
    {"hidden0", "hidden0_plane.npy", true, false}, {"hidden1", "hidden1_plane.npy", true, false},
    {"hidden2", "hidden2.npy", false, false},      {"hidden3", "hidden3.npy", false, false},
    {"hidden4", "hidden4.npy", false, false},      {"enc0", "enc0_plane.npy", true, false},
    {"enc1", "enc1_plane.npy", true, false},       {"enc2", "enc2_plane.npy", true, false},
    {"enc3", "enc3.npy", false, false},            {"dec4", "dec4.npy", false, false},
    {"dec3", "dec3.npy", false, false},            {"dec2", "dec2.npy", false, false},
    {"dec1", "dec1_plane.npy", true, false},       {"dec0", "dec0_plane.npy", true, false},
    {"dec_out", "dec_out_plane.npy", true, false}, {"stage2.block0", "swin_l2_block0_plane.npy", true, true},
    {"stage2.block1", "swin_l2_block1_plane.npy", true, true},
    {"logits", "logits.npy", false, false},
};

// Our tap {1, C, D, H, W} rearranged like the golden file.
std::vector<float> as_golden_layout(const std::vector<float>& v, const int64_t s[5], const GoldenTap& g) {
    if (!g.plane) return v;
    const int64_t C = s[1], D = s[2], H = s[3], W = s[4], d = D / 2;
    std::vector<float> out(static_cast<size_t>(C * H * W));
    for (int64_t c = 0; c < C; ++c)
        for (int64_t h = 0; h < H; ++h)
            for (int64_t w = 0; w < W; ++w) {
                const float value = v[static_cast<size_t>(((c * D + d) * H + h) * W + w)];
                const size_t at = static_cast<size_t>(g.channels_last ? (h * W + w) * C + c : (c * H + h) * W + w);
                out[at] = value;
            }
    return out;
}

}  // namespace

TEST_CASE("net_f12 logits and intermediate activations match MONAI", "[golden]") {
    REQUIRE(golden_available());
    const std::string backend = GENERATE(from_range(built_backends()));
    INFO("backend " << backend);
    swu_model_params params = default_params();
    params.backend = backend.c_str();
    ModelPtr m = create_model(params);
    REQUIRE(swu_model_load_weights(m.get(), golden_path("net_f12/model.pt").c_str()) == SWU_OK);
    const swu_model_info info = model_info(m.get());
    CHECK(info.feature_size == 12);
    CHECK(info.parameter_count == 4078220);

    const swu::Tensor input = load_golden("net_f12/input.npy");
    REQUIRE(input.shape == std::vector<int64_t>({1, 1, 64, 64, 64}));

    std::map<std::string, std::vector<float>> buffers;
    std::vector<swu_tap> taps;
    for (const GoldenTap& g : kTaps) {
        swu_tap t{};
        t.name = g.tap;
        taps.push_back(t);
    }
    // First call: learn the shapes; second: run with buffers of those sizes.
    REQUIRE(swu_model_forward_taps(m.get(), input.as<float>(), input.shape.data(), taps.data(), taps.size()) ==
            SWU_ERR_BUFFER_TOO_SMALL);
    for (swu_tap& t : taps) {
        std::vector<float>& b = buffers[t.name];
        b.resize(static_cast<size_t>(t.shape[0] * t.shape[1] * t.shape[2] * t.shape[3] * t.shape[4]));
        t.data = b.data();
        t.capacity = b.size();
    }
    const swu_status st = swu_model_forward_taps(m.get(), input.as<float>(), input.shape.data(), taps.data(), taps.size());
    INFO(swu_last_error());
    REQUIRE(st == SWU_OK);

    for (size_t i = 0; i < taps.size(); ++i) {
        const GoldenTap& g = kTaps[i];
        const swu::Tensor golden = load_golden(std::string("net_f12/") + g.file);
        const std::vector<float> ours = as_golden_layout(buffers[g.tap], taps[i].shape, g);
        REQUIRE(static_cast<int64_t>(ours.size()) == golden.numel());
        // golden/README section 6: |a - g| <= 1e-4 + 1e-4 |g| for logits and activations.
        const Comparison c = compare(ours.data(), golden.as<float>(), golden.numel(), 1e-4, 1e-4);
        print_comparison(labelled(std::string("net_f12/") + g.file, backend), c);
        INFO(g.file << ": " << c.text());
        CHECK(c.ok());
    }
}
