/* A plugin built for another plugin ABI: the core must list it as failed and go on. */
#include "swinunetr/backend.h"

static swu_backend_vtable table = {SWU_BACKEND_ABI_VERSION + 998, sizeof(swu_backend_vtable), "wrongabi", "test", 0,
                                   0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};

__attribute__((visibility("default"))) const swu_backend_vtable* swu_backend_entry(void) { return &table; }
