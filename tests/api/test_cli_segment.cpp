// `swinunetr segment`: MONAI's labels from a file, clear failures, and an interrupted
// run that leaves no output behind.
#include <filesystem>

#include "cli_run.hpp"
#include "golden.hpp"

using namespace swu_test;
namespace fs = std::filesystem;

TEST_CASE("cli segment writes MONAI's label map", "[golden]") {
    const std::string out = "/tmp/swu_cli_segment/labels.nii.gz";
    fs::remove_all("/tmp/swu_cli_segment");
    fs::create_directories("/tmp/swu_cli_segment");
    const CliRun r = run_command(std::string(SWU_CLI_PATH) + " segment " + golden_path("pipeline/image.nii.gz") + " " + out +
                                 " --weights " + golden_path("net_f12/model.pt") + " --threads 2");
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(contains(r.output, "(200 x 150 x 70)"));
    CHECK(contains(r.output, "left kidney"));
    CHECK(fs::exists(out));
}

TEST_CASE("cli segment fails clearly", "[unit]") {
    CliRun r = run_command(SWU_CLI_PATH " segment in.nii.gz");
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, "INPUT, OUTPUT and --weights are required"));
    r = run_command(std::string(SWU_CLI_PATH) + " segment /nonexistent/ct.nii.gz /tmp/swu_never.nii.gz --weights " +
                    golden_path("net_f12/model.pt"));
    CHECK(r.exit_code == 1);
    CHECK(contains(r.output, "reading /nonexistent/ct.nii.gz failed (i/o error)"));
    r = run_command(std::string(SWU_CLI_PATH) + " segment " + golden_path("pipeline/image.nii.gz") +
                    " /tmp/swu_never.nii.gz --weights " + golden_path("net_f48/keys.txt"));
    CHECK(r.exit_code == 1);
    CHECK(contains(r.output, "loading weights failed (format error)"));
    r = run_command(std::string(SWU_CLI_PATH) + " segment " + golden_path("pipeline/image.nii.gz") +
                    " /tmp/swu_never.nii.gz --weights x.pt --overlap abc");
    CHECK(r.exit_code == 2);
    CHECK_FALSE(fs::exists("/tmp/swu_never.nii.gz"));
}

TEST_CASE("an interrupted segmentation leaves no output file", "[unit]") {
    const std::string dir = "/tmp/swu_cli_interrupt";
    fs::remove_all(dir);
    fs::create_directories(dir);
    // SIGINT after 3 s, while the network runs.
    const CliRun r = run_command("timeout --preserve-status -s INT 3 " + std::string(SWU_CLI_PATH) + " segment " +
                                 golden_path("pipeline/image.nii.gz") + " " + dir + "/labels.nii.gz --weights " +
                                 golden_path("net_f12/model.pt") + " --threads 2");
    INFO(r.output);
    CHECK(r.exit_code == 130);
    CHECK(contains(r.output, "interrupted; nothing written"));
    CHECK(fs::is_empty(dir));
}
