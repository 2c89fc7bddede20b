// Which items of a list a rank of a data-parallel run takes, as torch's
// DistributedSampler does.
#pragma once

#include <cstddef>
#include <vector>

namespace swu {

// DistributedSampler(shuffle=True, drop_last=False) for one epoch: `order` is the
// epoch's shuffled order, the same on every rank (same seed, same epoch). It is padded
// by repeating its head up to a multiple of world_size (MONAI's even_divisible), then
// rank r takes positions r, r + world_size, ...: every rank gets ceil(n / world_size)
// items, and the shards are disjoint apart from the padding.
std::vector<size_t> shard_even(const std::vector<size_t>& order, int rank, int world_size);

// Items rank, rank + world_size, ... of 0..count-1, no padding (validation: every item is
// scored exactly once over all ranks).
std::vector<size_t> shard_strided(size_t count, int rank, int world_size);

}  // namespace swu
