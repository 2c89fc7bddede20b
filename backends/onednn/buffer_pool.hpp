// Large activation buffers are recycled instead of returned to the OS: a 96^3 x 48
// float tensor is 170 MB, and touching fresh pages costs more than the convolutions
// that fill them on a small VM (measured: ~30 % system time without the pool). Big
// blocks are 2 MiB aligned and advised as transparent huge pages.
#pragma once

#include <cstddef>

namespace swu_onednn {

void* pool_alloc(size_t bytes);
void pool_free(void* p, size_t bytes) noexcept;
// Returns every cached block to the system (called when the last model goes away).
void pool_release_all() noexcept;

}  // namespace swu_onednn
