/* A plugin that loads and runs but misbehaves on request, to show that the core
 * survives whatever a backend returns. The environment variable SWU_TEST_MISBEHAVE,
 * read at every call, picks the fault:
 *   create_garbage      create returns status 12345
 *   create_null         create returns SWU_OK without an instance
 *   load_busy           load_weights returns SWU_ERR_BUSY (not a backend's status)
 *   forward_garbage     forward returns status -7
 *   forward_unterminated forward fills the whole message buffer without a NUL
 *   forward_empty       forward fails with an empty message
 *   export_ndim         export_tensors hands over a tensor with 99 axes
 *   export_huge         ... one of 2^40 x 2^40 elements
 *   export_null         ... one of 4 elements without data
 *   export_shape        ... the patch embedding's weight in a wrong shape
 * It "trains" (configure and import succeed, a step fails) so that its export_tensors
 * is reachable through swu_model_export_tensors; unasked, it exports nothing.
 * Unset: it behaves, and forward writes zero logits. Its score is 1, below every real
 * backend, so "auto" never picks it. */
#include <stdlib.h>
#include <string.h>

#include "swinunetr/backend.h"

static int fault(const char* name) {
    const char* f = getenv("SWU_TEST_MISBEHAVE");
    return f && strcmp(f, name) == 0;
}

static void say(char* err, size_t err_size, const char* text) {
    strncpy(err, text, err_size - 1);
    err[err_size - 1] = 0;
}

static swu_status device_count(int32_t* count, char* err, size_t err_size) {
    (void)err;
    (void)err_size;
    *count = 1;
    return SWU_OK;
}

static swu_status device_info(int32_t index, swu_backend_device* out, char* err, size_t err_size) {
    (void)index;
    (void)err;
    (void)err_size;
    memset(out, 'x', sizeof *out); /* no NUL anywhere: the core must terminate the strings */
    out->memory_bytes = 0;
    return SWU_OK;
}

static int32_t score(const char* device, int32_t precision) {
    return strcmp(device, "cpu") == 0 && precision == SWU_PRECISION_FP32 ? 1 : 0;
}

static int instance_token;

static swu_status create(const swu_backend_create_params* params, void** instance, char* err, size_t err_size) {
    (void)params;
    if (fault("create_garbage")) {
        say(err, err_size, "garbage status from create");
        return (swu_status)12345;
    }
    if (fault("create_null")) return SWU_OK;
    *instance = &instance_token;
    return SWU_OK;
}

static void destroy(void* instance) { (void)instance; }

static swu_status load_weights(void* instance, const swu_backend_tensor* tensors, size_t count, char* err,
                               size_t err_size) {
    (void)instance;
    (void)tensors;
    (void)count;
    if (fault("load_busy")) {
        say(err, err_size, "pretends to be busy");
        return SWU_ERR_BUSY;
    }
    return SWU_OK;
}

static swu_status forward(void* instance, const float* input, const int64_t shape[5], swu_backend_tap* taps,
                          size_t tap_count, char* err, size_t err_size) {
    (void)instance;
    (void)input;
    (void)shape;
    if (fault("forward_garbage")) {
        say(err, err_size, "garbage status from forward");
        return (swu_status)-7;
    }
    if (fault("forward_unterminated")) {
        memset(err, 'E', err_size);
        return SWU_ERR_BACKEND;
    }
    if (fault("forward_empty")) {
        err[0] = 0;
        return SWU_ERR_INTERNAL;
    }
    for (size_t t = 0; t < tap_count; ++t) {
        const int64_t* s = taps[t].shape;
        memset(taps[t].data, 0, (size_t)(s[0] * s[1] * s[2] * s[3] * s[4]) * sizeof(float));
    }
    return SWU_OK;
}

static swu_status train_configure(void* instance, const swu_backend_train_config* config, char* err, size_t err_size) {
    (void)instance;
    (void)config;
    (void)err;
    (void)err_size;
    return SWU_OK;
}

static swu_status train_step(void* instance, const float* input, const int64_t shape[5], const uint8_t* labels,
                             swu_backend_loss* loss, char* err, size_t err_size) {
    (void)instance;
    (void)input;
    (void)shape;
    (void)labels;
    (void)loss;
    say(err, err_size, "the misbehaving plugin does not train");
    return SWU_ERR_UNSUPPORTED;
}

static swu_status export_tensors(void* instance, int32_t set, swu_backend_tensor_sink sink, void* user_data, char* err,
                                 size_t err_size) {
    static const float data[4] = {0, 0, 0, 0};
    swu_backend_tensor t;
    (void)instance;
    (void)set;
    (void)err;
    (void)err_size;
    memset(&t, 0, sizeof t);
    t.name = "swinViT.patch_embed.proj.weight";
    t.dtype = SWU_DTYPE_FLOAT32;
    t.data = data;
    t.ndim = 1;
    t.shape[0] = 4;
    if (fault("export_ndim")) t.ndim = 99;
    else if (fault("export_huge")) {
        t.ndim = 2;
        t.shape[0] = t.shape[1] = (int64_t)1 << 40;
    } else if (fault("export_null")) t.data = 0;
    else if (!fault("export_shape")) return SWU_OK;
    sink(&t, user_data);
    return SWU_OK;
}

static swu_status import_optimizer(void* instance, const swu_backend_tensor* tensors, size_t count, char* err,
                                   size_t err_size) {
    (void)instance;
    (void)tensors;
    (void)count;
    (void)err;
    (void)err_size;
    return SWU_OK;
}

static swu_backend_vtable table = {SWU_BACKEND_ABI_VERSION, sizeof(swu_backend_vtable), "misbehaving", "test",
                                   SWU_CAP_INFER | SWU_CAP_FP32 | SWU_CAP_TRAIN, device_count, device_info, score,
                                   create, destroy, load_weights, forward, train_configure, train_step, export_tensors,
                                   import_optimizer, 0, 0 /* no dist */, 0 /* no sliding_window */,
                                   0 /* no set_interrupt */};

__attribute__((visibility("default"))) const swu_backend_vtable* swu_backend_entry(void) { return &table; }
