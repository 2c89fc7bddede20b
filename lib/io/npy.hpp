// NumPy .npy files (format 1.0 - 3.0), C order, little-endian: what the golden data,
// the CLI's `forward` command and Python integrators exchange.
#pragma once

#include <string>

#include "common/tensor.hpp"

namespace swu {

// Throws swu::Error: SWU_ERR_IO (unreadable), SWU_ERR_FORMAT (bad header, unsupported
// dtype, Fortran order, big-endian, truncated data).
Tensor read_npy(const std::string& path);
// Writes format 1.0. Throws SWU_ERR_IO.
void write_npy(const std::string& path, const Tensor& tensor);

}  // namespace swu
