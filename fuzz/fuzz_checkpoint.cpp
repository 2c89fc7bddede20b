// Fuzz target: any bytes as a weights file (PyTorch zip + pickle, or safetensors).
// Errors are expected; crashes, leaks, sanitizer reports and unbounded allocations not.
#include <cstdint>
#include <cstdlib>

#include "checkpoint/byte_source.hpp"
#include "checkpoint/checkpoint.hpp"
#include "common/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    swu::MemorySource src(data, size);
    try {
        (void)swu::read_checkpoint(src);
    } catch (const swu::Error&) {
    }
    return 0;
}
