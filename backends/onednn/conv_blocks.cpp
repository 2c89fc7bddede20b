// The convolutional U-Net around the Swin encoder (MONAI UnetResBlock, UnetrUpBlock), on
// activations in the layout Context::block names (tensor.hpp): Swin tokens are reordered
// into it once here.
#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "dnnl_ops.hpp"
#include "instance_norm.hpp"
#include "network.hpp"

namespace swu_onednn {

namespace {

void parallel_copy(float* dst, const float* src, size_t n) {
    constexpr size_t kChunk = size_t{1} << 18;
    const int64_t chunks = static_cast<int64_t>((n + kChunk - 1) / kChunk);
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < chunks; ++i) {
        const size_t first = static_cast<size_t>(i) * kChunk;
        std::memcpy(dst + first, src + first, sizeof(float) * std::min(kChunk, n - first));
    }
}

// Channel index of (item i, channel c, voxel v) in a blocked activation.
int64_t blocked_index(const Act& a, int64_t i, int64_t c, int64_t v) {
    return ((i * (a.padded_c() / a.block) + c / a.block) * a.spatial() + v) * a.block + c % a.block;
}

// torch.cat((a, b), dim=1) of two activations in the same layout.
Act concat_channels(const Act& a, const Act& b) {
    Act cat(a.n, a.d, a.h, a.w, a.c + b.c, a.block);
    const int64_t B = a.block, S = a.spatial();
    if (B == 0) {  // channels-last: per voxel, b's channels follow a's
        float* out = cat.ptr();
#pragma omp parallel for schedule(static)
        for (int64_t t = 0; t < a.tokens(); ++t) {
            std::memcpy(out + t * cat.c, a.ptr() + t * a.c, sizeof(float) * static_cast<size_t>(a.c));
            std::memcpy(out + t * cat.c + a.c, b.ptr() + t * b.c, sizeof(float) * static_cast<size_t>(b.c));
        }
        return cat;
    }
    if (a.c % B == 0) {  // whole blocks (feature sizes that are multiples of 8 or 16): per item, b's follow a's
        const size_t na = static_cast<size_t>(S * a.padded_c()), nb = static_cast<size_t>(S * b.padded_c());
        for (int64_t i = 0; i < a.n; ++i) {
            parallel_copy(cat.ptr() + static_cast<size_t>(i) * (na + nb), a.ptr() + static_cast<size_t>(i) * na, na);
            parallel_copy(cat.ptr() + static_cast<size_t>(i) * (na + nb) + na, b.ptr() + static_cast<size_t>(i) * nb, nb);
        }
        return cat;
    }
    const int64_t groups = a.n * cat.padded_c() / B;
    float* out = cat.ptr();
#pragma omp parallel for schedule(static)
    for (int64_t g = 0; g < groups; ++g) {
        const int64_t i = g / (cat.padded_c() / B), c0 = (g % (cat.padded_c() / B)) * B;
        for (int64_t v = 0; v < S; ++v)
            for (int64_t j = 0; j < B; ++j) {
                const int64_t c = c0 + j;
                out[(g * S + v) * B + j] = c < a.c            ? a.ptr()[blocked_index(a, i, c, v)]
                                           : c < a.c + b.c ? b.ptr()[blocked_index(b, i, c - a.c, v)]
                                                           : 0.f;
            }
    }
    return cat;
}

// x itself when it is in channel block `block`, else its copy in that block, kept in `copy`.
const Act& in_block(Context& ctx, const Act& x, int block, Act& copy) {
    if (x.block == block) return x;
    copy = relayout(ctx, x, block);
    return copy;
}

}  // namespace

// conv-IN-LReLU-conv-IN + (1x1x1 conv-IN shortcut when channels change), LReLU.
Act res_block(Network& m, const std::string& name, const Act& input, bool bf16_winograd) {
    const std::string w1 = name + "conv1.conv.weight", w2 = name + "conv2.conv.weight", w3 = name + "conv3.conv.weight";
    const int64_t cout = m.param(w1).shape[0];
    const int block = m.ctx.block;
    // The image (C = 1) enters the convolution as it is; Swin tokens are reordered.
    Act copy;
    const Act& x = input.c == 1 ? input : in_block(m.ctx, input, block, copy);
    m.check_cancel();  // between the layers of a block: the 96^3 ones take 0.2-0.4 s each
    Act a = conv3d(m.ctx, w1, m.at(w1), nullptr, x, cout, 3, 1, 1, block, bf16_winograd);
    m.check_cancel();
    // Where conv2 runs in bf16 on oneDNN (AMX), the norm writes its input as bf16 straight
    // away (a reorder pass fewer: 9.5 ms at 96^3 x 48).
    Buffer a_bf16;
    if (conv3d_takes_bf16(m.ctx, a, cout, 3, 1, 1)) {
        a_bf16 = Buffer((a.size() + 1) / 2);
        instance_norm_lrelu(a, reinterpret_cast<uint16_t*>(a_bf16.get()));
    } else {
        instance_norm_lrelu(a);
    }
    Act out = conv3d(m.ctx, w2, m.at(w2), nullptr, a, cout, 3, 1, 1, block, bf16_winograd,
                     reinterpret_cast<const uint16_t*>(a_bf16.get()));
    m.check_cancel();
    if (m.has(w3)) {
        const Act r = conv3d(m.ctx, w3, m.at(w3), nullptr, x, cout, 1, 1, 0, block);
        instance_norm_add_lrelu(out, r, true);
    } else {
        if (x.block != out.block || x.c != out.c)
            throw std::runtime_error("res block '" + name + "' has an identity shortcut across a change of shape");
        instance_norm_add_lrelu(out, x, false);
    }
    return out;
}

// Transposed conv k2 s2, concatenate the skip on channels, res block.
Act up_block(Network& m, const std::string& name, const Act& x, const Act& skip) {
    const std::string wt = name + ".transp_conv.conv.weight";
    const int64_t cout = m.param(wt).shape[1];
    const Act up = deconv3d_k2s2(m.ctx, wt, m.at(wt), x, cout);
    Act copy;
    return res_block(m, name + ".conv_block.", concat_channels(up, in_block(m.ctx, skip, up.block, copy)), true);
}

}  // namespace swu_onednn
