// `swinunetr segment --bundle DIR`: a MONAI bundle folder as the model and its settings.
// Reads configs/inference.json (network_def, the preprocessing and postprocessing
// transforms, the inferer), configs/metadata.json (the label names) and models/model.pt.
// What this library reproduces is taken; a value or transform it does not reproduce is
// refused by name, never silently ignored (README, "A MONAI bundle as the model").
#pragma once

#include <string>
#include <vector>

#include "swinunetr/swinunetr.h"

namespace swu_cli {

struct BundleSettings {
    std::string weights;  // DIR/models/model.pt
    int feature_size = 48, in_channels = 1, out_channels = 14;
    int depths[4] = {2, 2, 2, 2}, num_heads[4] = {3, 6, 12, 24};
    swu_merging merging = SWU_MERGING_LEGACY;
    int roi = 96, sw_batch = 4;
    double overlap = 0.5;
    swu_blend blend = SWU_BLEND_CONSTANT;
    std::vector<std::string> renamed;  // metadata.json's names that differ from this library's
};

// Throws std::runtime_error naming the file and the key or transform.
BundleSettings read_bundle(const std::string& dir);

}  // namespace swu_cli
