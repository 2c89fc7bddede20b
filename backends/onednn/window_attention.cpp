// Window multi-head self-attention (MONAI WindowAttention): qkv Linear (oneDNN), the fused
// core (attention_core.cpp: scaled q k^T, relative position bias, shift mask, softmax, @ v),
// proj Linear (oneDNN).
#include <cmath>

#include "attention_core.hpp"
#include "dnnl_ops.hpp"
#include "network.hpp"

namespace swu_onednn {

// B[h, a, b] = table[index[a, b], h] over the first n rows/columns of the full-window
// index (MONAI's quirk for windows smaller than 7^3), expanded once per block and n.
const std::vector<float>& relative_bias(Network& m, const std::string& name, int64_t n, int64_t heads) {
    const std::string key = name + ":" + std::to_string(n);
    auto it = m.expanded_bias.find(key);
    if (it != m.expanded_bias.end()) return it->second;
    const Param& index = m.param(name + ".relative_position_index");
    const float* table = m.at(name + ".relative_position_bias_table");
    const int64_t stride = index.shape[1];
    std::vector<float> bias(static_cast<size_t>(heads * n * n));
    for (int64_t h = 0; h < heads; ++h)
        for (int64_t a = 0; a < n; ++a)
            for (int64_t b = 0; b < n; ++b)
                bias[static_cast<size_t>((h * n + a) * n + b)] =
                    table[index.indices[static_cast<size_t>(a * stride + b)] * heads + h];
    return m.expanded_bias.emplace(key, std::move(bias)).first->second;
}

void window_attention(Network& m, const std::string& name, const float* in, int64_t windows, int64_t n, int64_t C,
                      int64_t heads, const float* bias, const int32_t* labels, int64_t first_window,
                      int64_t image_windows, float* out) {
    const int64_t hd = C / heads, rows = windows * n;
    Buffer qkv(rows * 3 * C);
    linear(m.ctx, name + ".qkv", in, rows, C, m.at(name + ".qkv.weight"), m.at(name + ".qkv.bias"), 3 * C, qkv.get());

    // q scaled like MONAI (after the qkv bias, before q k^T).
    const float scale = static_cast<float>(std::pow(static_cast<double>(hd), -0.5));
    Buffer merged(rows * C);
    attention_core(qkv.get(), windows, n, heads, hd, scale, bias, labels, first_window, image_windows, merged.get());
    linear(m.ctx, name + ".proj", merged.get(), rows, C, m.at(name + ".proj.weight"), m.at(name + ".proj.bias"), C, out);
}

}  // namespace swu_onednn
