#include "common/log.hpp"

#include <atomic>
#include <condition_variable>
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

// The host's callback is called without holding `mutex`, so that it may call back into
// the library (swu_set_log_callback included). `calls` counts callbacks in flight:
// set_log_callback waits for them to end before returning, so a host may free the old
// user_data afterwards; except on a thread that is itself inside a callback, which would
// wait for itself.
struct LogState {
    std::mutex mutex;
    std::condition_variable idle;
    swu_log_fn fn = nullptr;
    void* user_data = nullptr;
    int calls = 0;
    std::atomic<int> min_level{level_from_env()};
};

thread_local int callback_depth = 0;  // > 0 on a thread inside the host's callback

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
    std::unique_lock<std::mutex> lock(s.mutex);
    if (!s.fn) {
        std::fprintf(stderr, "swinunetr: %s: %s\n", level_name(level), message.c_str());
        return;
    }
    const swu_log_fn fn = s.fn;
    void* const user_data = s.user_data;
    ++s.calls;
    lock.unlock();
    ++callback_depth;
    fn(level, message.c_str(), user_data);
    --callback_depth;
    lock.lock();
    if (--s.calls == 0) s.idle.notify_all();
}

void set_log_callback(swu_log_fn fn, void* user_data, swu_log_level min_level) {
    LogState& s = state();
    std::unique_lock<std::mutex> lock(s.mutex);
    s.fn = fn;
    s.user_data = user_data;
    s.min_level = static_cast<int>(min_level);
    if (callback_depth == 0) s.idle.wait(lock, [&] { return s.calls == 0; });
}

}  // namespace swu
