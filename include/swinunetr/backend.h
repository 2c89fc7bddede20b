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

#include <stddef.h>

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

/** Optimiser and training options (Adam as torch.optim.Adam, PyTorch 1.13 single-tensor). */
typedef struct swu_backend_train_config {
    uint32_t struct_size;
    double learning_rate;       /* 2e-4 in the bundle */
    double beta1, beta2;        /* 0.9, 0.999 */
    double eps;                 /* 1e-8 */
    double weight_decay;        /* 0 */
    int32_t amp;                /* 1: autocast fp16 + gradient scaling (CUDA only) */
    int32_t checkpointing;      /* 1: recompute activations in backward (less memory, same values) */
    int32_t reset_state;        /* 1: drop the Adam moments and the step count */
    /* Plugins whose table has the distributed entries read this field (when struct_size
     * covers it; 0 counts as 1). */
    int32_t micro_batches;      /* k >= 1: train_step splits its batch into k equal parts, sums their
                                   gradients over k backward passes and divides by k before the
                                   update (gradient accumulation; what k-rank data parallelism computes) */
} swu_backend_train_config;

/** Loss of one step: total = dice + ce (DiceCELoss of the bundle). */
typedef struct swu_backend_loss {
    double total, dice, ce;
    int32_t skipped;            /* 1 when AMP found non-finite gradients and skipped the update */
} swu_backend_loss;

/** Tensor sets for export_tensors. */
#define SWU_BACKEND_TENSORS_WEIGHTS 0
#define SWU_BACKEND_TENSORS_GRADIENTS 1
#define SWU_BACKEND_TENSORS_OPTIMIZER 2
typedef void (*swu_backend_tensor_sink)(const swu_backend_tensor* tensor, void* user_data);

/**
 * The window layout for sliding_window, computed and checked by the core (MONAI's
 * SlidingWindowInferer: lib/pipeline/sliding_window.cpp is its one definition). The
 * image is padded with 0 to `padded`, `pad_before` voxels before it on each axis; a
 * window is roi^3 voxels of the padded image starting at (starts[0][i], starts[1][j],
 * starts[2][k]), for every i, j, k. Guarantees: roi >= 1, sw_batch >= 1, padded[a] >=
 * max(size[a], roi), 0 <= pad_before[a] <= padded[a] - size[a], start_count[a] >= 1,
 * starts[a] ascending within [0, padded[a] - roi] and covering the padded axis, and
 * every value of importance_map > 0. All pointers are valid only during the call.
 */
typedef struct swu_backend_window_params {
    uint32_t struct_size;
    int32_t roi;                  /* window edge in voxels (96) */
    int32_t sw_batch;             /* windows per network pass (4) */
    int64_t padded[3];            /* extent of the padded image, voxels per axis */
    int64_t pad_before[3];        /* zeros before the image on each axis */
    const int64_t* starts[3];     /* window start positions per axis, padded coordinates */
    size_t start_count[3];        /* entries of starts[a] */
    const float* importance_map;  /* roi^3 float32 C order: the weight of each window voxel */
} swu_backend_window_params;

/** Progress of sliding_window: `done` of `total` windows computed. Returns 0 to cancel. */
typedef int32_t (*swu_backend_progress_fn)(int64_t done, int64_t total, void* user_data);

/** Whether the running call should stop (set_interrupt): non-zero to cancel. */
typedef int32_t (*swu_backend_interrupt_fn)(void* user_data);

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
     *  "auto" picks the highest score for inference when the model is created (onednn
     *  scores 20 on the CPU, torch 10: the faster one there). Training on an "auto" model
     *  goes to the highest-scoring backend with SWU_CAP_TRAIN: swu_model_train_configure
     *  moves the weights there first, through the inference backend's export_tensors. */
    int32_t (*score)(const char* device, int32_t precision);

    swu_status (*create)(const swu_backend_create_params* params, void** instance, char* err, size_t err_size);
    void (*destroy)(void* instance);
    /** Replaces all weights (every key of the network, validated by the core). */
    swu_status (*load_weights)(void* instance, const swu_backend_tensor* tensors, size_t count, char* err,
                               size_t err_size);
    /** input {N, C, D, H, W} float32. Fills every tap (one of them may be "logits"). */
    swu_status (*forward)(void* instance, const float* input, const int64_t shape[5], swu_backend_tap* taps,
                          size_t tap_count, char* err, size_t err_size);

    /* ---- Training (SWU_CAP_TRAIN). A plugin without it may end the table above:
     *      the core reads these fields only when struct_size covers them. ---- */

    /** Sets (or changes) the optimiser and the training options; keeps the Adam
     *  moments of an earlier configuration unless `reset_state` is set. */
    swu_status (*train_configure)(void* instance, const swu_backend_train_config* config, char* err, size_t err_size);
    /** One optimisation step on a batch: forward, DiceCE loss, backward, Adam update.
     *  input {N, C, D, H, W} float32; labels {N, 1, D, H, W} class indices (checked
     *  by the core to lie below out_channels). Gradients stay available until the
     *  next step (export_tensors with SWU_BACKEND_TENSORS_GRADIENTS). */
    swu_status (*train_step)(void* instance, const float* input, const int64_t shape[5], const uint8_t* labels,
                             swu_backend_loss* loss, char* err, size_t err_size);
    /** Hands every tensor of one set to `sink`, in no particular order; each tensor is
     *  valid only during its sink call. Weights: every key load_weights took (float32
     *  parameters, int64 index buffers); a plugin without SWU_CAP_TRAIN may fill this
     *  entry for the weights alone (the others are then SWU_ERR_UNSUPPORTED). Gradients: "<key>" of the last step.
     *  Optimiser: "exp_avg.<key>", "exp_avg_sq.<key>" and "step" (int64, shape {1}). */
    swu_status (*export_tensors)(void* instance, int32_t set, swu_backend_tensor_sink sink, void* user_data,
                                 char* err, size_t err_size);
    /** Restores an optimiser state in the format export_tensors wrote (for resume). */
    swu_status (*import_optimizer)(void* instance, const swu_backend_tensor* tensors, size_t count, char* err,
                                   size_t err_size);

    /* ---- Distributed data-parallel training (SWU_CAP_TRAIN plus c10d). A plugin without
     *      it may end the table above: the core reads these fields only when struct_size
     *      covers them, and refuses a distributed run otherwise. ---- */

    /** Joins the process group of `world_size` processes (this one is `rank`, 0-based):
     *  rendezvous through a TCP store that rank 0 serves at master_addr:master_port, Gloo
     *  on the CPU, NCCL on CUDA. Then broadcasts rank 0's weights to every rank. From then
     *  on train_step averages the gradients over the ranks before the update. Collectives
     *  and the rendezvous give up after `timeout_seconds` (> 0); an unreachable master is
     *  SWU_ERR_IO. The instance keeps the group until it is destroyed (a second call is
     *  SWU_ERR_INVALID_ARGUMENT). The core calls it after train_configure, on every rank. */
    swu_status (*dist_init)(void* instance, int32_t rank, int32_t world_size, const char* master_addr,
                            int32_t master_port, double timeout_seconds, char* err, size_t err_size);
    /** Replaces values[0..count) by their sum over the ranks of the group (float64). */
    swu_status (*all_reduce_sum)(void* instance, double* values, size_t count, char* err, size_t err_size);

    /* ---- Sliding-window stitching on the backend's device (optional; NULL or a table
     *      that ends above: the core stitches on the host, window by window). ---- */

    /** Stitches the windows of `params` over a whole network-grid image with the padded
     *  image, the windows, the weighted sum and the count map on the instance's device;
     *  only the result crosses to the host. image {X, Y, Z} float32 C order (in_channels
     *  1, finite values), size its extent. The plugin pads the image as `params` says,
     *  runs the windows sw_batch at a time in C order of their starts (last axis
     *  fastest), adds sum += logits * importance_map and count += importance_map over
     *  each window, then writes softmax over the channels of sum / count, cut back to
     *  size, as {out_channels, X, Y, Z} float32 C order into `probabilities` (capacity in
     *  floats, checked by the core). Calls `progress` (when not NULL) with (0, total
     *  windows) before the first window and after every batch; a 0 from it stops the call
     *  with SWU_ERR_CANCELLED and nothing written. */
    swu_status (*sliding_window)(void* instance, const float* image, const int64_t size[3],
                                 const swu_backend_window_params* params, float* probabilities, size_t capacity,
                                 swu_backend_progress_fn progress, void* progress_user_data, char* err,
                                 size_t err_size);

    /* ---- Interrupting a running call (optional; NULL or a table that ends above: the core
     *      then cancels only between network calls, i.e. between batches of windows). ---- */

    /** Sets the function that forward and sliding_window call while they run, on the
     *  thread that called them, at least every 0.1 s of the network's work or so (between
     *  its blocks and layers, or while waiting for the plugin's own threads). When it
     *  returns non-zero the call stops at the next such point with SWU_ERR_CANCELLED, its
     *  outputs unspecified and the instance as usable as before. NULL clears it. The core
     *  sets it before such a call and clears it after; a plugin keeps it per instance. */
    void (*set_interrupt)(void* instance, swu_backend_interrupt_fn interrupted, void* user_data);
} swu_backend_vtable;

/** struct_size of a table that ends with `forward` (inference only). */
#define SWU_BACKEND_VTABLE_INFER_SIZE (offsetof(swu_backend_vtable, train_configure))
/** struct_size of a table that ends with `import_optimizer` (training, single process). */
#define SWU_BACKEND_VTABLE_TRAIN_SIZE (offsetof(swu_backend_vtable, dist_init))
/** struct_size of a table that ends with `all_reduce_sum` (distributed training, no
 *  sliding_window). */
#define SWU_BACKEND_VTABLE_DIST_SIZE (offsetof(swu_backend_vtable, sliding_window))
/** struct_size of a table that has `sliding_window`. */
#define SWU_BACKEND_VTABLE_WINDOW_SIZE (offsetof(swu_backend_vtable, sliding_window) + sizeof(void (*)(void)))
/** struct_size of a table that has `set_interrupt`. */
#define SWU_BACKEND_VTABLE_INTERRUPT_SIZE (offsetof(swu_backend_vtable, set_interrupt) + sizeof(void (*)(void)))
/** sizeof(swu_backend_train_config) before micro_batches. */
#define SWU_BACKEND_TRAIN_CONFIG_V1_SIZE (offsetof(swu_backend_train_config, micro_batches))

typedef const swu_backend_vtable* (*swu_backend_entry_fn)(void);

#define SWU_BACKEND_ENTRY_SYMBOL "swu_backend_entry"

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SWINUNETR_BACKEND_H */
