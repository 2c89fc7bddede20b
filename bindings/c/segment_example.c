/* segment_example WEIGHTS.pt CT_IN LABELS_OUT — the whole C API in one small host:
 * load the backends, create a model, read a CT, segment it, write the labels, print
 * how many voxels got each label, free everything. Exit status 0 on success. */
#include <stdint.h>
#include <stdio.h>

#include "swinunetr/swinunetr.h"

/* Every call returns a swu_status; swu_last_error() says why it failed. */
#define TRY(call)                                                                       \
    do {                                                                                \
        swu_status st_ = (call);                                                        \
        if (st_ != SWU_OK) {                                                            \
            fprintf(stderr, "%s: %s (%s)\n", #call, swu_last_error(), swu_status_string(st_)); \
            goto done;                                                                  \
        }                                                                               \
    } while (0)

int main(int argc, char** argv) {
    swu_model* model = NULL;
    swu_volume *ct = NULL, *labels = NULL;
    swu_model_params mp;
    swu_infer_params ip;
    swu_volume_info li;
    size_t loaded = 0;
    int64_t counts[256] = {0}, i, j, k;
    int c, rc = 1;

    if (argc != 4) {
        fprintf(stderr, "usage: segment_example WEIGHTS.pt CT_IN LABELS_OUT\n");
        return 2;
    }
    if (swu_abi_version() != SWU_ABI_VERSION) {
        fprintf(stderr, "libswinunetr has ABI %u, this program was built for %u\n",
                (unsigned)swu_abi_version(), (unsigned)SWU_ABI_VERSION);
        return 1;
    }
    TRY(swu_backends_load(NULL, &loaded)); /* SWU_BACKEND_PATH, install dir, next to the library */
    TRY(swu_model_params_init(&mp));       /* backend "auto", device "cpu" */
    mp.threads = 2;
    TRY(swu_model_create(&mp, &model));
    TRY(swu_model_load_weights(model, argv[1]));
    TRY(swu_volume_read(argv[2], &ct));     /* NIfTI, NRRD, MetaImage or a DICOM folder */
    TRY(swu_infer_params_init(&ip));       /* the bundle's inference.json */
    TRY(swu_infer(model, ct, &ip, &labels)); /* uint8 labels 0..13 in the CT's geometry */
    TRY(swu_volume_write(labels, argv[3]));

    li.struct_size = sizeof li;
    TRY(swu_volume_get_info(labels, &li));
    for (k = 0; k < li.size[2]; ++k)
        for (j = 0; j < li.size[1]; ++j)
            for (i = 0; i < li.size[0]; ++i)
                ++counts[((const uint8_t*)li.data)[i * li.strides[0] + j * li.strides[1] + k * li.strides[2]]];
    printf("%zu backend(s) loaded; labels %lld x %lld x %lld\n", loaded, (long long)li.size[0],
           (long long)li.size[1], (long long)li.size[2]);
    for (c = 0; c < 256; ++c)
        if (counts[c]) printf("label %d: %lld voxels\n", c, (long long)counts[c]);
    rc = 0;
done:
    swu_volume_free(labels);
    swu_volume_free(ct);
    swu_model_free(model);
    return rc;
}
