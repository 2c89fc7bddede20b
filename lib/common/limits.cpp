#include "common/limits.hpp"

#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <sys/resource.h>
#include <unistd.h>

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

// A number from a one-line file (cgroup limits); < 0 when absent or "max".
double number_in_file(const char* path) {
    FILE* f = std::fopen(path, "r");
    if (!f) return -1;
    char buf[64] = {0};
    const bool got = std::fgets(buf, sizeof buf, f) != nullptr;
    std::fclose(f);
    if (!got) return -1;
    char* end = nullptr;
    const double v = std::strtod(buf, &end);
    return end == buf ? -1 : v;
}

double address_space_in_use() {
    FILE* f = std::fopen("/proc/self/status", "r");
    if (!f) return 0;
    char line[256];
    double kb = 0;
    while (std::fgets(line, sizeof line, f))
        if (std::strncmp(line, "VmSize:", 7) == 0) kb = std::strtod(line + 7, nullptr);
    std::fclose(f);
    return kb * 1024;
}

std::string gigabytes(double bytes) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f GB", bytes / 1e9);
    return buf;
}

}  // namespace

MemoryBound available_memory() {
    MemoryBound b;
    b.bytes = double(sysconf(_SC_PHYS_PAGES)) * double(sysconf(_SC_PAGESIZE));
    b.source = "physical memory";
    rlimit as{};
    if (getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != RLIM_INFINITY) {
        const double left = std::max(0.0, double(as.rlim_cur) - address_space_in_use());
        if (left < b.bytes) b = {left, "left under RLIMIT_AS (ulimit -v)"};
    }
    for (const char* cg : {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {
        const double v = number_in_file(cg);
        if (v > 0 && v < b.bytes) b = {v, std::string("the cgroup limit (") + cg + ")"};
    }
    return b;
}

void check_memory_need(double bytes, const std::string& what) {
    const MemoryBound b = available_memory();
    if (!(bytes <= b.bytes))
        fail(SWU_ERR_OUT_OF_MEMORY, what + " needs at least " + gigabytes(bytes) + "; the process has " + gigabytes(b.bytes) +
                                        " (" + b.source + ")");
}

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
