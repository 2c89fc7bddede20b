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

void require_struct(uint32_t struct_size, size_t expected, const char* what) {
    if (struct_size != expected)
        fail(SWU_ERR_INVALID_ARGUMENT, std::string(what) + ".struct_size is " + std::to_string(struct_size) +
                                           ", this library expects " + std::to_string(expected) +
                                           " (set it with sizeof or the matching *_init(); a host built against "
                                           "another swinunetr.h must be rebuilt)");
}

}  // namespace swu

extern "C" SWU_API const char* swu_last_error(void) { return swu::last_error.c_str(); }
