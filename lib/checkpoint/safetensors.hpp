// Hugging Face safetensors files -> dense tensors.
#pragma once

#include <vector>

#include "checkpoint/byte_source.hpp"
#include "checkpoint/tensor_screen.hpp"
#include "common/tensor.hpp"

namespace swu {

// Returns the tensors in the header's key order, "module." prefixes removed when every
// name has one. Throws swu::Error(SWU_ERR_FORMAT) for a malformed header, an unknown
// dtype, a byte range that does not match its shape, lies outside the file or overlaps
// another tensor's (as the safetensors library itself refuses); whatever `screen` throws.
std::vector<NamedTensor> read_safetensors(const ByteSource& src, const TensorScreen& screen = {});

}  // namespace swu
