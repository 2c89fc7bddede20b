// swinunetr segment --report: the statistics on a hand-made grid whose answers are known,
// and the report the CLI writes for a real segmentation (JSON and CSV agree with the
// label map it wrote).
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <sstream>
#include <vector>

#include "api_helpers.hpp"
#include "cli_run.hpp"
#include "io/json.hpp"
#include "organ_report.hpp"
#include "golden.hpp"

using namespace swu_test;

namespace {

swu_volume_info grid(swu_voxel_type type, const void* data, int64_t ni, int64_t nj, int64_t nk) {
    swu_volume_info g{};
    g.struct_size = sizeof g;
    g.type = type;
    g.size[0] = ni, g.size[1] = nj, g.size[2] = nk;
    g.spacing[0] = g.spacing[1] = g.spacing[2] = 1;
    g.direction[0] = g.direction[4] = g.direction[8] = 1;
    g.data = data;
    g.strides[0] = 1, g.strides[1] = ni, g.strides[2] = ni * nj;
    return g;
}

}  // namespace

TEST_CASE("organ report: voxels, HU, bounding box, components and confidence on a known grid", "[unit]") {
    const int64_t ni = 8, nj = 6, nk = 4, n = ni * nj * nk;
    std::vector<uint8_t> labels(static_cast<size_t>(n), 0);
    std::vector<int16_t> hu(static_cast<size_t>(n), -1000);
    std::vector<float> prob(static_cast<size_t>(14 * n), 0.0f);
    auto at = [&](int64_t i, int64_t j, int64_t k) { return static_cast<size_t>(i + ni * (j + nj * k)); };
    // Liver (6): a 2x2x2 cube at (1,1,1) with HU 50 and 70 alternating, probability 0.8;
    // and one voxel at (6,4,3), touching nothing: two components.
    for (int64_t k = 1; k < 3; ++k)
        for (int64_t j = 1; j < 3; ++j)
            for (int64_t i = 1; i < 3; ++i) {
                labels[at(i, j, k)] = 6;
                hu[at(i, j, k)] = (i + j + k) % 2 ? 70 : 50;
                prob[6 * static_cast<size_t>(n) + at(i, j, k)] = 0.8f;
            }
    labels[at(6, 4, 3)] = 6;
    hu[at(6, 4, 3)] = 60;
    prob[6 * static_cast<size_t>(n) + at(6, 4, 3)] = 0.35f;
    // Spleen (1): two voxels touching only at a corner: one component (26-connected).
    labels[at(5, 0, 0)] = 1;
    labels[at(6, 1, 1)] = 1;
    hu[at(5, 0, 0)] = 40, hu[at(6, 1, 1)] = 44;
    prob[1 * static_cast<size_t>(n) + at(5, 0, 0)] = 1.0f, prob[1 * static_cast<size_t>(n) + at(6, 1, 1)] = 0.5f;

    const std::vector<swu_cli::OrganStats> s =
        swu_cli::organ_stats(grid(SWU_VOXEL_INT16, hu.data(), ni, nj, nk), grid(SWU_VOXEL_UINT8, labels.data(), ni, nj, nk),
                             grid(SWU_VOXEL_FLOAT32, prob.data(), ni, nj, nk), 14, n);
    REQUIRE(s.size() == 14);
    CHECK(s[6].voxels == 9);
    CHECK(s[6].components == 2);
    CHECK(s[6].hu_mean == Approx((4 * 50 + 4 * 70 + 60) / 9.0));
    const double m = (4 * 50 + 4 * 70 + 60) / 9.0;
    CHECK(s[6].hu_std == Approx(std::sqrt((4 * (50 - m) * (50 - m) + 4 * (70 - m) * (70 - m) + (60 - m) * (60 - m)) / 9.0)));
    CHECK(s[6].confidence == Approx((8 * 0.8 + 0.35) / 9.0));
    CHECK((s[6].lo[0] == 1 && s[6].lo[1] == 1 && s[6].lo[2] == 1));
    CHECK((s[6].hi[0] == 6 && s[6].hi[1] == 4 && s[6].hi[2] == 3));
    CHECK(s[1].voxels == 2);
    CHECK(s[1].components == 1);
    CHECK(s[1].hu_mean == Approx(42));
    CHECK(s[1].hu_std == Approx(2));
    CHECK(s[1].confidence == Approx(0.75));
    for (int l : {2, 3, 4, 5, 7, 8, 9, 10, 11, 12, 13}) CHECK(s[static_cast<size_t>(l)].voxels == 0);
}

TEST_CASE("organ report: the CLI's JSON and CSV agree with the label map it wrote", "[unit]") {
    const std::string cli = SWU_CLI_PATH, weights = golden_path("net_f12/model.pt");
    const std::string ct = "swu_report_ct.nii.gz";
    REQUIRE(run_command(std::string(SWU_PHANTOM_PATH) + " " + ct + " --seed 5").exit_code == 0);
    CliRun r = run_command(cli + " segment " + ct + " swu_report_labels.nii.gz --weights " + weights +
                           " --roi 64 --overlap 0 --threads 2 --report swu_report.json");
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    swu_volume* raw = nullptr;
    REQUIRE(swu_volume_read("swu_report_labels.nii.gz", &raw) == SWU_OK);
    VolumePtr labels(raw);
    swu_volume_info g{};
    g.struct_size = sizeof g;
    REQUIRE(swu_volume_get_info(labels.get(), &g) == SWU_OK);
    std::vector<int64_t> count(14, 0);
    for (int64_t k = 0; k < g.size[2]; ++k)
        for (int64_t j = 0; j < g.size[1]; ++j)
            for (int64_t i = 0; i < g.size[0]; ++i)
                ++count[static_cast<const uint8_t*>(g.data)[i * g.strides[0] + j * g.strides[1] + k * g.strides[2]]];
    const swu::json::Value report = swu::json::parse_file("swu_report.json");
    CHECK(report.at("identity").at("input").as_string() == ct);
    CHECK(report.at("model").at("weights_sha256").as_string().size() == 64);
    CHECK(report.at("model").at("sliding_window").at("roi").as_number() == 64);
    size_t organs = 0;
    for (const swu::json::Value& o : report.at("organs").elements()) {
        const int l = static_cast<int>(o.at("label").as_number());
        INFO("label " << l);
        CHECK(o.at("voxels").as_number() == count[static_cast<size_t>(l)]);
        CHECK(o.at("volume_ml").as_number() == Approx(count[static_cast<size_t>(l)] * g.spacing[0] * g.spacing[1] * g.spacing[2] / 1000));
        CHECK(o.at("confidence").as_number() > 0);
        CHECK(o.at("confidence").as_number() <= 1);
        CHECK(o.at("components").as_number() >= 1);
        ++organs;
    }
    size_t present = 0;
    for (int l = 1; l < 14; ++l) present += count[static_cast<size_t>(l)] > 0;
    CHECK(organs == present);

    r = run_command(cli + " segment " + ct + " swu_report_labels.nii.gz --weights " + weights +
                    " --roi 64 --overlap 0 --threads 2 --report swu_report.csv");
    REQUIRE(r.exit_code == 0);
    std::ifstream csv("swu_report.csv");
    std::string line;
    std::getline(csv, line);
    CHECK(line.rfind("input,label,organ,voxels,volume_ml,", 0) == 0);
    size_t rows = 0;
    while (std::getline(csv, line)) ++rows;
    CHECK(rows == present);
}
