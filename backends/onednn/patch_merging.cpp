// PatchMerging: concatenate 8 strided sub-grids (pad odd axes at the far end), LN(8C),
// bias-free Linear 8C -> 2C. The order of the sub-grids is the merging variant.
#include <array>
#include <cstring>

#include "dnnl_ops.hpp"
#include "network.hpp"

namespace swu_onednn {

Act patch_merging(Network& m, const std::string& name, const Act& x) {
    const int64_t C = x.c, D2 = (x.d + 1) / 2, H2 = (x.h + 1) / 2, W2 = (x.w + 1) / 2;
    const swu_swin::MergeOffsets& offsets = swu_swin::merge_offsets(m.net.merging);
    Act cat(x.n, D2, H2, W2, 8 * C);
    const int64_t T = cat.tokens();
    const float* src = x.ptr();
    float* dst = cat.ptr();
#pragma omp parallel for schedule(static)
    for (int64_t t = 0; t < T; ++t) {
        const int64_t b = t / (D2 * H2 * W2), d = (t / (H2 * W2)) % D2, h = (t / W2) % H2, w = t % W2;
        for (int p = 0; p < 8; ++p) {
            const int64_t sd = 2 * d + offsets[p][0], sh = 2 * h + offsets[p][1], sw = 2 * w + offsets[p][2];
            float* o = dst + (t * 8 + p) * C;
            if (sd >= x.d || sh >= x.h || sw >= x.w)
                std::memset(o, 0, sizeof(float) * static_cast<size_t>(C));
            else
                std::memcpy(o, src + (((b * x.d + sd) * x.h + sh) * x.w + sw) * C, sizeof(float) * static_cast<size_t>(C));
        }
    }
    Buffer normed(T * 8 * C);
    layer_norm(m.ctx, cat.ptr(), normed.get(), T, 8 * C, m.at(name + ".norm.weight"), m.at(name + ".norm.bias"));
    const std::string reduction = name + ".reduction.weight";
    const int64_t out_c = m.param(reduction).shape[0];
    Act y(x.n, D2, H2, W2, out_c);
    linear(m.ctx, name + ".reduction", normed.get(), T, 8 * C, m.at(reduction), nullptr, out_c, y.ptr());
    return y;
}

Act normalize_channels(Network& m, const Act& x) {
    Act y(x.n, x.d, x.h, x.w, x.c);
    layer_norm(m.ctx, x.ptr(), y.ptr(), x.tokens(), x.c, nullptr, nullptr);
    return y;
}

}  // namespace swu_onednn
