// Decodes the data.pkl of a torch.save(state_dict) archive with a restricted pickle
// machine: it knows the handful of opcodes and globals torch.save emits and refuses
// everything else before anything could run. Nothing in the pickle is ever executed;
// allow-listed callables are interpreted, not called.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/tensor.hpp"

namespace swu {

// A tensor as the pickle describes it: a strided view into a storage that lives in
// the archive as data/<storage_key>.
struct PickledTensor {
    std::string storage_key;
    DType dtype = DType::Float32;  // from the storage class (torch.FloatStorage, ...)
    uint64_t storage_numel = 0;    // elements, as recorded in the persistent id
    int64_t storage_offset = 0;    // elements
    std::vector<int64_t> sizes;
    std::vector<int64_t> strides;  // elements
};

struct PickledStateDictEntry {
    std::string name;
    PickledTensor tensor;
};

// Runs the pickle and extracts the state dict: the top-level dict of tensors, or the
// dict under "state_dict", "model" or "network" of a training checkpoint. A "module."
// prefix common to every key (DistributedDataParallel) is removed. Keeps pickle order.
// Throws swu::Error(SWU_ERR_FORMAT) for anything else, naming the refused opcode,
// global or key.
std::vector<PickledStateDictEntry> read_state_dict_pickle(const uint8_t* data, size_t size);

}  // namespace swu
