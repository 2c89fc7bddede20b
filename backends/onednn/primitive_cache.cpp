#include "primitive_cache.hpp"

#include <cstdlib>
#include <cstring>
#include <new>

namespace swu_onednn {

namespace {

// Where oneDNN dispatches AVX-512 its brgemm convolutions on channels-last data are the
// fastest it has (48->48 channels, 3x3x3, 64^3, 2 threads on a Xeon with AVX-512:
// channels-last fp32 336 GFLOP/s, nCdhw16c 320), take any channel count on jit code, and
// are the only ones that use AMX for bf16 (2.1 TFLOP/s against 0.3 for the blocked
// avx512_core_bf16 kernel). On AVX2 the blocked nCdhw8c kernels beat channels-last
// (~120 against ~75 GFLOP/s, measured on an AMD EPYC).
int channel_block() {
    // SWU_ONEDNN_CHANNEL_BLOCK=0|8|16 overrides the choice (tests run the other layouts on
    // any CPU with it; where no jit kernel has that layout oneDNN runs its reference code).
    if (const char* forced = std::getenv("SWU_ONEDNN_CHANNEL_BLOCK")) {
        if (std::strcmp(forced, "0") == 0) return 0;
        if (std::strcmp(forced, "8") == 0) return 8;
        if (std::strcmp(forced, "16") == 0) return 16;
    }
    const auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
    const auto avx512 = static_cast<unsigned>(dnnl::cpu_isa::avx512_core);
    return (isa & avx512) == avx512 ? 0 : 8;
}

bool has_amx() {
    const auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
    const auto amx = static_cast<unsigned>(dnnl::cpu_isa::avx512_core_amx);
    return (isa & amx) == amx;
}

}  // namespace

Context::Context() : engine(dnnl::engine::kind::cpu, 0), stream(engine), block(channel_block()), amx(has_amx()) {}

Cached& Context::get(const std::string& key, const std::function<Cached()>& make) {
    auto it = cache_.find(key);
    if (it == cache_.end()) it = cache_.emplace(key, make()).first;
    return it->second;
}

dnnl::primitive_attr Context::attr() const {
    dnnl::primitive_attr a;
    a.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    return a;
}

dnnl::memory Context::scratchpad(const dnnl::memory::desc& d) {
    const size_t need = d.get_size();
    if (need > scratch_size_) {
        const size_t size = (need + 4095) / 4096 * 4096;
        void* p = std::aligned_alloc(4096, size);
        if (!p) throw std::bad_alloc();
        scratch_.reset(p);
        scratch_size_ = size;
    }
    return dnnl::memory(d, engine, scratch_.get());
}

}  // namespace swu_onednn
