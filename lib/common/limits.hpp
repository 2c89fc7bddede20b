// Process-wide size limits, checked before anything large is allocated, so an absurd
// or hostile request fails with SWU_ERR_OUT_OF_MEMORY instead of exhausting the host.
#pragma once

#include <cstdint>
#include <string>

namespace swu {

// 2^31 voxels: a 4096 x 4096 x 128 volume; as float32 8 GiB.
constexpr int64_t kDefaultMaxVoxels = int64_t(1) << 31;

// The voxel cap: swu_set_max_voxels() if called, else the environment variable
// SWU_MAX_VOXELS (read once), else kDefaultMaxVoxels.
int64_t max_voxels();
// n > 0 sets the cap, n == 0 restores the default (environment or built-in).
void set_max_voxels(int64_t n);

// Throws SWU_ERR_OUT_OF_MEMORY naming `what` when nx * ny * nz (computed without
// overflow; NaN or infinite counts fail too) exceeds max_voxels().
void check_voxel_limit(double nx, double ny, double nz, const std::string& what);

// Memory the process can count on: the least of physical memory, what RLIMIT_AS leaves
// beyond the address space in use, and the cgroup's memory limit (v2 memory.max, v1
// memory.limit_in_bytes). `source` names the one that set it.
struct MemoryBound {
    double bytes = 0;
    std::string source;
};
MemoryBound available_memory();

// Throws SWU_ERR_OUT_OF_MEMORY when `bytes` exceeds available_memory(), naming `what`
// and both figures.
void check_memory_need(double bytes, const std::string& what);

}  // namespace swu
