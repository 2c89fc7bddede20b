// The vector width our own kernels (winograd/, attention_core.cpp) run at, chosen once at
// run time, the GCC vector types they are written in, and the line-aligned vectors their
// buffers live in. oneDNN's own cap (ONEDNN_MAX_CPU_ISA=AVX2 checks the AVX2 path on an
// AVX-512 CPU) applies to them too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <vector>

namespace swu_onednn {

enum class Simd { portable, avx2, avx512 };  // in increasing order

// AVX-512F, AVX2 + FMA, or neither, capped by ONEDNN_MAX_CPU_ISA.
Simd simd_level();

typedef float Vec16 __attribute__((vector_size(64)));
typedef float Vec8 __attribute__((vector_size(32)));
typedef int32_t VecI16 __attribute__((vector_size(64)));
typedef int32_t VecI8 __attribute__((vector_size(32)));

// Storage on 64-byte (cache-line) boundaries, so that the kernels' 64-byte vector loads and
// stores never straddle two lines: std::vector's heap blocks are only 16-byte aligned, and
// a straddling store costs two line accesses (the Winograd layers ran 15-20 % slower so).
template <class T>
struct LineAligned {
    using value_type = T;
    LineAligned() = default;
    template <class U>
    LineAligned(const LineAligned<U>&) noexcept {}
    T* allocate(size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t(64))); }
    void deallocate(T* p, size_t) noexcept { ::operator delete(p, std::align_val_t(64)); }
    template <class U>
    bool operator==(const LineAligned<U>&) const noexcept { return true; }
    template <class U>
    bool operator!=(const LineAligned<U>&) const noexcept { return false; }
};
template <class T>
using aligned_vector = std::vector<T, LineAligned<T>>;

// fp32 -> bf16, rounded to nearest even as oneDNN's reorders round (finite values: our
// kernels see no NaN). Inline, so that loops over it vectorise at their caller's width.
inline uint16_t to_bf16(float f) {
    uint32_t u;
    std::memcpy(&u, &f, sizeof u);
    return static_cast<uint16_t>((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

}  // namespace swu_onednn
