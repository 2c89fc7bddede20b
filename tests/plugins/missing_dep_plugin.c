/* A plugin whose dependency (libswu_test_fakedep.so) is not on the loader's path. */
#include <stddef.h>

#include "swinunetr/backend.h"

int swu_test_fakedep_value(void);

__attribute__((visibility("default"))) const swu_backend_vtable* swu_backend_entry(void) {
    static swu_backend_vtable table;
    return swu_test_fakedep_value() ? &table : NULL;
}
