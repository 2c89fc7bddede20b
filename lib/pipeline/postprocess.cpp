#include "pipeline/postprocess.hpp"

#include <atomic>
#include <cmath>

#include "common/error.hpp"
#include "pipeline/parallel.hpp"
#include "pipeline/trilinear.hpp"

namespace swu {

void softmax_channels(std::vector<float>& p, int64_t channels, int threads) {
    const int64_t V = static_cast<int64_t>(p.size()) / channels;
    parallel_for(V, threads, [&](int64_t begin, int64_t end) {
        for (int64_t v = begin; v < end; ++v) {
            float m = -INFINITY;
            for (int64_t c = 0; c < channels; ++c) m = std::max(m, p[static_cast<size_t>(c * V + v)]);
            float sum = 0;
            for (int64_t c = 0; c < channels; ++c) {
                float& e = p[static_cast<size_t>(c * V + v)];
                e = std::exp(e - m);
                sum += e;
            }
            for (int64_t c = 0; c < channels; ++c) p[static_cast<size_t>(c * V + v)] /= sum;
        }
    });
}

Inverter::Inverter(const std::vector<float>& probabilities, int64_t channels, const Preprocessed& pre)
    : prob_(probabilities), channels_(channels), pre_(pre) {
    // Invertd: resample from the network grid back onto the oriented grid.
    back_ = plan_resampling(pre.affine, pre.size, pre.orientation.affine, pre.orientation.size);
    identity_ = pre.resampling.identity || back_.identity;
    for (int a = 0; a < 3; ++a) oriented_axis_[pre.orientation.source_axis[a]] = a;
}

void Inverter::at(int64_t i, int64_t j, int64_t k, float* out) const {
    const Orientation& o = pre_.orientation;
    const int64_t src[3] = {i, j, k};
    int64_t oi[3];
    for (int a = 0; a < 3; ++a) {
        const int b = oriented_axis_[a];
        oi[b] = o.flip[b] ? o.size[b] - 1 - src[a] : src[a];
    }
    const int64_t Y = pre_.size[1], Z = pre_.size[2], V = pre_.size[0] * Y * Z;
    if (identity_) {
        const int64_t v = (oi[0] * Y + oi[1]) * Z + oi[2];
        for (int64_t c = 0; c < channels_; ++c) out[c] = prob_[static_cast<size_t>(c * V + v)];
        return;
    }
    double coord[3];
    map_index(back_.xform, oi[0], oi[1], oi[2], coord);
    const TrilinearStencil s = trilinear_stencil(coord, pre_.size);
    int64_t at[8];
    for (int n = 0; n < 8; ++n) at[n] = (s.index[n][0] * Y + s.index[n][1]) * Z + s.index[n][2];
    for (int64_t c = 0; c < channels_; ++c) {
        const float* pc = prob_.data() + c * V;
        double acc = 0.0;  // float64, as MONAI resamples, then one cast to float32
        for (int n = 0; n < 8; ++n)
            if (s.inside[n]) acc += static_cast<double>(pc[at[n]]) * s.weight[n];
        out[c] = static_cast<float>(acc);
    }
}

Segmentation invert_to_source(const std::vector<float>& prob, int64_t channels, const Preprocessed& pre,
                              const Geometry& source, const LabelOptions& options, const ProgressFn& progress) {
    if (options.type != VoxelType::UInt8 && options.type != VoxelType::Float32)
        fail(SWU_ERR_INVALID_ARGUMENT, "labels are written as uint8 or float32");
    if (channels > 255 && options.type == VoxelType::UInt8) fail(SWU_ERR_INVALID_ARGUMENT, "too many classes for uint8 labels");
    if (!options.labels && !options.probabilities) fail(SWU_ERR_INVALID_ARGUMENT, "neither labels nor probabilities requested");
    Segmentation out;
    if (options.labels) out.labels = Volume::allocate(options.type, source);
    if (options.probabilities) out.probabilities = Volume::allocate(VoxelType::Float32, source, channels);
    float* const probabilities = static_cast<float*>(out.probabilities.mutable_data());
    const int64_t channel_stride = out.probabilities.channel_stride();
    const Inverter inverter(prob, channels, pre);
    const int64_t slabs = source.size[2];
    std::atomic<int64_t> done{0};
    std::atomic<bool> cancelled{false};
    parallel_for(slabs, options.threads, [&](int64_t k_begin, int64_t k_end) {
        std::vector<float> value(static_cast<size_t>(channels));
        for (int64_t k = k_begin; k < k_end && !cancelled; ++k) {
            for (int64_t j = 0; j < source.size[1]; ++j)
                for (int64_t i = 0; i < source.size[0]; ++i) {
                    inverter.at(i, j, k, value.data());
                    const int64_t at = (k * source.size[1] + j) * source.size[0] + i;  // dense, i fastest
                    if (probabilities)
                        for (int64_t c = 0; c < channels; ++c) probabilities[c * channel_stride + at] = value[static_cast<size_t>(c)];
                    if (!options.labels) continue;
                    int64_t best = 0;  // first maximum wins, as torch.argmax
                    for (int64_t c = 1; c < channels; ++c)
                        if (value[static_cast<size_t>(c)] > value[static_cast<size_t>(best)]) best = c;
                    if (options.type == VoxelType::UInt8) static_cast<uint8_t*>(out.labels.mutable_data())[at] = static_cast<uint8_t>(best);
                    else static_cast<float*>(out.labels.mutable_data())[at] = static_cast<float>(best);
                }
            const int64_t d = ++done;
            // Only the caller's thread (the first chunk) talks to the progress callback.
            if (k_begin == 0 && progress && !progress(Stage::Postprocess, d, slabs)) cancelled = true;
        }
    });
    if (cancelled) fail(SWU_ERR_CANCELLED, "cancelled by the progress callback");
    report_progress(progress, Stage::Postprocess, slabs, slabs);
    return out;
}

}  // namespace swu
