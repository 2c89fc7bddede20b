// The ABI layout table (swu_abi_layout, swu_abi_lookup): every public type, field and
// constant of swinunetr.h as this library was compiled, for bindings to check against.
#include <cstddef>
#include <cstring>
#include <iterator>
#include <string>

#include "api/boundary.hpp"

namespace {

#define SWU_ABI_TYPE(T) {#T, static_cast<int64_t>(sizeof(T)), static_cast<int64_t>(sizeof(T))},
#define SWU_ABI_FIELD(T, f) \
    {#T "." #f, static_cast<int64_t>(offsetof(T, f)), static_cast<int64_t>(sizeof(static_cast<T*>(nullptr)->f))},
#define SWU_ABI_CONST(c) {#c, static_cast<int64_t>(c), 4},
#define SWU_ABI_SIZES(T, last)  // accepted struct sizes: boundary.hpp

const swu_abi_entry kLayout[] = {
#include "api/abi_table.inc"
};

#undef SWU_ABI_TYPE
#undef SWU_ABI_FIELD
#undef SWU_ABI_CONST
#undef SWU_ABI_SIZES

}  // namespace

extern "C" {

SWU_API swu_status swu_abi_layout(const swu_abi_entry** entries, size_t* count) {
    return swu::api_call(__func__, [&] {
        swu::require(entries, "entries");
        swu::require(count, "count");
        *entries = kLayout;
        *count = std::size(kLayout);
    });
}

SWU_API swu_status swu_abi_lookup(const char* name, int64_t* value, int64_t* size) {
    return swu::api_call(__func__, [&] {
        swu::require(name, "name");
        for (const swu_abi_entry& e : kLayout) {
            if (std::strcmp(e.name, name) != 0) continue;
            if (value) *value = e.value;
            if (size) *size = e.size;
            return;
        }
        swu::fail(SWU_ERR_INVALID_ARGUMENT, std::string("unknown ABI entry '") + name + "'");
    });
}

}  // extern "C"
