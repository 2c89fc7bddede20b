// `swinunetr segment`: MONAI's labels from a file, clear failures, and an interrupted
// run that leaves no output behind.
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <vector>

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

namespace {

std::vector<char> file_bytes(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return std::vector<char>(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

template <class T> T field(const std::vector<char>& b, size_t offset) {
    T v;
    std::memcpy(&v, b.data() + offset, sizeof v);
    return v;
}

}  // namespace

TEST_CASE("cli segment --probabilities writes a 4D NIfTI whose argmax is the label map", "[golden]") {
    const std::string dir = "/tmp/swu_cli_probabilities/";
    fs::remove_all(dir);
    fs::create_directories(dir);
    const CliRun r = run_command(std::string(SWU_CLI_PATH) + " segment " + golden_path("pipeline/image.nii.gz") + " " + dir +
                                 "labels.nii --probabilities " + dir + "probabilities.nii --weights " +
                                 golden_path("net_f12/model.pt") + " --threads 2");
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    const std::vector<char> labels = file_bytes(dir + "labels.nii"), prob = file_bytes(dir + "probabilities.nii");
    REQUIRE(labels.size() > 352);
    REQUIRE(prob.size() > 352);
    // NIfTI-1: dim[0..4], datatype 16 (float32), the labels' spacing and affine.
    CHECK(field<int16_t>(prob, 40) == 4);
    const int16_t expected_dims[4] = {200, 150, 70, 14};
    for (int a = 0; a < 4; ++a) CHECK(field<int16_t>(prob, 42 + 2 * a) == expected_dims[a]);
    CHECK(field<int16_t>(prob, 70) == 16);
    for (int a = 1; a <= 3; ++a) CHECK(field<float>(prob, 76 + 4 * a) == field<float>(labels, 76 + 4 * a));
    CHECK(std::memcmp(prob.data() + 280, labels.data() + 280, 48) == 0);  // srow_x, srow_y, srow_z
    CHECK(field<int16_t>(labels, 70) == 2);                                   // uint8 labels
    const int64_t V = 200 * 150 * 70, C = 14;
    const size_t prob_at = static_cast<size_t>(field<float>(prob, 108)), label_at = static_cast<size_t>(field<float>(labels, 108));
    REQUIRE(prob.size() == prob_at + static_cast<size_t>(V * C) * 4);
    REQUIRE(labels.size() == label_at + static_cast<size_t>(V));
    std::vector<float> p(static_cast<size_t>(V * C));
    std::memcpy(p.data(), prob.data() + prob_at, p.size() * 4);
    int64_t not_argmax = 0, bad_sum = 0;
    for (int64_t v = 0; v < V; ++v) {
        int64_t best = 0;
        double sum = 0;
        for (int64_t c = 0; c < C; ++c) {
            sum += p[static_cast<size_t>(c * V + v)];
            if (p[static_cast<size_t>(c * V + v)] > p[static_cast<size_t>(best * V + v)]) best = c;
        }
        bad_sum += std::fabs(sum - 1.0) > 1e-5;
        not_argmax += best != static_cast<uint8_t>(labels[label_at + static_cast<size_t>(v)]);
    }
    CHECK(bad_sum == 0);
    CHECK(not_argmax == 0);
}

TEST_CASE("cli segment fails clearly", "[unit]") {
    CliRun r = run_command(SWU_CLI_PATH " segment in.nii.gz");
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, "swinunetr segment: --weights is required"));
    r = run_command(SWU_CLI_PATH " segment in.nii.gz --weights w.pt");
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, "swinunetr segment: give INPUT and OUTPUT, or inputs with --output-dir or --input-list"));
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
    // One SIGINT after 3 s, while the network runs. --foreground: without it timeout signals
    // the command and then its whole process group, i.e. twice, which the command may
    // count as a second Ctrl-C (then it exits at once, without the message checked here).
    const CliRun r = run_command("timeout --foreground --preserve-status -s INT 3 " + std::string(SWU_CLI_PATH) + " segment " +
                                 golden_path("pipeline/image.nii.gz") + " " + dir + "/labels.nii.gz --weights " +
                                 golden_path("net_f12/model.pt") + " --threads 2");
    INFO(r.output);
    CHECK(r.exit_code == 130);
    CHECK(contains(r.output, "interrupted; nothing written"));
    CHECK(fs::is_empty(dir));
}

// SWU_CLI_SIGNAL_AT makes the command send itself SIGINT on entering a stage: whatever
// the stage, the run ends with 130 and leaves neither the label map nor the
// probabilities (a file it had already written is removed). Writing used to go on
// regardless and end with 0.
TEST_CASE("a signal at any stage of a segmentation leaves no output and exits 130", "[unit]") {
    const std::string dir = "/tmp/swu_cli_interrupt_stages";
    for (const char* stage : {"read", "model", "weights", "infer", "write-probabilities", "write", "written"}) {
        fs::remove_all(dir);
        fs::create_directories(dir);
        const CliRun r = run_command("SWU_CLI_SIGNAL_AT=" + std::string(stage) + " " + SWU_CLI_PATH + " segment " +
                                     golden_path("pipeline/image.nii.gz") + " " + dir + "/labels.nii.gz --weights " +
                                     golden_path("net_f12/model.pt") + " --threads 2 --probabilities " + dir + "/probs.nii.gz");
        INFO(stage << ": " << r.output);
        CHECK(r.exit_code == 130);
        CHECK(contains(r.output, "interrupted; nothing written"));
        CHECK(fs::is_empty(dir));
    }
    fs::remove_all(dir);
}

// A second Ctrl-C does not wait for the command to reach its next check: sent while the
// command writes (two signals on entering the stage), and from outside while it runs.
TEST_CASE("a second Ctrl-C ends a segmentation at once", "[unit]") {
    const std::string dir = "/tmp/swu_cli_interrupt_twice";
    fs::remove_all(dir);
    fs::create_directories(dir);
    const std::string cmd = std::string(SWU_CLI_PATH) + " segment " + golden_path("pipeline/image.nii.gz") + " " + dir +
                            "/labels.nii.gz --weights " + golden_path("net_f12/model.pt") + " --threads 2";
    const CliRun r = run_command("SWU_CLI_SIGNAL_AT=weights:2 " + cmd);
    INFO(r.output);
    CHECK(r.exit_code == 130);
    CHECK(contains(r.output, "interrupted again; exiting now"));
    CHECK_FALSE(contains(r.output, "nothing written"));  // it did not get that far
    CHECK(fs::is_empty(dir));
    // From outside: both signals end it with 130 and no label map, whichever took effect.
    const CliRun twice = run_command("(" + cmd + " & pid=$!; sleep 2; kill -INT $pid; sleep 0.2; kill -INT $pid 2>/dev/null; wait $pid)");
    INFO(twice.output);
    CHECK(twice.exit_code == 130);
    CHECK(fs::is_empty(dir));
    fs::remove_all(dir);
}

// Batch: the model loaded once, a corrupt case named and skipped, the others written,
// exit 1; --skip-existing; --shard i/n covers a list exactly once.
TEST_CASE("cli segment --output-dir: many cases, a failed one named, shards cover the list once", "[unit]") {
    const std::string dir = "/tmp/swu_cli_batch", cli = SWU_CLI_PATH, weights = golden_path("net_f12/model.pt");
    fs::remove_all(dir);
    fs::create_directories(dir + "/in");
    REQUIRE(run_command(std::string(SWU_PHANTOM_PATH) + " " + dir + "/in/a.nii.gz --seed 5").exit_code == 0);
    fs::copy_file(dir + "/in/a.nii.gz", dir + "/in/b.nii.gz");
    std::ofstream(dir + "/in/c.nii.gz") << "not an image";
    std::ofstream(dir + "/list.txt") << dir << "/in/a.nii.gz\n# a comment\n" << dir << "/in/c.nii.gz\n" << dir << "/in/b.nii.gz\n";
    const std::string common = " --weights " + weights + " --roi 64 --overlap 0 --threads 2 --output-dir " + dir + "/out";
    CliRun r = run_command(cli + " segment --input-list " + dir + "/list.txt --preview x.png" + common);
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(contains(r.output, "2 done, 0 skipped, 1 failed"));
    CHECK(contains(r.output, "failed: " + dir + "/in/c.nii.gz: "));
    CHECK(fs::exists(dir + "/out/a.nii.gz"));
    CHECK(fs::exists(dir + "/out/b.nii.gz"));
    CHECK_FALSE(fs::exists(dir + "/out/c.nii.gz"));
    for (const char* name : {"a", "b"}) {  // NAME.preview.png per case, a PNG
        std::ifstream png(dir + "/out/" + name + ".preview.png", std::ios::binary);
        char signature[8] = {};
        png.read(signature, 8);
        CHECK(std::string(signature, 8) == "\x89PNG\r\n\x1a\n");
    }
    CHECK_FALSE(fs::exists(dir + "/out/c.preview.png"));

    r = run_command(cli + " segment --input-list " + dir + "/list.txt --skip-existing --preview x.png" + common);
    CHECK(r.exit_code == 1);
    CHECK(contains(r.output, "0 done, 2 skipped, 1 failed"));

    // Shards of five (corrupt, so quick) inputs: each one in exactly one of 0/2 and 1/2.
    std::vector<std::string> names;
    std::ofstream list(dir + "/five.txt");
    for (int k = 0; k < 5; ++k) {
        names.push_back(dir + "/in/bad" + std::to_string(k) + ".nii.gz");
        std::ofstream(names.back()) << "not an image";
        list << names.back() << "\n";
    }
    list.close();
    std::map<std::string, int> seen;
    for (const char* shard : {"0/2", "1/2"}) {
        r = run_command(cli + " segment --input-list " + dir + "/five.txt --shard " + shard + common);
        CHECK(r.exit_code == 1);
        for (const std::string& n : names)
            if (contains(r.output, ": " + n + "\n")) ++seen[n];
    }
    for (const std::string& n : names) CHECK(seen[n] == 1);
    r = run_command(cli + " segment --input-list " + dir + "/five.txt --shard 2/2" + common);
    CHECK(r.exit_code == 2);
    fs::remove_all(dir);
}

namespace {

// A bundle folder shaped like swin_unetr_btcv_segmentation's, around the golden f12
// weights; `inferer` and `extra_transform` vary it.
void write_bundle(const std::string& dir, const std::string& inferer, const std::string& extra_transform = "") {
    fs::create_directories(dir + "/configs");
    fs::create_directories(dir + "/models");
    fs::copy_file(golden_path("net_f12/model.pt"), dir + "/models/model.pt", fs::copy_options::overwrite_existing);
    std::ofstream(dir + "/configs/inference.json") << R"JSON({
  "imports": ["$import glob", "$import os"],
  "bundle_root": ".",
  "output_dir": "$@bundle_root + '/eval'",
  "device": "$torch.device('cuda:0' if torch.cuda.is_available() else 'cpu')",
  "network_def": {"_target_": "SwinUNETR", "spatial_dims": 3, "img_size": 96, "in_channels": 1, "out_channels": 14,
                  "feature_size": 12, "use_checkpoint": false},
  "network": "$@network_def.to(@device)",
  "preprocessing": {"_target_": "Compose", "transforms": [
    {"_target_": "LoadImaged", "keys": "image"},
    {"_target_": "EnsureChannelFirstd", "keys": "image"},
    {"_target_": "Orientationd", "keys": "image", "axcodes": "RAS"},
    {"_target_": "Spacingd", "keys": "image", "pixdim": [1.5, 1.5, 2.0], "mode": "bilinear"},
    {"_target_": "ScaleIntensityRanged", "keys": "image", "a_min": -175, "a_max": 250, "b_min": 0.0, "b_max": 1.0,
     "clip": true},)JSON" + extra_transform + R"JSON(
    {"_target_": "EnsureTyped", "keys": "image"}]},
  "inferer": )JSON" + inferer + R"JSON(,
  "postprocessing": {"_target_": "Compose", "transforms": [
    {"_target_": "Activationsd", "keys": "pred", "softmax": true},
    {"_target_": "Invertd", "keys": "pred", "transform": "@preprocessing", "orig_keys": "image",
     "meta_key_postfix": "meta_dict", "nearest_interp": false, "to_tensor": true},
    {"_target_": "AsDiscreted", "keys": "pred", "argmax": true},
    {"_target_": "SaveImaged", "keys": "pred", "output_dir": "@output_dir", "output_postfix": "seg"}]}
})JSON";
    std::ofstream(dir + "/configs/metadata.json") << R"({"network_data_format": {"outputs": {"pred": {"channel_def": {
  "0": "background", "1": "spleen", "2": "right kidney", "3": "left kidney", "4": "gallbladder", "5": "esophagus",
  "6": "liver", "7": "stomach", "8": "aorta", "9": "IVC", "10": "portal and splenic veins", "11": "pancreas",
  "12": "right adrenal gland", "13": "left adrenal gland"}}}}})";
}

}  // namespace

TEST_CASE("cli segment --bundle: the bundle sets the sliding window as options would, and what it cannot reproduce is refused by name", "[unit]") {
    const std::string dir = "/tmp/swu_cli_bundle", cli = SWU_CLI_PATH, ct = golden_path("pipeline/image.nii.gz");
    fs::remove_all(dir);
    write_bundle(dir + "/b", R"({"_target_": "SlidingWindowInferer", "roi_size": [96, 96, 96], "sw_batch_size": 4, "overlap": 0.25})");
    CliRun r = run_command(cli + " segment " + ct + " " + dir + "/bundle.nii.gz --bundle " + dir + "/b --threads 2");
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(contains(r.output, "overlap 0.25"));
    CHECK(contains(r.output, "class 9 is 'IVC' in the bundle"));
    r = run_command(cli + " segment " + ct + " " + dir + "/options.nii.gz --weights " + golden_path("net_f12/model.pt") +
                    " --overlap 0.25 --threads 2");
    REQUIRE(r.exit_code == 0);
    CHECK(file_bytes(dir + "/bundle.nii.gz") == file_bytes(dir + "/options.nii.gz"));

    // A transform, an inferer setting and a network this library does not reproduce.
    write_bundle(dir + "/crop", R"({"_target_": "SlidingWindowInferer", "roi_size": [96, 96, 96]})",
                 R"({"_target_": "CropForegroundd", "keys": "image", "source_key": "image"},)");
    r = run_command(cli + " segment " + ct + " " + dir + "/x.nii.gz --bundle " + dir + "/crop");
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, "preprocessing[5] CropForegroundd: a transform this library does not reproduce"));
    write_bundle(dir + "/roi", R"({"_target_": "SlidingWindowInferer", "roi_size": [96, 96, 64]})");
    r = run_command(cli + " segment " + ct + " " + dir + "/x.nii.gz --bundle " + dir + "/roi");
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, "inferer.roi_size: only cubic windows are reproduced"));
    write_bundle(dir + "/expr", R"({"_target_": "SlidingWindowInferer", "roi_size": [96, 96, 96], "overlap": "$0.25"})");
    r = run_command(cli + " segment " + ct + " " + dir + "/x.nii.gz --bundle " + dir + "/expr");
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, "inferer.overlap: a Python expression"));
    CHECK_FALSE(fs::exists(dir + "/x.nii.gz"));
    fs::remove_all(dir);
}
