/* The public header compiled as strict C99, and the C API called from C.
 * argv[1]: a MONAI model.pt (golden net_f12). Exit 0 = pass. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swinunetr/swinunetr.h"

static int failures = 0;
#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "%s:%d: CHECK failed: %s (last error: %s)\n", __FILE__, \
                    __LINE__, #cond, swu_last_error());                          \
            ++failures;                                                          \
        }                                                                        \
    } while (0)

int main(int argc, char** argv) {
    swu_model_params params;
    swu_model* model = NULL;
    swu_model_info info;
    int64_t shape[5] = {1, 1, 32, 32, 32};
    size_t n_in = 32 * 32 * 32, n_out = 14 * 32 * 32 * 32, i;
    float* input;
    float* output;

    if (argc < 2) {
        fprintf(stderr, "usage: test_c99 MODEL.pt\n");
        return 2;
    }
    CHECK(swu_version_number() == SWU_VERSION_NUMBER);
    CHECK(strcmp(swu_version_string(), SWU_VERSION_STRING) == 0);
    CHECK(swu_abi_version() == SWU_ABI_VERSION);
    CHECK(strcmp(swu_status_string(SWU_OK), "ok") == 0);
    CHECK(strcmp(swu_status_string((swu_status)12345), "unknown status") == 0);
    CHECK(sizeof(swu_status) == 4);

    CHECK((swu_model_params_init)(NULL) == SWU_ERR_INVALID_ARGUMENT);
    CHECK(strlen(swu_last_error()) > 0);
    CHECK(swu_model_params_init(&params) == SWU_OK);
    CHECK(swu_last_error()[0] == '\0');
    CHECK(params.struct_size == sizeof params);

    params.backend = "no-such-backend";
    CHECK(swu_model_create(&params, &model) == SWU_ERR_BACKEND);
    CHECK(model == NULL);
    CHECK(strstr(swu_last_error(), "no-such-backend") != NULL);

    params.backend = "torch";
    params.threads = 2;
    CHECK(swu_model_create(&params, &model) == SWU_OK);
    CHECK(swu_model_load_weights(model, argv[1]) == SWU_OK);
    info.struct_size = sizeof info;
    CHECK(swu_model_get_info(model, &info) == SWU_OK);
    CHECK(info.weights_loaded == 1 && info.feature_size == 12 && info.out_channels == 14);

    input = (float*)malloc(n_in * sizeof(float));
    output = (float*)malloc(n_out * sizeof(float));
    for (i = 0; i < n_in; ++i) input[i] = (float)(i % 97) / 97.0f;
    CHECK(swu_model_forward(model, input, shape, output, n_out) == SWU_OK);
    for (i = 0; i < n_out; ++i)
        if (!isfinite(output[i])) {
            CHECK(!"finite logits");
            break;
        }
    CHECK(swu_model_forward(model, input, shape, output, n_out - 1) == SWU_ERR_BUFFER_TOO_SMALL);
    shape[4] = 33;
    CHECK(swu_model_forward(model, input, shape, output, n_out) == SWU_ERR_INVALID_ARGUMENT);

    free(input);
    free(output);
    swu_model_free(model);
    swu_model_free(NULL);
    if (failures) fprintf(stderr, "%d check(s) failed\n", failures);
    else printf("C99 API test passed\n");
    return failures ? 1 : 0;
}
