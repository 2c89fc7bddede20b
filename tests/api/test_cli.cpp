// The `swinunetr` CLI: info lists broken plugins and still succeeds; forward
// reproduces MONAI's logits from files; bad command lines fail clearly.
#include <cstdio>

#include "api_helpers.hpp"
#include "cli_run.hpp"
#include "golden.hpp"
#include "io/npy.hpp"

using namespace swu_test;

TEST_CASE("cli info lists healthy and broken backends and exits 0", "[unit]") {
    const CliRun r = run_command("SWU_BACKEND_PATH=" SWU_TEST_PLUGIN_DIR " " SWU_CLI_PATH " info");
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(contains(r.output, "C ABI 1"));
    CHECK(contains(r.output, "wrongabi FAILED"));
    CHECK(contains(r.output, "plugin ABI version 999"));
    CHECK(contains(r.output, "missingdep FAILED"));
    CHECK(contains(r.output, "libswu_test_fakedep.so"));
    for (const std::string& backend : built_backends())
        CHECK(contains(r.output, (backend + "         ").substr(0, 9) + "ok"));
    CHECK(contains(r.output, "device cpu"));
}

TEST_CASE("cli forward reproduces the golden net_f12 logits", "[golden]") {
    const std::string backend = GENERATE(from_range(built_backends()));
    const std::string out = "/tmp/swu_cli_forward_f12_" + backend + ".npy";
    std::remove(out.c_str());
    const CliRun r = run_command(std::string(SWU_CLI_PATH) + " forward --weights " + golden_path("net_f12/model.pt") + " --input " +
                      golden_path("net_f12/input.npy") + " --output " + out + " --threads 2 --backend " + backend);
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    const swu::Tensor ours = swu::read_npy(out);
    const swu::Tensor golden = load_golden("net_f12/logits.npy");
    REQUIRE(ours.shape == golden.shape);
    const Comparison c = compare(ours.as<float>(), golden.as<float>(), golden.numel(), 1e-4, 1e-4);
    print_comparison(labelled("net_f12/logits.npy (cli)", backend), c);
    CHECK(c.ok());
}

TEST_CASE("cli forward fails clearly on bad input", "[unit]") {
    CliRun r = run_command(SWU_CLI_PATH " forward");
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, "swinunetr forward: --weights is required"));
    r = run_command(SWU_CLI_PATH " frobnicate");
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, "unknown command 'frobnicate'"));
    r = run_command(std::string(SWU_CLI_PATH) + " forward --weights /nonexistent.pt --input " + golden_path("net_f12/input.npy") +
            " --output /tmp/swu_never_written.npy");
    CHECK(r.exit_code == 1);
    CHECK(contains(r.output, "loading weights failed (i/o error)"));
    r = run_command(std::string(SWU_CLI_PATH) + " forward --weights " + golden_path("net_f12/model.pt") + " --input " +
            golden_path("net_f12/keys.txt") + " --output /tmp/swu_never_written.npy");
    CHECK(r.exit_code == 1);
    CHECK(contains(r.output, "not a .npy file"));
    r = run_command(std::string(SWU_CLI_PATH) + " forward --weights " + golden_path("net_f12/model.pt") + " --input " +
            golden_path("net_f48/argmax.npy") + " --output /tmp/swu_never_written.npy");
    CHECK(r.exit_code == 1);
    CHECK(contains(r.output, "float32 is required"));
    r = run_command(std::string(SWU_CLI_PATH) + " forward --weights " + golden_path("net_f12/model.pt") + " --input " +
            golden_path("net_f12/input.npy") + " --output /tmp/x.npy --precision fp64");
    CHECK(r.exit_code == 2);
}

// One parser (CLI11) for every command: the same errors and exit code 2 everywhere, the
// option named; --help generated from the definitions.
TEST_CASE("cli options: unknown, malformed, missing and help", "[unit]") {
    const std::string cli = SWU_CLI_PATH;
    for (const char* command : {"segment", "train", "evaluate", "forward", "bench", "compare", "info"}) {
        INFO(command);
        CliRun r = run_command(cli + " " + command + " --bogus");
        CHECK(r.exit_code == 2);
        CHECK(contains(r.output, std::string("swinunetr ") + command + ": unknown option '--bogus'"));
        r = run_command(cli + " " + command + " --help");
        CHECK(r.exit_code == 0);
        CHECK(contains(r.output, std::string("Usage: swinunetr ") + command));
        CHECK(contains(r.output, "--log-level"));
    }
    CliRun r = run_command(cli + " segment in.nii.gz out.nii.gz --weights w.pt --overlap abc");
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, "--overlap"));
    r = run_command(cli + " segment in.nii.gz out.nii.gz --weights w.pt --blend linear");
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, "--blend: linear not in {constant,gaussian}"));
    r = run_command(cli + " compare a.npy b.npy extra.npy");
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, "swinunetr compare: unexpected argument 'extra.npy'"));
    // segment takes any number of inputs with --output-dir, else exactly INPUT OUTPUT.
    r = run_command(cli + " segment in.nii.gz out.nii.gz extra.nii.gz --weights w.pt");
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, "give INPUT and OUTPUT, or inputs with --output-dir or --input-list"));
    r = run_command(cli + " train --datalist d.json --output-dir o --epochs 2 --max-iterations 3");
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, "--epochs excludes --max-iterations"));
    r = run_command("SWU_LOG_LEVEL=loud " + cli + " info");  // the variable is read like the option
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, "--log-level: loud not in"));

    // train --help lists every option train reads.
    r = run_command(cli + " train --help");
    CHECK(r.exit_code == 0);
    for (const char* option : {"--datalist", "--output-dir", "--weights", "--resume", "--cache-mb", "--epochs",
                               "--max-iterations", "--val-interval", "--batch-size", "--num-samples", "--roi", "--lr",
                               "--seed", "--amp", "--checkpointing", "--backend", "--device", "--threads",
                               "--feature-size", "--num-heads", "--nproc", "--dist-timeout", "--log-level"})
        CHECK(contains(r.output, option));
    r = run_command(cli + " help");
    CHECK(r.exit_code == 0);
    CHECK(contains(r.output, "segment"));
    r = run_command(cli + " --version");
    CHECK(r.exit_code == 0);
    CHECK(contains(r.output, "swinunetr 0."));
}

TEST_CASE("cli bench prints forward figures and a whole CT's stage times", "[unit]") {
    const std::string cli = SWU_CLI_PATH, weights = golden_path("net_f12/model.pt");
    const std::string backend = auto_cpu_backend();  // the faster one: this test runs whole windows
    CliRun r = run_command(cli + " bench --backends " + backend + " --precisions fp32 --batches 1 --size 32 --repeats 1" +
                           " --threads 2 --weights " + weights);
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(contains(r.output, "fp32 peak of this machine on 2 threads (FMA loop)"));
    CHECK(contains(r.output, backend.substr(0, 6)));
    CHECK(contains(r.output, "per window"));
    CHECK(contains(r.output, "GFLOP/s"));
    CHECK(contains(r.output, "peak RSS"));
    // fp16 runs on no CPU backend: the line says why instead of a time.
    r = run_command(cli + " bench --backends " + backend + " --precisions fp16 --batches 1 --size 32 --repeats 1 --weights " +
                    weights);
    CHECK(r.exit_code == 0);
    CHECK(contains(r.output, "not available: "));
    r = run_command(cli + " bench --size 33");
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, "swinunetr bench: --size: a multiple of 32"));

    const std::string ct = "swu_cli_bench_ct.nii.gz";
    REQUIRE(run_command(std::string(SWU_PHANTOM_PATH) + " " + ct + " --seed 3").exit_code == 0);
    r = run_command(cli + " bench --backends " + backend + " --volume " + ct + " --roi 64 --threads 2 --weights " + weights);
    INFO(r.output);
    CHECK(r.exit_code == 0);
    for (const char* stage : {"read ", "weights ", "preprocess ", "windows + stitching ", "invert ", "write ", "segment "})
        CHECK(contains(r.output, stage));
    CHECK_FALSE(contains(r.output, "failed"));
    std::remove(ct.c_str());
}
