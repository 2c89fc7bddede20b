// The helpers of golden.hpp that call the C API (kept apart from golden.cpp so that tests
// linking the support library without the core library, such as the torch plugin's unit
// tests, do not pull them in).
#include <algorithm>
#include <cmath>

#include "golden.hpp"
#include "io/json.hpp"

namespace swu_test {

namespace {
int collect_float(const swu_named_tensor* t, void* user) {
    if (t->dtype != SWU_DTYPE_FLOAT32) return 0;
    int64_t n = 1;
    for (int32_t d = 0; d < t->ndim; ++d) n *= t->shape[d];
    const float* v = static_cast<const float*>(t->data);
    (*static_cast<TensorMap*>(user))[t->name].assign(v, v + n);
    return 0;
}
}  // namespace

swu_status export_float_tensors(swu_model* model, swu_tensor_set set, TensorMap& out) {
    out.clear();
    return swu_model_export_tensors(model, set, collect_float, &out);
}

GradientNorms compare_gradient_norms(const TensorMap& gradients, double rtol) {
    const swu::json::Value golden = swu::json::parse_file(golden_path("train_step/grad_checksums_step1.json"));
    GradientNorms r;
    for (const auto& [key, value] : golden.members()) {
        const std::optional<swu::json::Value> norm = value.find("l2");
        if (!norm) continue;
        const auto it = gradients.find(key);
        if (it == gradients.end()) {
            ++r.missing;
            continue;
        }
        double sq = 0;
        for (float x : it->second) sq += static_cast<double>(x) * x;
        const double want = norm->as_number();
        const double rel = std::fabs(std::sqrt(sq) - want) / std::max(want, 1e-30);
        ++r.compared;
        if (rel <= rtol) ++r.within;
        if (rel > r.worst) r.worst = rel, r.worst_key = key;
    }
    return r;
}

}  // namespace swu_test
