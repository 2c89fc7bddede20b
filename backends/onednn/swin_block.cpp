// SwinTransformerBlock (MONAI): LN1, pad, cyclic shift, window attention, reverse, crop,
// residual; LN2, MLP (erf-GELU), residual. Pad/shift/partition are one gather loop and
// reverse/shift-back/crop/residual one scatter loop, over chunks of windows.
#include <algorithm>
#include <cstring>

#include "dnnl_ops.hpp"
#include "network.hpp"

namespace swu_onednn {

namespace {

// Bounds the attention scores of one chunk of windows to ~64 MiB.
constexpr int64_t kScoreBudget = int64_t(16) << 20;
// Tokens per MLP chunk (keeps the 4C hidden activations cache-sized).
constexpr int64_t kMlpChunk = 8192;

// MONAI compute_mask region label per padded coordinate of one axis: the Python slices
// [:-w], [-w:-s], [-s:] (with s = 0 the last one is the whole axis and wins).
int axis_label(int64_t i, int64_t len, int64_t win, int64_t s) {
    if (s == 0) return 2;
    if (i < len - win) return 0;
    return i < len - s ? 1 : 2;
}

// Region labels {windows of one image, n} in window-partition order.
std::vector<int32_t> mask_labels(const Windows& w) {
    const int64_t nd = w.padded[0] / w.size[0], nh = w.padded[1] / w.size[1], nw = w.padded[2] / w.size[2], n = w.tokens();
    std::vector<int32_t> labels(static_cast<size_t>(nd * nh * nw * n));
    for (int64_t a = 0; a < nd; ++a)
        for (int64_t b = 0; b < nh; ++b)
            for (int64_t c = 0; c < nw; ++c)
                for (int64_t i = 0; i < w.size[0]; ++i)
                    for (int64_t j = 0; j < w.size[1]; ++j)
                        for (int64_t k = 0; k < w.size[2]; ++k) {
                            const int ld = axis_label(a * w.size[0] + i, w.padded[0], w.size[0], w.shift[0]);
                            const int lh = axis_label(b * w.size[1] + j, w.padded[1], w.size[1], w.shift[1]);
                            const int lw = axis_label(c * w.size[2] + k, w.padded[2], w.size[2], w.shift[2]);
                            const int64_t win = (a * nh + b) * nw + c, tok = (i * w.size[1] + j) * w.size[2] + k;
                            labels[static_cast<size_t>(win * n + tok)] = (ld * 3 + lh) * 3 + lw;
                        }
    return labels;
}

// Token of the (un-shifted, un-padded) grid that window `win` (global), token `tok`
// holds after padding and rolling by -shift; -1 for a padding token.
int64_t source_token(const Windows& w, const Act& x, int64_t win, int64_t tok) {
    const int64_t nd = w.padded[0] / w.size[0], nh = w.padded[1] / w.size[1], nw = w.padded[2] / w.size[2];
    const int64_t per_image = nd * nh * nw, b = win / per_image, r = win % per_image;
    const int64_t wd = r / (nh * nw), wh = (r / nw) % nh, ww = r % nw;
    const int64_t i = tok / (w.size[1] * w.size[2]), j = (tok / w.size[2]) % w.size[1], k = tok % w.size[2];
    const int64_t qd = (wd * w.size[0] + i + w.shift[0]) % w.padded[0];
    const int64_t qh = (wh * w.size[1] + j + w.shift[1]) % w.padded[1];
    const int64_t qw = (ww * w.size[2] + k + w.shift[2]) % w.padded[2];
    if (qd >= x.d || qh >= x.h || qw >= x.w) return -1;
    return ((b * x.d + qd) * x.h + qh) * x.w + qw;
}

}  // namespace

void swin_block(Network& m, const std::string& name, Act& x, int64_t heads, const Windows& w) {
    const int64_t C = x.c, T = x.tokens(), n = w.tokens();
    Buffer t(T * C);
    layer_norm(m.ctx, x.ptr(), t.get(), T, C, m.at(name + ".norm1.weight"), m.at(name + ".norm1.bias"));

    const std::string attn = name + ".attn";
    const std::vector<float>& bias = relative_bias(m, attn, n, heads);
    const std::vector<int32_t> labels = w.shifted() ? mask_labels(w) : std::vector<int32_t>();
    const int64_t image_windows = w.count(), total = x.n * image_windows;
    const int64_t max_chunk = std::max<int64_t>(1, kScoreBudget / (heads * n * n));
    const int64_t chunks = (total + max_chunk - 1) / max_chunk, per_chunk = (total + chunks - 1) / chunks;
    Buffer in(per_chunk * n * C), out(per_chunk * n * C);
    for (int64_t first = 0; first < total; first += per_chunk) {
        m.check_cancel();  // between chunks of windows (a stage-1 block of a 96^3 window has ~8)
        const int64_t count = std::min(per_chunk, total - first);
        const float* src = t.get();
        float* dst = in.get();
#pragma omp parallel for schedule(static)
        for (int64_t r = 0; r < count * n; ++r) {
            const int64_t s = source_token(w, x, first + r / n, r % n);
            if (s < 0)
                std::memset(dst + r * C, 0, sizeof(float) * static_cast<size_t>(C));
            else
                std::memcpy(dst + r * C, src + s * C, sizeof(float) * static_cast<size_t>(C));
        }
        window_attention(m, attn, in.get(), count, n, C, heads, bias.data(), labels.empty() ? nullptr : labels.data(),
                         first, image_windows, out.get());
        const float* a = out.get();
        float* px = x.ptr();
#pragma omp parallel for schedule(static)
        for (int64_t r = 0; r < count * n; ++r) {
            const int64_t s = source_token(w, x, first + r / n, r % n);
            if (s < 0) continue;
            for (int64_t c = 0; c < C; ++c) px[s * C + c] += a[r * C + c];
        }
    }

    // x = x + Linear2(GELU(Linear1(LN2(x)))), by chunks of tokens.
    Act y(x.n, x.d, x.h, x.w, C);
    const int64_t hidden = m.param(name + ".mlp.linear1.weight").shape[0];
    Buffer normed(std::min(kMlpChunk, T) * C), h(std::min(kMlpChunk, T) * hidden);
    for (int64_t first = 0; first < T; first += kMlpChunk) {
        m.check_cancel();
        const int64_t rows = std::min(kMlpChunk, T - first);
        const float* xr = x.ptr() + first * C;
        layer_norm(m.ctx, xr, normed.get(), rows, C, m.at(name + ".norm2.weight"), m.at(name + ".norm2.bias"));
        // bf16 models: the hidden activations are written as bf16 (linear2 would round them so anyway).
        linear(m.ctx, name + ".mlp.linear1", normed.get(), rows, C, m.at(name + ".mlp.linear1.weight"),
               m.at(name + ".mlp.linear1.bias"), hidden, h.get(), Post::gelu, nullptr, false, m.ctx.bf16);
        linear(m.ctx, name + ".mlp.linear2", h.get(), rows, hidden, m.at(name + ".mlp.linear2.weight"),
               m.at(name + ".mlp.linear2.bias"), C, y.ptr() + first * C, Post::add, xr, m.ctx.bf16);
    }
    x = std::move(y);
}

}  // namespace swu_onednn
