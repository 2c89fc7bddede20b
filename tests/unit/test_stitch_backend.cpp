// The backend's sliding_window entry (stitching on its device) against the core's host
// loop, on the CPU: the torch plugin forced onto its own path (OnBackend::Always) must give
// the probabilities and labels the core gives, cancel from the progress callback, and a
// plugin without the entry (oneDNN) must fall back to the core silently.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>

#include "checkpoint/checkpoint.hpp"
#include "golden.hpp"
#include "image/image_io.hpp"
#include "pipeline/preprocess.hpp"
#include "pipeline/segmentation.hpp"
#include "pipeline/sliding_window.hpp"
#include "plugin/plugin_registry.hpp"

namespace {

struct Grid {
    std::vector<float> image;
    std::array<int64_t, 3> size{};
};

std::unique_ptr<swu::Model> f12_model(const std::string& backend) {
    swu::PluginRegistry::instance().load_folder(SWU_BUILD_BACKEND_DIR);
    swu::ModelOptions mo;
    mo.backend = backend;
    mo.threads = 2;
    auto model = std::make_unique<swu::Model>(mo);
    model->load_weights(swu::read_checkpoint_file(swu_test::golden_path("net_f12/model.pt")));
    return model;
}

// The golden pipeline case on the network grid (104 x 78 x 87), or its corner of `crop`.
Grid golden_grid(std::array<int64_t, 3> crop = {0, 0, 0}) {
    const swu::Volume image = swu::read_volume(swu_test::golden_path("pipeline/image.nii.gz"));
    swu::PreprocessOptions po;
    po.threads = 2;
    const swu::Preprocessed pre = swu::preprocess(image, po);
    if (crop[0] == 0) return {pre.image, pre.size};
    Grid g;
    g.size = crop;
    for (int64_t x = 0; x < crop[0]; ++x)
        for (int64_t y = 0; y < crop[1]; ++y)
            for (int64_t z = 0; z < crop[2]; ++z)
                g.image.push_back(pre.image[static_cast<size_t>((x * pre.size[1] + y) * pre.size[2] + z)]);
    return g;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Both paths on one grid; returns max |backend - core| over the probabilities.
double compare_paths(swu::Model& model, const Grid& g, swu::SlidingWindowOptions o, const char* what) {
    o.on_backend = swu::OnBackend::Never;
    REQUIRE_FALSE(swu::stitch_on_backend(model, o));
    auto t0 = std::chrono::steady_clock::now();
    const std::vector<float> core = swu::window_probabilities(model, g.image, g.size, o, 2, nullptr);
    const double t_core = seconds_since(t0);
    o.on_backend = swu::OnBackend::Always;
    REQUIRE(swu::stitch_on_backend(model, o));
    std::vector<std::pair<int64_t, int64_t>> calls;
    t0 = std::chrono::steady_clock::now();
    const std::vector<float> backend = swu::window_probabilities(
        model, g.image, g.size, o, 2, [&](swu::Stage s, int64_t done, int64_t total) {
            CHECK(s == swu::Stage::Network);
            calls.emplace_back(done, total);
            return true;
        });
    const double t_backend = seconds_since(t0);
    REQUIRE(core.size() == backend.size());
    const swu_test::Comparison c = swu_test::compare(backend.data(), core.data(), static_cast<int64_t>(core.size()), 1e-6, 0.0);
    std::printf("stitch %-44s %zu values, max abs %.3g (core %.1f s, backend %.1f s)\n", what, core.size(), c.max_abs,
                t_core, t_backend);
    CHECK(c.ok());
    // Progress as the host loop gives it: (0, total), then after every batch; while a batch
    // runs, the last report is asked again (so that a cancel takes effect inside it).
    calls.erase(std::unique(calls.begin(), calls.end()), calls.end());
    REQUIRE(!calls.empty());
    const int64_t total = calls.front().second;
    CHECK(calls.front().first == 0);
    CHECK(calls.back().first == total);
    CHECK(static_cast<int64_t>(calls.size()) == 1 + (total + o.sw_batch - 1) / o.sw_batch);
    return c.max_abs;
}

}  // namespace

TEST_CASE("stitch: the torch plugin's sliding_window gives the core's probabilities (constant, sw_batch 1, padded axes)",
          "[golden]") {
    auto model = f12_model("torch");
    REQUIRE(model->can_stitch());
    swu::SlidingWindowOptions o;  // roi 96 over 104 x 78 x 87: Y and Z shorter than the roi
    o.sw_batch = 1;
    compare_paths(*model, golden_grid(), o, "roi 96, constant, sw_batch 1, 104x78x87");
}

TEST_CASE("stitch: the torch plugin's sliding_window gives the core's probabilities (gaussian, sw_batch 3)", "[golden]") {
    auto model = f12_model("torch");
    swu::SlidingWindowOptions o;
    o.blend = swu::Blend::Gaussian;
    o.sw_batch = 3;
    // roi 96: 2 windows in one partial batch.
    compare_paths(*model, golden_grid(), o, "roi 96, gaussian, sw_batch 3, 104x78x87");
    // roi 64 over a crop of 80 x 78 x 40: 2 x 2 x 1 windows in batches of 3 and 1; Z shorter than the roi.
    o.roi = 64;
    compare_paths(*model, golden_grid({80, 78, 40}), o, "roi 64, gaussian, sw_batch 3, 80x78x40");
}

TEST_CASE("stitch: cancelling from the progress callback stops the backend's sliding_window", "[golden]") {
    auto model = f12_model("torch");
    const Grid g = golden_grid({40, 40, 40});
    swu::SlidingWindowOptions o;
    o.roi = 32;
    o.sw_batch = 2;
    o.on_backend = swu::OnBackend::Always;
    std::vector<int64_t> reports;  // distinct `done` values (the last one is asked again inside a batch)
    try {
        swu::window_probabilities(*model, g.image, g.size, o, 2, [&](swu::Stage, int64_t done, int64_t) {
            if (reports.empty() || reports.back() != done) reports.push_back(done);
            return done == 0;  // stop after the first batch
        });
        FAIL("not cancelled");
    } catch (const swu::Error& e) {
        CHECK(e.status() == SWU_ERR_CANCELLED);
    }
    CHECK(reports == std::vector<int64_t>{0, 2});
    // An exception from the callback comes through as itself.
    try {
        swu::window_probabilities(*model, g.image, g.size, o, 2, [&](swu::Stage, int64_t, int64_t) -> bool {
            throw swu::Error(SWU_ERR_IO, "from the callback");
        });
        FAIL("no exception");
    } catch (const swu::Error& e) {
        CHECK(e.status() == SWU_ERR_IO);
        CHECK(std::string(e.what()) == "from the callback");
    }
    // The instance still works afterwards.
    o.on_backend = swu::OnBackend::Always;
    CHECK(swu::window_probabilities(*model, g.image, g.size, o, 2, nullptr).size() == 14u * 40 * 40 * 40);
}

TEST_CASE("stitch: the core refuses a window layout that breaks backend.h's guarantees", "[golden]") {
    // window_probabilities checks every layout it hands to Model::stitch (sliding_window.cpp).
    auto model = f12_model("torch");
    const Grid g = golden_grid({40, 40, 40});
    swu::SlidingWindowOptions o;
    o.roi = 32;
    const swu::WindowGrid grid = swu::window_grid(g.size, o);  // starts {0, 8} per axis
    const std::vector<float> map = swu::importance_map(o);
    const swu_backend_window_params good = swu::backend_window_params(grid, map, o);
    std::vector<float> p(14u * 40 * 40 * 40);
    swu::check_backend_window_params(good, g.size.data());  // accepted
    model->stitch(g.image.data(), g.size.data(), good, p.data(), p.size(), nullptr);

    const int64_t outside[2] = {0, 9}, short_of_end[2] = {0, 4}, descending[2] = {8, 0};
    std::vector<float> zero_map(map);
    zero_map[5] = 0.0f;
    const std::vector<std::pair<const char*, std::function<void(swu_backend_window_params&)>>> bad = {
        {"struct_size", [](swu_backend_window_params& q) { q.struct_size -= 8; }},
        {"sw_batch 0", [](swu_backend_window_params& q) { q.sw_batch = 0; }},
        {"no starts", [](swu_backend_window_params& q) { q.start_count[1] = 0; }},
        {"end uncovered", [&](swu_backend_window_params& q) { q.starts[2] = short_of_end; }},
        {"outside", [&](swu_backend_window_params& q) { q.starts[0] = outside; }},
        {"descending", [&](swu_backend_window_params& q) { q.starts[0] = descending; }},
        {"padding", [](swu_backend_window_params& q) { q.pad_before[1] = 1; }},
        {"zero weight", [&](swu_backend_window_params& q) { q.importance_map = zero_map.data(); }},
    };
    for (const auto& b : bad) {
        swu_backend_window_params q = good;
        b.second(q);
        INFO(b.first);
        try {
            swu::check_backend_window_params(q, g.size.data());
            FAIL("accepted");
        } catch (const swu::Error& e) {
            CHECK(e.status() == SWU_ERR_INVALID_ARGUMENT);
        }
    }
}

TEST_CASE("stitch: a plugin without sliding_window (onednn) falls back to the core's loop", "[golden]") {
    swu::PluginRegistry::instance().load_folder(SWU_BUILD_BACKEND_DIR);
    swu::PluginRegistry& registry = swu::PluginRegistry::instance();
    const swu::Backend* onednn = nullptr;
    for (size_t i = 0; i < registry.count(); ++i)
        if (registry.at(i).name == "onednn" && registry.at(i).loaded()) onednn = &registry.at(i);
    if (!onednn) {
        WARN("no onednn plugin in this build");
        return;
    }
    CHECK_FALSE(onednn->can_stitch());
    auto model = f12_model("onednn");
    const Grid g = golden_grid({40, 40, 40});
    swu::SlidingWindowOptions o;
    o.roi = 32;
    o.sw_batch = 3;
    o.on_backend = swu::OnBackend::Always;
    CHECK_FALSE(swu::stitch_on_backend(*model, o));
    const std::vector<float> always = swu::window_probabilities(*model, g.image, g.size, o, 2, nullptr);
    o.on_backend = swu::OnBackend::Never;
    const std::vector<float> never = swu::window_probabilities(*model, g.image, g.size, o, 2, nullptr);
    CHECK(always == never);
}

TEST_CASE("stitch: segment() on the backend's path gives the core path's labels", "[golden]") {
    auto model = f12_model("torch");
    const swu::Volume image = swu::read_volume(swu_test::golden_path("pipeline/image.nii.gz"));
    swu::SegmentOptions so;
    so.preprocess.threads = 2;
    so.labels.threads = 2;
    // Auto on the CPU keeps the core's loop.
    CHECK_FALSE(swu::stitch_on_backend(*model, so.window));
    so.labels.probabilities = true;
    so.window.on_backend = swu::OnBackend::Never;
    const swu::Segmentation core = swu::segment(*model, image, so, nullptr);
    so.window.on_backend = swu::OnBackend::Always;
    const swu::Volume backend = swu::segment(*model, image, so, nullptr).labels;
    const auto& g = image.geometry();
    // The two paths sum the same windows in another order (probabilities agree to ~2e-7,
    // the test above), so a label may only differ where the core's two classes tie that
    // closely: this random-weight network has near-ties, and two of 2.1 million voxels
    // flipped once OpenBLAS ran single-threaded.
    const float* p = static_cast<const float*>(core.probabilities.data());
    const int64_t stride = core.probabilities.channel_stride();
    int64_t differ = 0;
    double widest_gap = 0;
    for (int64_t k = 0; k < g.size[2]; ++k)
        for (int64_t j = 0; j < g.size[1]; ++j)
            for (int64_t i = 0; i < g.size[0]; ++i) {
                const auto a = static_cast<int64_t>(core.labels.value(core.labels.offset(i, j, k)));
                const auto b = static_cast<int64_t>(backend.value(backend.offset(i, j, k)));
                if (a == b) continue;
                const int64_t at = (k * g.size[1] + j) * g.size[0] + i;
                widest_gap = std::max(widest_gap, static_cast<double>(p[a * stride + at]) - p[b * stride + at]);
                ++differ;
            }
    std::printf("stitch %-44s %lld of %lld voxels differ, at probability gaps <= %.2g\n", "segment() labels, backend vs core",
                static_cast<long long>(differ), static_cast<long long>(g.voxels()), widest_gap);
    CHECK(differ <= 10);
    CHECK(widest_gap <= 1e-5);
}
