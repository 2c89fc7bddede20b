// The vector width our own kernels (winograd/, attention_core.cpp) run at, chosen once at
// run time, and the GCC vector types they are written in. oneDNN's own cap
// (ONEDNN_MAX_CPU_ISA=AVX2 checks the AVX2 path on an AVX-512 CPU) applies to them too.
#pragma once

#include <cstdint>

namespace swu_onednn {

enum class Simd { portable, avx2, avx512 };  // in increasing order

// AVX-512F, AVX2 + FMA, or neither, capped by ONEDNN_MAX_CPU_ISA.
Simd simd_level();

typedef float Vec16 __attribute__((vector_size(64)));
typedef float Vec8 __attribute__((vector_size(32)));
typedef int32_t VecI16 __attribute__((vector_size(64)));
typedef int32_t VecI8 __attribute__((vector_size(32)));

}  // namespace swu_onednn
