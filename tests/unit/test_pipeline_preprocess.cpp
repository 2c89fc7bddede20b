// The bundle's preprocessing against MONAI's golden pipeline case: orientation,
// spacing (shape, affine, values) and intensity scaling.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "golden.hpp"
#include "image/image_io.hpp"
#include "io/json.hpp"
#include "pipeline/preprocess.hpp"
#include "pipeline/sliding_window.hpp"

namespace {

double affine_diff(const swu::Affine& a, const swu::json::Value& g) {
    double d = 0;
    for (int r = 0; r < 4; ++r)
        for (int c = 0; c < 4; ++c) d = std::max(d, std::fabs(a[r][c] - g.at(static_cast<size_t>(r)).at(static_cast<size_t>(c)).as_number()));
    return d;
}

}  // namespace

TEST_CASE("pipeline: preprocessing reproduces MONAI's tensor and affines", "[golden]") {
    const swu::Volume image = swu::read_volume(swu_test::golden_path("pipeline/image.nii.gz"));
    CHECK(image.geometry().size == std::array<int64_t, 3>{200, 150, 70});
    const swu::json::Value affines = swu::json::parse_file(swu_test::golden_path("pipeline/affines.json"));
    CHECK(affine_diff(swu::ras_affine(image.geometry()), affines.at("original")) <= 1e-6);

    swu::PreprocessOptions o;
    o.threads = 2;
    const swu::Preprocessed p = swu::preprocess(image, o);
    CHECK(affine_diff(p.orientation.affine, affines.at("after_orientation")) <= 1e-6);
    CHECK(affine_diff(p.affine, affines.at("preprocessed")) <= 1e-6);
    REQUIRE(p.size == std::array<int64_t, 3>{104, 78, 87});

    const swu::Tensor golden = swu_test::load_golden("pipeline/preprocessed.npy");
    REQUIRE(golden.numel() == static_cast<int64_t>(p.image.size()));
    const swu_test::Comparison c = swu_test::compare(p.image.data(), golden.as<float>(), golden.numel(), 1e-6, 0.0);
    swu_test::print_comparison("pipeline/preprocessed.npy", c);
    CHECK(c.ok());
}

TEST_CASE("pipeline: sliding-window starts follow MONAI", "[unit]") {
    CHECK(swu::window_starts(104, 96, 0.5) == std::vector<int64_t>{0, 8});
    CHECK(swu::window_starts(96, 96, 0.5) == std::vector<int64_t>{0});
    CHECK(swu::window_starts(200, 96, 0.5) == std::vector<int64_t>{0, 48, 96, 104});
    CHECK(swu::window_starts(200, 96, 0.25) == std::vector<int64_t>{0, 72, 104});
    CHECK(swu::window_starts(97, 96, 0.0) == std::vector<int64_t>{0, 1});
}

TEST_CASE("pipeline: the window grid pads short axes, floor(diff / 2) before", "[unit]") {
    swu::SlidingWindowOptions o;  // roi 96, overlap 0.5
    const swu::WindowGrid g = swu::window_grid({104, 78, 87}, o);
    CHECK(g.padded == std::array<int64_t, 3>{104, 96, 96});
    CHECK(g.before == std::array<int64_t, 3>{0, 9, 4});
    CHECK(g.starts[0] == std::vector<int64_t>{0, 8});
    CHECK(g.starts[1] == std::vector<int64_t>{0});
    CHECK(g.starts[2] == std::vector<int64_t>{0});
}

TEST_CASE("pipeline: importance maps, constant and Gaussian", "[unit]") {
    swu::SlidingWindowOptions o;
    o.roi = 32;
    const std::vector<float> constant = swu::importance_map(o);
    REQUIRE(constant.size() == 32u * 32 * 32);
    CHECK(std::all_of(constant.begin(), constant.end(), [](float v) { return v == 1.0f; }));
    o.blend = swu::Blend::Gaussian;
    const std::vector<float> gaussian = swu::importance_map(o);
    REQUIRE(gaussian.size() == 32u * 32 * 32);
    // sigma = 4 voxels: the corners fall below 1e-3 and are floored there; the centre
    // voxels (x = +-0.5 on every axis) are near 1.
    const float corner = gaussian[0], centre = gaussian[(16 * 32 + 16) * 32 + 16];
    CHECK(corner == 1e-3f);
    CHECK(centre == Approx(std::exp(-3 * 0.25f / 32.0f)).epsilon(1e-6));
    CHECK(gaussian[(15 * 32 + 15) * 32 + 15] == centre);  // symmetric about (roi-1)/2
    CHECK(*std::min_element(gaussian.begin(), gaussian.end()) == 1e-3f);
}
