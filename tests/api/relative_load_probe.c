/* Opens libswinunetr.so by a relative name, changes the working directory, and then
 * lets the library run its default plugin search:
 *   relative_load_probe <relative path of libswinunetr.so> <folder to change into>
 * Prints one line per registry entry: "<loaded 0/1> <path>". test_backends.cpp plants
 * a plugin under <folder>/swinunetr/backends and checks it is never looked at. */
#include <dlfcn.h>
#include <stdio.h>
#include <unistd.h>

#include "swinunetr/swinunetr.h"

int main(int argc, char** argv) {
    void* lib;
    swu_status (*load)(const char*, size_t*);
    swu_status (*count)(size_t*);
    swu_status (*get_info)(size_t, swu_backend_info*);
    size_t n = 0, i;
    if (argc != 3) {
        fprintf(stderr, "usage: relative_load_probe <relative library path> <folder>\n");
        return 2;
    }
    lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return 1;
    }
    if (chdir(argv[2]) != 0) {
        perror("chdir");
        return 1;
    }
    *(void**)&load = dlsym(lib, "swu_backends_load");
    *(void**)&count = dlsym(lib, "swu_backend_count");
    *(void**)&get_info = dlsym(lib, "swu_backend_get_info");
    if (!load || !count || !get_info) return 1;
    load(NULL, NULL);
    count(&n);
    for (i = 0; i < n; ++i) {
        swu_backend_info info;
        info.struct_size = sizeof info;
        if (get_info(i, &info) == SWU_OK) printf("%d %s\n", (int)info.loaded, info.path);
    }
    return 0;
}
