#include "checkpoint/checkpoint.hpp"

#include <algorithm>

#include "checkpoint/pytorch_checkpoint.hpp"
#include "checkpoint/safetensors.hpp"
#include "common/error.hpp"

namespace swu {

std::vector<NamedTensor> read_checkpoint(const ByteSource& src, const TensorScreen& screen) {
    const uint64_t size = src.size();
    if (size == 0) fail(SWU_ERR_FORMAT, src.describe() + ": empty file");
    uint8_t head[9] = {0};
    src.read(0, head, static_cast<size_t>(std::min<uint64_t>(size, sizeof head)));
    if (size >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) return read_pytorch_checkpoint(src, screen);
    // A pickle stream: PyTorch's legacy format, which its reader explains.
    if (size >= 2 && head[0] == 0x80 && head[1] >= 2 && head[1] <= 5) return read_pytorch_checkpoint(src, screen);
    if (size >= 9 && head[8] == '{') return read_safetensors(src, screen);
    fail(SWU_ERR_FORMAT, src.describe() + ": not a PyTorch (.pt zip) or safetensors checkpoint");
}

std::vector<NamedTensor> read_checkpoint_file(const std::string& path, const TensorScreen& screen) {
    const FileSource src(path);
    try {
        return read_checkpoint(src, screen);
    } catch (const Error& e) {
        const std::string msg = e.what();
        if (msg.compare(0, path.size(), path) == 0) throw;
        throw Error(e.status(), path + ": " + msg);
    }
}

}  // namespace swu
