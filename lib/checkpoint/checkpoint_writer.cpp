#include "checkpoint/checkpoint_writer.hpp"

#include <zlib.h>

#include <cstdio>
#include <cstring>
#include <fstream>

#include "common/error.hpp"

namespace swu {
namespace {

// ---- pickle protocol 2, only the opcodes a state dict needs -------------------------------
class Pickler {
public:
    void proto() { op(0x80), byte(2); }
    void stop() { op('.'); }
    void mark() { op('('); }
    void tuple() { op('t'); }
    void empty_tuple() { op(')'); }
    void reduce() { op('R'); }
    void setitems() { op('u'); }
    void binpersid() { op('Q'); }
    void newfalse() { op(0x89); }
    void global(const std::string& module, const std::string& name) {
        op('c');
        text(module + "\n" + name + "\n");
    }
    void string(const std::string& s) {
        op('X');
        u32(static_cast<uint32_t>(s.size()));
        text(s);
    }
    void integer(int64_t v) {
        if (v >= 0 && v < 256) {
            op('K');
            byte(static_cast<uint8_t>(v));
        } else if (v >= 0 && v < 65536) {
            op('M');
            byte(static_cast<uint8_t>(v & 0xff));
            byte(static_cast<uint8_t>(v >> 8));
        } else if (v >= INT32_MIN && v <= INT32_MAX) {
            op('J');
            u32(static_cast<uint32_t>(static_cast<int32_t>(v)));
        } else {
            op(0x8a);  // LONG1: 8 little-endian two's complement bytes
            byte(8);
            for (int i = 0; i < 8; ++i) byte(static_cast<uint8_t>(static_cast<uint64_t>(v) >> (8 * i)));
        }
    }
    void int_tuple(const std::vector<int64_t>& values) {
        if (values.empty()) return empty_tuple();
        mark();
        for (int64_t v : values) integer(v);
        tuple();
    }
    std::string bytes;

private:
    void op(uint8_t c) { byte(c); }
    void byte(uint8_t c) { bytes.push_back(static_cast<char>(c)); }
    void u32(uint32_t v) {
        for (int i = 0; i < 4; ++i) byte(static_cast<uint8_t>(v >> (8 * i)));
    }
    void text(const std::string& s) { bytes += s; }
};

const char* storage_class(DType t) {
    switch (t) {
    case DType::Float32: return "FloatStorage";
    case DType::Float64: return "DoubleStorage";
    case DType::Float16: return "HalfStorage";
    case DType::BFloat16: return "BFloat16Storage";
    case DType::Int64: return "LongStorage";
    case DType::Int32: return "IntStorage";
    case DType::Int16: return "ShortStorage";
    case DType::Int8: return "CharStorage";
    case DType::UInt8: return "ByteStorage";
    case DType::Bool: return "BoolStorage";
    case DType::UInt16: break;
    }
    fail(SWU_ERR_INVALID_ARGUMENT, std::string("torch.save has no storage for ") + dtype_name(t));
}

std::string pickle_state_dict(const std::vector<NamedTensor>& tensors) {
    Pickler p;
    p.proto();
    p.global("collections", "OrderedDict");
    p.empty_tuple();
    p.reduce();
    p.mark();
    for (size_t k = 0; k < tensors.size(); ++k) {
        const Tensor& t = tensors[k].tensor;
        p.string(tensors[k].name);
        p.global("torch._utils", "_rebuild_tensor_v2");
        p.mark();
        {
            p.mark();  // persistent id ('storage', <class>, key, location, numel)
            p.string("storage");
            p.global("torch", storage_class(t.dtype));
            p.string(std::to_string(k));
            p.string("cpu");
            p.integer(t.numel());
            p.tuple();
            p.binpersid();
        }
        p.integer(0);  // storage offset
        p.int_tuple(t.shape);
        std::vector<int64_t> stride(t.shape.size(), 1);
        for (size_t d = t.shape.size(); d-- > 1;) stride[d - 1] = stride[d] * t.shape[d];
        p.int_tuple(stride);
        p.newfalse();  // requires_grad
        p.global("collections", "OrderedDict");  // backward hooks
        p.empty_tuple();
        p.reduce();
        p.tuple();
        p.reduce();
    }
    if (!tensors.empty()) p.setitems();
    else p.bytes.pop_back();  // no MARK without items
    p.stop();
    return p.bytes;
}

// ---- zip (stored entries, data 64-byte aligned through the local header's extra field) ----
class ZipWriter {
public:
    void add(const std::string& name, const uint8_t* data, size_t size) {
        Entry e{name, static_cast<uint32_t>(out_.size()), static_cast<uint32_t>(size),
                static_cast<uint32_t>(::crc32(0L, data, static_cast<uInt>(size)))};
        if (out_.size() + size > 0xFFFFFFF0ull || size > 0xFFFFFFF0ull)
            fail(SWU_ERR_INVALID_ARGUMENT, "checkpoint larger than 4 GB (ZIP64 is not written)");
        const size_t header = 30 + name.size();
        size_t pad = (64 - (out_.size() + header + 4) % 64) % 64;  // 4 = extra block header
        u32(0x04034b50);
        u16(20), u16(0x0800), u16(0), u16(0), u16(0x21);  // version, flags (UTF-8), stored, time, date
        u32(e.crc), u32(e.size), u32(e.size);
        u16(static_cast<uint16_t>(name.size())), u16(static_cast<uint16_t>(4 + pad));
        out_.insert(out_.end(), name.begin(), name.end());
        u16(0x4246), u16(static_cast<uint16_t>(pad));  // "FB" padding block, as PyTorch writes
        out_.insert(out_.end(), pad, 'Z');
        out_.insert(out_.end(), data, data + size);
        entries_.push_back(e);
    }
    std::vector<uint8_t> finish() {
        const uint32_t cd_offset = static_cast<uint32_t>(out_.size());
        for (const Entry& e : entries_) {
            u32(0x02014b50);
            u16(20), u16(20), u16(0x0800), u16(0), u16(0), u16(0x21);
            u32(e.crc), u32(e.size), u32(e.size);
            u16(static_cast<uint16_t>(e.name.size())), u16(0), u16(0), u16(0), u16(0);
            u32(0), u32(e.offset);
            out_.insert(out_.end(), e.name.begin(), e.name.end());
        }
        const uint32_t cd_size = static_cast<uint32_t>(out_.size()) - cd_offset;
        u32(0x06054b50);
        u16(0), u16(0), u16(static_cast<uint16_t>(entries_.size())), u16(static_cast<uint16_t>(entries_.size()));
        u32(cd_size), u32(cd_offset), u16(0);
        return std::move(out_);
    }

private:
    struct Entry {
        std::string name;
        uint32_t offset, size, crc;
    };
    void u16(uint16_t v) {
        out_.push_back(static_cast<uint8_t>(v & 0xff));
        out_.push_back(static_cast<uint8_t>(v >> 8));
    }
    void u32(uint32_t v) {
        for (int i = 0; i < 4; ++i) out_.push_back(static_cast<uint8_t>(v >> (8 * i)));
    }
    std::vector<uint8_t> out_;
    std::vector<Entry> entries_;
};

}  // namespace

std::vector<uint8_t> serialize_state_dict(const std::vector<NamedTensor>& tensors, const std::string& stem) {
    if (tensors.size() > 60000) fail(SWU_ERR_INVALID_ARGUMENT, "too many tensors for one checkpoint");
    for (const NamedTensor& t : tensors)
        if (t.tensor.data.size() != static_cast<size_t>(t.tensor.numel()) * dtype_size(t.tensor.dtype))
            fail(SWU_ERR_INTERNAL, "tensor '" + t.name + "' holds the wrong number of bytes");
    ZipWriter zip;
    const std::string pickle = pickle_state_dict(tensors);
    zip.add(stem + "/data.pkl", reinterpret_cast<const uint8_t*>(pickle.data()), pickle.size());
    const std::string order = "little";
    zip.add(stem + "/byteorder", reinterpret_cast<const uint8_t*>(order.data()), order.size());
    for (size_t k = 0; k < tensors.size(); ++k) {
        const std::vector<uint8_t>& d = tensors[k].tensor.data;
        zip.add(stem + "/data/" + std::to_string(k), d.data(), d.size());
    }
    const std::string version = "3\n";
    zip.add(stem + "/version", reinterpret_cast<const uint8_t*>(version.data()), version.size());
    return zip.finish();
}

void write_state_dict_file(const std::string& path, const std::vector<NamedTensor>& tensors) {
    const std::vector<uint8_t> bytes = serialize_state_dict(tensors, "model");
    write_file_atomically(path, bytes.data(), bytes.size());
}

}  // namespace swu
