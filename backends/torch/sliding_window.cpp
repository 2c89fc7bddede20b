// The torch backend's sliding_window entry: the core's window layout (backend.h,
// swu_backend_window_params) run with everything on the instance's device.
#include "sliding_window.hpp"

#include <algorithm>
#include <array>
#include <vector>

namespace swu_torch {

using swu_plugin::Failure;

void stitch_windows(const Instance& inst, const float* image, const int64_t size[3],
                    const swu_backend_window_params* params, float* probabilities, size_t capacity,
                    swu_backend_progress_fn progress, void* progress_user_data) {
    if (!params || params->struct_size < sizeof(swu_backend_window_params))
        throw Failure(SWU_ERR_INVALID_ARGUMENT, "window parameters missing or from an unknown layout");
    const swu_backend_window_params& o = *params;
    if (inst.net.in_channels != 1) throw Failure(SWU_ERR_UNSUPPORTED, "sliding_window needs a single-channel network");
    if (size[0] < 1 || size[1] < 1 || size[2] < 1) throw Failure(SWU_ERR_INVALID_ARGUMENT, "empty image");
    // The core checked the layout; only what would make this code misbehave is refused here.
    bool sane = o.roi >= 1 && o.sw_batch >= 1 && o.importance_map;
    int64_t total = 1;
    for (int a = 0; a < 3 && sane; ++a) {
        sane = o.starts[a] && o.start_count[a] >= 1 && o.start_count[a] <= static_cast<size_t>(o.padded[a]) &&
               o.padded[a] >= std::max<int64_t>(size[a], o.roi) && o.pad_before[a] >= 0 &&
               o.pad_before[a] <= o.padded[a] - size[a] &&
               std::all_of(o.starts[a], o.starts[a] + o.start_count[a],
                           [&](int64_t s) { return s >= 0 && s <= o.padded[a] - o.roi; });
        total *= sane ? static_cast<int64_t>(o.start_count[a]) : 0;
    }
    if (!sane) throw Failure(SWU_ERR_INVALID_ARGUMENT, "invalid sliding-window layout");
    const int64_t C = inst.net.out_channels, roi = o.roi;
    if (capacity / static_cast<size_t>(C) / static_cast<size_t>(size[0]) / static_cast<size_t>(size[1]) <
        static_cast<size_t>(size[2]))
        throw Failure(SWU_ERR_INVALID_ARGUMENT, "the probabilities buffer is too small");
    const auto on_device = at::TensorOptions().dtype(at::kFloat).device(inst.device);

    const int64_t* padded = o.padded;
    const int64_t* before = o.pad_before;
    at::Tensor img = at::from_blob(const_cast<float*>(image), at::IntArrayRef(size, 3), at::kFloat).to(inst.device);
    if (padded[0] != size[0] || padded[1] != size[1] || padded[2] != size[2])
        img = at::constant_pad_nd(img, {before[2], padded[2] - size[2] - before[2], before[1],
                                        padded[1] - size[1] - before[1], before[0], padded[0] - size[0] - before[0]},
                                  0.0);
    // Window w in C order of the starts (last axis fastest).
    auto window_start = [&](int64_t w) {
        const int64_t n1 = static_cast<int64_t>(o.start_count[1]), n2 = static_cast<int64_t>(o.start_count[2]);
        return std::array<int64_t, 3>{o.starts[0][w / (n1 * n2)], o.starts[1][w / n2 % n1], o.starts[2][w % n2]};
    };
    const at::Tensor weight =
        at::from_blob(const_cast<float*>(o.importance_map), {roi, roi, roi}, at::kFloat).to(inst.device);
    // Over the padded grid; the padding's voxels are cut away at the end (the core never
    // accumulates them, so the voxels kept see the same sums in the same order).
    at::Tensor sum = at::zeros({C, padded[0], padded[1], padded[2]}, on_device);
    at::Tensor count = at::zeros({padded[0], padded[1], padded[2]}, on_device);
    auto window_of = [](const at::Tensor& t, int first_axis, const std::array<int64_t, 3>& s, int64_t r) {
        return t.narrow(first_axis, s[0], r).narrow(first_axis + 1, s[1], r).narrow(first_axis + 2, s[2], r);
    };

    auto report = [&](int64_t done) {
        if (progress && !progress(done, total, progress_user_data))
            throw Failure(SWU_ERR_CANCELLED, "cancelled by the progress callback");
    };
    report(0);
    for (int64_t first = 0; first < total; first += o.sw_batch) {
        const int64_t n = std::min<int64_t>(o.sw_batch, total - first);
        std::vector<at::Tensor> parts;
        for (int64_t w = 0; w < n; ++w) parts.push_back(window_of(img, 0, window_start(first + w), roi).unsqueeze(0));
        const at::Tensor x = at::stack(parts).contiguous();  // {n, 1, roi, roi, roi}
        run_network(inst, x, [](int64_t) { return NoTaps(); }, [&](int64_t at_item, const at::Tensor& logits) {
            const at::Tensor l = logits.to(at::kFloat);
            for (int64_t w = 0; w < l.size(0); ++w) {
                const std::array<int64_t, 3> s = window_start(first + at_item + w);
                window_of(sum, 1, s, roi).add_(l[w] * weight);
                window_of(count, 0, s, roi).add_(weight);
            }
        });
        report(first + n);
    }
    sum = sum.narrow(1, before[0], size[0]).narrow(2, before[1], size[1]).narrow(3, before[2], size[2]);
    count = count.narrow(0, before[0], size[0]).narrow(1, before[1], size[1]).narrow(2, before[2], size[2]);
    const at::Tensor result = at::softmax(sum.div_(count), 0);
    // The one copy to the host, straight into the caller's buffer (no host temporary).
    at::from_blob(probabilities, {C, size[0], size[1], size[2]}, at::kFloat).copy_(result);
}

}  // namespace swu_torch
