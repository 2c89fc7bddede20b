// Version queries, status strings and the log callback.
#include "api/boundary.hpp"
#include "common/log.hpp"

extern "C" {

SWU_API uint32_t swu_version_number(void) { return SWU_VERSION_NUMBER; }
SWU_API const char* swu_version_string(void) { return SWU_VERSION_STRING; }
SWU_API uint32_t swu_abi_version(void) { return SWU_ABI_VERSION; }

SWU_API const char* swu_status_string(swu_status status) {
    switch (swu::raw_enum(status)) {
        case SWU_OK: return "ok";
        case SWU_ERR_INVALID_ARGUMENT: return "invalid argument";
        case SWU_ERR_IO: return "i/o error";
        case SWU_ERR_FORMAT: return "format error";
        case SWU_ERR_UNSUPPORTED: return "unsupported";
        case SWU_ERR_BACKEND: return "backend error";
        case SWU_ERR_WEIGHTS: return "weights mismatch";
        case SWU_ERR_STATE: return "invalid state";
        case SWU_ERR_BUFFER_TOO_SMALL: return "buffer too small";
        case SWU_ERR_OUT_OF_MEMORY: return "out of memory";
        case SWU_ERR_BUSY: return "busy";
        case SWU_ERR_INTERNAL: return "internal error";
        case SWU_ERR_CANCELLED: return "cancelled";
        default: return "unknown status";
    }
}

SWU_API swu_status swu_set_log_callback(swu_log_fn fn, void* user_data, swu_log_level min_level) {
    return swu::api_call(__func__, [&] {
        const int32_t level = swu::raw_enum(min_level);
        if (level < SWU_LOG_DEBUG || level > SWU_LOG_NONE)
            swu::fail(SWU_ERR_INVALID_ARGUMENT, "unknown log level " + std::to_string(level));
        swu::set_log_callback(fn, user_data, min_level);
    });
}

}  // extern "C"
