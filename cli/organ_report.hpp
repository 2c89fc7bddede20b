// `swinunetr segment --report FILE`: per organ its voxel count, volume (mL), HU mean and
// standard deviation, bounding box in patient coordinates (LPS mm), number of connected
// components (26-connected) and confidence (the mean probability of its class over its
// voxels), with the input's identity and the model used. JSON, or CSV for a name ending
// in .csv (one row per organ, the identity and model on every row).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "swinunetr/swinunetr.h"

namespace swu_cli {

struct ReportContext {
    std::string input;                   // the path given
    std::string series_uid;              // of a DICOM input
    std::string weights;                 // the weights file (its SHA-256 goes in)
    swu_model_info model{};              // of the model that segmented
    swu_infer_params params{};           // the sliding-window settings used
};

// What the report says of one class. HU standard deviation is the population one.
struct OrganStats {
    int64_t voxels = 0, components = 0;  // components: 26-connected
    double hu_mean = 0, hu_std = 0, confidence = 0;
    int64_t lo[3] = {0, 0, 0}, hi[3] = {0, 0, 0};  // index bounding box (inclusive)
};

// Per class 0..13 (0, the background, left empty): `labels`, `image` and the class
// probabilities (`channels` 3D volumes `channel_stride` elements apart, starting at
// probabilities.data) on one grid.
std::vector<OrganStats> organ_stats(const swu_volume_info& image, const swu_volume_info& labels,
                                    const swu_volume_info& probabilities, int64_t channels, int64_t channel_stride);

// `labels` and `probabilities` (swu_infer_with_probabilities) lie on `image`'s grid.
// Written atomically. Throws std::runtime_error naming the file.
void write_organ_report(const std::string& path, const swu_volume* image, const swu_volume* labels,
                        const swu_volume* probabilities, const ReportContext& context);

}  // namespace swu_cli
