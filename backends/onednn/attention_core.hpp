// The core of window multi-head self-attention, fused: per window and head,
// softmax(q k^T + relative-position bias + shift mask) v, with the scores of a few query
// rows at a time in L1 (never a {windows, heads, n, n} tensor in memory). Reads q, k, v
// straight from the qkv Linear's output and writes the heads side by side, ready for the
// projection. Plain C++ with GCC vectors (AVX-512, AVX2, scalar), chosen at run time.
#pragma once

#include <cstdint>

namespace swu_onednn {

// qkv {windows, n, 3, heads, hd} (MONAI's qkv Linear output); q is scaled by `scale`
// before q k^T, as MONAI does. bias {heads, n, n}. labels: null (no shift), or the shift
// mask's region label of each token of every window of one image, {image_windows, n}:
// window w of this call is image window (first_window + w) % image_windows, and tokens of
// different regions get -100 added (MONAI's mask, after the bias). out {windows, n, heads * hd}.
void attention_core(const float* qkv, int64_t windows, int64_t n, int64_t heads, int64_t hd, float scale,
                    const float* bias, const int32_t* labels, int64_t first_window, int64_t image_windows, float* out);

}  // namespace swu_onednn
