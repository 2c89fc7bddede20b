/* The header as a C compiler lays it out must match the library's own table
 * (swu_abi_layout): every type's size, every field's offset and size, every constant.
 * The same check every binding runs against its own declarations. Exit 0 = pass. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "swinunetr/swinunetr.h"

static int failures = 0, checked = 0;

static void expect(const char* name, long long value, long long size) {
    int64_t lib_value = -1, lib_size = -1;
    ++checked;
    if (swu_abi_lookup(name, &lib_value, &lib_size) != SWU_OK) {
        fprintf(stderr, "%s: %s\n", name, swu_last_error());
        ++failures;
    } else if (lib_value != value || lib_size != size) {
        fprintf(stderr, "%s: header says %lld (size %lld), library says %lld (size %lld)\n", name, value, size,
                (long long)lib_value, (long long)lib_size);
        ++failures;
    }
}

int main(void) {
    const swu_abi_entry* entries = NULL;
    size_t count = 0;
    int64_t v;

    if (swu_abi_version() != SWU_ABI_VERSION) {
        fprintf(stderr, "library ABI %u, header ABI %u\n", (unsigned)swu_abi_version(), (unsigned)SWU_ABI_VERSION);
        return 1;
    }
#define SWU_ABI_TYPE(T) expect(#T, (long long)sizeof(T), (long long)sizeof(T));
#define SWU_ABI_FIELD(T, f) expect(#T "." #f, (long long)offsetof(T, f), (long long)sizeof(((T*)0)->f));
#define SWU_ABI_CONST(c) expect(#c, (long long)(c), 4);
#define SWU_ABI_SIZES(T, last)
#include "api/abi_table.inc"

    if (swu_abi_layout(&entries, &count) != SWU_OK || (int)count != checked) {
        fprintf(stderr, "swu_abi_layout lists %zu entries, the header %d\n", count, checked);
        ++failures;
    }
    if (swu_abi_lookup("swu_model_params.no_such_field", &v, NULL) != SWU_ERR_INVALID_ARGUMENT ||
        strstr(swu_last_error(), "no_such_field") == NULL) {
        fprintf(stderr, "an unknown name must fail and be named: %s\n", swu_last_error());
        ++failures;
    }
    if (failures) fprintf(stderr, "%d of %d ABI entries differ\n", failures, checked);
    else printf("ABI %u: %d entries agree\n", (unsigned)SWU_ABI_VERSION, checked);
    return failures ? 1 : 0;
}
