#include "buffer_pool.hpp"

#include <sys/mman.h>

#include <cstdlib>
#include <map>
#include <mutex>
#include <new>

namespace swu_onednn {

namespace {

constexpr size_t kLarge = size_t(1) << 20;     // pooled from this size on
constexpr size_t kHuge = size_t(2) << 20;      // huge page size / alignment
constexpr size_t kMaxCached = size_t(4) << 30;  // bytes kept for reuse at most

struct Pool {
    std::mutex mutex;
    std::multimap<size_t, void*> free_blocks;
    size_t cached = 0;
    ~Pool() {
        for (auto& b : free_blocks) std::free(b.second);
    }
};

Pool& pool() {
    static Pool p;
    return p;
}

size_t rounded(size_t bytes) { return bytes >= kLarge ? (bytes + kHuge - 1) / kHuge * kHuge : (bytes + 63) / 64 * 64; }

}  // namespace

void* pool_alloc(size_t bytes) {
    const size_t size = rounded(bytes == 0 ? 1 : bytes);
    if (size >= kLarge) {
        Pool& p = pool();
        std::lock_guard<std::mutex> lock(p.mutex);
        const auto it = p.free_blocks.find(size);
        if (it != p.free_blocks.end()) {
            void* block = it->second;
            p.free_blocks.erase(it);
            p.cached -= size;
            return block;
        }
    }
    void* block = std::aligned_alloc(size >= kLarge ? kHuge : 64, size);
    if (!block) throw std::bad_alloc();
    if (size >= kLarge) madvise(block, size, MADV_HUGEPAGE);
    return block;
}

void pool_free(void* block, size_t bytes) noexcept {
    if (!block) return;
    const size_t size = rounded(bytes == 0 ? 1 : bytes);
    if (size < kLarge) {
        std::free(block);
        return;
    }
    Pool& p = pool();
    std::lock_guard<std::mutex> lock(p.mutex);
    // Over the cap: release the largest cached blocks first.
    while (p.cached + size > kMaxCached && !p.free_blocks.empty()) {
        auto last = std::prev(p.free_blocks.end());
        std::free(last->second);
        p.cached -= last->first;
        p.free_blocks.erase(last);
    }
    if (p.cached + size > kMaxCached) {
        std::free(block);
        return;
    }
    try {
        p.free_blocks.emplace(size, block);
        p.cached += size;
    } catch (...) {
        std::free(block);
    }
}

void pool_release_all() noexcept {
    Pool& p = pool();
    std::lock_guard<std::mutex> lock(p.mutex);
    for (auto& b : p.free_blocks) std::free(b.second);
    p.free_blocks.clear();
    p.cached = 0;
}

}  // namespace swu_onednn
