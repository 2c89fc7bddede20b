// From network-grid logits back to the source image: softmax over channels, then
// (MONAI's Invertd) resample the probabilities to the RAS-oriented grid with the same
// trilinear rule, undo the orientation, and take the argmax — voxel by voxel, so
// full-resolution probabilities are held in memory only when the caller asks for them.
#pragma once

#include <vector>

#include "image/volume.hpp"
#include "pipeline/preprocess.hpp"
#include "pipeline/progress.hpp"

namespace swu {

// In place over {C, V} logits (C order): channel softmax per voxel, float32.
void softmax_channels(std::vector<float>& logits, int64_t channels, int threads);

// Probabilities of every class at a source voxel: the network-grid probabilities
// resampled onto the oriented grid (Invertd), read through the orientation.
class Inverter {
public:
    Inverter(const std::vector<float>& probabilities, int64_t channels, const Preprocessed& pre);
    void at(int64_t i, int64_t j, int64_t k, float* out) const;  // out: `channels` floats

private:
    const std::vector<float>& prob_;
    int64_t channels_;
    const Preprocessed& pre_;
    Resampling back_;
    bool identity_;
    int oriented_axis_[3];
};

struct LabelOptions {
    VoxelType type = VoxelType::UInt8;  // UInt8 or Float32 label values
    bool labels = true;                 // the argmax label map
    bool probabilities = false;         // the per-class probabilities (channels x voxels floats)
    int threads = 1;
};

// What the inversion produced; a volume not asked for stays empty.
struct Segmentation {
    Volume labels;         // classes 0..C-1 on `source`
    Volume probabilities;  // float32, C channels on `source`; the labels are their argmax
};

// probabilities {C, X, Y, Z} on the network grid of `pre`; returns labels and/or the
// inverted probabilities on `source`.
Segmentation invert_to_source(const std::vector<float>& probabilities, int64_t channels, const Preprocessed& pre,
                              const Geometry& source, const LabelOptions& options, const ProgressFn& progress);

}  // namespace swu
