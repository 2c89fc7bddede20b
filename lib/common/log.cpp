#include "common/log.hpp"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace swu {
namespace {

swu_log_level level_from_env() {
    const char* v = std::getenv("SWU_LOG_LEVEL");
    if (!v) return SWU_LOG_WARNING;
    if (!std::strcmp(v, "debug")) return SWU_LOG_DEBUG;
    if (!std::strcmp(v, "info")) return SWU_LOG_INFO;
    if (!std::strcmp(v, "error")) return SWU_LOG_ERROR;
    if (!std::strcmp(v, "none")) return SWU_LOG_NONE;
    return SWU_LOG_WARNING;
}

struct LogState {
    std::mutex mutex;
    swu_log_fn fn = nullptr;
    void* user_data = nullptr;
    std::atomic<int> min_level{level_from_env()};
};

LogState& state() {
    static LogState s;
    return s;
}

const char* level_name(swu_log_level level) {
    switch (level) {
        case SWU_LOG_DEBUG: return "debug";
        case SWU_LOG_INFO: return "info";
        case SWU_LOG_WARNING: return "warning";
        default: return "error";
    }
}

}  // namespace

bool log_enabled(swu_log_level level) { return static_cast<int>(level) >= state().min_level.load(); }

void log(swu_log_level level, const std::string& message) {
    if (!log_enabled(level)) return;
    LogState& s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    if (s.fn) {
        s.fn(level, message.c_str(), s.user_data);
    } else {
        std::fprintf(stderr, "swinunetr: %s: %s\n", level_name(level), message.c_str());
    }
}

void set_log_callback(swu_log_fn fn, void* user_data, swu_log_level min_level) {
    LogState& s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    s.fn = fn;
    s.user_data = user_data;
    s.min_level = static_cast<int>(min_level);
}

}  // namespace swu
