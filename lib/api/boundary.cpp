#include "api/boundary.hpp"

#include "common/log.hpp"

namespace swu {
namespace {
thread_local std::string last_error;
}

void set_last_error(const std::string& message) { last_error = message; }
void clear_last_error() { last_error.clear(); }

swu_status report(const char* function, swu_status status, const char* message) noexcept {
    try {
        set_last_error(std::string(function) + ": " + message);
        log(SWU_LOG_DEBUG, last_error);
    } catch (...) {
        // Could not even store the message (out of memory); the status still tells.
    }
    return status;
}

void check_struct_size(uint32_t struct_size, size_t first, size_t current, const char* what) {
    if (struct_size >= first && struct_size <= current) return;
    const std::string accepted = first == current ? std::to_string(current)
                                                  : std::to_string(first) + " (its first release) to " +
                                                        std::to_string(current) + " (this version)";
    fail(SWU_ERR_INVALID_ARGUMENT,
         std::string(what) + ".struct_size is " + std::to_string(struct_size) + "; this library (" +
             SWU_VERSION_STRING + ") accepts " + accepted +
             (struct_size > current ? ": the host was built against a newer swinunetr.h than this library; "
                                      "load a library at least as new as that header"
                                    : ": set it with sizeof or the matching *_init() (a host built against "
                                      "a swinunetr.h this library does not know must be rebuilt)"));
}

}  // namespace swu

extern "C" SWU_API const char* swu_last_error(void) { return swu::last_error.c_str(); }
