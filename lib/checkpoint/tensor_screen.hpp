// The look a checkpoint reader gives its caller before it reads any tensor data.
#pragma once

#include <functional>
#include <vector>

#include "common/tensor.hpp"

namespace swu {

// Called once with every tensor's name, dtype and shape (data empty, "module." prefixes
// already removed) before the reader allocates or reads any tensor's data; it throws to
// refuse the file. The model checks names and shapes against its network here, so a
// checkpoint whose keys share one storage, or whose ranges overlap, cannot make the
// reader hold more than the network needs.
using TensorScreen = std::function<void(const std::vector<NamedTensor>& headers)>;

}  // namespace swu
