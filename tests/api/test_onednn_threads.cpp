// The onednn backend and the host's OpenMP: a forward leaves the calling thread's OpenMP
// settings as they were, and works when called from inside the host's own parallel
// region (each model runs on its own thread with its own thread count).
#include <omp.h>

#include <cmath>

#include "api_helpers.hpp"
#include "golden.hpp"

using namespace swu_test;

namespace {

std::vector<float> onednn_logits(const std::vector<swu::NamedTensor>& weights, const std::vector<float>& x,
                                 const int64_t shape[5]) {
    swu_model_params p = default_params();
    p.backend = "onednn";
    p.threads = 2;
    swu_model* raw = nullptr;
    if (swu_model_create(&p, &raw) != SWU_OK) return {};
    ModelPtr m(raw);
    const NamedTensorViews v = as_c_tensors(weights);
    if (swu_model_set_weights(m.get(), v.views.data(), v.views.size()) != SWU_OK) return {};
    std::vector<float> out(static_cast<size_t>(14 * shape[2] * shape[3] * shape[4]));
    if (swu_model_forward(m.get(), x.data(), shape, out.data(), out.size()) != SWU_OK) return {};
    return out;
}

}  // namespace

TEST_CASE("onednn: the host's OpenMP settings stay as they were, and a host's parallel region may call it", "[unit]") {
    const std::vector<std::string> backends = built_backends();
    if (std::find(backends.begin(), backends.end(), "onednn") == backends.end()) {
        WARN("SKIPPED: the onednn backend is not built");
        return;
    }
    REQUIRE(golden_available());
    const std::vector<swu::NamedTensor> weights = formula_weights(read_keys(golden_path("net_f12/keys.txt")), 7);
    const int64_t shape[5] = {1, 1, 32, 32, 32};
    const std::vector<float> x = formula_input(1, 3, 32, 32, 32);

    omp_set_num_threads(3);
    const std::vector<float> reference = onednn_logits(weights, x, shape);
    INFO(swu_last_error());
    REQUIRE(reference.size() == static_cast<size_t>(14 * 32 * 32 * 32));
    CHECK(omp_get_max_threads() == 3);

    // Two of the host's threads, one model each, at once.
    std::vector<float> got[2];
#pragma omp parallel num_threads(2)
    got[omp_get_thread_num()] = onednn_logits(weights, x, shape);
    for (const std::vector<float>& g : got) {
        REQUIRE(g.size() == reference.size());
        double worst = 0;
        for (size_t i = 0; i < g.size(); ++i) worst = std::max(worst, static_cast<double>(std::fabs(g[i] - reference[i])));
        INFO("max |difference| " << worst);
        CHECK(worst <= 1e-5);
    }
    CHECK(omp_get_max_threads() == 3);
}
