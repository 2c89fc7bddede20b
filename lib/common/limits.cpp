#include "common/limits.hpp"

#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "common/error.hpp"
#include "common/log.hpp"

namespace swu {
namespace {

std::atomic<int64_t> g_override{0};

int64_t from_environment() {
    const char* env = std::getenv("SWU_MAX_VOXELS");
    if (!env || !*env) return kDefaultMaxVoxels;
    char* end = nullptr;
    errno = 0;
    const long long v = std::strtoll(env, &end, 10);
    if (errno || end == env || *end || v < 1) {
        log_warning(std::string("SWU_MAX_VOXELS='") + env + "' ignored: a positive integer is required");
        return kDefaultMaxVoxels;
    }
    return v;
}

int64_t environment_limit() {
    static const int64_t limit = from_environment();
    return limit;
}

std::string count_text(int64_t n) {
    for (int k = 1; k < 63; ++k)
        if (n == int64_t(1) << k) return "2^" + std::to_string(k);
    return std::to_string(n);
}

std::string size_text(double n) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f", n);
    return buf;
}

}  // namespace

int64_t max_voxels() {
    const int64_t o = g_override.load(std::memory_order_relaxed);
    return o > 0 ? o : environment_limit();
}

void set_max_voxels(int64_t n) {
    if (n < 0) fail(SWU_ERR_INVALID_ARGUMENT, "the voxel limit must be > 0 (or 0 for the default), got " + std::to_string(n));
    g_override.store(n, std::memory_order_relaxed);
}

void check_voxel_limit(double nx, double ny, double nz, const std::string& what) {
    const double total = nx * ny * nz;
    const int64_t limit = max_voxels();
    if (!(total <= static_cast<double>(limit)))
        fail(SWU_ERR_OUT_OF_MEMORY, what + " of " + size_text(nx) + " x " + size_text(ny) + " x " + size_text(nz) +
                                        " voxels exceeds the limit of " + count_text(limit) +
                                        " voxels (swu_set_max_voxels or SWU_MAX_VOXELS change it)");
}

}  // namespace swu
