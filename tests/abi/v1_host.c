/* A host as a vendor builds it: compiled against tests/abi/v1/swinunetr/swinunetr.h, a
 * frozen copy of the first released header (ABI 1, library 0.1.0), never edited. ctest
 * runs this one binary against today's library and against a test build whose
 * swu_infer_params and swu_model_info have gained a field (tests/CMakeLists.txt): both
 * must accept this host's struct sizes, write nothing past them, and refuse sizes beyond
 * the library's own with a message naming both. Exit 0 when every check passes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <swinunetr/swinunetr.h>

static int failures = 0;

#define CHECK(cond, ...)                                     \
    do {                                                     \
        if (!(cond)) {                                       \
            fprintf(stderr, "FAILED %s:%d: ", __FILE__, __LINE__); \
            fprintf(stderr, __VA_ARGS__);                    \
            fprintf(stderr, " [%s]\n", swu_last_error());    \
            ++failures;                                      \
        }                                                    \
    } while (0)

/* An output struct of `size` bytes followed by 64 canary bytes the library must not touch. */
static unsigned char* guarded(size_t size) {
    unsigned char* p = (unsigned char*)malloc(size + 64);
    if (!p) exit(2);
    memset(p, 0xA5, size + 64);
    memcpy(p, &(uint32_t){(uint32_t)size}, sizeof(uint32_t)); /* struct_size */
    return p;
}
static int canary_intact(const unsigned char* p, size_t size) {
    for (size_t i = size; i < size + 64; ++i)
        if (p[i] != 0xA5) return 0;
    return 1;
}

int main(void) {
    CHECK(swu_abi_version() == SWU_ABI_VERSION, "library ABI %u, header ABI %u", (unsigned)swu_abi_version(),
          (unsigned)SWU_ABI_VERSION);

    /* Input struct at this header's size: a small f12 network with fresh weights. */
    swu_model_params mp;
    swu_model_params_init(&mp);
    mp.threads = 2;
    mp.in_channels = 1;
    mp.out_channels = 14;
    mp.feature_size = 12;
    for (int i = 0; i < 4; ++i) {
        mp.depths[i] = 2;
        mp.num_heads[i] = 3 << i;
    }
    swu_model* model = NULL;
    CHECK(swu_model_create(&mp, &model) == SWU_OK, "swu_model_create with this header's swu_model_params");
    if (!model) return 1;
    CHECK(swu_model_init_weights(model, 7) == SWU_OK, "swu_model_init_weights");

    /* Output struct at this header's size: filled, nothing written past it. */
    unsigned char* raw = guarded(sizeof(swu_model_info));
    swu_model_info* mi = (swu_model_info*)raw;
    CHECK(swu_model_get_info(model, mi) == SWU_OK, "swu_model_get_info");
    CHECK(mi->struct_size == sizeof(swu_model_info), "struct_size kept (%u)", (unsigned)mi->struct_size);
    CHECK(mi->feature_size == 12 && mi->out_channels == 14 && mi->weights_loaded == 1 && mi->parameter_count > 0,
          "model info fields (feature %d, out %d)", mi->feature_size, mi->out_channels);
    CHECK(canary_intact(raw, sizeof(swu_model_info)), "swu_model_get_info wrote past the host's struct_size");

    /* A host struct larger than the library knows: refused, both sizes named, nothing written. */
    memset(raw, 0xA5, sizeof(swu_model_info) + 64);
    mi->struct_size = (uint32_t)sizeof(swu_model_info) + 64;
    CHECK(swu_model_get_info(model, mi) == SWU_ERR_INVALID_ARGUMENT, "a too-large swu_model_info is refused");
    CHECK(strstr(swu_last_error(), "newer swinunetr.h") != NULL, "the message says why");
    CHECK(mi->threads == (int32_t)0xA5A5A5A5, "a refused call wrote into the struct");
    mi->struct_size = 2;
    CHECK(swu_model_get_info(model, mi) == SWU_ERR_INVALID_ARGUMENT, "a too-small swu_model_info is refused");
    free(raw);

    /* A whole segmentation through this header's swu_volume_desc and swu_infer_params. */
    enum { S = 32 };
    int16_t* ct = (int16_t*)malloc(sizeof(int16_t) * S * S * S);
    if (!ct) return 2;
    for (int i = 0; i < S * S * S; ++i) ct[i] = (int16_t)((i * 37) % 400 - 100);
    swu_volume_desc d;
    swu_volume_desc_init(&d);
    d.type = SWU_VOXEL_INT16;
    d.data = ct;
    d.size[0] = d.size[1] = d.size[2] = S;
    d.spacing[0] = d.spacing[1] = 1.5;
    d.spacing[2] = 2.0;
    swu_volume* image = NULL;
    CHECK(swu_volume_wrap(&d, &image) == SWU_OK, "swu_volume_wrap");

    swu_infer_params ip;
    swu_infer_params_init(&ip);
    ip.roi = 32;
    ip.sw_batch = 1;
    swu_volume* labels = NULL;
    CHECK(image && swu_infer(model, image, &ip, &labels) == SWU_OK, "swu_infer with this header's swu_infer_params");
    if (labels) {
        unsigned char* vraw = guarded(sizeof(swu_volume_info));
        swu_volume_info* vi = (swu_volume_info*)vraw;
        CHECK(swu_volume_get_info(labels, vi) == SWU_OK, "swu_volume_get_info");
        CHECK(vi->type == SWU_VOXEL_UINT8 && vi->size[0] > 0, "label map info");
        CHECK(canary_intact(vraw, sizeof(swu_volume_info)), "swu_volume_get_info wrote past the host's struct_size");
        free(vraw);
    }
    swu_volume_free(labels);

    ip.struct_size = (uint32_t)sizeof(swu_infer_params) + 64; /* past any later release too */
    labels = NULL;
    CHECK(swu_infer(model, image, &ip, &labels) == SWU_ERR_INVALID_ARGUMENT && labels == NULL,
          "a too-large swu_infer_params is refused");
    CHECK(strstr(swu_last_error(), "swu_infer_params.struct_size") != NULL, "the message names the struct");
    swu_volume_free(labels);

    /* The backend table, at this header's size. */
    size_t n = 0;
    CHECK(swu_backend_count(&n) == SWU_OK && n > 0, "swu_backend_count");
    unsigned char* braw = guarded(sizeof(swu_backend_info));
    CHECK(swu_backend_get_info(0, (swu_backend_info*)braw) == SWU_OK, "swu_backend_get_info");
    CHECK(canary_intact(braw, sizeof(swu_backend_info)), "swu_backend_get_info wrote past the host's struct_size");
    free(braw);

    /* The model is still usable after the refusals. */
    ip.struct_size = sizeof(swu_infer_params);
    CHECK(swu_infer(model, image, &ip, &labels) == SWU_OK, "swu_infer after the refusals");
    swu_volume_free(labels);
    swu_volume_free(image);
    free(ct);
    swu_model_free(model);

    if (failures) fprintf(stderr, "%d checks failed\n", failures);
    else printf("a host built against the ABI 1 header (0.1.0) runs against library %s\n", swu_version_string());
    return failures ? 1 : 0;
}
