#include "train/sharding.hpp"

namespace swu {

std::vector<size_t> shard_even(const std::vector<size_t>& order, int rank, int world_size) {
    const size_t n = order.size(), world = static_cast<size_t>(world_size);
    if (n == 0 || world == 0) return {};
    const size_t per_rank = (n + world - 1) / world, total = per_rank * world;
    std::vector<size_t> shard;
    shard.reserve(per_rank);
    // Position p of the padded list is order[p % n]: torch repeats the list as often as needed.
    for (size_t p = static_cast<size_t>(rank); p < total; p += world) shard.push_back(order[p % n]);
    return shard;
}

std::vector<size_t> shard_strided(size_t count, int rank, int world_size) {
    std::vector<size_t> shard;
    if (world_size < 1) return shard;
    for (size_t i = static_cast<size_t>(rank); i < count; i += static_cast<size_t>(world_size)) shard.push_back(i);
    return shard;
}

}  // namespace swu
