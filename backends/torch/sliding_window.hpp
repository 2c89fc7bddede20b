// The torch backend's sliding_window entry (backend.h): padded image, windows, weighted sum
// and count map on the instance's device; only the softmaxed probabilities come back.
#pragma once

#include "instance.hpp"

namespace swu_torch {

// Validates what would make this code misbehave (the core checked the layout itself) and
// stitches; throws swu_plugin::Failure. Called under the entry's thread count,
// InferenceMode and interrupt scope.
void stitch_windows(const Instance& inst, const float* image, const int64_t size[3],
                    const swu_backend_window_params* params, float* probabilities, size_t capacity,
                    swu_backend_progress_fn progress, void* progress_user_data);

}  // namespace swu_torch
