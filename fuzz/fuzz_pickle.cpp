// Fuzz target: any bytes as the data.pkl of a torch.save archive.
#include <cstdint>

#include "checkpoint/pickle_state_dict.hpp"
#include "common/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        (void)swu::read_state_dict_pickle(data, size);
    } catch (const swu::Error&) {
    }
    return 0;
}
