#include "model/init_weights.hpp"

#include <cmath>
#include <random>

#include "common/error.hpp"

namespace swu {
namespace {

bool ends_with(const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

Tensor relative_position_index(int window_size) {
    const int64_t w = window_size, n = w * w * w;
    Tensor t;
    t.dtype = DType::Int64;
    t.shape = {n, n};
    t.data.resize(static_cast<size_t>(n * n) * sizeof(int64_t));
    int64_t* out = t.as<int64_t>();
    // coords[i] = (d, h, w) of token i in raster order; index = sum of shifted
    // relative coordinates weighted (2w-1)^2, (2w-1), 1.
    for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < n; ++j) {
            const int64_t rd = i / (w * w) - j / (w * w) + w - 1;
            const int64_t rh = (i / w) % w - (j / w) % w + w - 1;
            const int64_t rw = i % w - j % w + w - 1;
            out[i * n + j] = rd * (2 * w - 1) * (2 * w - 1) + rh * (2 * w - 1) + rw;
        }
    return t;
}

std::vector<NamedTensor> initial_weights(const NetworkConfig& config, uint64_t seed) {
    check_config(config);
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> normal(0.0f, 0.02f);
    std::vector<NamedTensor> out;
    for (const ParamSpec& spec : state_dict_layout(config)) {
        NamedTensor nt;
        nt.name = spec.name;
        if (spec.is_index) {
            nt.tensor = relative_position_index(config.window_size);
            out.push_back(std::move(nt));
            continue;
        }
        Tensor& t = nt.tensor;
        t.dtype = DType::Float32;
        t.shape = spec.shape;
        t.data.assign(static_cast<size_t>(t.numel()) * sizeof(float), 0);
        float* v = t.as<float>();
        const int64_t n = t.numel();
        const bool conv = spec.shape.size() == 5 || spec.name == "swinViT.patch_embed.proj.bias" ||
                          spec.name == "out.conv.conv.bias";
        const bool swin_linear = spec.name.find("swinViT.") == 0 && spec.shape.size() == 2 &&
                                 !ends_with(spec.name, "relative_position_bias_table");
        if (ends_with(spec.name, "relative_position_bias_table") || swin_linear) {
            for (int64_t i = 0; i < n; ++i) {
                float x;
                do x = normal(rng);
                while (std::fabs(x) > 0.04f);  // truncated at two standard deviations
                v[i] = x;
            }
        } else if (conv) {
            // PyTorch's Conv default: kaiming_uniform(a=sqrt(5)) = U(-1/sqrt(fan_in), 1/sqrt(fan_in));
            // the bias of the same layer uses the same bound.
            const std::string weight = spec.shape.size() == 5 ? spec.name : spec.name.substr(0, spec.name.size() - 4) + "weight";
            std::vector<int64_t> ws;
            for (const ParamSpec& s : state_dict_layout(config))
                if (s.name == weight) ws = s.shape;
            if (ws.size() != 5) fail(SWU_ERR_INTERNAL, "no convolution weight for " + spec.name);
            const double fan_in = static_cast<double>(ws[1] * ws[2] * ws[3] * ws[4]);
            std::uniform_real_distribution<float> uniform(-static_cast<float>(1 / std::sqrt(fan_in)),
                                                          static_cast<float>(1 / std::sqrt(fan_in)));
            for (int64_t i = 0; i < n; ++i) v[i] = uniform(rng);
        } else if (ends_with(spec.name, "norm1.weight") || ends_with(spec.name, "norm2.weight") ||
                   ends_with(spec.name, "norm.weight")) {
            for (int64_t i = 0; i < n; ++i) v[i] = 1.0f;
        }  // linear and norm biases stay 0
        out.push_back(std::move(nt));
    }
    return out;
}

}  // namespace swu
