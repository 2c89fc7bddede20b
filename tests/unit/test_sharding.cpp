// Data-parallel sharding as torch's DistributedSampler (shuffle, drop_last=False: padding
// by repetition), the torchrun environment parser, and Dice sums that add up over ranks.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <numeric>
#include <random>
#include <set>

#include <catch2/catch.hpp>

#include "common/error.hpp"
#include "train/dice.hpp"
#include "train/distributed_env.hpp"
#include "train/sharding.hpp"

using namespace swu;

namespace {

std::vector<size_t> shuffled(size_t n, uint64_t seed) {
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), size_t(0));
    std::mt19937_64 rng(seed);
    std::shuffle(order.begin(), order.end(), rng);
    return order;
}

}  // namespace

TEST_CASE("sharding: DistributedSampler semantics (padding, disjoint shards, same order per seed)", "[unit]") {
    // torch: indices = randperm(n); indices += indices[:total - n]; indices[rank:total:world]
    const std::vector<size_t> order = {4, 0, 3, 1, 2};  // n = 5
    CHECK(shard_even(order, 0, 2) == std::vector<size_t>{4, 3, 2});
    CHECK(shard_even(order, 1, 2) == std::vector<size_t>{0, 1, 4});  // padded with the head (4)
    CHECK(shard_even(order, 0, 4) == std::vector<size_t>{4, 2});
    CHECK(shard_even(order, 3, 4) == std::vector<size_t>{1, 3});
    // More ranks than items: the list repeats as often as needed.
    CHECK(shard_even({7, 8}, 4, 5) == std::vector<size_t>{7});
    CHECK(shard_even({}, 0, 2).empty());

    for (size_t n : {1u, 2u, 7u, 24u, 25u}) {
        for (int world : {1, 2, 3, 8}) {
            const std::vector<size_t> order = shuffled(n, 42);
            REQUIRE(order == shuffled(n, 42));  // every rank draws the same order from the seed
            const size_t per_rank = (n + world - 1) / world;
            std::multiset<size_t> all;
            for (int r = 0; r < world; ++r) {
                const std::vector<size_t> s = shard_even(order, r, world);
                CHECK(s.size() == per_rank);  // same number of steps on every rank
                all.insert(s.begin(), s.end());
            }
            // Every item at least once; only the padding repeats, and only as many as missing.
            std::set<size_t> unique(all.begin(), all.end());
            CHECK(unique.size() == n);
            CHECK(all.size() - n == per_rank * world - n);
            if (n % world == 0) CHECK(all.size() == unique.size());  // disjoint without padding
        }
    }
    CHECK(shuffled(10, 1) != shuffled(10, 2));

    // Validation: no padding, each item once.
    CHECK(shard_strided(5, 0, 2) == std::vector<size_t>{0, 2, 4});
    CHECK(shard_strided(5, 1, 2) == std::vector<size_t>{1, 3});
    CHECK(shard_strided(1, 1, 2).empty());
}

TEST_CASE("sharding: Dice sums of shards give the means of the whole", "[unit]") {
    const double nan = std::nan("");
    const std::vector<std::vector<double>> raw = {{0.5, nan, 1.0}, {nan, nan, nan}, {0.25, 0.75, 0.0}, {1.0, 0.5, nan}};
    const DiceMeans whole = dice_means(dice_sums(raw, 3));
    CHECK(whole.mean == Approx(mean_dice(raw)));
    const std::vector<double> per_class = mean_dice_per_class(raw);
    REQUIRE(whole.per_class.size() == 3);
    for (size_t c = 0; c < 3; ++c) CHECK(whole.per_class[c] == Approx(per_class[c]));
    // Two ranks: cases 0, 2 and 1, 3; element-wise sums, as all_reduce(SUM) gives.
    std::vector<double> a = dice_sums({raw[0], raw[2]}, 3), b = dice_sums({raw[1], raw[3]}, 3);
    for (size_t i = 0; i < a.size(); ++i) a[i] += b[i];
    const DiceMeans reduced = dice_means(a);
    CHECK(reduced.mean == Approx(whole.mean));
    for (size_t c = 0; c < 3; ++c) CHECK(reduced.per_class[c] == Approx(whole.per_class[c]));
    // A rank without validation cases adds zeros.
    CHECK(dice_sums({}, 3) == std::vector<double>(8, 0.0));
    CHECK(std::isnan(dice_means(dice_sums({}, 3)).mean));
}

TEST_CASE("sharding: the torchrun environment", "[unit]") {
    const char* names[] = {"WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"};
    for (const char* n : names) unsetenv(n);
    auto status_of = [] {
        try {
            distributed_env_from_environment();
            return SWU_OK;
        } catch (const Error& e) {
            return e.status();
        }
    };
    CHECK(status_of() == SWU_ERR_INVALID_ARGUMENT);
    setenv("WORLD_SIZE", "1", 1);
    setenv("RANK", "0", 1);
    CHECK(distributed_env_from_environment().world_size == 1);  // no master needed
    setenv("WORLD_SIZE", "4", 1);
    setenv("RANK", "3", 1);
    setenv("LOCAL_RANK", "1", 1);
    CHECK(status_of() == SWU_ERR_INVALID_ARGUMENT);  // MASTER_ADDR missing
    setenv("MASTER_ADDR", "node0", 1);
    setenv("MASTER_PORT", "29500", 1);
    const DistributedEnv env = distributed_env_from_environment();
    CHECK(env.rank == 3);
    CHECK(env.world_size == 4);
    CHECK(env.local_rank == 1);
    CHECK(env.master_addr == "node0");
    CHECK(env.master_port == 29500);
    setenv("RANK", "4", 1);
    CHECK(status_of() == SWU_ERR_INVALID_ARGUMENT);
    setenv("RANK", "-1", 1);
    CHECK(status_of() == SWU_ERR_INVALID_ARGUMENT);
    setenv("RANK", "1x", 1);
    CHECK(status_of() == SWU_ERR_INVALID_ARGUMENT);
    for (const char* n : names) unsetenv(n);
}
