#include "model/weights.hpp"

#include <cmath>
#include <map>

#include "common/error.hpp"

namespace swu {
namespace {

constexpr size_t kListed = 3;  // offenders named per kind of mismatch

std::string listing(const std::vector<std::string>& items) {
    std::string s;
    for (size_t i = 0; i < items.size() && i < kListed; ++i) s += (i ? ", " : "") + items[i];
    if (items.size() > kListed) s += ", ...";
    return s;
}

Tensor to_int64(const std::string& name, const Tensor& t) {
    if (t.dtype == DType::Int64) return t;
    if (t.dtype != DType::Int32) fail(SWU_ERR_WEIGHTS, "'" + name + "' must be an integer tensor, got " + dtype_name(t.dtype));
    Tensor out;
    out.dtype = DType::Int64;
    out.shape = t.shape;
    out.data.resize(static_cast<size_t>(t.numel()) * 8);
    for (int64_t i = 0; i < t.numel(); ++i) out.as<int64_t>()[i] = t.as<int32_t>()[i];
    return out;
}

}  // namespace

void strip_module_prefix(std::vector<NamedTensor>& weights) {
    const std::string prefix = "module.";
    if (weights.empty()) return;
    for (const NamedTensor& w : weights)
        if (w.name.compare(0, prefix.size(), prefix) != 0) return;
    for (NamedTensor& w : weights) w.name.erase(0, prefix.size());
}

void check_weights_fit(const NetworkConfig& config, const std::vector<NamedTensor>& weights) {
    std::map<std::string, const NamedTensor*> given;
    std::vector<std::string> duplicates;
    for (const NamedTensor& w : weights)
        if (!given.emplace(w.name, &w).second) duplicates.push_back(w.name);
    if (!duplicates.empty()) fail(SWU_ERR_WEIGHTS, "duplicate keys in the weights: " + listing(duplicates));

    const std::vector<ParamSpec> layout = state_dict_layout(config);
    std::vector<std::string> missing, unexpected, wrong_shape;
    std::map<std::string, bool> expected;
    for (const ParamSpec& p : layout) {
        expected[p.name] = true;
        auto it = given.find(p.name);
        if (it == given.end()) {
            missing.push_back(p.name);
        } else if (it->second->tensor.shape != p.shape) {
            wrong_shape.push_back(p.name + " is " + shape_string(it->second->tensor.shape) + ", expected " +
                                  shape_string(p.shape));
        }
    }
    for (const NamedTensor& w : weights)
        if (!expected.count(w.name)) unexpected.push_back(w.name);

    if (!missing.empty() || !unexpected.empty() || !wrong_shape.empty()) {
        std::string msg = "weights do not fit the network (" + config.describe() + "):";
        if (!missing.empty()) msg += " " + std::to_string(missing.size()) + " missing key(s) (" + listing(missing) + ");";
        if (!unexpected.empty())
            msg += " " + std::to_string(unexpected.size()) + " unexpected key(s) (" + listing(unexpected) + ");";
        if (!wrong_shape.empty())
            msg += " " + std::to_string(wrong_shape.size()) + " shape mismatch(es) (" + listing(wrong_shape) + ");";
        msg.pop_back();
        fail(SWU_ERR_WEIGHTS, msg);
    }
}

std::vector<NamedTensor> prepare_weights(const NetworkConfig& config, std::vector<NamedTensor> weights) {
    strip_module_prefix(weights);
    check_weights_fit(config, weights);
    std::map<std::string, NamedTensor*> given;
    for (NamedTensor& w : weights) given.emplace(w.name, &w);
    const std::vector<ParamSpec> layout = state_dict_layout(config);

    const int64_t table_rows = int64_t(2 * config.window_size - 1) * (2 * config.window_size - 1) * (2 * config.window_size - 1);
    std::vector<NamedTensor> out;
    out.reserve(layout.size());
    for (const ParamSpec& p : layout) {
        NamedTensor& w = *given.at(p.name);
        NamedTensor prepared{p.name, {}};
        if (p.is_index) {
            prepared.tensor = to_int64(p.name, w.tensor);
            const int64_t* v = prepared.tensor.as<int64_t>();
            for (int64_t i = 0; i < prepared.tensor.numel(); ++i)
                if (v[i] < 0 || v[i] >= table_rows)
                    fail(SWU_ERR_WEIGHTS, "'" + p.name + "' holds index " + std::to_string(v[i]) + " outside [0, " +
                                              std::to_string(table_rows) + ")");
        } else {
            if (!dtype_is_floating(w.tensor.dtype))
                fail(SWU_ERR_WEIGHTS, "'" + p.name + "' must be floating point, got " + dtype_name(w.tensor.dtype));
            prepared.tensor = to_float32(w.tensor);
            const float* v = prepared.tensor.as<float>();
            for (int64_t i = 0; i < prepared.tensor.numel(); ++i)
                if (!std::isfinite(v[i]))
                    fail(SWU_ERR_WEIGHTS, "'" + p.name + "' holds a non-finite value at flat index " + std::to_string(i));
        }
        w.tensor = Tensor();  // release the source early: checkpoints can be hundreds of MB
        out.push_back(std::move(prepared));
    }
    return out;
}

}  // namespace swu
