// One oneDNN engine/stream per model instance, the primitives it has built (keyed by op,
// weight name and shapes, so a new input shape builds once and is then reused) and one
// scratchpad shared by every primitive (they run one after another on one stream).
#pragma once

#include <dnnl.hpp>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace swu_winograd {
struct Weights;
}

namespace swu_onednn {

struct Cached {
    dnnl::primitive prim;
    dnnl::memory::desc weights, scratch;
    dnnl::memory::desc mean;   // layout of the statistics outputs, where the primitive wants them
    dnnl::memory weights_mem;  // conv/deconv weights reordered once into the primitive's layout
    std::vector<float> bias;   // a bias zero-padded to whole channel blocks, where the primitive needs one
    std::shared_ptr<const swu_winograd::Weights> winograd;  // transformed weights of a Winograd convolution
};

class Context {
public:
    Context();
    dnnl::engine engine;
    dnnl::stream stream;
    // Layout of the convolutional U-Net's activations (tensor.hpp): channels-last (0) where
    // oneDNN dispatches AVX-512, channel block 8 below (see channel_block()).
    int block;
    // bf16 model: weights and activations enter the convolutions and matmuls as bf16
    // (dnnl_ops.cpp); accumulation, results, normalisation and softmax stay f32.
    bool bf16 = false;
    // oneDNN may use AMX here (bf16 direct convolutions at 2-4 TFLOP/s). Without it, its bf16
    // convolutions (~210 GFLOP/s on 2 threads of a Xeon capped to avx512_core_bf16) are slower
    // than our Winograd, which then serves bf16 models too (dnnl_ops.cpp use_winograd).
    bool amx;
    // Set (from the thread that called the plugin) when the core's interrupt function asks
    // the running forward to stop: Network::check_cancel throws at the next block, and a
    // Winograd convolution skips its remaining tiles (plugin_entry.cpp forward).
    std::atomic<bool> cancel{false};

    // The primitive for `key`, built by make() on first use.
    Cached& get(const std::string& key, const std::function<Cached()>& make);
    // Drops every primitive (weights changed: reordered copies are stale).
    void clear() { cache_.clear(); }
    size_t size() const { return cache_.size(); }

    // Attributes every primitive is created with: user-managed scratchpad.
    dnnl::primitive_attr attr() const;
    // The shared scratchpad, grown to fit `d`.
    dnnl::memory scratchpad(const dnnl::memory::desc& d);

    // Wraps a caller's buffer (no copy).
    dnnl::memory wrap(const dnnl::memory::desc& d, const void* p) const {
        return dnnl::memory(d, engine, const_cast<void*>(p));
    }

private:
    struct FreeDeleter {
        void operator()(void* p) const { std::free(p); }
    };
    std::unordered_map<std::string, Cached> cache_;
    std::unique_ptr<void, FreeDeleter> scratch_;
    size_t scratch_size_ = 0;
};

}  // namespace swu_onednn
