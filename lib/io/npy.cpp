#include "io/npy.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>

#include "common/error.hpp"

namespace swu {
namespace {

struct DescrEntry {
    const char* descr;
    DType dtype;
};
// '|' and '<' are both accepted for one-byte types, as NumPy writes either.
constexpr DescrEntry kDescrs[] = {
    {"<f4", DType::Float32}, {"<f8", DType::Float64}, {"<f2", DType::Float16}, {"<i8", DType::Int64},
    {"<i4", DType::Int32},   {"<i2", DType::Int16},   {"<u2", DType::UInt16},  {"|u1", DType::UInt8},
    {"<u1", DType::UInt8},   {"|i1", DType::Int8},    {"<i1", DType::Int8},    {"|b1", DType::Bool},
};

const char* descr_of(DType t) {
    for (const auto& d : kDescrs)
        if (d.dtype == t) return d.descr;
    return nullptr;
}

// Value text of 'key' in the header dict: up to the next top-level ',' or '}'.
std::string header_value(const std::string& header, const std::string& key, const std::string& path) {
    const std::string quoted = "'" + key + "'";
    size_t p = header.find(quoted);
    if (p == std::string::npos) fail(SWU_ERR_FORMAT, path + ": .npy header has no '" + key + "'");
    p = header.find(':', p + quoted.size());
    if (p == std::string::npos) fail(SWU_ERR_FORMAT, path + ": malformed .npy header");
    ++p;
    int depth = 0;
    size_t end = p;
    for (; end < header.size(); ++end) {
        const char c = header[end];
        if (c == '(') ++depth;
        if (c == ')') --depth;
        if (depth == 0 && (c == ',' || c == '}')) break;
    }
    std::string v = header.substr(p, end - p);
    const auto b = v.find_first_not_of(" ");
    const auto e = v.find_last_not_of(" ");
    return b == std::string::npos ? std::string() : v.substr(b, e - b + 1);
}

}  // namespace

Tensor read_npy(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(SWU_ERR_IO, "cannot open '" + path + "': " + std::strerror(errno));
    in.seekg(0, std::ios::end);
    const uint64_t file_size = static_cast<uint64_t>(in.tellg());
    in.seekg(0);

    unsigned char magic[8];
    if (!in.read(reinterpret_cast<char*>(magic), 8) || std::memcmp(magic, "\x93NUMPY", 6) != 0)
        fail(SWU_ERR_FORMAT, path + ": not a .npy file (bad magic)");
    const int major = magic[6];
    uint64_t header_len = 0;
    if (major == 1) {
        unsigned char l[2];
        if (!in.read(reinterpret_cast<char*>(l), 2)) fail(SWU_ERR_FORMAT, path + ": truncated .npy header");
        header_len = l[0] | (l[1] << 8);
    } else if (major == 2 || major == 3) {
        unsigned char l[4];
        if (!in.read(reinterpret_cast<char*>(l), 4)) fail(SWU_ERR_FORMAT, path + ": truncated .npy header");
        header_len = l[0] | (l[1] << 8) | (l[2] << 16) | (static_cast<uint64_t>(l[3]) << 24);
    } else {
        fail(SWU_ERR_FORMAT, path + ": unsupported .npy version " + std::to_string(major));
    }
    if (header_len > file_size || header_len > (1u << 20)) fail(SWU_ERR_FORMAT, path + ": .npy header too long");
    std::string header(header_len, '\0');
    if (!in.read(&header[0], static_cast<std::streamsize>(header_len)))
        fail(SWU_ERR_FORMAT, path + ": truncated .npy header");

    std::string descr = header_value(header, "descr", path);
    if (descr.size() < 2 || (descr.front() != '\'' && descr.front() != '"'))
        fail(SWU_ERR_FORMAT, path + ": malformed descr " + descr);
    descr = descr.substr(1, descr.size() - 2);
    Tensor t;
    bool known = false;
    for (const auto& d : kDescrs)
        if (descr == d.descr) { t.dtype = d.dtype; known = true; }
    if (!known)
        fail(SWU_ERR_FORMAT, path + ": unsupported .npy dtype '" + descr +
                                 "' (little-endian float32/64/16, int8..64, uint8/16 or bool expected)");
    if (header_value(header, "fortran_order", path) != "False")
        fail(SWU_ERR_FORMAT, path + ": Fortran-order .npy is not supported (save with np.ascontiguousarray)");

    const std::string shape = header_value(header, "shape", path);
    if (shape.size() < 2 || shape.front() != '(' || shape.back() != ')')
        fail(SWU_ERR_FORMAT, path + ": malformed shape " + shape);
    uint64_t numel = 1;
    const char* s = shape.c_str() + 1;
    while (*s && *s != ')') {
        while (*s == ' ' || *s == ',') ++s;
        if (*s == ')') break;
        char* end = nullptr;
        errno = 0;
        const long long v = std::strtoll(s, &end, 10);
        if (end == s || v < 0 || errno) fail(SWU_ERR_FORMAT, path + ": malformed shape " + shape);
        if (v > 0 && numel > std::numeric_limits<uint64_t>::max() / static_cast<uint64_t>(v))
            fail(SWU_ERR_FORMAT, path + ": shape overflows");
        numel *= static_cast<uint64_t>(v);
        t.shape.push_back(v);
        s = end;
    }
    const uint64_t data_start = static_cast<uint64_t>(in.tellg());
    const uint64_t bytes_needed = numel * dtype_size(t.dtype);
    if (numel > (uint64_t(1) << 40) || file_size - data_start < bytes_needed)
        fail(SWU_ERR_FORMAT, path + ": data truncated: shape " + shape_string(t.shape) + " needs " +
                                 std::to_string(bytes_needed) + " bytes, file has " +
                                 std::to_string(file_size - data_start));
    t.data.resize(bytes_needed);
    if (bytes_needed && !in.read(reinterpret_cast<char*>(t.data.data()), static_cast<std::streamsize>(bytes_needed)))
        fail(SWU_ERR_IO, path + ": read error");
    return t;
}

void write_npy(const std::string& path, const Tensor& tensor) {
    const char* descr = descr_of(tensor.dtype);
    if (!descr) fail(SWU_ERR_INVALID_ARGUMENT, std::string("cannot write dtype ") + dtype_name(tensor.dtype) + " to .npy");
    std::string shape = "(";
    for (size_t i = 0; i < tensor.shape.size(); ++i) shape += std::to_string(tensor.shape[i]) + ", ";
    if (tensor.shape.size() > 1) shape.resize(shape.size() - 2);
    else if (tensor.shape.size() == 1) shape.resize(shape.size() - 1);
    shape += ")";
    std::string header = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
    const size_t total = 10 + header.size() + 1;
    header.append((64 - total % 64) % 64, ' ');
    header += '\n';

    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) fail(SWU_ERR_IO, "cannot write '" + path + "': " + std::strerror(errno));
    const unsigned char prefix[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                                      static_cast<unsigned char>(header.size() & 0xff),
                                      static_cast<unsigned char>(header.size() >> 8)};
    out.write(reinterpret_cast<const char*>(prefix), 10);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    out.write(reinterpret_cast<const char*>(tensor.data.data()), static_cast<std::streamsize>(tensor.data.size()));
    if (!out) fail(SWU_ERR_IO, "write error on '" + path + "'");
}

}  // namespace swu
