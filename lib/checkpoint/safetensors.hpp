// Hugging Face safetensors files -> dense tensors.
#pragma once

#include <vector>

#include "checkpoint/byte_source.hpp"
#include "common/tensor.hpp"

namespace swu {

// Returns the tensors in the header's key order, "module." prefixes removed when every
// name has one. Throws swu::Error(SWU_ERR_FORMAT) for a malformed header, an unknown
// dtype or a byte range that does not match its shape or lies outside the file.
std::vector<NamedTensor> read_safetensors(const ByteSource& src);

}  // namespace swu
