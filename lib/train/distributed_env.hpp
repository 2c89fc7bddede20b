// The torchrun environment of a distributed training process: RANK, WORLD_SIZE,
// LOCAL_RANK, MASTER_ADDR, MASTER_PORT (as torchrun, `swinunetr train --nproc` or a
// batch scheduler's wrapper set them).
#pragma once

#include <string>

namespace swu {

struct DistributedEnv {
    int rank = 0, world_size = 1, local_rank = 0;
    std::string master_addr;  // needed (with master_port) when world_size > 1
    int master_port = 0;
};

// Reads and checks the variables; throws SWU_ERR_INVALID_ARGUMENT naming the variable
// that is missing or malformed (WORLD_SIZE and RANK always; MASTER_ADDR and MASTER_PORT
// when WORLD_SIZE > 1; LOCAL_RANK defaults to 0).
DistributedEnv distributed_env_from_environment();

}  // namespace swu
