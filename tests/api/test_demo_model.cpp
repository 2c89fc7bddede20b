// The shipped demo model (models/phantom_f12.pt, made by scripts/train-demo-model.sh)
// segments the phantoms it was never trained on with the Dice recorded beside it
// (models/phantom_f12.heldout.json, the script's own `swinunetr evaluate` report), so
// the README's figure cannot drift from the weights it describes.
#include <cstdlib>
#include <fstream>

#include "api_helpers.hpp"
#include "cli_run.hpp"

using namespace swu_test;

namespace {

// The first value of `key` in an evaluate report: "mean_dice" is the mean over every case
// and organ, "roi" the sliding window's.
double report_number(const std::string& json, const std::string& key) {
    const size_t at = json.find("\"" + key + "\": ");
    REQUIRE(at != std::string::npos);
    return std::strtod(json.c_str() + at + key.size() + 4, nullptr);
}

}  // namespace

TEST_CASE("demo model: held-out phantoms segmented with the recorded Dice", "[demo][slow]") {
    const std::string dir = "swu_demo_model", cli = SWU_CLI_PATH, phantom = SWU_PHANTOM_PATH;
    const std::string weights = SWU_DEMO_MODEL, record = SWU_DEMO_MODEL_REPORT;
    const std::string recorded = read_text(record);
    REQUIRE_FALSE(recorded.empty());
    const double expected = report_number(recorded, "mean_dice");
    const int roi = static_cast<int>(report_number(recorded, "roi"));  // the roi it was trained on
    REQUIRE(run_command("rm -rf " + dir + " && mkdir -p " + dir).exit_code == 0);

    // The held-out seeds of scripts/train-demo-model.sh, made afresh by this build's generator.
    std::string entries;
    for (int seed = 15; seed <= 20; ++seed) {
        const std::string s = std::to_string(seed);
        const CliRun r = run_command(phantom + " " + dir + "/ct" + s + ".nii.gz --labels " + dir + "/lb" + s + ".nii.gz --seed " + s);
        INFO(r.output);
        REQUIRE(r.exit_code == 0);
        entries += std::string(entries.empty() ? "" : ", ") + "{\"image\": \"ct" + s + ".nii.gz\", \"label\": \"lb" + s + ".nii.gz\"}";
    }
    std::ofstream(dir + "/heldout.json") << "{\"validation\": [" << entries << "]}";

    const CliRun eval = run_command(cli + " evaluate --weights " + weights + " --datalist " + dir + "/heldout.json --report " +
                                    dir + "/report.json --threads 2 --roi " + std::to_string(roi));
    INFO(eval.output);
    REQUIRE(eval.exit_code == 0);
    const double measured = report_number(read_text(dir + "/report.json"), "mean_dice");
    INFO("recorded " << expected << ", measured " << measured);
    // The same weights, phantoms and arithmetic: only thread scheduling and another CPU's
    // rounding may move a boundary voxel.
    CHECK(measured == Approx(expected).margin(0.01));
}
