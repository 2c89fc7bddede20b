#include "pipeline/sliding_window.hpp"

#include <cmath>

#include "common/error.hpp"
#include "pipeline/postprocess.hpp"

namespace swu {

void check_window_options(const SlidingWindowOptions& o) {
    if (o.roi < 32 || o.roi % 32 || o.roi > 512) fail(SWU_ERR_INVALID_ARGUMENT, "roi must be a multiple of 32 in 32..512");
    if (!(o.overlap >= 0.0 && o.overlap < 1.0)) fail(SWU_ERR_INVALID_ARGUMENT, "overlap must be in [0, 1)");
    if (o.sw_batch < 1 || o.sw_batch > 64) fail(SWU_ERR_INVALID_ARGUMENT, "sw_batch must be 1..64");
    if (o.blend != Blend::Constant && o.blend != Blend::Gaussian) fail(SWU_ERR_INVALID_ARGUMENT, "unknown blend mode");
    if (!(o.sigma_scale > 0.0 && o.sigma_scale <= 10.0)) fail(SWU_ERR_INVALID_ARGUMENT, "sigma_scale must be in (0, 10]");
}

std::vector<int64_t> window_starts(int64_t length, int roi, double overlap) {
    const int64_t interval = length == roi ? roi : std::max<int64_t>(1, static_cast<int64_t>(roi * (1.0 - overlap)));
    std::vector<int64_t> starts;
    for (int64_t d = 0;; ++d) {
        const int64_t start = d * interval;
        starts.push_back(start - std::max<int64_t>(start + roi - length, 0));
        if (start + roi >= length) break;
    }
    return starts;
}

WindowGrid window_grid(const std::array<int64_t, 3>& size, const SlidingWindowOptions& o) {
    WindowGrid g;
    for (int a = 0; a < 3; ++a) {
        g.padded[a] = std::max<int64_t>(size[a], o.roi);
        g.before[a] = (g.padded[a] - size[a]) / 2;
        g.starts[a] = window_starts(g.padded[a], o.roi, o.overlap);
    }
    return g;
}

std::vector<float> importance_map(const SlidingWindowOptions& o) {
    const int64_t r = o.roi;
    std::vector<float> map(static_cast<size_t>(r * r * r), 1.0f);
    if (o.blend == Blend::Constant) return map;
    std::vector<float> g(static_cast<size_t>(r));
    const float sigma = static_cast<float>(r * o.sigma_scale);
    for (int64_t i = 0; i < r; ++i) {
        const float x = -static_cast<float>(r - 1) / 2.0f + static_cast<float>(i);
        g[static_cast<size_t>(i)] = std::exp(x * x / (-2.0f * sigma * sigma));
    }
    float lowest = INFINITY;
    for (int64_t i = 0; i < r; ++i)
        for (int64_t j = 0; j < r; ++j)
            for (int64_t k = 0; k < r; ++k) {
                float& v = map[static_cast<size_t>((i * r + j) * r + k)];
                v = g[static_cast<size_t>(i)] * g[static_cast<size_t>(j)] * g[static_cast<size_t>(k)];
                lowest = std::min(lowest, v);
            }
    const float floor_value = std::max(lowest, 1e-3f);
    for (float& v : map) v = std::max(v, floor_value);
    return map;
}

swu_backend_window_params backend_window_params(const WindowGrid& grid, const std::vector<float>& map,
                                                const SlidingWindowOptions& o) {
    swu_backend_window_params p{};
    p.struct_size = sizeof p;
    p.roi = o.roi;
    p.sw_batch = o.sw_batch;
    for (int a = 0; a < 3; ++a) {
        p.padded[a] = grid.padded[a];
        p.pad_before[a] = grid.before[a];
        p.starts[a] = grid.starts[a].data();
        p.start_count[a] = grid.starts[a].size();
    }
    p.importance_map = map.data();
    return p;
}

// backend.h's guarantees for swu_backend_window_params, so that a plugin can index its
// buffers with these values as they are.
void check_backend_window_params(const swu_backend_window_params& p, const int64_t size[3]) {
    auto bad = [](const std::string& why) { fail(SWU_ERR_INVALID_ARGUMENT, "window layout: " + why); };
    if (p.struct_size != sizeof p) bad("struct_size is not sizeof(swu_backend_window_params)");
    if (p.roi < 1 || p.sw_batch < 1) bad("roi and sw_batch must be >= 1");
    for (int a = 0; a < 3; ++a) {
        const std::string axis = " on axis " + std::to_string(a);
        if (p.padded[a] < std::max<int64_t>(size[a], p.roi) || p.pad_before[a] < 0 ||
            p.pad_before[a] > p.padded[a] - size[a])
            bad("padding does not fit the image" + axis);
        if (!p.starts[a] || p.start_count[a] < 1) bad("no window starts" + axis);
        int64_t covered = 0;  // [0, covered) of the padded axis lies in some window
        for (size_t i = 0; i < p.start_count[a]; ++i) {
            const int64_t s = p.starts[a][i];
            if (s < 0 || s > p.padded[a] - p.roi || (i > 0 && s <= p.starts[a][i - 1]) || s > covered)
                bad("window starts not ascending, inside and gapless" + axis);
            covered = s + p.roi;
        }
        if (covered != p.padded[a]) bad("the windows leave the end uncovered" + axis);
    }
    if (!p.importance_map) bad("no importance map");
    const size_t r = static_cast<size_t>(p.roi);
    for (size_t i = 0; i < r * r * r; ++i)
        if (!(p.importance_map[i] > 0.0f && std::isfinite(p.importance_map[i])))
            bad("importance map values must be finite and > 0");
}

namespace {

// Calls f(in, out) for every voxel of the window starting at `start` (padded coordinates)
// that lies inside the image of `size`: `in` its index in the roi^3 window, `out` in the
// image, both C order. The gather of a window's input and the scatter of its logits.
template <class F>
void for_each_voxel_inside(const std::array<int64_t, 3>& start, const std::array<int64_t, 3>& before, int64_t roi,
                           const std::array<int64_t, 3>& size, F&& f) {
    for (int64_t i = 0; i < roi; ++i) {
        const int64_t x = start[0] + i - before[0];
        if (x < 0 || x >= size[0]) continue;
        for (int64_t j = 0; j < roi; ++j) {
            const int64_t y = start[1] + j - before[1];
            if (y < 0 || y >= size[1]) continue;
            for (int64_t k = 0; k < roi; ++k) {
                const int64_t z = start[2] + k - before[2];
                if (z >= 0 && z < size[2]) f((i * roi + j) * roi + k, (x * size[1] + y) * size[2] + z);
            }
        }
    }
}

}  // namespace

std::vector<float> sliding_window(Model& model, const std::vector<float>& image, const std::array<int64_t, 3>& size,
                                  const SlidingWindowOptions& o, const ProgressFn& progress) {
    check_window_options(o);
    const int64_t roi = o.roi, window_voxels = roi * roi * roi;
    const int64_t channels = model.config().out_channels;

    const WindowGrid grid = window_grid(size, o);
    const std::array<int64_t, 3>& before = grid.before;
    std::vector<std::array<int64_t, 3>> windows;  // last axis fastest, as MONAI
    for (int64_t a : grid.starts[0])
        for (int64_t b : grid.starts[1])
            for (int64_t c : grid.starts[2]) windows.push_back({a, b, c});

    const std::vector<float> weight = importance_map(o);
    const int64_t V = size[0] * size[1] * size[2];
    std::vector<float> sum(static_cast<size_t>(channels * V), 0.0f), count(static_cast<size_t>(V), 0.0f);
    std::vector<float> input, logits;
    std::vector<TapRequest> taps(1);
    taps[0].name = "logits";

    const int64_t total = static_cast<int64_t>(windows.size());
    report_progress(progress, Stage::Network, 0, total);
    for (int64_t first = 0; first < total; first += o.sw_batch) {
        const int64_t n = std::min<int64_t>(o.sw_batch, total - first);
        input.assign(static_cast<size_t>(n * window_voxels), 0.0f);
        for (int64_t w = 0; w < n; ++w) {
            float* dst = input.data() + w * window_voxels;
            for_each_voxel_inside(windows[static_cast<size_t>(first + w)], before, roi, size,
                                  [&](int64_t in, int64_t out) { dst[in] = image[static_cast<size_t>(out)]; });
        }
        logits.resize(static_cast<size_t>(n * channels * window_voxels));
        taps[0].data = logits.data();
        taps[0].capacity = logits.size();
        const int64_t shape[5] = {n, 1, roi, roi, roi};
        // Asked again while the batch runs, so that a cancel takes effect inside it.
        std::function<bool()> interrupted;
        if (progress) interrupted = [&] { return !progress(Stage::Network, first, total); };
        model.forward(input.data(), shape, taps, interrupted);

        for (int64_t w = 0; w < n; ++w) {
            const float* lw = logits.data() + w * channels * window_voxels;
            for_each_voxel_inside(windows[static_cast<size_t>(first + w)], before, roi, size, [&](int64_t in, int64_t out) {
                const float wt = weight[static_cast<size_t>(in)];
                for (int64_t c = 0; c < channels; ++c)
                    sum[static_cast<size_t>(c * V + out)] += lw[c * window_voxels + in] * wt;
                count[static_cast<size_t>(out)] += wt;
            });
        }
        report_progress(progress, Stage::Network, first + n, total);
    }
    for (int64_t c = 0; c < channels; ++c)
        for (int64_t v = 0; v < V; ++v) sum[static_cast<size_t>(c * V + v)] /= count[static_cast<size_t>(v)];
    return sum;
}

bool stitch_on_backend(const Model& model, const SlidingWindowOptions& o) {
    if (o.on_backend == OnBackend::Never || !model.can_stitch()) return false;
    return o.on_backend == OnBackend::Always || model.device() != "cpu";
}

std::vector<float> window_probabilities(Model& model, const std::vector<float>& image, const std::array<int64_t, 3>& size,
                                        const SlidingWindowOptions& o, int threads, const ProgressFn& progress) {
    const int64_t channels = model.config().out_channels;
    if (!stitch_on_backend(model, o)) {
        std::vector<float> p = sliding_window(model, image, size, o, progress);
        softmax_channels(p, channels, threads);
        return p;
    }
    check_window_options(o);
    const int64_t V = size[0] * size[1] * size[2];
    if (static_cast<int64_t>(image.size()) != V) fail(SWU_ERR_INTERNAL, "image and size disagree");
    // The backend computes no layout of its own: it gets the host loop's grid and weights.
    const WindowGrid grid = window_grid(size, o);
    const std::vector<float> weight = importance_map(o);
    const swu_backend_window_params params = backend_window_params(grid, weight, o);
    check_backend_window_params(params, size.data());
    std::vector<float> p(static_cast<size_t>(channels * V));
    // The progress the host loop gives: (0, total) first, then after every batch.
    std::function<bool(int64_t, int64_t)> fn;
    if (progress) fn = [&progress](int64_t done, int64_t total) { return progress(Stage::Network, done, total); };
    model.stitch(image.data(), size.data(), params, p.data(), p.size(), fn);
    return p;
}

}  // namespace swu
