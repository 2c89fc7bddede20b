// swu_infer_params as the pipeline's options: shared by swu_infer and swu_evaluate.
#pragma once

#include "model/model.hpp"
#include "pipeline/segmentation.hpp"
#include "swinunetr/swinunetr.h"

namespace swu {

// Checks struct_size and the enums (SWU_ERR_INVALID_ARGUMENT) and converts; the model
// gives the thread count.
SegmentOptions segment_options(const Model& model, const swu_infer_params& params);
// The caller's progress callback (or none), cancelling when it returns non-zero.
ProgressFn progress_of(const swu_infer_params& params);

}  // namespace swu
