// Progress reporting with cancellation, shared by the pipeline stages.
#pragma once

#include <cstdint>
#include <functional>

#include "common/error.hpp"

namespace swu {

enum class Stage { Preprocess = 0, Network = 1, Postprocess = 2 };

// Returns false to cancel.
using ProgressFn = std::function<bool(Stage stage, int64_t done, int64_t total)>;

inline void report_progress(const ProgressFn& fn, Stage stage, int64_t done, int64_t total) {
    if (fn && !fn(stage, done, total)) fail(SWU_ERR_CANCELLED, "cancelled by the progress callback");
}

}  // namespace swu
