#include "checkpoint/safetensors.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "common/error.hpp"
#include "io/json.hpp"

namespace swu {

namespace {

constexpr uint64_t kMaxHeaderBytes = 100u * 1000u * 1000u;

struct DTypeName {
    const char* name;
    DType dtype;
};
const DTypeName kDTypes[] = {
    {"F32", DType::Float32}, {"F16", DType::Float16}, {"BF16", DType::BFloat16}, {"F64", DType::Float64},
    {"I64", DType::Int64},   {"I32", DType::Int32},   {"I16", DType::Int16},     {"I8", DType::Int8},
    {"U8", DType::UInt8},    {"BOOL", DType::Bool},
};

// JSON numbers are doubles; offsets and dims must be exact non-negative integers.
uint64_t exact_uint(const json::Value& v, const std::string& what) {
    const double d = v.as_number();
    if (!(d >= 0) || d > 9007199254740992.0 || std::floor(d) != d) fail(SWU_ERR_FORMAT, what + " is not a valid non-negative integer");
    return static_cast<uint64_t>(d);
}

}  // namespace

std::vector<NamedTensor> read_safetensors(const ByteSource& src, const TensorScreen& screen) {
    const std::string where = src.describe() + ": safetensors: ";
    if (src.size() < 8) fail(SWU_ERR_FORMAT, where + "file too short");
    uint8_t len_bytes[8];
    src.read(0, len_bytes, 8);
    uint64_t header_len = 0;
    for (int j = 7; j >= 0; --j) header_len = (header_len << 8) | len_bytes[j];
    if (header_len > kMaxHeaderBytes || header_len > src.size() - 8)
        fail(SWU_ERR_FORMAT, where + "header length " + std::to_string(header_len) + " is larger than the file or 100 MB");
    std::string text(static_cast<size_t>(header_len), '\0');
    src.read(8, text.data(), text.size());
    const uint64_t data_start = 8 + header_len;
    const uint64_t data_len = src.size() - data_start;

    // The header first: names, shapes and byte ranges, checked before any data is read.
    std::vector<NamedTensor> out;
    std::vector<std::pair<uint64_t, uint64_t>> ranges;  // [begin, end) per tensor
    try {
        const json::Value header = json::parse(text);
        if (!header.is_object()) fail(SWU_ERR_FORMAT, "header is not a JSON object");
        for (const auto& [name, info] : header.members()) {
            if (name == "__metadata__") continue;
            const std::string what = "tensor '" + name + "'";
            if (!info.is_object()) fail(SWU_ERR_FORMAT, what + " is not described by an object");
            const std::string& dtype_str = info.at("dtype").as_string();
            const DTypeName* dt = nullptr;
            for (const auto& d : kDTypes)
                if (dtype_str == d.name) dt = &d;
            if (!dt) fail(SWU_ERR_FORMAT, what + " has unsupported dtype '" + dtype_str + "'");

            NamedTensor nt;
            nt.name = name;
            nt.tensor.dtype = dt->dtype;
            uint64_t numel = 1;
            for (const auto& dim : info.at("shape").elements()) {
                const uint64_t n = exact_uint(dim, what + " shape entry");
                if (__builtin_mul_overflow(numel, n, &numel)) fail(SWU_ERR_FORMAT, what + " element count overflows");
                nt.tensor.shape.push_back(static_cast<int64_t>(n));
            }
            const json::Value offsets = info.at("data_offsets");
            if (offsets.size() != 2) fail(SWU_ERR_FORMAT, what + " data_offsets must be [begin, end]");
            const uint64_t begin = exact_uint(offsets.at(size_t(0)), what + " data begin");
            const uint64_t end = exact_uint(offsets.at(size_t(1)), what + " data end");
            uint64_t bytes;
            if (__builtin_mul_overflow(numel, dtype_size(dt->dtype), &bytes) || end < begin || end - begin != bytes)
                fail(SWU_ERR_FORMAT, what + " byte range [" + std::to_string(begin) + ", " + std::to_string(end) +
                                         ") does not match shape " + shape_string(nt.tensor.shape) + " of " + dtype_str);
            if (end > data_len) fail(SWU_ERR_FORMAT, what + " byte range ends past the end of the file");
            out.push_back(std::move(nt));
            ranges.emplace_back(begin, end);
        }
        // Tensors may not share bytes: with overlaps, a small file could describe
        // any number of tensors.
        std::vector<size_t> order(ranges.size());
        for (size_t j = 0; j < order.size(); ++j) order[j] = j;
        std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return ranges[a] < ranges[b]; });
        for (size_t j = 1; j < order.size(); ++j) {
            const auto& prev = ranges[order[j - 1]];
            const auto& cur = ranges[order[j]];
            if (cur.first < prev.second)
                fail(SWU_ERR_FORMAT, "tensor '" + out[order[j]].name + "' overlaps the bytes of tensor '" + out[order[j - 1]].name + "'");
        }
    } catch (const Error& e) {
        throw Error(e.status(), where + e.what());
    }
    if (out.empty()) fail(SWU_ERR_FORMAT, where + "contains no tensors");

    const std::string prefix = "module.";
    bool all_prefixed = true;
    for (const auto& t : out) all_prefixed = all_prefixed && t.name.compare(0, prefix.size(), prefix) == 0;
    if (all_prefixed)
        for (auto& t : out) t.name.erase(0, prefix.size());

    if (screen) screen(out);
    for (size_t j = 0; j < out.size(); ++j) {
        out[j].tensor.data.resize(static_cast<size_t>(ranges[j].second - ranges[j].first));
        src.read(data_start + ranges[j].first, out[j].tensor.data.data(), out[j].tensor.data.size());
    }
    return out;
}

}  // namespace swu
