/*
 * backend.h — the plugin ABI between libswinunetr and its backends.
 *
 * Only backend authors need this header. A backend is a shared library named
 * libswinunetr_<name>.so (a CMake MODULE) that exports exactly one symbol,
 *
 *     const swu_backend_vtable* swu_backend_entry(void);
 *
 * returning a pointer to a static table whose first field is SWU_BACKEND_ABI_VERSION.
 * The core opens plugins with RTLD_LOCAL (their engine's symbols stay private),
 * calls swu_backend_entry, and refuses a table with another abi_version. It never
 * unloads a plugin.
 *
 * Division of labour: the core checks every argument (shapes, buffer sizes, finite
 * inputs), parses checkpoints and validates weights against the network layout, and
 * serialises calls per model. A backend only computes the network. Every function
 * returns a swu_status and, on failure, writes a NUL-terminated message into
 * `err` (capacity `err_size`, always >= 256). No C++ exception may escape a plugin.
 */
#ifndef SWINUNETR_BACKEND_H
#define SWINUNETR_BACKEND_H

#include "swinunetr/swinunetr.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Bumped on any incompatible change to the structs or functions below. */
#define SWU_BACKEND_ABI_VERSION 1

/** The network a backend instance computes (all fields resolved, none 0). */
typedef struct swu_backend_network {
    int32_t in_channels;
    int32_t out_channels;
    int32_t feature_size;
    int32_t depths[4];
    int32_t num_heads[4];
    int32_t window_size;        /* 7 */
    int32_t patch_size;         /* 2 */
    int32_t mlp_ratio;          /* 4 */
    int32_t merging;            /* swu_merging */
} swu_backend_network;

typedef struct swu_backend_create_params {
    uint32_t struct_size;
    const char* device;         /* "cpu", "cuda:N" */
    int32_t threads;            /* >= 1 */
    int32_t precision;          /* swu_precision */
    swu_backend_network network;
} swu_backend_create_params;

/**
 * A weight as handed over by the core: float32 for every floating point entry,
 * int64 for the relative_position_index buffers (values already checked to lie in
 * [0, (2*window-1)^3)). Dense C order; valid only during the call.
 */
typedef struct swu_backend_tensor {
    const char* name;
    int32_t dtype;              /* swu_dtype: SWU_DTYPE_FLOAT32 or SWU_DTYPE_INT64 */
    int32_t ndim;
    int64_t shape[8];
    const void* data;
} swu_backend_tensor;

/** An intermediate output request; the core has checked the name, computed the
 *  shape and made sure `data` holds the full tensor. */
typedef struct swu_backend_tap {
    const char* name;
    float* data;
    int64_t shape[5];
} swu_backend_tap;

typedef struct swu_backend_device {
    char name[64];              /* "cpu", "cuda:0" */
    char description[192];
    uint64_t memory_bytes;
} swu_backend_device;

typedef struct swu_backend_vtable {
    uint32_t abi_version;       /* SWU_BACKEND_ABI_VERSION — must stay the first field */
    uint32_t struct_size;       /* sizeof(swu_backend_vtable) of the plugin */
    const char* name;           /* "torch" */
    const char* version;        /* free text: plugin and engine versions */
    uint32_t capabilities;      /* SWU_CAP_* */

    /** Number of devices; fills *count. */
    swu_status (*device_count)(int32_t* count, char* err, size_t err_size);
    swu_status (*device_info)(int32_t index, swu_backend_device* out, char* err, size_t err_size);
    /** How well this backend serves device + precision: 0 = cannot, higher = better.
     *  "auto" picks the highest score. */
    int32_t (*score)(const char* device, int32_t precision);

    swu_status (*create)(const swu_backend_create_params* params, void** instance, char* err, size_t err_size);
    void (*destroy)(void* instance);
    /** Replaces all weights (every key of the network, validated by the core). */
    swu_status (*load_weights)(void* instance, const swu_backend_tensor* tensors, size_t count, char* err,
                               size_t err_size);
    /** input {N, C, D, H, W} float32. Fills every tap (one of them may be "logits"). */
    swu_status (*forward)(void* instance, const float* input, const int64_t shape[5], swu_backend_tap* taps,
                          size_t tap_count, char* err, size_t err_size);
} swu_backend_vtable;

typedef const swu_backend_vtable* (*swu_backend_entry_fn)(void);

#define SWU_BACKEND_ENTRY_SYMBOL "swu_backend_entry"

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SWINUNETR_BACKEND_H */
