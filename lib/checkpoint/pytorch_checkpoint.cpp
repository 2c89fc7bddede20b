#include "checkpoint/pytorch_checkpoint.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>

#include "checkpoint/pickle_state_dict.hpp"
#include "checkpoint/zip_archive.hpp"
#include "common/error.hpp"

namespace swu {

namespace {

// A view can only be larger than its storage when it overlaps itself (stride 0 from
// expand(), for instance); such a dense copy is capped so a crafted view cannot make
// us allocate without bound.
constexpr uint64_t kMaxExpandedBytes = uint64_t(256) << 20;
constexpr uint64_t kMaxPickleBytes = uint64_t(1) << 30;
// Storages are read whole (their CRC checked). Together they may hold at most twice what
// the tensors using them need, plus this slack, so that keys viewing a few elements of
// large storages cannot make us read far more than the result.
constexpr uint64_t kStorageSlackBytes = uint64_t(64) << 20;

const char* kResave = "re-save it with torch.save(model.state_dict(), path) using PyTorch >= 1.6";

void check_not_legacy(const ByteSource& src) {
    uint8_t head[2] = {0, 0};
    if (src.size() < 2) return;
    src.read(0, head, 2);
    // Legacy files start with a pickled magic number (protocol 2); a bare pickle alike.
    if (head[0] == 0x80 && head[1] >= 2 && head[1] <= 5)
        fail(SWU_ERR_FORMAT, src.describe() +
                                 ": legacy (pre-1.6, non-zip) PyTorch serialization or a bare pickle is not supported; " +
                                 kResave + " (without _use_new_zipfile_serialization=False)");
}

// The archive's single top folder, found through its data.pkl rather than assumed.
std::string find_root(const ZipArchive& zip, const ByteSource& src) {
    std::string root;
    int found = 0;
    for (const auto& e : zip.entries()) {
        const size_t slash = e.name.find('/');
        if (slash == std::string::npos) continue;
        const std::string rest = e.name.substr(slash + 1);
        if (rest == "constants.pkl" || rest.compare(0, 5, "code/") == 0)
            fail(SWU_ERR_FORMAT, src.describe() + ": this is a TorchScript archive (torch.jit.save), not a state dict; " +
                                     "load it in Python and " + kResave);
        if (rest == "data.pkl") {
            root = e.name.substr(0, slash);
            ++found;
        }
    }
    if (found == 0) fail(SWU_ERR_FORMAT, src.describe() + ": ZIP archive without a <folder>/data.pkl: not a PyTorch checkpoint");
    if (found > 1) fail(SWU_ERR_FORMAT, src.describe() + ": ZIP archive with several data.pkl records");
    return root;
}

bool mul_overflows(uint64_t a, uint64_t b, uint64_t& out) { return __builtin_mul_overflow(a, b, &out); }

[[noreturn]] void bad_tensor(const ByteSource& src, const std::string& name, const std::string& what) {
    fail(SWU_ERR_FORMAT, src.describe() + ": tensor '" + name + "': " + what);
}

// Checks the strided view against its storage and returns its element count.
uint64_t checked_view_numel(const ByteSource& src, const PickledStateDictEntry& e) {
    const PickledTensor& t = e.tensor;
    if (t.storage_offset < 0) bad_tensor(src, e.name, "negative storage offset");
    uint64_t numel = 1;
    uint64_t last = static_cast<uint64_t>(t.storage_offset);  // index of the view's last element
    for (size_t d = 0; d < t.sizes.size(); ++d) {
        if (t.sizes[d] < 0 || t.strides[d] < 0) bad_tensor(src, e.name, "negative size or stride");
        if (mul_overflows(numel, uint64_t(t.sizes[d]), numel)) bad_tensor(src, e.name, "element count overflows");
        if (t.sizes[d] == 0) continue;
        uint64_t reach;
        if (mul_overflows(uint64_t(t.sizes[d] - 1), uint64_t(t.strides[d]), reach) || __builtin_add_overflow(last, reach, &last))
            bad_tensor(src, e.name, "view extent overflows");
    }
    if (numel == 0 ? uint64_t(t.storage_offset) > t.storage_numel : last >= t.storage_numel)
        bad_tensor(src, e.name, "view " + shape_string(t.sizes) + " (stride " + shape_string(t.strides) + ", offset " +
                                    std::to_string(t.storage_offset) + ") reaches past its storage of " +
                                    std::to_string(t.storage_numel) + " elements");
    return numel;
}

void byteswap_elements(std::vector<uint8_t>& bytes, size_t elsize) {
    if (elsize == 1) return;
    for (size_t j = 0; j + elsize <= bytes.size(); j += elsize) std::reverse(bytes.begin() + ptrdiff_t(j), bytes.begin() + ptrdiff_t(j + elsize));
}

// Copies a strided view into dense C order, a whole row at a time where the innermost
// dimension is contiguous.
void gather(const uint8_t* storage, const PickledTensor& t, size_t elsize, uint8_t* out) {
    const size_t rank = t.sizes.size();
    if (rank == 0) {
        std::copy_n(storage + size_t(t.storage_offset) * elsize, elsize, out);
        return;
    }
    const size_t inner = size_t(t.sizes[rank - 1]);
    const size_t inner_stride = size_t(t.strides[rank - 1]);
    std::vector<int64_t> idx(rank, 0);
    for (;;) {
        size_t base = size_t(t.storage_offset);
        for (size_t d = 0; d + 1 < rank; ++d) base += size_t(idx[d]) * size_t(t.strides[d]);
        if (inner_stride == 1) {
            std::copy_n(storage + base * elsize, inner * elsize, out);
            out += inner * elsize;
        } else {
            for (size_t j = 0; j < inner; ++j, out += elsize) std::copy_n(storage + (base + j * inner_stride) * elsize, elsize, out);
        }
        size_t d = rank - 1;
        while (d > 0) {
            if (++idx[d - 1] < t.sizes[d - 1]) break;
            idx[d - 1] = 0;
            --d;
        }
        if (d == 0) return;
    }
}

bool is_whole_storage(const PickledTensor& t, uint64_t numel) {
    if (t.storage_offset != 0 || numel != t.storage_numel) return false;
    int64_t expected = 1;
    for (size_t d = t.sizes.size(); d-- > 0;) {
        if (t.sizes[d] != 1 && t.strides[d] != expected) return false;
        expected *= t.sizes[d];
    }
    return true;
}

}  // namespace

std::vector<NamedTensor> read_pytorch_checkpoint(const ByteSource& src, const TensorScreen& screen) {
    check_not_legacy(src);
    const ZipArchive zip(src);
    const std::string root = find_root(zip, src);

    bool big_endian = false;
    if (const ZipEntry* bo = zip.find(root + "/byteorder")) {
        if (bo->uncompressed_size > 16) fail(SWU_ERR_FORMAT, src.describe() + ": invalid byteorder record");
        const auto bytes = zip.read(*bo);
        const std::string order(bytes.begin(), bytes.end());
        if (order == "big") big_endian = true;
        else if (order != "little") fail(SWU_ERR_FORMAT, src.describe() + ": unknown byteorder '" + order + "'");
    }

    const std::string pkl_name = root + "/data.pkl";
    const ZipEntry& pkl = *zip.find(pkl_name);
    if (pkl.uncompressed_size > kMaxPickleBytes) fail(SWU_ERR_FORMAT, src.describe() + ": " + pkl_name + " is implausibly large");
    std::vector<PickledStateDictEntry> entries;
    {
        const auto pickle = zip.read(pkl);
        try {
            entries = read_state_dict_pickle(pickle.data(), pickle.size());
        } catch (const Error& e) {
            throw Error(e.status(), src.describe() + ": " + pkl_name + ": " + e.what());
        }
    }

    // Names, dtypes and shapes go to the screen, and sizes are checked, before any
    // storage is read.
    uint64_t view_bytes = 0;
    std::map<std::string, uint64_t> storage_bytes;
    std::vector<NamedTensor> headers(entries.size());
    std::vector<uint64_t> numels(entries.size());
    for (size_t j = 0; j < entries.size(); ++j) {
        const PickledTensor& t = entries[j].tensor;
        uint64_t bytes;
        numels[j] = checked_view_numel(src, entries[j]);
        if (mul_overflows(numels[j], dtype_size(t.dtype), bytes) ||
            __builtin_add_overflow(view_bytes, bytes, &view_bytes) ||
            mul_overflows(t.storage_numel, dtype_size(t.dtype), storage_bytes[t.storage_key]))
            bad_tensor(src, entries[j].name, "its size overflows");
        headers[j].name = entries[j].name;
        headers[j].tensor.dtype = t.dtype;
        headers[j].tensor.shape = t.sizes;
    }
    if (screen) screen(headers);
    headers.clear();
    uint64_t total_storage = 0, allowed = 0;
    for (const auto& [key, bytes] : storage_bytes)
        if (__builtin_add_overflow(total_storage, bytes, &total_storage)) total_storage = UINT64_MAX;
    if (mul_overflows(view_bytes, 2, allowed) || __builtin_add_overflow(allowed, kStorageSlackBytes, &allowed)) allowed = UINT64_MAX;
    if (total_storage > allowed)
        fail(SWU_ERR_FORMAT, src.describe() + ": its storages hold " + std::to_string(total_storage) + " bytes but its " +
                                 std::to_string(entries.size()) + " tensors use only " + std::to_string(view_bytes) +
                                 "; refusing to read storage data no tensor needs");

    // Storages are read once each and dropped after their last tensor, so peak memory
    // stays near the size of the result.
    std::map<std::string, int> uses;
    for (const auto& e : entries) ++uses[e.tensor.storage_key];
    std::map<std::string, std::vector<uint8_t>> cache;

    std::vector<NamedTensor> out;
    out.reserve(entries.size());
    for (size_t j = 0; j < entries.size(); ++j) {
        const PickledStateDictEntry& e = entries[j];
        const PickledTensor& t = e.tensor;
        const size_t elsize = dtype_size(t.dtype);
        const uint64_t numel = numels[j];  // checked above

        auto it = cache.find(t.storage_key);
        if (it == cache.end()) {
            const std::string storage_name = root + "/data/" + t.storage_key;
            const ZipEntry* se = zip.find(storage_name);
            if (!se) bad_tensor(src, e.name, "its storage '" + storage_name + "' is missing from the archive");
            uint64_t want;
            if (mul_overflows(t.storage_numel, elsize, want) || se->uncompressed_size != want)
                bad_tensor(src, e.name, "storage '" + storage_name + "' holds " + std::to_string(se->uncompressed_size) +
                                            " bytes, expected " + std::to_string(t.storage_numel) + " x " + std::to_string(elsize));
            auto bytes = zip.read(*se);
            if (big_endian) byteswap_elements(bytes, elsize);
            it = cache.emplace(t.storage_key, std::move(bytes)).first;
        }

        NamedTensor nt;
        nt.name = e.name;
        nt.tensor.dtype = t.dtype;
        nt.tensor.shape = t.sizes;
        const bool last_use = --uses[t.storage_key] == 0;
        if (last_use && is_whole_storage(t, numel)) {
            nt.tensor.data = std::move(it->second);
        } else {
            uint64_t bytes;
            if (mul_overflows(numel, elsize, bytes) || (numel > t.storage_numel && bytes > kMaxExpandedBytes))
                fail(SWU_ERR_OUT_OF_MEMORY, src.describe() + ": tensor '" + e.name + "': a dense copy of its overlapping view " +
                                                shape_string(t.sizes) + " would be too large");
            nt.tensor.data.resize(static_cast<size_t>(bytes));
            if (numel > 0) gather(it->second.data(), t, elsize, nt.tensor.data.data());
        }
        if (last_use) cache.erase(it);
        out.push_back(std::move(nt));
    }
    return out;
}

}  // namespace swu
