// Entry point for weight files: recognises the format from the content, not the name.
#pragma once

#include <string>
#include <vector>

#include "checkpoint/byte_source.hpp"
#include "checkpoint/tensor_screen.hpp"
#include "common/tensor.hpp"

namespace swu {

// PyTorch zip checkpoints (torch.save(state_dict)) and safetensors files. Throws
// swu::Error(SWU_ERR_FORMAT) for empty or unrecognised content and for everything the
// format readers refuse. `screen` sees every name, dtype and shape before any data is
// read (tensor_screen.hpp).
std::vector<NamedTensor> read_checkpoint(const ByteSource& src, const TensorScreen& screen = {});

// As above; SWU_ERR_IO when the file cannot be opened. Every message starts with the path.
std::vector<NamedTensor> read_checkpoint_file(const std::string& path, const TensorScreen& screen = {});

}  // namespace swu
