#include "train/distributed_env.hpp"

#include <cerrno>
#include <cstdlib>

#include "common/error.hpp"

namespace swu {
namespace {

constexpr const char* kNeeds =
    " (distributed training from the environment needs WORLD_SIZE, RANK, MASTER_ADDR and MASTER_PORT, as torchrun "
    "or `swinunetr train --nproc N` set them)";

const char* variable(const char* name) {
    const char* v = std::getenv(name);
    return v && *v ? v : nullptr;
}

// A decimal integer in [lo, hi], else a message naming the variable.
long integer(const char* name, const char* text, long lo, long hi) {
    char* end = nullptr;
    errno = 0;
    const long v = std::strtol(text, &end, 10);
    if (errno || end == text || *end || v < lo || v > hi)
        fail(SWU_ERR_INVALID_ARGUMENT, std::string(name) + "='" + text + "' is not an integer in " + std::to_string(lo) +
                                           ".." + std::to_string(hi) + kNeeds);
    return v;
}

}  // namespace

DistributedEnv distributed_env_from_environment() {
    DistributedEnv env;
    const char* world = variable("WORLD_SIZE");
    if (!world) fail(SWU_ERR_INVALID_ARGUMENT, std::string("WORLD_SIZE is not set") + kNeeds);
    env.world_size = static_cast<int>(integer("WORLD_SIZE", world, 1, 65536));
    const char* rank = variable("RANK");
    if (!rank) fail(SWU_ERR_INVALID_ARGUMENT, std::string("RANK is not set") + kNeeds);
    env.rank = static_cast<int>(integer("RANK", rank, 0, 65535));
    if (env.rank >= env.world_size)
        fail(SWU_ERR_INVALID_ARGUMENT, "RANK=" + std::to_string(env.rank) + " is not below WORLD_SIZE=" +
                                           std::to_string(env.world_size) + " (ranks count from 0)");
    if (const char* local = variable("LOCAL_RANK")) env.local_rank = static_cast<int>(integer("LOCAL_RANK", local, 0, 65535));
    if (env.world_size == 1) return env;  // one process: no rendezvous
    const char* addr = variable("MASTER_ADDR");
    if (!addr) fail(SWU_ERR_INVALID_ARGUMENT, std::string("MASTER_ADDR is not set") + kNeeds);
    env.master_addr = addr;
    const char* port = variable("MASTER_PORT");
    if (!port) fail(SWU_ERR_INVALID_ARGUMENT, std::string("MASTER_PORT is not set") + kNeeds);
    env.master_port = static_cast<int>(integer("MASTER_PORT", port, 1, 65535));
    return env;
}

}  // namespace swu
