// A dense, C-order, host-memory tensor with a name: what checkpoint and .npy readers
// produce and what the core hands to backends.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace swu {

enum class DType { Float32, Float64, Float16, BFloat16, Int64, Int32, Int16, Int8, UInt8, UInt16, Bool };

size_t dtype_size(DType t);
const char* dtype_name(DType t);  // "float32", "bfloat16", ...
bool dtype_is_floating(DType t);

struct Tensor {
    DType dtype = DType::Float32;
    std::vector<int64_t> shape;
    std::vector<uint8_t> data;  // numel() * dtype_size(dtype) bytes, native (little) endian

    int64_t numel() const;
    template <class T> T* as() { return reinterpret_cast<T*>(data.data()); }
    template <class T> const T* as() const { return reinterpret_cast<const T*>(data.data()); }
};

struct NamedTensor {
    std::string name;
    Tensor tensor;
};

// "[48, 1, 2, 2, 2]"
std::string shape_string(const std::vector<int64_t>& shape);

// Exact widening of half / bfloat16 / float64 (rounded) / integer tensors to float32.
Tensor to_float32(const Tensor& t);

}  // namespace swu
