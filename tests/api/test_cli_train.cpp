// `swinunetr train` / `evaluate` end to end on phantoms with labels: the model.pt they
// write loads in Python's torch (with MONAI's keys and shapes) and in `swinunetr segment`.
#include <fstream>

#include "api_helpers.hpp"
#include "cli_run.hpp"
#include "io/json.hpp"

using namespace swu_test;

TEST_CASE("cli train: phantoms in, a model.pt that torch.load, segment and evaluate accept", "[unit]") {
    const std::string dir = "swu_cli_train", cli = SWU_CLI_PATH, phantom = SWU_PHANTOM_PATH;
    REQUIRE(run_command("rm -rf " + dir + " && mkdir -p " + dir).exit_code == 0);
    for (int seed = 1; seed <= 2; ++seed) {
        const std::string s = std::to_string(seed);
        const CliRun r = run_command(phantom + " " + dir + "/ct" + s + ".nii.gz --labels " + dir + "/lb" + s + ".nii.gz --seed " + s);
        INFO(r.output);
        REQUIRE(r.exit_code == 0);
    }
    std::ofstream(dir + "/datalist.json") << R"({"training": [{"image": "ct1.nii.gz", "label": "lb1.nii.gz"}],
        "validation": [{"image": "ct2.nii.gz", "label": "lb2.nii.gz"}]})";

    const CliRun usage = run_command(cli + " train --datalist " + dir + "/datalist.json");
    CHECK(usage.exit_code == 2);
    CHECK(contains(usage.output, "--output-dir"));

    const CliRun heads = run_command(cli + " train --datalist " + dir + "/datalist.json --output-dir " + dir +
                                     "/out --num-heads 1,2,4");
    CHECK(heads.exit_code == 2);
    CHECK(contains(heads.output, "--num-heads needs four numbers"));

    const CliRun train = run_command(cli + " train --datalist " + dir + "/datalist.json --output-dir " + dir +
                                     "/out --feature-size 12 --num-heads 1,2,4,8 --roi 64 --batch-size 1 --num-samples 1 "
                                     "--max-iterations 2 --threads 2 --backend torch");
    INFO(train.output);
    REQUIRE(train.exit_code == 0);
    CHECK(contains(train.output, "iteration 2/2"));
    CHECK(contains(train.output, "validation mean Dice"));
    CHECK(contains(train.output, "saved " + dir + "/out/model.pt"));

    // Python's own torch.load (Debian's python3-torch) reads it: an OrderedDict with
    // MONAI's keys, shapes and dtypes.
    const CliRun py = run_command(
        "/usr/bin/python3 -c \"import torch, collections; sd = torch.load('" + dir + "/out/model.pt'); "
        "assert isinstance(sd, collections.OrderedDict), type(sd); "
        "assert len(sd) == 159, len(sd); "
        "assert tuple(sd['swinViT.patch_embed.proj.weight'].shape) == (12, 1, 2, 2, 2); "
        "assert tuple(sd['out.conv.conv.weight'].shape) == (14, 12, 1, 1, 1); "
        "assert tuple(sd['swinViT.layers1.0.blocks.0.attn.relative_position_bias_table'].shape) == (2197, 1); "
        "assert tuple(sd['swinViT.layers4.0.blocks.1.attn.relative_position_bias_table'].shape) == (2197, 8); "
        "assert sd['swinViT.layers1.0.blocks.0.attn.relative_position_index'].dtype == torch.int64; "
        "assert sd['encoder1.layer.conv1.conv.weight'].dtype == torch.float32; "
        "print('torch.load ok', len(sd))\"");
    INFO(py.output);
    CHECK(py.exit_code == 0);
    CHECK(contains(py.output, "torch.load ok 159"));

    const CliRun seg = run_command(cli + " segment " + dir + "/ct2.nii.gz " + dir + "/seg.nii.gz --weights " + dir +
                                   "/out/model.pt --threads 2");
    INFO(seg.output);
    CHECK(seg.exit_code == 0);

    const CliRun eval = run_command(cli + " evaluate --weights " + dir + "/out/model.pt --datalist " + dir +
                                    "/datalist.json --report " + dir + "/report.json --threads 2");
    INFO(eval.output);
    CHECK(eval.exit_code == 0);
    CHECK(contains(eval.output, "liver"));
    CHECK(contains(eval.output, "mean Dice"));
    const swu::json::Value report = swu::json::parse_file(dir + "/report.json");
    CHECK(report.at("sliding_window").at("roi").as_number() == 96);
    CHECK(report.at("sliding_window").at("overlap").is_number());
    CHECK(report.at("organ_mean_dice").size() == 13);
    CHECK(report.at("organ_mean_dice").find("left adrenal gland"));
    REQUIRE(report.at("cases").size() == 1);
    CHECK(report.at("cases").at(size_t(0)).at("organ_dice").size() == 13);
}
