#include "common/tensor.hpp"

#include <cmath>
#include <cstring>

#include "common/error.hpp"

namespace swu {

size_t dtype_size(DType t) {
    switch (t) {
        case DType::Float64: case DType::Int64: return 8;
        case DType::Float32: case DType::Int32: return 4;
        case DType::Float16: case DType::BFloat16: case DType::Int16: case DType::UInt16: return 2;
        case DType::Int8: case DType::UInt8: case DType::Bool: return 1;
    }
    return 1;
}

const char* dtype_name(DType t) {
    switch (t) {
        case DType::Float32: return "float32";
        case DType::Float64: return "float64";
        case DType::Float16: return "float16";
        case DType::BFloat16: return "bfloat16";
        case DType::Int64: return "int64";
        case DType::Int32: return "int32";
        case DType::Int16: return "int16";
        case DType::Int8: return "int8";
        case DType::UInt8: return "uint8";
        case DType::UInt16: return "uint16";
        case DType::Bool: return "bool";
    }
    return "?";
}

bool dtype_is_floating(DType t) {
    return t == DType::Float32 || t == DType::Float64 || t == DType::Float16 || t == DType::BFloat16;
}

int64_t Tensor::numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
}

std::string shape_string(const std::vector<int64_t>& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

namespace {

float half_to_float(uint16_t h) {
    const uint32_t sign = (h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t mant = h & 0x3ffu;
    uint32_t bits;
    if (exp == 0) {
        if (mant == 0) {
            bits = sign;
        } else {  // subnormal: normalise
            exp = 127 - 15 + 1;
            while ((mant & 0x400u) == 0) { mant <<= 1; --exp; }
            mant &= 0x3ffu;
            bits = sign | (exp << 23) | (mant << 13);
        }
    } else if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (mant << 13);
    } else {
        bits = sign | ((exp - 15 + 127) << 23) | (mant << 13);
    }
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

float bf16_to_float(uint16_t b) {
    const uint32_t bits = static_cast<uint32_t>(b) << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

template <class T> void widen(const Tensor& in, float* out) {
    const T* p = in.as<T>();
    for (int64_t i = 0, n = in.numel(); i < n; ++i) out[i] = static_cast<float>(p[i]);
}

}  // namespace

Tensor to_float32(const Tensor& t) {
    if (t.dtype == DType::Float32) return t;
    Tensor out;
    out.dtype = DType::Float32;
    out.shape = t.shape;
    out.data.resize(static_cast<size_t>(t.numel()) * 4);
    float* o = out.as<float>();
    const int64_t n = t.numel();
    switch (t.dtype) {
        case DType::Float16: { const uint16_t* p = t.as<uint16_t>(); for (int64_t i = 0; i < n; ++i) o[i] = half_to_float(p[i]); break; }
        case DType::BFloat16: { const uint16_t* p = t.as<uint16_t>(); for (int64_t i = 0; i < n; ++i) o[i] = bf16_to_float(p[i]); break; }
        case DType::Float64: widen<double>(t, o); break;
        case DType::Int64: widen<int64_t>(t, o); break;
        case DType::Int32: widen<int32_t>(t, o); break;
        case DType::Int16: widen<int16_t>(t, o); break;
        case DType::UInt16: widen<uint16_t>(t, o); break;
        case DType::Int8: widen<int8_t>(t, o); break;
        case DType::UInt8: case DType::Bool: widen<uint8_t>(t, o); break;
        case DType::Float32: break;
    }
    return out;
}

}  // namespace swu
