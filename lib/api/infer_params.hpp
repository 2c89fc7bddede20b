// swu_infer_params as the pipeline's options: shared by swu_infer and swu_evaluate.
#pragma once

#include "model/model.hpp"
#include "pipeline/segmentation.hpp"
#include "swinunetr/swinunetr.h"

namespace swu {

// The caller's params as this library reads them (boundary.hpp read_struct: struct_size
// checked, fields its header lacked at their defaults); NULL gives the defaults.
swu_infer_params infer_params(const swu_infer_params* params);
// Checks the enums (SWU_ERR_INVALID_ARGUMENT) of params from infer_params() and converts;
// the model gives the thread count.
SegmentOptions segment_options(const Model& model, const swu_infer_params& params);
// The caller's progress callback (or none), cancelling when it returns non-zero.
ProgressFn progress_of(const swu_infer_params& params);

}  // namespace swu
