#include "primitive_cache.hpp"

#include <cstdlib>
#include <cstring>
#include <new>

namespace swu_onednn {

namespace {

int channel_block() {
    // SWU_ONEDNN_CHANNEL_BLOCK=8|16 overrides the choice (tests run the AVX-512 layout on
    // any CPU with it; where no jit kernel has that layout oneDNN runs its reference code).
    if (const char* forced = std::getenv("SWU_ONEDNN_CHANNEL_BLOCK")) {
        if (std::strcmp(forced, "8") == 0) return 8;
        if (std::strcmp(forced, "16") == 0) return 16;
    }
    const auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
    const auto avx512 = static_cast<unsigned>(dnnl::cpu_isa::avx512_core);
    return (isa & avx512) == avx512 ? 16 : 8;
}

}  // namespace

Context::Context() : engine(dnnl::engine::kind::cpu, 0), stream(engine), block(channel_block()) {}

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
