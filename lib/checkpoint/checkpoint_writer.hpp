// Writes a state dict as torch.save(OrderedDict) does (PyTorch's zip format): what
// Python's torch.load, MONAI bundles and our own reader accept.
#pragma once

#include <string>
#include <vector>

#include "common/atomic_file.hpp"  // write_file_atomically, for its callers
#include "common/tensor.hpp"

namespace swu {

// The bytes of the archive: `<stem>/data.pkl` (pickle protocol 2: an OrderedDict of
// torch._utils._rebuild_tensor_v2 tensors, contiguous, one storage each),
// `<stem>/data/<k>` (raw little-endian storage bytes, 64-byte aligned, stored
// uncompressed), `<stem>/byteorder` and `<stem>/version`. Float32, float64, float16,
// bfloat16, int64, int32, int16, int8, uint8 and bool tensors.
std::vector<uint8_t> serialize_state_dict(const std::vector<NamedTensor>& tensors, const std::string& stem = "model");

// Writes to a temporary file beside `path`, then renames it over `path`: a reader
// never sees a half-written checkpoint. Throws SWU_ERR_IO.
void write_state_dict_file(const std::string& path, const std::vector<NamedTensor>& tensors);

}  // namespace swu
