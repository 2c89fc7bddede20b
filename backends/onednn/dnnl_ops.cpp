#include "dnnl_ops.hpp"

#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include "winograd/winograd_conv.hpp"

namespace swu_onednn {

using dnnl::memory;
using dims = memory::dims;
using tag = memory::format_tag;
using dt = memory::data_type;

namespace {

constexpr float kEps = 1e-5f;

std::string shape_key(const std::vector<int64_t>& v) {
    std::string s;
    for (int64_t x : v) s += std::to_string(x) + ",";
    return s;
}

memory::desc md(const dims& d, tag t, dt type = dt::f32) { return memory::desc(d, type, t); }

// The data type of a multiplication's inputs (weights and activations): bf16 where `low`
// (ctx.bf16 and the op takes it), else f32. Results and all between them stay f32.
dt mul_type(bool low) { return low ? dt::bf16 : dt::f32; }

// Runs a cached primitive with the shared scratchpad added to `args`.
void run(Context& ctx, Cached& c, std::unordered_map<int, memory> args) {
    args[DNNL_ARG_SCRATCHPAD] = ctx.scratchpad(c.scratch);
    c.prim.execute(ctx.stream, args);
    ctx.stream.wait();
}

template <class Prim, class PD> Cached finish(Context& ctx, const PD& pd, const memory::desc& user_weights, const float* weights) {
    Cached c;
    c.prim = Prim(pd);
    c.scratch = pd.scratchpad_desc();
    if (weights) {
        c.weights = pd.weights_desc();
        c.weights_mem = memory(c.weights, ctx.engine);
        memory user(user_weights, ctx.engine, const_cast<float*>(weights));
        dnnl::reorder(user, c.weights_mem).execute(ctx.stream, user, c.weights_mem);
        ctx.stream.wait();
    }
    return c;
}

// Copies src (`from`) into dst (`to`: another layout or data type) with a reorder cached
// under `key`, which must name both descriptions.
void copy_reordered(Context& ctx, const std::string& key, const memory::desc& from, const void* src,
                    const memory::desc& to, void* dst) {
    Cached& c = ctx.get(key, [&] {
        return finish<dnnl::reorder>(ctx, dnnl::reorder::primitive_desc(ctx.engine, from, ctx.engine, to, ctx.attr()),
                                     memory::desc(), nullptr);
    });
    run(ctx, c, {{DNNL_ARG_FROM, ctx.wrap(from, src)}, {DNNL_ARG_TO, ctx.wrap(to, dst)}});
}

// The operand `p` (f32, dims `d` in layout `t`) as a multiplication input: itself, or
// rounded to bf16 into `keep` where `low`.
memory mul_input(Context& ctx, bool low, const dims& d, tag t, const float* p, Buffer& keep) {
    const memory::desc from = md(d, t);
    if (!low) return ctx.wrap(from, p);
    const memory::desc to = md(d, t, dt::bf16);
    keep = Buffer(static_cast<int64_t>((to.get_size() + sizeof(float) - 1) / sizeof(float)));
    copy_reordered(ctx, "to_bf16:" + std::to_string(static_cast<int>(t)) + ":" + shape_key(d), from, p, to, keep.get());
    return ctx.wrap(to, keep.get());
}

// w {oc, ic, k^3} (and b {oc}) zero-padded to {ocp, icp, k^3} ({ocp}).
std::vector<float> pad_weights(const float* w, int64_t oc, int64_t ic, int64_t ocp, int64_t icp, int64_t k3) {
    std::vector<float> p(static_cast<size_t>(ocp * icp * k3), 0.f);
    for (int64_t o = 0; o < oc; ++o)
        for (int64_t i = 0; i < ic; ++i) std::copy_n(w + (o * ic + i) * k3, k3, p.begin() + (o * icp + i) * k3);
    return p;
}

}  // namespace

tag layout_tag(const Act& x) {
    if (x.block == 0) return tag::ndhwc;
    if (x.block == 8) return tag::nCdhw8c;
    if (x.block == 16) return tag::nCdhw16c;
    throw std::runtime_error("the onednn backend has no layout with channel block " + std::to_string(x.block));
}

memory::desc layout_md(const Act& x) { return md({x.n, x.c, x.d, x.h, x.w}, layout_tag(x)); }

void reorder(Context& ctx, const Act& x, tag to, float* dst) {
    const memory::desc from = layout_md(x), to_md = md({x.n, x.c, x.d, x.h, x.w}, to);
    const std::string key = "reorder:" + shape_key({x.n, x.c, x.d, x.h, x.w, static_cast<int64_t>(layout_tag(x)),
                                                    static_cast<int64_t>(to)});
    copy_reordered(ctx, key, from, x.ptr(), to_md, dst);
}

Act relayout(Context& ctx, const Act& x, int block) {
    Act y(x.n, x.d, x.h, x.w, x.c, block);
    reorder(ctx, x, layout_tag(y), y.ptr());
    return y;
}

namespace {

// 3x3x3 stride-1 convolutions of 32 or more channels, on grids of 12^3 voxels or more,
// run as Winograd (winograd/README.md): F(3x3x3, 3x3x3) from 24^3 on (5.8x fewer
// multiplies), F(2x2x2, 3x3x3) on smaller grids (3.4x), in fp32 (bf16 models where the
// CPU lacks AMX: fp32, or bf16 F(2,3) where conv3d's caller allows it and it is faster).
// SWU_ONEDNN_WINOGRAD, read once, for comparisons: 0 off, 2 F(2,3) on every grid, 4 F(4,3)
// on the grids of 64^3 and more (F(3,3) from 24^3, F(2,3) below); anything else the
// default.
enum class WinogradMode { off, f2, f3, f4 };
WinogradMode winograd_mode() {
    static const WinogradMode mode = [] {
        const std::string e = std::getenv("SWU_ONEDNN_WINOGRAD") ? std::getenv("SWU_ONEDNN_WINOGRAD") : "";
        return e == "0" ? WinogradMode::off : e == "2" ? WinogradMode::f2 : e == "4" ? WinogradMode::f4 : WinogradMode::f3;
    }();
    return mode;
}

bool use_winograd(const Context& ctx, const Act& x, int64_t oc, int k, int stride, int pad) {
    // On small grids (6^3 and below in a 96^3 window) the transformed weights (64 x C x O
    // floats: 75 MB for 768 -> 384) outweigh the few tiles: direct is as fast or faster.
    // From 12^3 on Winograd wins (2 threads, AVX-512: 96 -> 96 at 24^3 13 ms against 21
    // direct, 384 -> 192 at 12^3 13 against 19).
    // Below 32 channels on either side (feature size 12) the GEMMs are too thin and the
    // transforms dominate: f12's forward took 833 ms instead of 711 with them.
    // bf16 models too where oneDNN has no AMX: its bf16 direct convolutions are then slower
    // than this (f48 window, Xeon capped to avx512_core_bf16: 3.4 s all direct).
    return winograd_mode() != WinogradMode::off && (!ctx.bf16 || !ctx.amx) && k == 3 && stride == 1 && pad == 1 && x.c >= 32 && oc >= 32 &&
           x.spatial() >= 12 * 12 * 12;
}

// The output tile m of F(m x m x m, 3x3x3). F(3,3) rounds about 4x more than F(2,3) per
// layer (2-6x a direct float convolution; end to end 1.4e-5 against MONAI on the golden
// net_f48, a seventh of the tolerance) and is faster from 24^3 on (2 threads, AVX-512:
// 96 -> 48 at 96^3 231 ms against 312, 96 -> 96 at 24^3 7.0 against 9.4); at 12^3 it is
// not (384 -> 192: 13.4 against 10.9 ms), so the more accurate F(2,3) stays there. F(4,3)
// rounds about 4x more again: opt-in only. bf16 Winograd exists as F(2,3) only.
int winograd_tile(const Act& x, bool bf16) {
    if (bf16 || winograd_mode() == WinogradMode::f2) return 2;
    if (winograd_mode() == WinogradMode::f4 && x.spatial() >= 64 * 64 * 64) return 4;
    return x.spatial() >= 24 * 24 * 24 ? 3 : 2;
}

// Whether a bf16 model's Winograd convolution rounds its transformed operands to bf16
// (F(2,3) on vdpbf16ps) rather than running fp32 F(3,3): where the caller allows it, the
// CPU's vdpbf16ps outruns its FMAs, and the grid is below 64^3. On the full-resolution
// grid F(2,3)'s input transform, 64 values per 8 outputs read from a volume far larger
// than the caches, costs more than its GEMM saves (AMD EPYC Zen 5, 2 threads,
// swu_winograd_layers 2 3,2b: 96 -> 48 at 96^3 181 ms in bf16 against 155 in fp32 F(3,3),
// 48 -> 48 85 against 90; at 48^3 even, at 24^3 and 12^3 bf16 is 1.1-2.3x faster), and
// the fp32 layers there halve the bf16 model's error (golden net_f48: argmax 99.32 ->
// 99.67 %, max |logit error| 0.0196 -> 0.0096).
bool winograd_in_bf16(const Context& ctx, const Act& x, bool bf16_winograd) {
    return ctx.bf16 && bf16_winograd && x.spatial() < 64 * 64 * 64 && swu_winograd::bf16_faster();
}

}  // namespace

// bf16 models keep f32 where bf16 cost most accuracy for least time (net_f48 golden case:
// argmax agreement 98.64 % with every convolution in bf16, 99.37 % without these): the
// convolutions of the raw image (one channel: its fine intensity steps) and the 1x1x1 ones
// (the logits and the residual shortcuts).
bool conv3d_takes_bf16(const Context& ctx, const Act& x, int64_t oc, int k, int stride, int pad) {
    return ctx.bf16 && x.c > 1 && k > 1 && !use_winograd(ctx, x, oc, k, stride, pad);
}

Act conv3d(Context& ctx, const std::string& name, const float* weights, const float* bias, const Act& x, int64_t oc,
           int k, int stride, int pad, int out_block, bool bf16_winograd, const uint16_t* x_bf16) {
    if (x_bf16 && !conv3d_takes_bf16(ctx, x, oc, k, stride, pad))
        throw std::logic_error("conv3d: bf16 input for a convolution that does not take it");
    if (use_winograd(ctx, x, oc, k, stride, pad)) {
        // Channels-last in and out; a blocked caller (the AVX2 layout) is reordered around
        // it, which costs far less than the multiplies saved.
        if (x.block != 0)
            return conv3d(ctx, name, weights, bias, relayout(ctx, x, 0), oc, k, stride, pad, out_block, bf16_winograd);
        if (out_block != 0)
            return relayout(ctx, conv3d(ctx, name, weights, bias, x, oc, k, stride, pad, 0, bf16_winograd), out_block);
        Act y(x.n, x.d, x.h, x.w, oc, 0);
        const bool bf16 = winograd_in_bf16(ctx, x, bf16_winograd);
        const int tile = winograd_tile(x, bf16);
        // Keyed by the precision too: one layer runs bf16 below 64^3 and fp32 above, and
        // with SWU_ONEDNN_WINOGRAD=2 both as F(2,3).
        Cached& c = ctx.get("winograd:" + name + ":" + shape_key({x.c, oc, tile, bf16}), [&] {
            Cached r;
            r.winograd = std::make_shared<const swu_winograd::Weights>(
                swu_winograd::transform_weights(weights, bias, oc, x.c, tile, bf16));
            return r;
        });
        swu_winograd::conv3x3x3(*c.winograd, x.ptr(), x.n, x.d, x.h, x.w, y.ptr(), omp_get_max_threads(), &ctx.cancel);
        return y;
    }
    const int64_t od = (x.d + 2 * pad - k) / stride + 1, oh = (x.h + 2 * pad - k) / stride + 1,
                  ow = (x.w + 2 * pad - k) / stride + 1;
    Act y(x.n, od, oh, ow, oc, out_block);
    // Blocked on both sides: the convolution runs on the padded channel counts, with
    // zero weights for the padding (the buffers already hold them: tensor.hpp). oneDNN's
    // AVX-512 kernels have no jit path for partly filled 16-blocks (f12's 12 channels ran
    // on ref:any, ~100x slower); whole blocks always have one.
    const bool padded = x.block != 0 && out_block != 0 && (x.c != x.padded_c() || oc != y.padded_c());
    const int64_t ic = padded ? x.padded_c() : x.c, ocp = padded ? y.padded_c() : oc;
    // One channel into blocked: oneDNN's jit kernel wants the (byte-identical) ncdhw.
    const tag src_tag = x.c == 1 && x.block == 0 && out_block != 0 ? tag::ncdhw : layout_tag(x);
    const dims src_d = {x.n, ic, x.d, x.h, x.w};
    const bool low = conv3d_takes_bf16(ctx, x, oc, k, stride, pad);
    const memory::desc src = md(src_d, src_tag, mul_type(low)),
                       dst = md({y.n, ocp, od, oh, ow}, layout_tag(y));
    const dims w_d = {ocp, ic, k, k, k};
    const std::string key =
        "conv:" + name + ":" + shape_key({x.n, x.c, x.d, x.h, x.w, x.block, oc, k, stride, pad, out_block});
    Cached& c = ctx.get(key, [&] {
        const memory::desc bias_md = bias ? md({ocp}, tag::x) : memory::desc();
        dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                                             src, md(w_d, tag::any, mul_type(low)), bias_md, dst,
                                             {stride, stride, stride}, {pad, pad, pad}, {pad, pad, pad});
        dnnl::convolution_forward::primitive_desc pd(desc, ctx.attr(), ctx.engine);
        if (!padded) return finish<dnnl::convolution_forward>(ctx, pd, md(w_d, tag::oidhw), weights);
        const std::vector<float> w = pad_weights(weights, oc, x.c, ocp, ic, int64_t{k} * k * k);
        Cached r = finish<dnnl::convolution_forward>(ctx, pd, md(w_d, tag::oidhw), w.data());
        if (bias) r.bias = pad_weights(bias, oc, 1, ocp, 1, 1);
        return r;
    });
    const float* b = padded && bias ? c.bias.data() : bias;
    Buffer keep;
    const memory src_mem = x_bf16 ? ctx.wrap(md(src_d, src_tag, dt::bf16), x_bf16)
                                  : mul_input(ctx, low, src_d, src_tag, x.ptr(), keep);
    std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, src_mem},
                                            {DNNL_ARG_WEIGHTS, c.weights_mem},
                                            {DNNL_ARG_DST, ctx.wrap(dst, y.ptr())}};
    if (b) args[DNNL_ARG_BIAS] = ctx.wrap(md({ocp}, tag::x), b);
    run(ctx, c, std::move(args));
    return y;
}

Act deconv3d_k2s2(Context& ctx, const std::string& name, const float* weights, const Act& x, int64_t oc) {
    // oneDNN 2.6 has no jit deconvolution on blocked layouts (it falls to ref:any, ~100x
    // slower): channels-last in and out, the blocked caller's layout restored around it.
    if (x.block != 0) return relayout(ctx, deconv3d_k2s2(ctx, name, weights, relayout(ctx, x, 0), oc), x.block);
    Act y(x.n, 2 * x.d, 2 * x.h, 2 * x.w, oc);
    const dims src_d = {x.n, x.c, x.d, x.h, x.w};
    const memory::desc src = md(src_d, tag::ndhwc, mul_type(ctx.bf16)), dst = layout_md(y);
    const dims w_d = {oc, x.c, 2, 2, 2};
    const std::string key = "deconv:" + name + ":" + shape_key({x.n, x.c, x.d, x.h, x.w, oc});
    Cached& c = ctx.get(key, [&] {
        dnnl::deconvolution_forward::desc desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::deconvolution_direct,
                                               src, md(w_d, tag::any, mul_type(ctx.bf16)), dst, {2, 2, 2}, {0, 0, 0},
                                               {0, 0, 0});
        dnnl::deconvolution_forward::primitive_desc pd(desc, ctx.attr(), ctx.engine);
        // PyTorch stores {in, out, k, k, k}: oneDNN's {OC, IC, ...} with IC outermost.
        return finish<dnnl::deconvolution_forward>(ctx, pd, md(w_d, tag::iodhw), weights);
    });
    Buffer keep;
    run(ctx, c,
        {{DNNL_ARG_SRC, mul_input(ctx, ctx.bf16, src_d, tag::ndhwc, x.ptr(), keep)},
         {DNNL_ARG_WEIGHTS, c.weights_mem},
         {DNNL_ARG_DST, ctx.wrap(dst, y.ptr())}});
    return y;
}

void linear(Context& ctx, const std::string& name, const float* x, int64_t M, int64_t K, const float* w, const float* b,
            int64_t N, float* y, Post post, const float* residual, bool x_bf16, bool y_bf16) {
    if ((x_bf16 || y_bf16) && !ctx.bf16) throw std::logic_error("linear: bf16 activations in an fp32 model");
    const memory::desc y_md = md({M, N}, tag::ab, y_bf16 ? dt::bf16 : dt::f32);
    const std::string key =
        "linear:" + name + ":" + shape_key({M, K, N, static_cast<int64_t>(post), b != nullptr, x_bf16, y_bf16});
    Cached& c = ctx.get(key, [&] {
        dnnl::primitive_attr attr = ctx.attr();
        dnnl::post_ops ops;
        if (post == Post::gelu) ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_gelu_erf, 0.f, 0.f);
        if (post == Post::add) ops.append_binary(dnnl::algorithm::binary_add, md({M, N}, tag::ab));
        attr.set_post_ops(ops);
        // The weights are reordered once into the layout (and type) the matmul wants.
        dnnl::matmul::desc desc(md({M, K}, tag::ab, mul_type(ctx.bf16)), md({K, N}, tag::any, mul_type(ctx.bf16)),
                                b ? md({1, N}, tag::ab) : memory::desc(), y_md);
        dnnl::matmul::primitive_desc pd(desc, attr, ctx.engine);
        return finish<dnnl::matmul>(ctx, pd, md({K, N}, tag::ba), w);
    });
    Buffer keep;
    const memory src = x_bf16 ? ctx.wrap(md({M, K}, tag::ab, dt::bf16), x) : mul_input(ctx, ctx.bf16, {M, K}, tag::ab, x, keep);
    std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, src},
                                            {DNNL_ARG_WEIGHTS, c.weights_mem},
                                            {DNNL_ARG_DST, ctx.wrap(y_md, y)}};
    if (b) args[DNNL_ARG_BIAS] = ctx.wrap(md({1, N}, tag::ab), b);
    if (post == Post::add)
        args[DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1] = ctx.wrap(md({M, N}, tag::ab), residual);
    run(ctx, c, std::move(args));
}

void layer_norm(Context& ctx, const float* x, float* y, int64_t M, int64_t C, const float* scale, const float* shift) {
    const bool affine = scale != nullptr;
    const std::string key = "ln:" + shape_key({M, C, affine});
    Cached& c = ctx.get(key, [&] {
        const auto flags = affine ? (dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift)
                                  : dnnl::normalization_flags::none;
        dnnl::layer_normalization_forward::desc desc(dnnl::prop_kind::forward_inference, md({M, C}, tag::ab), kEps, flags);
        dnnl::layer_normalization_forward::primitive_desc pd(desc, ctx.attr(), ctx.engine);
        Cached r = finish<dnnl::layer_normalization_forward>(ctx, pd, memory::desc(), nullptr);
        r.mean = pd.query_md(dnnl::query::exec_arg_md, DNNL_ARG_MEAN);
        return r;
    });
    std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, ctx.wrap(md({M, C}, tag::ab), x)},
                                            {DNNL_ARG_DST, ctx.wrap(md({M, C}, tag::ab), y)}};
    if (affine) {
        args[DNNL_ARG_SCALE] = ctx.wrap(md({C}, tag::x), scale);
        args[DNNL_ARG_SHIFT] = ctx.wrap(md({C}, tag::x), shift);
    }
    std::vector<float> mean, var;
    if (c.mean.get_size() != 0) {
        mean.resize(c.mean.get_size() / sizeof(float));
        var.resize(mean.size());
        args[DNNL_ARG_MEAN] = ctx.wrap(c.mean, mean.data());
        args[DNNL_ARG_VARIANCE] = ctx.wrap(c.mean, var.data());
    }
    run(ctx, c, std::move(args));
}

void softmax_rows(Context& ctx, float* x, int64_t rows, int64_t n) {
    Cached& c = ctx.get("softmax:" + shape_key({rows, n}), [&] {
        dnnl::softmax_forward::desc desc(dnnl::prop_kind::forward_inference, md({rows, n}, tag::ab), 1);
        return finish<dnnl::softmax_forward>(ctx, dnnl::softmax_forward::primitive_desc(desc, ctx.attr(), ctx.engine), memory::desc(), nullptr);
    });
    const memory m = ctx.wrap(md({rows, n}, tag::ab), x);
    run(ctx, c, {{DNNL_ARG_SRC, m}, {DNNL_ARG_DST, m}});
}

void batched_matmul(Context& ctx, const float* a, const float* b, float* c_out, int64_t batch, int64_t M, int64_t K,
                    int64_t N, bool b_transposed) {
    const memory::desc a_md = md({batch, M, K}, tag::abc);
    const memory::desc b_md = md({batch, K, N}, b_transposed ? tag::acb : tag::abc);
    const memory::desc c_md = md({batch, M, N}, tag::abc);
    Cached& c = ctx.get("bmm:" + shape_key({batch, M, K, N, b_transposed}), [&] {
        dnnl::matmul::desc desc(a_md, b_md, c_md);
        return finish<dnnl::matmul>(ctx, dnnl::matmul::primitive_desc(desc, ctx.attr(), ctx.engine), memory::desc(), nullptr);
    });
    run(ctx, c, {{DNNL_ARG_SRC, ctx.wrap(a_md, a)}, {DNNL_ARG_WEIGHTS, ctx.wrap(b_md, b)}, {DNNL_ARG_DST, ctx.wrap(c_md, c_out)}});
}

}  // namespace swu_onednn
