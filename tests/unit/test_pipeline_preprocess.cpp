// The bundle's preprocessing against MONAI's golden pipeline case: orientation,
// spacing (shape, affine, values) and intensity scaling.
#include <catch2/catch.hpp>

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
