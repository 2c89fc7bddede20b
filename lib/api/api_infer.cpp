// Whole-volume segmentation.
#include <cstring>
#include <memory>

#include "api/boundary.hpp"
#include "api/model_handle.hpp"
#include "api/volume_handle.hpp"
#include "api/infer_params.hpp"

namespace swu {

swu_infer_params infer_params(const swu_infer_params* params) {
    if (!params) {
        swu_infer_params defaults;
        swu_infer_params_init(&defaults);
        return defaults;
    }
    return read_struct(params, swu_infer_params_init_size, "swu_infer_params");
}

SegmentOptions segment_options(const Model& model, const swu_infer_params& params) {
    const int32_t blend = raw_enum(params.blend), label_type = raw_enum(params.label_type);
    if (blend != SWU_BLEND_CONSTANT && blend != SWU_BLEND_GAUSSIAN)
        fail(SWU_ERR_INVALID_ARGUMENT, "unknown blend mode " + std::to_string(blend));
    if (label_type != SWU_VOXEL_UINT8 && label_type != SWU_VOXEL_FLOAT32)
        fail(SWU_ERR_INVALID_ARGUMENT, "label_type must be SWU_VOXEL_UINT8 or SWU_VOXEL_FLOAT32");
    SegmentOptions o;
    o.preprocess.threads = model.threads();
    o.window.roi = params.roi;
    o.window.overlap = params.overlap;
    o.window.sw_batch = params.sw_batch;
    o.window.blend = blend == SWU_BLEND_GAUSSIAN ? Blend::Gaussian : Blend::Constant;
    o.labels.type = from_c_voxel_type(static_cast<swu_voxel_type>(label_type));
    o.labels.threads = model.threads();
    return o;
}

ProgressFn progress_of(const swu_infer_params& params) {
    if (!params.progress) return nullptr;
    const swu_progress_fn fn = params.progress;
    void* user = params.progress_user_data;
    return [fn, user](Stage stage, int64_t done, int64_t total) {
        return fn(static_cast<swu_stage>(stage), done, total, user) == 0;
    };
}

// swu_infer and swu_infer_with_probabilities: either output may be NULL, not both.
void infer(swu_model* model, const swu_volume* image, const swu_infer_params* params, swu_volume** labels,
           swu_volume** probabilities) {
    require(model, "model");
    require(image, "image");
    require(params, "params");
    if (labels) *labels = nullptr;
    if (probabilities) *probabilities = nullptr;
    if (!labels && !probabilities) fail(SWU_ERR_INVALID_ARGUMENT, "labels and probabilities are both NULL");
    const swu_infer_params ip = infer_params(params);
    SegmentOptions o = segment_options(model->impl, ip);  // checks ip
    o.labels.labels = labels != nullptr;
    o.labels.probabilities = probabilities != nullptr;
    auto lock = model->impl.acquire();
    Segmentation result = segment(model->impl, image->volume, o, progress_of(ip));
    std::unique_ptr<swu_volume> l, p;
    if (labels) l.reset(new swu_volume{std::move(result.labels)});
    if (probabilities) p.reset(new swu_volume{std::move(result.probabilities)});
    if (labels) *labels = l.release();
    if (probabilities) *probabilities = p.release();
}

}  // namespace swu

extern "C" {

SWU_API swu_status swu_infer_params_init_size(swu_infer_params* params, uint32_t struct_size) {
    return swu::api_call(__func__, [&] {
        swu::init_struct(params, struct_size, "params", [](swu_infer_params& v) {
            v.roi = 96;
            v.overlap = 0.5;
            v.sw_batch = 4;
            v.blend = SWU_BLEND_CONSTANT;
            v.label_type = SWU_VOXEL_UINT8;
        });
    });
}

// The symbol hosts built against 0.1.0's header call (its swu_infer_params_init is no macro):
// the layout of that release.
SWU_API swu_status(swu_infer_params_init)(swu_infer_params* params) {
    return swu_infer_params_init_size(params, static_cast<uint32_t>(swu::first_released_size<swu_infer_params>()));
}

SWU_API swu_status swu_infer_with_probabilities(swu_model* model, const swu_volume* image, const swu_infer_params* params,
                                                swu_volume** labels, swu_volume** probabilities) {
    return swu::api_call(__func__, [&] { swu::infer(model, image, params, labels, probabilities); });
}

SWU_API swu_status swu_infer(swu_model* model, const swu_volume* image, const swu_infer_params* params,
                             swu_volume** labels) {
    return swu::api_call(__func__, [&] {
        swu::require(labels, "labels");
        swu::infer(model, image, params, labels, nullptr);
    });
}

}  // extern "C"
