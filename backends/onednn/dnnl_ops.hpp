// The oneDNN primitives the network is made of, on plain float32 buffers. Each op builds
// its primitive once per (op, weight, shape) through the Context cache.
#pragma once

#include <string>

#include "primitive_cache.hpp"
#include "tensor.hpp"

namespace swu_onednn {

// The oneDNN layout of an activation (tensor.hpp), and a copy of it into another layout.
dnnl::memory::desc layout_md(const Act& x);
void reorder(Context& ctx, const Act& x, dnnl::memory::format_tag to, float* dst);
Act relayout(Context& ctx, const Act& x, int block);

// Conv3d (cubic kernel k, stride, zero padding) from x's layout into channel block
// `out_block` (0: channels-last); weights in PyTorch's {O, I, k, k, k}; bias may be null.
// oneDNN's jit kernels want both sides channels-last, or both blocked (C = 1 counts as
// both). `name` keys the cached primitive.
// bf16_winograd (bf16 models): a convolution run as Winograd (dnnl_ops.cpp use_winograd)
// may round its transformed operands to bf16, where vdpbf16ps outruns fp32 FMAs (AMD Zen
// 4: twice; winograd_conv.hpp bf16_faster) on grids below 64^3 (dnnl_ops.cpp
// winograd_in_bf16); else it stays fp32 Winograd.
// x_bf16 (where conv3d_takes_bf16): x's values already rounded to bf16, x.size() of them
// in x's layout (instance_norm_lrelu's bf16_out); x's own floats are then not read.
Act conv3d(Context& ctx, const std::string& name, const float* weights, const float* bias, const Act& x, int64_t oc,
           int k, int stride, int pad, int out_block, bool bf16_winograd = false, const uint16_t* x_bf16 = nullptr);

// Whether conv3d runs this convolution on oneDNN in bf16 (a bf16 model's 3x3x3 convolutions
// of more than one input channel that Winograd does not take), so that it can be given
// x_bf16.
bool conv3d_takes_bf16(const Context& ctx, const Act& x, int64_t oc, int k, int stride, int pad);

// ConvTranspose3d kernel 2 stride 2, no bias, in x's layout; weights in PyTorch's {I, O, 2, 2, 2}.
Act deconv3d_k2s2(Context& ctx, const std::string& name, const float* weights, const Act& x, int64_t oc);

enum class Post { none, gelu, add };
// y{M, N} = x{M, K} W^T + b (W {N, K} as PyTorch stores it; b may be null), then
// GELU (exact erf) or + residual{M, N}.
// x_bf16 / y_bf16 (bf16 models only): x holds, or y receives, bf16 values (2 bytes each) in
// place of floats, so that the MLP's hidden activations pass from one matmul to the next
// without a conversion pass (the same rounding the conversion would do).
void linear(Context& ctx, const std::string& name, const float* x, int64_t M, int64_t K, const float* w, const float* b,
            int64_t N, float* y, Post post = Post::none, const float* residual = nullptr, bool x_bf16 = false,
            bool y_bf16 = false);

// Layer norm over the last axis of {M, C}, eps 1e-5; scale/shift null = no affine.
void layer_norm(Context& ctx, const float* x, float* y, int64_t M, int64_t C, const float* scale, const float* shift);

// Softmax over the last axis of {rows, n}, in place.
void softmax_rows(Context& ctx, float* x, int64_t rows, int64_t n);

// c{B, M, N} = a{B, M, K} @ b{B, K, N}, or @ b{B, N, K}^T when b_transposed.
void batched_matmul(Context& ctx, const float* a, const float* b, float* c, int64_t batch, int64_t M, int64_t K, int64_t N,
                    bool b_transposed);

}  // namespace swu_onednn
