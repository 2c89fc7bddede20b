// Activations inside the backend: channels-last {N, D, H, W, C} float32 (the Swin blocks'
// native layout; oneDNN's jit convolutions take it directly as ndhwc).
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
    Buffer data;

    Act() = default;
    Act(int64_t n_, int64_t d_, int64_t h_, int64_t w_, int64_t c_)
        : n(n_), d(d_), h(h_), w(w_), c(c_), data(n_ * d_ * h_ * w_ * c_) {}
    int64_t spatial() const { return d * h * w; }
    int64_t tokens() const { return n * d * h * w; }
    int64_t numel() const { return tokens() * c; }
    float* ptr() { return data.get(); }
    const float* ptr() const { return data.get(); }
};

}  // namespace swu_onednn
