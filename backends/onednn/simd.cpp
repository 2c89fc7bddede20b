#include "simd.hpp"

#include <cctype>
#include <cstdlib>
#include <string>

namespace swu_onednn {

namespace {

Simd detect() {
    __builtin_cpu_init();
    Simd s = Simd::portable;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) s = Simd::avx2;
    if (__builtin_cpu_supports("avx512f")) s = Simd::avx512;
    if (const char* e = std::getenv("ONEDNN_MAX_CPU_ISA")) {
        std::string cap(e);
        for (char& ch : cap) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        if (s == Simd::avx512 && cap.rfind("avx2", 0) == 0) s = Simd::avx2;  // avx2, avx2_vnni
        if (cap == "sse41" || cap == "default") s = Simd::portable;
    }
    return s;
}

}  // namespace

Simd simd_level() {
    static const Simd s = detect();
    return s;
}

}  // namespace swu_onednn
