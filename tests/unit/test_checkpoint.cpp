// Checkpoint readers against files written by PyTorch itself (tests/data/checkpoints,
// made by make_fixtures.py) and the golden model.pt, plus hostile and broken input.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>
#include <zlib.h>

#include "checkpoint/byte_source.hpp"
#include "checkpoint/checkpoint.hpp"
#include "checkpoint/pickle_state_dict.hpp"
#include "checkpoint/pytorch_checkpoint.hpp"
#include "checkpoint/safetensors.hpp"
#include "checkpoint/zip_archive.hpp"
#include "common/error.hpp"
#include "common/tensor.hpp"
#include "io/json.hpp"
#include "swinunetr/swinunetr.h"

#ifndef SWU_TEST_DATA_DIR
#define SWU_TEST_DATA_DIR "/work/main/tests/data"
#endif
#ifndef SWU_GOLDEN_DIR
#define SWU_GOLDEN_DIR "/work/shared/golden"
#endif

using Bytes = std::vector<uint8_t>;
using namespace std::string_literals;

namespace {

std::string fixture(const std::string& name) { return std::string(SWU_TEST_DATA_DIR) + "/checkpoints/" + name; }
std::string golden_model() { return std::string(SWU_GOLDEN_DIR) + "/net_f12/model.pt"; }

Bytes slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in);
    return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

const swu::json::Value& expected() {
    static const swu::json::Value v = swu::json::parse_file(fixture("expected.json"));
    return v;
}

std::vector<swu::NamedTensor> read_bytes(const Bytes& b) {
    const swu::MemorySource src(b.data(), b.size());
    return swu::read_checkpoint(src);
}

// The swu::Error that `f` throws; fails the test for any other outcome.
swu::Error error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const swu::Error& e) {
        return e;
    }
    FAIL("no swu::Error was thrown");
    return swu::Error(SWU_ERR_INTERNAL, "unreachable");
}

void check_format_error(const std::function<void()>& f, const std::string& contains = "") {
    const swu::Error e = error_of(f);
    CHECK(e.status() == SWU_ERR_FORMAT);
    if (!contains.empty()) {
        INFO(e.what());
        CHECK(std::string(e.what()).find(contains) != std::string::npos);
    }
}

void check_tensor(const swu::NamedTensor& t, const swu::json::Value& want) {
    INFO("tensor " << t.name);
    CHECK(t.name == want.at("name").as_string());
    CHECK(std::string(swu::dtype_name(t.tensor.dtype)) == want.at("dtype").as_string());
    std::vector<int64_t> shape;
    for (const auto& d : want.at("shape").elements()) shape.push_back(int64_t(d.as_number()));
    REQUIRE(t.tensor.shape == shape);
    const auto values = want.at("values").elements();
    REQUIRE(size_t(t.tensor.numel()) == values.size());
    REQUIRE(t.tensor.data.size() == values.size() * swu::dtype_size(t.tensor.dtype));
    if (const auto bits = want.find("bits")) {
        for (size_t i = 0; i < values.size(); ++i) CHECK(t.tensor.as<uint16_t>()[i] == uint16_t(bits->at(i).as_number()));
    }
    const swu::Tensor f32 = swu::to_float32(t.tensor);
    for (size_t i = 0; i < values.size(); ++i) {
        const double v = values[i].as_number();
        switch (t.tensor.dtype) {
            case swu::DType::Float64: CHECK(t.tensor.as<double>()[i] == v); break;
            case swu::DType::Int64: CHECK(t.tensor.as<int64_t>()[i] == int64_t(v)); break;
            case swu::DType::Int32: CHECK(t.tensor.as<int32_t>()[i] == int32_t(v)); break;
            case swu::DType::Int16: CHECK(t.tensor.as<int16_t>()[i] == int16_t(v)); break;
            case swu::DType::Int8: CHECK(t.tensor.as<int8_t>()[i] == int8_t(v)); break;
            case swu::DType::UInt8: case swu::DType::Bool: CHECK(t.tensor.as<uint8_t>()[i] == uint8_t(v)); break;
            default: CHECK(double(f32.as<float>()[i]) == v); break;  // float32/16/bf16 widen exactly
        }
    }
}

void check_fixture(const std::string& name) {
    INFO("fixture " << name);
    const auto tensors = swu::read_checkpoint_file(fixture(name));
    const auto want = expected().at(name).at("tensors").elements();
    REQUIRE(tensors.size() == want.size());
    for (size_t i = 0; i < want.size(); ++i) check_tensor(tensors[i], want[i]);
}

struct KeyLine {
    std::string key, shape, dtype;
};

std::vector<KeyLine> golden_keys() {
    std::ifstream in(std::string(SWU_GOLDEN_DIR) + "/net_f12/keys.txt");
    REQUIRE(in);
    std::vector<KeyLine> out;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        std::istringstream fields(line);
        std::string index, numel;
        KeyLine k;
        std::getline(fields, index, '\t');
        std::getline(fields, k.key, '\t');
        std::getline(fields, k.shape, '\t');
        std::getline(fields, k.dtype, '\t');
        REQUIRE(std::stoul(index) == out.size());
        out.push_back(k);
    }
    return out;
}

std::string shape_x(const std::vector<int64_t>& s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) out += (i ? "x" : "") + std::to_string(s[i]);
    return out;
}

// ---- a minimal ZIP writer for the archive tests ----
void put16(Bytes& b, uint32_t v) { b.push_back(uint8_t(v)); b.push_back(uint8_t(v >> 8)); }
void put32(Bytes& b, uint32_t v) { put16(b, v & 0xffff); put16(b, v >> 16); }
void put64(Bytes& b, uint64_t v) { put32(b, uint32_t(v)); put32(b, uint32_t(v >> 32)); }

struct ZipItem {
    std::string name;
    Bytes content;
    uint16_t method = 0;  // 0 stored, 8 deflate (done here), other values written as stored
    uint16_t flags = 0;
};

Bytes deflate_raw(const Bytes& in) {
    z_stream zs{};
    REQUIRE(deflateInit2(&zs, 9, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    Bytes out(deflateBound(&zs, uLong(in.size())));
    zs.next_in = const_cast<Bytes::value_type*>(in.data());
    zs.avail_in = uInt(in.size());
    zs.next_out = out.data();
    zs.avail_out = uInt(out.size());
    REQUIRE(deflate(&zs, Z_FINISH) == Z_STREAM_END);
    out.resize(zs.total_out);
    deflateEnd(&zs);
    return out;
}

// zip64: sizes and offsets go into ZIP64 extra fields, and a ZIP64 end record is written.
Bytes make_zip(const std::vector<ZipItem>& items, bool zip64 = false) {
    Bytes file, cd;
    for (const auto& it : items) {
        const Bytes data = it.method == 8 ? deflate_raw(it.content) : it.content;
        const uint32_t crc = uint32_t(crc32(0, it.content.data(), uInt(it.content.size())));
        const uint32_t offset = uint32_t(file.size());
        put32(file, 0x04034b50); put16(file, 20); put16(file, it.flags); put16(file, it.method);
        put32(file, 0); put32(file, crc); put32(file, uint32_t(data.size())); put32(file, uint32_t(it.content.size()));
        put16(file, uint16_t(it.name.size())); put16(file, 0);
        file.insert(file.end(), it.name.begin(), it.name.end());
        file.insert(file.end(), data.begin(), data.end());

        put32(cd, 0x02014b50); put16(cd, 45); put16(cd, 45); put16(cd, it.flags); put16(cd, it.method);
        put32(cd, 0); put32(cd, crc);
        put32(cd, zip64 ? 0xffffffff : uint32_t(data.size()));
        put32(cd, zip64 ? 0xffffffff : uint32_t(it.content.size()));
        put16(cd, uint16_t(it.name.size())); put16(cd, zip64 ? 28 : 0); put16(cd, 0); put16(cd, 0); put16(cd, 0); put32(cd, 0);
        put32(cd, zip64 ? 0xffffffff : offset);
        cd.insert(cd.end(), it.name.begin(), it.name.end());
        if (zip64) {
            put16(cd, 1); put16(cd, 24);
            put64(cd, it.content.size()); put64(cd, data.size()); put64(cd, offset);
        }
    }
    const uint64_t cd_offset = file.size();
    file.insert(file.end(), cd.begin(), cd.end());
    if (zip64) {
        const uint64_t rec = file.size();
        put32(file, 0x06064b50); put64(file, 44); put16(file, 45); put16(file, 45); put32(file, 0); put32(file, 0);
        put64(file, items.size()); put64(file, items.size()); put64(file, cd.size()); put64(file, cd_offset);
        put32(file, 0x07064b50); put32(file, 0); put64(file, rec); put32(file, 1);
    }
    put32(file, 0x06054b50); put16(file, 0); put16(file, 0);
    put16(file, zip64 ? 0xffff : uint16_t(items.size())); put16(file, zip64 ? 0xffff : uint16_t(items.size()));
    put32(file, zip64 ? 0xffffffff : uint32_t(cd.size())); put32(file, zip64 ? 0xffffffff : uint32_t(cd_offset));
    put16(file, 0);
    return file;
}

Bytes bytes_of(const std::string& s) { return Bytes(s.begin(), s.end()); }

// Pickle opcodes for hand-written streams.
std::string pk_str(const std::string& s) {
    std::string out = "X";
    for (int i = 0; i < 4; ++i) out += char((s.size() >> (8 * i)) & 0xff);
    return out + s;
}
const std::string kProto2 = "\x80\x02";

std::vector<swu::PickledStateDictEntry> run_pickle(const std::string& p) {
    return swu::read_state_dict_pickle(reinterpret_cast<const uint8_t*>(p.data()), p.size());
}

// A tensor in pickle form: _rebuild_tensor_v2(storage('key', FloatStorage, numel), off, size, stride, False, OrderedDict()).
std::string pk_tensor(const std::string& key, int numel, int offset, int size) {
    return "ctorch._utils\n_rebuild_tensor_v2\n((" + pk_str("storage") + "ctorch\nFloatStorage\n" + pk_str(key) + pk_str("cpu") +
           "K" + char(numel) + "tQK" + char(offset) + "K" + char(size) + "\x85K\x01\x85\x89" "ccollections\nOrderedDict\n)RtR";
}

Bytes torch_like_zip(const std::string& pickle, const Bytes& storage, const std::string& root = "arc") {
    return make_zip({{root + "/data.pkl", bytes_of(pickle)}, {root + "/data/0", storage}, {root + "/version", bytes_of("3\n")}});
}

}  // namespace

// ---------------------------------------------------------------------------------------

TEST_CASE("checkpoint: golden net_f12 model.pt matches keys.txt", "[unit][checkpoint]") {
    const swu::FileSource src(golden_model());
    const auto tensors = swu::read_checkpoint(src);
    const auto keys = golden_keys();
    REQUIRE(keys.size() == 159);
    REQUIRE(tensors.size() == 159);
    for (size_t i = 0; i < keys.size(); ++i) {
        INFO("entry " << i);
        CHECK(tensors[i].name == keys[i].key);
        CHECK(shape_x(tensors[i].tensor.shape) == keys[i].shape);
        CHECK(std::string(swu::dtype_name(tensors[i].tensor.dtype)) == keys[i].dtype);
        CHECK(tensors[i].tensor.data.size() == size_t(tensors[i].tensor.numel()) * swu::dtype_size(tensors[i].tensor.dtype));
    }

    // MONAI's relative_position_index for a 7x7x7 window.
    const swu::NamedTensor* rpi = nullptr;
    for (const auto& t : tensors)
        if (t.name == "swinViT.layers1.0.blocks.0.attn.relative_position_index") rpi = &t;
    REQUIRE(rpi);
    REQUIRE(rpi->tensor.shape == std::vector<int64_t>{343, 343});
    const int64_t* idx = rpi->tensor.as<int64_t>();
    for (int a = 0; a < 343; a += 19) {
        for (int b : {0, 1, 7, 48, 171, 300, 342, a}) {
            const int da = a / 49, ha = a / 7 % 7, wa = a % 7, db = b / 49, hb = b / 7 % 7, wb = b % 7;
            CHECK(idx[a * 343 + b] == (da - db + 6) * 169 + (ha - hb + 6) * 13 + (wa - wb + 6));
        }
    }
}

TEST_CASE("checkpoint: fixtures written by PyTorch read back exactly", "[unit][checkpoint]") {
    for (const char* name : {"views_f32.pt", "half_bf16.pt", "wrapped_model.pt", "wrapped_state_dict.pt", "ddp_module.pt",
                             "torch2_format.pt", "model.safetensors"})
        check_fixture(name);
}

TEST_CASE("checkpoint: shared storages and non-contiguous views", "[unit][checkpoint]") {
    const Bytes file = slurp(fixture("views_f32.pt"));
    const swu::MemorySource src(file.data(), file.size());
    const swu::ZipArchive zip(src);
    const auto* pkl = zip.find("views_f32/data.pkl");
    REQUIRE(pkl);
    const Bytes pickle = zip.read(*pkl);
    const auto entries = swu::read_state_dict_pickle(pickle.data(), pickle.size());
    std::map<std::string, swu::PickledTensor> by_name;
    for (const auto& e : entries) by_name[e.name] = e.tensor;
    CHECK(by_name.at("shared_a").storage_key == by_name.at("shared_b").storage_key);
    CHECK(by_name.at("shared_b").storage_offset == 4);
    CHECK(by_name.at("offset_view").storage_offset == 5);
    CHECK(by_name.at("offset_view").storage_numel == 20);
    CHECK(by_name.at("transposed").strides == std::vector<int64_t>{1, 5});
    CHECK(by_name.at("expanded").strides == std::vector<int64_t>{0, 1});
    CHECK(by_name.at("scalar").sizes.empty());
    CHECK(by_name.at("int64").dtype == swu::DType::Int64);
}

TEST_CASE("checkpoint: pickles that would execute code are refused", "[unit][checkpoint]") {
    const std::string marker = expected().at("exploit_marker").as_string();
    std::remove(marker.c_str());
    for (const char* name : {"evil_os_system.pt", "evil_eval.pt"}) {
        INFO(name);
        const std::string global = expected().at(name).at("refused_global").as_string();
        const swu::Error e = error_of([&] { swu::read_checkpoint_file(fixture(name)); });
        CHECK(e.status() == SWU_ERR_FORMAT);
        const std::string msg = e.what();
        INFO(msg);
        CHECK(msg.rfind(fixture(name), 0) == 0);
        CHECK(msg.find("refused pickle global '" + global + "'") != std::string::npos);
        CHECK(msg.find("nothing in it was executed") != std::string::npos);
    }
    struct stat st;
    CHECK(stat(marker.c_str(), &st) != 0);
}

TEST_CASE("checkpoint: legacy, TorchScript and unknown formats are explained", "[unit][checkpoint]") {
    check_format_error([] { swu::read_checkpoint_file(fixture("legacy_format.pt")); }, "legacy");
    check_format_error([] { swu::read_checkpoint_file(fixture("legacy_format.pt")); }, "torch.save(model.state_dict(), path)");
    check_format_error([] { swu::read_checkpoint_file(fixture("torchscript.pt")); }, "TorchScript");
    check_format_error([] { swu::read_checkpoint_file(fixture("torchscript.pt")); }, "torch.save(model.state_dict(), path)");
    check_format_error([] { read_bytes(bytes_of("hello world, not a checkpoint")); }, "not a PyTorch (.pt zip) or safetensors checkpoint");
    check_format_error([] { read_bytes(Bytes{}); }, "empty file");

    const std::string empty_path = "/tmp/swu_test_empty_checkpoint.pt";
    std::ofstream(empty_path).close();
    const swu::Error e = error_of([&] { swu::read_checkpoint_file(empty_path); });
    CHECK(e.status() == SWU_ERR_FORMAT);
    CHECK(std::string(e.what()) == empty_path + ": empty file");
    std::remove(empty_path.c_str());

    const swu::Error io = error_of([] { swu::read_checkpoint_file("/nonexistent/model.pt"); });
    CHECK(io.status() == SWU_ERR_IO);
    CHECK(std::string(io.what()).rfind("/nonexistent/model.pt: cannot open", 0) == 0);
}

TEST_CASE("checkpoint: truncated golden model.pt is an error, never a crash", "[unit][checkpoint]") {
    const Bytes file = slurp(golden_model());
    for (size_t len : {size_t(0), size_t(10), size_t(100), size_t(1000), file.size() / 2, file.size() - 1}) {
        INFO("length " << len);
        check_format_error([&] { read_bytes(Bytes(file.begin(), file.begin() + ptrdiff_t(len))); });
    }
}

TEST_CASE("checkpoint: a corrupted storage byte fails the CRC check", "[unit][checkpoint]") {
    Bytes file = slurp(golden_model());
    uint64_t off = 0;
    {
        const swu::MemorySource src(file.data(), file.size());
        const swu::ZipArchive zip(src);
        const auto* e = zip.find("model/data/4");
        REQUIRE(e);
        REQUIRE(e->uncompressed_size > 100);
        off = zip.data_offset(*e) + 37;
    }
    file[off] ^= 0x40;
    check_format_error([&] { read_bytes(file); }, "CRC-32");
    check_format_error([&] { read_bytes(file); }, "model/data/4");
}

TEST_CASE("checkpoint: random bytes are refused", "[unit][checkpoint]") {
    std::mt19937 rng(12345);
    for (size_t size : {1, 2, 3, 8, 9, 21, 22, 100, 4096, 70000}) {
        for (const std::string& prefix : {std::string(), std::string("PK\x03\x04", 4), std::string("\x80\x02"),
                                         std::string("\x10\0\0\0\0\0\0\0{", 9)}) {
            Bytes b(prefix.begin(), prefix.end());
            while (b.size() < std::max(size, prefix.size())) b.push_back(uint8_t(rng()));
            INFO("size " << b.size() << " prefix " << prefix.size());
            check_format_error([&] { read_bytes(b); });
        }
    }
}

TEST_CASE("zip: deflate, ZIP64 extra fields and refusals", "[unit][checkpoint]") {
    Bytes big(5000);
    for (size_t i = 0; i < big.size(); ++i) big[i] = uint8_t(i * 7 % 13);
    for (bool zip64 : {false, true}) {
        INFO("zip64 " << zip64);
        const Bytes z = make_zip({{"a/stored", bytes_of("hello")}, {"a/deflated", big, 8}, {"a/empty", {}, 8}}, zip64);
        const swu::MemorySource src(z.data(), z.size());
        const swu::ZipArchive zip(src);
        REQUIRE(zip.entries().size() == 3);
        CHECK(zip.read(*zip.find("a/stored")) == bytes_of("hello"));
        CHECK(zip.read(*zip.find("a/deflated")) == big);
        CHECK(zip.read(*zip.find("a/empty")).empty());
        CHECK(zip.find("a/missing") == nullptr);
    }
    const Bytes enc = make_zip({{"a/secret", bytes_of("x"), 0, 1}, {"a/lzma", bytes_of("y"), 14}});
    const swu::MemorySource src(enc.data(), enc.size());
    const swu::ZipArchive zip(src);
    check_format_error([&] { zip.read(zip.entries()[0]); }, "'a/secret' is encrypted");
    check_format_error([&] { zip.read(zip.entries()[1]); }, "'a/lzma' uses compression method 14");

    // A deflated entry whose header claims a different size.
    Bytes lie = make_zip({{"a/d", big, 8}});
    const size_t cd = lie.size() - 22 - 46 - 3;
    REQUIRE(lie[cd] == 0x50);
    lie[cd + 24] ^= 1;  // uncompressed size in the central directory
    const swu::MemorySource lie_src(lie.data(), lie.size());
    const swu::ZipArchive lie_zip(lie_src);
    check_format_error([&] { lie_zip.read(lie_zip.entries()[0]); }, "'a/d'");

    // An entry count that cannot fit must not be trusted for allocation.
    Bytes many = make_zip({{"a/x", bytes_of("x")}});
    many[many.size() - 12] = 0xff;
    many[many.size() - 11] = 0xfe;
    many[many.size() - 14] = 0xff;
    many[many.size() - 13] = 0xfe;
    check_format_error([&] { swu::ZipArchive z(swu::MemorySource(many.data(), many.size())); }, "cannot fit");
}

TEST_CASE("pickle: restricted machine refuses what torch.save never writes", "[unit][checkpoint]") {
    const std::string one = pk_tensor("0", 4, 0, 4);
    CHECK(run_pickle(kProto2 + "}" + pk_str("w") + one + "s.").size() == 1);
    check_format_error([&] { run_pickle(kProto2 + "]."); }, "top-level object is a list");
    check_format_error([&] { run_pickle(kProto2 + "}."); }, "empty");
    check_format_error([&] { run_pickle(kProto2 + "}" + pk_str("epoch") + "K\x03s."); }, "no tensors (keys: 'epoch')");
    check_format_error([&] { run_pickle(kProto2 + "}" + pk_str("w") + one + "s" + pk_str("_extra_state") + "K\x05s."); },
                       "'_extra_state' is a int");
    check_format_error([&] { run_pickle(kProto2 + "cos\nsystem\n."); }, "refused pickle global 'os.system'");
    check_format_error([&] { run_pickle(kProto2 + pk_str("builtins") + pk_str("exec") + "\x93."); }, "'builtins.exec'");
    check_format_error([&] { run_pickle(kProto2 + "i__main__\nX\n."); }, "unsupported pickle opcode 0x69 ('i') at offset 2");
    check_format_error([&] { run_pickle(kProto2 + "h\x07."); }, "memo key 7");
    check_format_error([&] { run_pickle(kProto2 + "0."); }, "underflow");
    check_format_error([&] { run_pickle(kProto2 + "X\xff\xff\xff\x7f" + "abc"); }, "exceeds the remaining");
    check_format_error([&] { run_pickle(kProto2 + "}" + pk_str("w") + one + "s"); }, "truncated");
    check_format_error([&] { run_pickle(kProto2 + "]" + pk_str("x") + "b."); }, "BUILD on a list");
    check_format_error([&] { run_pickle(kProto2 + "ccollections\nOrderedDict\nK\x01\x85R."); }, "OrderedDict() with arguments");
    check_format_error([&] { run_pickle(kProto2 + "ctorch\nFloatStorage\n)R."); }, "cannot be applied");
    check_format_error([&] { run_pickle(kProto2 + "(" + pk_str("storage") + "ccollections\nOrderedDict\n" + pk_str("0") +
                                        pk_str("cpu") + "K\x01tQ."); },
                       "no torch storage class");

    // Deep nesting through a long chain of lists stops at the depth limit.
    std::string deep = kProto2 + "]";
    for (int i = 0; i < 1100; ++i) deep += "\x85";
    check_format_error([&] { run_pickle(deep + "."); }, "nested deeper");

    // A self-containing list is a cycle; it must be neither followed nor leaked.
    check_format_error([&] { run_pickle(kProto2 + "]q\0h\0h\0a0."s); });

    // "module." is stripped only when every key has it.
    const auto both = run_pickle(kProto2 + "}(" + pk_str("module.a") + one + pk_str("module.b") + pk_tensor("1", 2, 1, 1) + "u.");
    REQUIRE(both.size() == 2);
    CHECK(both[0].name == "a");
    CHECK(both[1].name == "b");
    CHECK(both[1].tensor.storage_offset == 1);
    const auto mixed = run_pickle(kProto2 + "}(" + pk_str("module.a") + one + pk_str("b") + pk_tensor("1", 2, 1, 1) + "u.");
    CHECK(mixed[0].name == "module.a");
}

TEST_CASE("pytorch: views outside their storage and size mismatches are refused", "[unit][checkpoint]") {
    const Bytes f4(16, 0);
    auto sd = [](const std::string& t) { return kProto2 + "}" + pk_str("w") + t + "s."; };
    CHECK(read_bytes(torch_like_zip(sd(pk_tensor("0", 4, 1, 3)), f4)).at(0).tensor.shape == std::vector<int64_t>{3});
    check_format_error([&] { read_bytes(torch_like_zip(sd(pk_tensor("0", 4, 2, 3)), f4)); }, "reaches past its storage");
    check_format_error([&] { read_bytes(torch_like_zip(sd(pk_tensor("0", 5, 0, 3)), f4)); }, "holds 16 bytes, expected 5 x 4");
    check_format_error([&] { read_bytes(torch_like_zip(sd(pk_tensor("1", 4, 0, 3)), f4)); }, "'arc/data/1' is missing");
    const Bytes two_roots = make_zip({{"a/data.pkl", bytes_of(sd(pk_tensor("0", 4, 0, 4)))}, {"b/data.pkl", bytes_of("")}});
    check_format_error([&] { read_bytes(two_roots); }, "several data.pkl");
    check_format_error([&] { read_bytes(make_zip({{"a/other", bytes_of("x")}})); }, "without a <folder>/data.pkl");

    // Big-endian archives are byte-swapped per element.
    const Bytes be = {0x3f, 0x80, 0, 0, 0x40, 0, 0, 0};
    const Bytes z = make_zip({{"r/data.pkl", bytes_of(sd(pk_tensor("0", 2, 0, 2)))}, {"r/byteorder", bytes_of("big")}, {"r/data/0", be}});
    const auto t = read_bytes(z);
    CHECK(t.at(0).tensor.as<float>()[0] == 1.0f);
    CHECK(t.at(0).tensor.as<float>()[1] == 2.0f);
}

TEST_CASE("safetensors: malformed headers are refused", "[unit][checkpoint]") {
    auto make = [](const std::string& header, size_t data_bytes) {
        Bytes b;
        put64(b, header.size());
        b.insert(b.end(), header.begin(), header.end());
        b.resize(b.size() + data_bytes, 0);
        return b;
    };
    const std::string good = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
    CHECK(read_bytes(make(good, 8)).at(0).tensor.shape == std::vector<int64_t>{2});
    check_format_error([&] { read_bytes(make(good, 4)); }, "past the end");
    check_format_error([&] { read_bytes(make(R"({"a":{"dtype":"F8","shape":[2],"data_offsets":[0,8]}})", 8)); }, "unsupported dtype 'F8'");
    check_format_error([&] { read_bytes(make(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8)); }, "does not match shape");
    check_format_error([&] { read_bytes(make(R"({"a":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}})", 8)); }, "non-negative integer");
    check_format_error([&] { read_bytes(make(R"({"a":{"dtype":"F32","shape":[2]}})", 8)); }, "'data_offsets'");
    check_format_error([&] { read_bytes(make(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})", 8)); }, "JSON");
    check_format_error([&] { read_bytes(make(R"({"__metadata__":{}})", 0)); }, "no tensors");
    Bytes huge = make(good, 8);
    huge[6] = 0x10;  // header length ~4.5e15
    check_format_error([&] { read_bytes(huge); }, "header length");
}

// ---- memory bound: hostile files through swu_model_load_weights under RLIMIT_AS ----

namespace {

std::string pk_int4(uint32_t v) {
    std::string out = "J";
    for (int i = 0; i < 4; ++i) out += char((v >> (8 * i)) & 0xff);
    return out;
}

void write_file(const std::string& path, const Bytes& b) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
    REQUIRE(out.good());
}

struct ProbeResult {
    int status = -100;
    double peak_mb = 0;
    std::string message;
};

ProbeResult probe(const std::string& weights, long limit_mb) {
    const std::string cmd = std::string("'") + SWU_WEIGHTS_PROBE + "' '" + weights + "' " + std::to_string(limit_mb) + " 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    REQUIRE(p);
    std::string out;
    char buf[4096];
    while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    pclose(p);
    INFO("probe said: " << out);
    ProbeResult r;
    const size_t at = out.find("status=");
    REQUIRE(at != std::string::npos);
    REQUIRE(std::sscanf(out.c_str() + at, "status=%d peak_mb=%lf", &r.status, &r.peak_mb) == 2);
    const size_t m = out.find("message=", at);
    if (m != std::string::npos) r.message = out.substr(m + 8);
    return r;
}

}  // namespace

// Each file describes 64 MB of data many times over (25.6 GB as the reader used to
// materialise it; the host was OOM-killed). The limit is the golden f12 network's file
// size twice over plus 64 MB of slack; peak RSS must stay under twice the network.
TEST_CASE("checkpoint: hostile files are refused within twice the network's size", "[unit][checkpoint]") {
    char tmpl[] = "/tmp/swu-hostile-XXXXXX";
    REQUIRE(mkdtemp(tmpl));
    const std::string dir = tmpl;
    struct stat st {};
    REQUIRE(stat(golden_model().c_str(), &st) == 0);
    const double network_mb = double(st.st_size) / (1 << 20);
    const long limit_mb = long(2 * network_mb) + 64;

    // The control: the real network loads under the same limit.
    const ProbeResult control = probe(golden_model(), limit_mb);
    INFO(control.message);
    REQUIRE(control.status == 0);

    const uint32_t numel = 16u << 20;  // 64 MB of float32
    const Bytes storage(size_t(numel) * 4, 0);
    const int keys = 400;

    // One storage under 400 keys.
    std::string shared = kProto2 + "}(";
    for (int k = 0; k < keys; ++k)
        shared += pk_str("w" + std::to_string(k)) + "ctorch._utils\n_rebuild_tensor_v2\n((" + pk_str("storage") +
                  "ctorch\nFloatStorage\n" + pk_str("0") + pk_str("cpu") + pk_int4(numel) + "tQK\x00"s + pk_int4(numel) +
                  "\x85K\x01\x85\x89" "ccollections\nOrderedDict\n)RtR"s;
    shared += "u.";
    write_file(dir + "/shared_storage.pt", torch_like_zip(shared, storage));

    // One memoised 1 MB string, _codecs.encode'd 20000 times (20 GB as copies).
    std::string memo = kProto2 + "}" + pk_str("x") + "](" + "c_codecs\nencode\n" + pk_str(std::string(1 << 20, 'a')) +
                       "q\x00"s + pk_str("latin1") + "\x86R"s;
    for (int k = 1; k < 20000; ++k) memo += "c_codecs\nencode\nh\x00"s + pk_str("latin1") + "\x86R";
    memo += "es.";
    write_file(dir + "/memo.pt", torch_like_zip(memo, Bytes(4, 0)));

    // safetensors whose 400 tensors all claim the same 64 MB.
    std::string header = "{";
    for (int k = 0; k < keys; ++k)
        header += std::string(k ? "," : "") + "\"w" + std::to_string(k) + "\":{\"dtype\":\"F32\",\"shape\":[" +
                  std::to_string(numel) + "],\"data_offsets\":[0," + std::to_string(size_t(numel) * 4) + "]}";
    header += "}";
    Bytes st_file;
    put64(st_file, header.size());
    st_file.insert(st_file.end(), header.begin(), header.end());
    st_file.insert(st_file.end(), storage.begin(), storage.end());
    write_file(dir + "/overlap.safetensors", st_file);

    const struct {
        const char* file;
        int status;
        const char* says;
    } cases[] = {
        {"shared_storage.pt", SWU_ERR_WEIGHTS, "cannot infer"},
        {"memo.pt", SWU_ERR_FORMAT, "no tensors"},
        {"overlap.safetensors", SWU_ERR_FORMAT, "overlaps"},
    };
    for (const auto& c : cases) {
        const ProbeResult r = probe(dir + "/" + c.file, limit_mb);
        INFO(c.file << ": status " << r.status << ", peak " << r.peak_mb << " MB (network " << network_mb << " MB), " << r.message);
        WARN(c.file << ": status " << r.status << ", peak RSS +" << r.peak_mb << " MB, network " << network_mb << " MB");
        CHECK(r.status == c.status);
        CHECK(r.message.find(c.says) != std::string::npos);
        CHECK(r.peak_mb < 2 * network_mb);
        std::remove((dir + "/" + c.file).c_str());
    }
    rmdir(dir.c_str());
}

TEST_CASE("pytorch: storages far larger than the views using them are not read", "[unit][checkpoint]") {
    const uint32_t numel = 17u << 20;  // 68 MB: beyond 2 x 4 bytes + 64 MB of slack
    const std::string one = kProto2 + "}" + pk_str("w") + "ctorch._utils\n_rebuild_tensor_v2\n((" + pk_str("storage") +
                            "ctorch\nFloatStorage\n" + pk_str("0") + pk_str("cpu") + pk_int4(numel) +
                            "tQK\x00K\x01\x85K\x01\x85\x89"s + "ccollections\nOrderedDict\n)RtRs.";
    check_format_error([&] { read_bytes(torch_like_zip(one, Bytes(size_t(numel) * 4, 0))); }, "refusing to read storage data");

    // The screen sees names and shapes first, and its refusal stands.
    const Bytes small = torch_like_zip(kProto2 + "}" + pk_str("w") + pk_tensor("0", 4, 0, 4) + "s.", Bytes(16, 0));
    const swu::MemorySource src(small.data(), small.size());
    std::vector<std::string> seen;
    const auto screen = [&](const std::vector<swu::NamedTensor>& h) {
        for (const auto& t : h) seen.push_back(t.name + shape_x(t.tensor.shape) + (t.tensor.data.empty() ? "" : "+data"));
        swu::fail(SWU_ERR_WEIGHTS, "screened out");
    };
    CHECK_THROWS_WITH(swu::read_checkpoint(src, screen), Catch::Contains("screened out"));
    CHECK(seen == std::vector<std::string>{"w4"});
}

// SWU_FUZZ_ITERATIONS / SWU_FUZZ_SEED in the environment turn this into a longer run.
TEST_CASE("checkpoint: mutated fixtures never crash", "[unit][checkpoint][fuzz]") {
    const char* iters_env = std::getenv("SWU_FUZZ_ITERATIONS");
    const char* seed_env = std::getenv("SWU_FUZZ_SEED");
    const int iterations = iters_env ? std::atoi(iters_env) : 1500;
    std::mt19937 rng(seed_env ? unsigned(std::strtoul(seed_env, nullptr, 10)) : 2024u);
    auto mutate = [&](Bytes b) {
        const int edits = 1 + int(rng() % 4);
        for (int k = 0; k < edits && !b.empty(); ++k) {
            const size_t at = rng() % b.size();
            switch (rng() % 4) {
                case 0: b[at] = uint8_t(rng()); break;
                case 1: b[at] ^= uint8_t(1u << (rng() % 8)); break;
                case 2: b.insert(b.begin() + ptrdiff_t(at), uint8_t(rng())); break;
                default: b.resize(at); break;
            }
        }
        return b;
    };
    auto survives = [](const std::function<void()>& f) {
        try {
            f();
        } catch (const swu::Error& e) {
            REQUIRE((e.status() == SWU_ERR_FORMAT || e.status() == SWU_ERR_OUT_OF_MEMORY));
        }
    };

    const Bytes pt = slurp(fixture("views_f32.pt"));
    const Bytes st = slurp(fixture("model.safetensors"));
    const swu::MemorySource pt_src(pt.data(), pt.size());
    const swu::ZipArchive pt_zip(pt_src);
    // The archive's CRCs catch most damage to data.pkl, so the pickle machine is also
    // fed mutated pickles directly.
    std::vector<Bytes> pickles;
    for (const char* name : {"views_f32.pt", "wrapped_model.pt", "torch2_format.pt"}) {
        const Bytes f = slurp(fixture(name));
        const swu::MemorySource s(f.data(), f.size());
        const swu::ZipArchive z(s);
        for (const auto& e : z.entries())
            if (e.name.size() > 9 && e.name.compare(e.name.size() - 9, 9, "/data.pkl") == 0) pickles.push_back(z.read(e));
    }
    REQUIRE(pickles.size() == 3);
    // views_f32.pt rebuilt around a mutated data.pkl with valid CRCs, so hostile sizes,
    // strides and offsets reach the view checks and the gather.
    std::vector<ZipItem> items;
    for (const auto& e : pt_zip.entries()) items.push_back({e.name, pt_zip.read(e)});
    REQUIRE(items.at(0).name == "views_f32/data.pkl");
    const Bytes pickle0 = items[0].content;
    for (int iter = 0; iter < iterations; ++iter) {
        survives([&] { read_bytes(mutate(pt)); });
        survives([&] { read_bytes(mutate(st)); });
        const Bytes p = mutate(pickles[size_t(iter) % pickles.size()]);
        survives([&] { swu::read_state_dict_pickle(p.data(), p.size()); });
        items[0].content = mutate(pickle0);
        survives([&] { read_bytes(make_zip(items)); });
    }
}
