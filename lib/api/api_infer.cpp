// Whole-volume segmentation.
#include <cstring>

#include "api/boundary.hpp"
#include "api/model_handle.hpp"
#include "api/volume_handle.hpp"
#include "pipeline/segmentation.hpp"

extern "C" {

SWU_API swu_status swu_infer_params_init(swu_infer_params* params) {
    return swu::api_call(__func__, [&] {
        swu::require(params, "params");
        std::memset(params, 0, sizeof *params);
        params->struct_size = sizeof *params;
        params->roi = 96;
        params->overlap = 0.5;
        params->sw_batch = 4;
        params->blend = SWU_BLEND_CONSTANT;
        params->label_type = SWU_VOXEL_UINT8;
    });
}

SWU_API swu_status swu_infer(swu_model* model, const swu_volume* image, const swu_infer_params* params,
                             swu_volume** labels) {
    return swu::api_call(__func__, [&] {
        swu::require(model, "model");
        swu::require(image, "image");
        swu::require(params, "params");
        swu::require(labels, "labels");
        *labels = nullptr;
        swu::require_struct(params->struct_size, sizeof(swu_infer_params), "swu_infer_params");
        const int32_t blend = swu::raw_enum(params->blend), label_type = swu::raw_enum(params->label_type);
        if (blend != SWU_BLEND_CONSTANT && blend != SWU_BLEND_GAUSSIAN)
            swu::fail(SWU_ERR_INVALID_ARGUMENT, "unknown blend mode " + std::to_string(blend));
        if (label_type != SWU_VOXEL_UINT8 && label_type != SWU_VOXEL_FLOAT32)
            swu::fail(SWU_ERR_INVALID_ARGUMENT, "label_type must be SWU_VOXEL_UINT8 or SWU_VOXEL_FLOAT32");
        auto lock = model->impl.acquire();

        swu::SegmentOptions o;
        o.preprocess.threads = model->impl.threads();
        o.window.roi = params->roi;
        o.window.overlap = params->overlap;
        o.window.sw_batch = params->sw_batch;
        o.window.blend = params->blend == SWU_BLEND_GAUSSIAN ? swu::Blend::Gaussian : swu::Blend::Constant;
        o.labels.type = swu::from_c_voxel_type(params->label_type);
        o.labels.threads = model->impl.threads();
        swu::ProgressFn progress;
        if (params->progress) {
            progress = [params](swu::Stage stage, int64_t done, int64_t total) {
                return params->progress(static_cast<swu_stage>(stage), done, total, params->progress_user_data) == 0;
            };
        }
        swu::Volume result = swu::segment(model->impl, image->volume, o, progress);
        *labels = new swu_volume{std::move(result)};
    });
}

}  // extern "C"
