/* Links against the installed libswinunetr and finds the installed backends. */
#include <stdio.h>

#include <swinunetr/swinunetr.h>

int main(void) {
    size_t count = 0, i;
    int loaded = 0;
    if (swu_abi_version() != SWU_ABI_VERSION) {
        fprintf(stderr, "ABI mismatch: header %d, library %u\n", SWU_ABI_VERSION, swu_abi_version());
        return 1;
    }
    if (swu_backends_load(NULL, NULL) != SWU_OK || swu_backend_count(&count) != SWU_OK) {
        fprintf(stderr, "backend discovery failed: %s\n", swu_last_error());
        return 1;
    }
    for (i = 0; i < count; ++i) {
        swu_backend_info b;
        b.struct_size = sizeof b;
        if (swu_backend_get_info(i, &b) == SWU_OK && b.loaded) {
            printf("backend %s at %s\n", b.name, b.path);
            ++loaded;
        }
    }
    printf("swinunetr %s: %d backend(s) usable\n", swu_version_string(), loaded);
    return loaded > 0 ? 0 : 1;
}
