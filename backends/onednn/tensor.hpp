// Activations inside the backend, float32 in one of two layouts:
// - channels-last {N, D, H, W, C} (block 0): the Swin blocks' tokens, oneDNN's ndhwc;
// - channel-blocked {N, C/b, D, H, W, b} (block b = 8 or 16): oneDNN's nCdhw8c / nCdhw16c,
//   C padded up to a multiple of b with zeros.
// The convolutional U-Net runs in the layout its convolutions are fastest in on this CPU
// (Context::block: channels-last on AVX-512, block 8 on AVX2; primitive_cache.cpp says why).
#pragma once

#include <cstdint>
#include <memory>

#include "buffer_pool.hpp"

namespace swu_onednn {

// An uninitialised, aligned float array from the buffer pool (every producer writes
// all of it).
class Buffer {
    struct Release {
        Release() : bytes(0) {}
        explicit Release(size_t b) : bytes(b) {}
        size_t bytes;
        void operator()(float* p) const { pool_free(p, bytes); }
    };

public:
    Buffer() = default;
    explicit Buffer(int64_t n) : data_(static_cast<float*>(pool_alloc(bytes(n))), Release(bytes(n))), size_(n) {}
    float* get() { return data_.get(); }
    const float* get() const { return data_.get(); }
    int64_t size() const { return size_; }

private:
    static size_t bytes(int64_t n) { return static_cast<size_t>(n > 0 ? n : 1) * sizeof(float); }
    std::unique_ptr<float, Release> data_;
    int64_t size_ = 0;
};

struct Act {
    int64_t n = 0, d = 0, h = 0, w = 0, c = 0;
    int block = 0;  // 0: channels-last; b: channel-blocked by b
    Buffer data;

    Act() = default;
    Act(int64_t n_, int64_t d_, int64_t h_, int64_t w_, int64_t c_, int block_ = 0)
        : n(n_), d(d_), h(h_), w(w_), c(c_), block(block_), data(n_ * d_ * h_ * w_ * padded_c()) {}
    int64_t spatial() const { return d * h * w; }
    int64_t tokens() const { return n * d * h * w; }
    int64_t numel() const { return tokens() * c; }
    // Channels as stored: c, rounded up to the block.
    int64_t padded_c() const { return block ? (c + block - 1) / block * block : c; }
    // Floats in the buffer (numel() plus the blocked layout's zero padding).
    int64_t size() const { return tokens() * padded_c(); }
    float* ptr() { return data.get(); }
    const float* ptr() const { return data.get(); }
};

}  // namespace swu_onednn
