// The whole inference pipeline of the bundle: preprocess, sliding window, softmax,
// inversion to the source grid, argmax.
#pragma once

#include "image/volume.hpp"
#include "model/model.hpp"
#include "pipeline/postprocess.hpp"
#include "pipeline/preprocess.hpp"
#include "pipeline/sliding_window.hpp"

namespace swu {

struct SegmentOptions {
    PreprocessOptions preprocess;
    SlidingWindowOptions window;
    LabelOptions labels;
};

// The caller holds the model (Model::acquire). Labels and probabilities (as
// options.labels asks) share the image's geometry.
Segmentation segment(Model& model, const Volume& image, const SegmentOptions& options, const ProgressFn& progress);

}  // namespace swu
