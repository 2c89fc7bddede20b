// Backend against backend (in the spirit of llama.cpp's test-backend-ops): the torch and
// onednn plugins on identical weights (README section 5 formula weights, seed 7, feature
// 12) and inputs, every tap compared with a normalised error and the logits with the
// golden rule. Several shapes: cubic, non-cubic (64x96x128, where stage 4 has a 4x6x7
// window), batch 3.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "api_helpers.hpp"
#include "golden.hpp"

using namespace swu_test;

namespace {

bool built(const std::string& backend) {
    const std::string list = std::string(",") + SWU_TEST_BACKENDS + ",";
    return list.find("," + backend + ",") != std::string::npos;
}

std::vector<std::string> tap_names() {
    std::vector<std::string> names;
    for (int s = 0; s < 5; ++s) names.push_back("hidden" + std::to_string(s));
    for (int s = 1; s <= 4; ++s)
        for (int b = 0; b < 2; ++b) names.push_back("stage" + std::to_string(s) + ".block" + std::to_string(b));
    for (const char* n : {"enc0", "enc1", "enc2", "enc3", "dec4", "dec3", "dec2", "dec1", "dec0", "dec_out", "logits"})
        names.push_back(n);
    return names;
}

using Taps = std::map<std::string, std::vector<float>>;

Taps run_all_taps(const std::string& backend, const std::vector<swu::NamedTensor>& weights, const std::vector<float>& x,
                  const int64_t shape[5]) {
    swu_model_params p = default_params();
    p.backend = backend.c_str();
    ModelPtr m = create_model(p);
    const NamedTensorViews v = as_c_tensors(weights);
    REQUIRE(swu_model_set_weights(m.get(), v.views.data(), v.views.size()) == SWU_OK);
    const std::vector<std::string> names = tap_names();
    std::vector<swu_tap> taps(names.size());
    for (size_t i = 0; i < names.size(); ++i) taps[i].name = names[i].c_str();
    REQUIRE(swu_model_forward_taps(m.get(), x.data(), shape, taps.data(), taps.size()) == SWU_ERR_BUFFER_TOO_SMALL);
    Taps out;
    for (swu_tap& t : taps) {
        std::vector<float>& b = out[t.name];
        b.resize(static_cast<size_t>(t.shape[0] * t.shape[1] * t.shape[2] * t.shape[3] * t.shape[4]));
        t.data = b.data();
        t.capacity = b.size();
    }
    const swu_status st = swu_model_forward_taps(m.get(), x.data(), shape, taps.data(), taps.size());
    INFO(backend << ": " << swu_last_error());
    REQUIRE(st == SWU_OK);
    return out;
}

// max |a - b| / max |b|: scale-free, so one bound serves every op.
double normalised_error(const std::vector<float>& a, const std::vector<float>& b) {
    double diff = 0, scale = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        diff = std::max(diff, static_cast<double>(std::fabs(a[i] - b[i])));
        scale = std::max(scale, static_cast<double>(std::fabs(b[i])));
    }
    return diff / std::max(scale, 1e-30);
}

void check_parity(int64_t batch, int64_t d, int64_t h, int64_t w, const char* net = "net_f12") {
    if (!built("torch") || !built("onednn")) {
        WARN("backend parity needs both torch and onednn; built: " SWU_TEST_BACKENDS);
        return;
    }
    REQUIRE(golden_available());
    const std::vector<swu::NamedTensor> weights = formula_weights(read_keys(golden_path(std::string(net) + "/keys.txt")), 7);
    const int64_t shape[5] = {batch, 1, d, h, w};
    std::vector<float> x = formula_input(static_cast<int>(batch), 3, static_cast<int>(d), static_cast<int>(h),
                                         static_cast<int>(w));
    const Taps ref = run_all_taps("torch", weights, x, shape);
    const Taps got = run_all_taps("onednn", weights, x, shape);
    char label[80];
    std::snprintf(label, sizeof label, "%s %lldx%lldx%lld batch %lld", net, static_cast<long long>(d),
                  static_cast<long long>(h), static_cast<long long>(w), static_cast<long long>(batch));
    for (const std::string& name : tap_names()) {
        const double e = normalised_error(got.at(name), ref.at(name));
        std::printf("parity %-22s %-14s normalised error %.3g\n", label, name.c_str(), e);
        INFO(label << " " << name << ": normalised error " << e);
        // fp32 reorderings give ~1e-6; a wrong window, shift, mask or merge gives >= 1e-2.
        CHECK(e < 1e-4);
    }
    const std::vector<float>& a = got.at("logits");
    const std::vector<float>& b = ref.at("logits");
    const Comparison c = compare(a.data(), b.data(), static_cast<int64_t>(b.size()), 1e-4, 1e-4);
    print_comparison(std::string("parity logits onednn vs torch ") + label, c);
    CHECK(c.ok());
}

}  // namespace

TEST_CASE("onednn and torch agree op by op: 32^3, batch 1", "[unit][parity]") { check_parity(1, 32, 32, 32); }

TEST_CASE("onednn and torch agree op by op: 64x96x128 and 64^3 batch 3", "[parity][slow]") {
    check_parity(1, 64, 96, 128);
    check_parity(3, 64, 64, 64);
    // Feature size 48: the Winograd convolutions (every grid from 12^3) and the AVX-512/AVX2
    // attention kernels, over items of a batch and windows cut by a non-cubic grid.
    check_parity(3, 64, 64, 64, "net_f48");
    check_parity(1, 32, 64, 96, "net_f48");
}
