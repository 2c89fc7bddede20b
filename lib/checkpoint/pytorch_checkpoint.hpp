// torch.save(state_dict) files (the zip format of PyTorch >= 1.6) -> dense tensors.
#pragma once

#include <vector>

#include "checkpoint/byte_source.hpp"
#include "checkpoint/tensor_screen.hpp"
#include "common/tensor.hpp"

namespace swu {

// Returns the state dict's tensors in the file's order, each materialised as a dense
// C-order tensor in native (little-endian) byte order, "module." prefixes removed.
// Throws swu::Error: SWU_ERR_FORMAT for anything that is not a plain state dict (legacy
// non-zip files, TorchScript archives, refused pickle content, corrupt or inconsistent
// archives, storages far larger than the tensors that use them), SWU_ERR_OUT_OF_MEMORY
// for a view whose dense copy would be absurdly large; whatever `screen` throws.
std::vector<NamedTensor> read_pytorch_checkpoint(const ByteSource& src, const TensorScreen& screen = {});

}  // namespace swu
