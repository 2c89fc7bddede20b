// The `swinunetr` CLI: info lists broken plugins and still succeeds; forward
// reproduces MONAI's logits from files; bad command lines fail clearly.
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>

#include "api_helpers.hpp"
#include "golden.hpp"
#include "io/npy.hpp"

using namespace swu_test;

namespace {

struct Run {
    int exit_code = -1;
    std::string output;  // stdout and stderr
};

Run run(const std::string& command) {
    Run r;
    FILE* p = popen((command + " 2>&1").c_str(), "r");
    REQUIRE(p);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
    const int status = pclose(p);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

bool contains(const std::string& s, const std::string& needle) { return s.find(needle) != std::string::npos; }

// The backends this build made (SWU_TEST_BACKENDS, comma-separated, from tests/CMakeLists.txt).
std::vector<std::string> built_backends() {
    std::vector<std::string> out;
    std::string list = SWU_TEST_BACKENDS;
    for (size_t start = 0; start <= list.size();) {
        const size_t end = std::min(list.find(',', start), list.size());
        if (end > start) out.push_back(list.substr(start, end - start));
        start = end + 1;
    }
    return out;
}

// Figures are printed under the file name, with the backend appended unless it is torch.
std::string labelled(const std::string& name, const std::string& backend) {
    return backend == "torch" ? name : name + " [" + backend + "]";
}

}  // namespace

TEST_CASE("cli info lists healthy and broken backends and exits 0", "[unit]") {
    const Run r = run("SWU_BACKEND_PATH=" SWU_TEST_PLUGIN_DIR " " SWU_CLI_PATH " info");
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
    const Run r = run(std::string(SWU_CLI_PATH) + " forward --weights " + golden_path("net_f12/model.pt") + " --input " +
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
    Run r = run(SWU_CLI_PATH " forward");
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, "--weights, --input and --output are required"));
    r = run(SWU_CLI_PATH " frobnicate");
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, "unknown command 'frobnicate'"));
    r = run(std::string(SWU_CLI_PATH) + " forward --weights /nonexistent.pt --input " + golden_path("net_f12/input.npy") +
            " --output /tmp/swu_never_written.npy");
    CHECK(r.exit_code == 1);
    CHECK(contains(r.output, "loading weights failed (i/o error)"));
    r = run(std::string(SWU_CLI_PATH) + " forward --weights " + golden_path("net_f12/model.pt") + " --input " +
            golden_path("net_f12/keys.txt") + " --output /tmp/swu_never_written.npy");
    CHECK(r.exit_code == 1);
    CHECK(contains(r.output, "not a .npy file"));
    r = run(std::string(SWU_CLI_PATH) + " forward --weights " + golden_path("net_f12/model.pt") + " --input " +
            golden_path("net_f48/argmax.npy") + " --output /tmp/swu_never_written.npy");
    CHECK(r.exit_code == 1);
    CHECK(contains(r.output, "float32 is required"));
    r = run(std::string(SWU_CLI_PATH) + " forward --weights " + golden_path("net_f12/model.pt") + " --input " +
            golden_path("net_f12/input.npy") + " --output /tmp/x.npy --precision fp64");
    CHECK(r.exit_code == 2);
}
