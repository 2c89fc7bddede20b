// The C boundary: every exported function runs its body through api_call(), which
// turns any exception into a swu_status plus a thread-local message. Nothing else
// may throw across the boundary.
#pragma once

#include <cstdint>
#include <cstring>
#include <new>
#include <string>

#include "common/error.hpp"

namespace swu {

void set_last_error(const std::string& message);
void clear_last_error();
swu_status report(const char* function, swu_status status, const char* message) noexcept;

template <class Body> swu_status api_call(const char* function, Body&& body) noexcept {
    try {
        body();
        clear_last_error();
        return SWU_OK;
    } catch (const Error& e) {
        return report(function, e.status(), e.what());
    } catch (const std::bad_alloc&) {
        return report(function, SWU_ERR_OUT_OF_MEMORY, "out of memory");
    } catch (const std::exception& e) {
        return report(function, SWU_ERR_INTERNAL, e.what());
    } catch (...) {
        return report(function, SWU_ERR_INTERNAL, "unknown exception");
    }
}

template <class T> void require(const T* pointer, const char* what) {
    if (!pointer) fail(SWU_ERR_INVALID_ARGUMENT, std::string(what) + " is NULL");
}

// The raw value of an enum a caller handed over. C lets any int32 through; loading an
// out-of-range value (e.g. -1) through the C++ enum type is undefined behaviour, so
// enums from callers and plugins are validated as integers first.
template <class E> int32_t raw_enum(const E& e) {
    static_assert(sizeof(E) == sizeof(int32_t), "swu enums are 32-bit");
    int32_t v;
    std::memcpy(&v, &e, sizeof v);
    return v;
}

// Checks a caller struct's struct_size. ABI 1 has a single layout per struct, so the
// size must match exactly: a host built against another header fails loudly.
void require_struct(uint32_t struct_size, size_t expected, const char* what);

}  // namespace swu
