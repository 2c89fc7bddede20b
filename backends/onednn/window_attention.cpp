// Window multi-head self-attention (MONAI WindowAttention): qkv Linear, scaled q k^T,
// relative position bias, shift mask, softmax, @ v, proj Linear.
#include <cmath>

#include "dnnl_ops.hpp"
#include "network.hpp"

namespace swu_onednn {

namespace {
constexpr float kMaskValue = -100.0f;
}

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

    // {windows, n, 3, heads, hd} -> q, k, v {windows * heads, n, hd}; q scaled like MONAI (after the bias).
    const float scale = static_cast<float>(std::pow(static_cast<double>(hd), -0.5));
    const int64_t per = windows * heads * n * hd;
    Buffer q(per), k(per), v(per);
    {
        const float* src = qkv.get();
        float *pq = q.get(), *pk = k.get(), *pv = v.get();
#pragma omp parallel for schedule(static)
        for (int64_t r = 0; r < rows; ++r) {
            const int64_t w = r / n, t = r % n;
            const float* row = src + r * 3 * C;
            for (int64_t h = 0; h < heads; ++h) {
                const int64_t o = ((w * heads + h) * n + t) * hd;
                for (int64_t e = 0; e < hd; ++e) {
                    pq[o + e] = row[h * hd + e] * scale;
                    pk[o + e] = row[C + h * hd + e];
                    pv[o + e] = row[2 * C + h * hd + e];
                }
            }
        }
    }
    const int64_t groups = windows * heads;
    Buffer scores(groups * n * n);
    batched_matmul(m.ctx, q.get(), k.get(), scores.get(), groups, n, hd, n, /*b_transposed=*/true);
    {
        float* s = scores.get();
        // (attn + bias) + mask, as MONAI adds them.
#pragma omp parallel for schedule(static)
        for (int64_t g = 0; g < groups; ++g) {
            const int64_t w = g / heads, h = g % heads;
            const int32_t* lab = labels ? labels + ((first_window + w) % image_windows) * n : nullptr;
            for (int64_t a = 0; a < n; ++a) {
                float* row = s + (g * n + a) * n;
                const float* brow = bias + (h * n + a) * n;
                for (int64_t b = 0; b < n; ++b) row[b] += brow[b];
                if (lab)
                    for (int64_t b = 0; b < n; ++b) row[b] += lab[a] != lab[b] ? kMaskValue : 0.0f;
            }
        }
    }
    softmax_rows(m.ctx, scores.get(), groups * n, n);
    Buffer o(per);
    batched_matmul(m.ctx, scores.get(), v.get(), o.get(), groups, n, n, hd, false);
    // {windows, heads, n, hd} -> {windows, n, heads * hd}
    Buffer merged(rows * C);
    {
        const float* src = o.get();
        float* dst = merged.get();
#pragma omp parallel for schedule(static)
        for (int64_t r = 0; r < rows; ++r) {
            const int64_t w = r / n, t = r % n;
            for (int64_t h = 0; h < heads; ++h)
                for (int64_t e = 0; e < hd; ++e) dst[r * C + h * hd + e] = src[((w * heads + h) * n + t) * hd + e];
        }
    }
    linear(m.ctx, name + ".proj", merged.get(), rows, C, m.at(name + ".proj.weight"), m.at(name + ".proj.bias"), C, out);
}

}  // namespace swu_onednn
