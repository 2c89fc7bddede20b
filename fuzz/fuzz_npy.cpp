// Fuzz target: any bytes as a .npy file (read from a temporary file, as the CLI does).
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "common/error.hpp"
#include "io/npy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const std::string path = "/tmp/swu_fuzz_npy_" + std::to_string(::getpid()) + ".npy";
    FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) return 0;
    std::fwrite(data, 1, size, f);
    std::fclose(f);
    try {
        (void)swu::read_npy(path);
    } catch (const swu::Error&) {
    }
    return 0;
}
