// The C boundary: every exported function runs its body through api_call(), which
// turns any exception into a swu_status plus a thread-local message. Nothing else
// may throw across the boundary.
#pragma once

#include <cstddef>
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

// ---- versioned structs (swinunetr.h, "Conventions") ---------------------------------------
// A struct's struct_size may be that of any released layout, from the first (abi_table.inc's
// SWU_ABI_SIZES: its last field's end rounded up to the alignment) up to today's sizeof:
// the library reads and writes only that many bytes, so a host built against an older
// header keeps working when fields are appended.
template <class T> size_t first_released_size();
#define SWU_ABI_TYPE(T)
#define SWU_ABI_FIELD(T, f)
#define SWU_ABI_CONST(c)
#define SWU_ABI_SIZES(T, last)                                                                     \
    template <> inline size_t first_released_size<T>() {                                           \
        const size_t end = offsetof(T, last) + sizeof(static_cast<T*>(nullptr)->last);             \
        return (end + alignof(T) - 1) / alignof(T) * alignof(T);                                    \
    }
#include "api/abi_table.inc"
#undef SWU_ABI_TYPE
#undef SWU_ABI_FIELD
#undef SWU_ABI_CONST
#undef SWU_ABI_SIZES

// Refuses a struct_size outside [first, current], naming both ends.
void check_struct_size(uint32_t struct_size, size_t first, size_t current, const char* what);

template <class T> void require_struct(const T& s, const char* what) {
    check_struct_size(s.struct_size, first_released_size<T>(), sizeof(T), what);
}

// *_init_size: T's defaults (fill sets them on a zeroed T) written as the caller's first
// struct_size bytes, struct_size included.
template <class T, class Fill> void init_struct(T* out, uint32_t struct_size, const char* what, Fill&& fill) {
    require(out, what);
    check_struct_size(struct_size, first_released_size<T>(), sizeof(T), what);
    T v;
    std::memset(static_cast<void*>(&v), 0, sizeof v);
    fill(v);
    v.struct_size = struct_size;
    std::memcpy(static_cast<void*>(out), &v, struct_size);
}

// An input struct as this library reads it: the caller's struct_size bytes over the
// defaults of its *_init_size() (fields the caller's header did not have keep them).
template <class T> T read_struct(const T* in, swu_status (*init_size)(T*, uint32_t), const char* what) {
    require(in, what);
    require_struct(*in, what);
    T v;
    init_size(&v, static_cast<uint32_t>(sizeof v));
    std::memcpy(static_cast<void*>(&v), in, in->struct_size);
    v.struct_size = sizeof(T);
    return v;
}

// An output struct: checks the caller's struct_size and returns a zeroed T to fill; then
// write_struct() copies it back, only the caller's struct_size bytes (nothing is written
// when the call fails in between).
template <class T> T output_struct(const T* out, const char* what) {
    require(out, what);
    require_struct(*out, what);
    T v;
    std::memset(static_cast<void*>(&v), 0, sizeof v);
    v.struct_size = out->struct_size;
    return v;
}
template <class T> void write_struct(T* out, const T& v) { std::memcpy(static_cast<void*>(out), &v, out->struct_size); }

}  // namespace swu
