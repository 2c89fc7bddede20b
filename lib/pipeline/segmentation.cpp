#include "pipeline/segmentation.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/limits.hpp"

#include "common/error.hpp"
#include "common/log.hpp"

namespace swu {
namespace {

// A lower bound of the memory a segmentation holds at its peak, checked before anything
// is allocated: the network grid's image and probabilities (C channels plus the count
// map, padded to the roi), a batch of windows in and out plus the first layer's
// activations (on the CPU), and the outputs on the source grid.
void check_segmentation_memory(const Model& model, const Volume& image, const SegmentOptions& o) {
    check_window_options(o.window);
    const std::array<int64_t, 3> grid = network_grid(image, o.preprocess);
    const double C = model.config().out_channels, F = model.config().feature_size;
    double padded = 1, window = 1;
    for (int a = 0; a < 3; ++a) {
        padded *= double(std::max<int64_t>(grid[a], o.window.roi));
        window *= o.window.roi;
    }
    const double source = double(image.geometry().voxels());
    const double activations = model.device() == "cpu" ? F : 0;
    const double windows = o.window.sw_batch * window * (1 + C + activations) * 4;
    const double outputs = source * ((o.labels.labels ? (o.labels.type == VoxelType::UInt8 ? 1 : 4) : 0) +
                                     (o.labels.probabilities ? C * 4 : 0));
    const double stitching = double(grid[0] * grid[1] * grid[2]) * 4 + padded * (C + 1) * 4 + windows;
    const double inversion = padded * C * 4 + outputs;
    char what[256];
    std::snprintf(what, sizeof what, "segmenting on a %lld x %lld x %lld network grid with roi %d and sw_batch %d",
                  static_cast<long long>(grid[0]), static_cast<long long>(grid[1]), static_cast<long long>(grid[2]),
                  o.window.roi, o.window.sw_batch);
    check_memory_need(std::max(stitching, inversion), what);
}

}  // namespace

Segmentation segment(Model& model, const Volume& image, const SegmentOptions& options, const ProgressFn& progress) {
    if (!model.weights_loaded()) fail(SWU_ERR_STATE, "no weights loaded (call swu_model_load_weights first)");
    if (model.config().in_channels != 1)
        fail(SWU_ERR_UNSUPPORTED, "whole-volume segmentation needs a single-channel (CT) network");
    if (image.channels() != 1)
        fail(SWU_ERR_INVALID_ARGUMENT, "the image has " + std::to_string(image.channels()) + " channels; a CT volume has one");
    check_segmentation_memory(model, image, options);
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
