#include "pipeline/segmentation.hpp"

#include <cmath>

#include "common/error.hpp"
#include "common/log.hpp"

namespace swu {

Segmentation segment(Model& model, const Volume& image, const SegmentOptions& options, const ProgressFn& progress) {
    if (!model.weights_loaded()) fail(SWU_ERR_STATE, "no weights loaded (call swu_model_load_weights first)");
    if (model.config().in_channels != 1)
        fail(SWU_ERR_UNSUPPORTED, "whole-volume segmentation needs a single-channel (CT) network");
    if (image.channels() != 1)
        fail(SWU_ERR_INVALID_ARGUMENT, "the image has " + std::to_string(image.channels()) + " channels; a CT volume has one");
    report_progress(progress, Stage::Preprocess, 0, 1);
    if (image.type() == VoxelType::Float32) {
        const Geometry& g = image.geometry();
        for (int64_t k = 0; k < g.size[2]; ++k)
            for (int64_t j = 0; j < g.size[1]; ++j)
                for (int64_t i = 0; i < g.size[0]; ++i)
                    if (!std::isfinite(image.value(image.offset(i, j, k))))
                        fail(SWU_ERR_INVALID_ARGUMENT, "the image holds a NaN or infinite voxel at (" + std::to_string(i) +
                                                           ", " + std::to_string(j) + ", " + std::to_string(k) + ")");
    }
    Preprocessed pre = preprocess(image, options.preprocess);
    log_info("network grid " + std::to_string(pre.size[0]) + " x " + std::to_string(pre.size[1]) + " x " +
             std::to_string(pre.size[2]) + (pre.resampling.identity ? " (no resampling needed)" : ""));
    report_progress(progress, Stage::Preprocess, 1, 1);

    // Host loop, or the backend's own stitching on its device (stitch_on_backend).
    std::vector<float> probabilities =
        window_probabilities(model, pre.image, pre.size, options.window, options.labels.threads, progress);
    pre.image = std::vector<float>();  // no longer needed; keep the peak low
    const int64_t channels = model.config().out_channels;
    return invert_to_source(probabilities, channels, pre, image.geometry(), options.labels, progress);
}

}  // namespace swu
