// Distributed training's C API: bad launch environments fail with a status and a message
// (no exception, no abort, no hang), and `swinunetr train --nproc 2` trains as two Gloo
// ranks on 127.0.0.1. The numerical checks (weights identical on both ranks and equal to
// one process with micro-batches) are tests/dist/dist_worker.cpp.
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "api_helpers.hpp"
#include "cli_run.hpp"
#include "free_port.hpp"

using namespace swu_test;

namespace {

const char* const kVariables[] = {"WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"};

// Sets the torchrun variables for its lifetime (unset where not given) and restores them.
class Environment {
public:
    explicit Environment(const std::map<std::string, std::string>& values) {
        for (const char* name : kVariables) {
            if (const char* v = std::getenv(name)) saved_[name] = v;
            const auto it = values.find(name);
            if (it == values.end()) unsetenv(name);
            else setenv(name, it->second.c_str(), 1);
        }
    }
    ~Environment() {
        for (const char* name : kVariables) {
            const auto it = saved_.find(name);
            if (it == saved_.end()) unsetenv(name);
            else setenv(name, it->second.c_str(), 1);
        }
    }

private:
    std::map<std::string, std::string> saved_;
};

swu_optimizer_params distributed_params(double timeout = 60) {
    swu_optimizer_params p;
    swu_optimizer_params_init(&p);
    p.distributed = SWU_DISTRIBUTED_ENV;
    p.distributed_timeout = timeout;
    return p;
}

ModelPtr torch_model() {
    swu_model_params mp = default_params();
    mp.backend = "torch";
    mp.feature_size = 12;
    mp.threads = 1;
    ModelPtr m = create_model(mp);
    REQUIRE(swu_model_init_weights(m.get(), 3) == SWU_OK);
    return m;
}

}  // namespace

TEST_CASE("dist: bad launch environments give a clear status and leave the model usable", "[unit]") {
    ModelPtr m = torch_model();
    const swu_optimizer_params p = distributed_params();
    {
        Environment env({});
        REQUIRE_STATUS(swu_model_train_configure(m.get(), &p), SWU_ERR_INVALID_ARGUMENT, "WORLD_SIZE is not set");
    }
    {
        Environment env({{"WORLD_SIZE", "2"}, {"RANK", "0"}, {"MASTER_PORT", "29500"}});
        REQUIRE_STATUS(swu_model_train_configure(m.get(), &p), SWU_ERR_INVALID_ARGUMENT, "MASTER_ADDR is not set");
    }
    {
        Environment env({{"WORLD_SIZE", "2"}, {"RANK", "0"}, {"MASTER_ADDR", "127.0.0.1"}});
        REQUIRE_STATUS(swu_model_train_configure(m.get(), &p), SWU_ERR_INVALID_ARGUMENT, "MASTER_PORT is not set");
    }
    {
        Environment env({{"WORLD_SIZE", "2"}, {"RANK", "2"}, {"MASTER_ADDR", "127.0.0.1"}, {"MASTER_PORT", "29500"}});
        REQUIRE_STATUS(swu_model_train_configure(m.get(), &p), SWU_ERR_INVALID_ARGUMENT, "RANK=2 is not below WORLD_SIZE=2");
    }
    {
        Environment env({{"WORLD_SIZE", "two"}, {"RANK", "0"}});
        REQUIRE_STATUS(swu_model_train_configure(m.get(), &p), SWU_ERR_INVALID_ARGUMENT, "WORLD_SIZE='two'");
    }
    {
        Environment env({{"WORLD_SIZE", "2"}, {"RANK", "1"}, {"MASTER_ADDR", "127.0.0.1"}, {"MASTER_PORT", "70000"}});
        REQUIRE_STATUS(swu_model_train_configure(m.get(), &p), SWU_ERR_INVALID_ARGUMENT, "MASTER_PORT='70000'");
    }
    {
        // Nobody serves the rendezvous: rank 1 gives up after the timeout with SWU_ERR_IO.
        Environment env({{"WORLD_SIZE", "2"}, {"RANK", "1"}, {"MASTER_ADDR", "127.0.0.1"},
                         {"MASTER_PORT", std::to_string(swu_test::free_port())}});
        const swu_optimizer_params quick = distributed_params(2.0);
        const auto t0 = std::chrono::steady_clock::now();
        REQUIRE_STATUS(swu_model_train_configure(m.get(), &quick), SWU_ERR_IO, "cannot reach the rendezvous at 127.0.0.1:");
        CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < 30);
    }
    {
        // Rank 0 waits for a rank 1 that never comes.
        Environment env({{"WORLD_SIZE", "2"}, {"RANK", "0"}, {"MASTER_ADDR", "127.0.0.1"},
                         {"MASTER_PORT", std::to_string(swu_test::free_port())}});
        const swu_optimizer_params quick = distributed_params(2.0);
        const swu_status st = swu_model_train_configure(m.get(), &quick);
        INFO(swu_last_error());
        CHECK(st == SWU_ERR_IO);
    }
    {
        Environment env({{"WORLD_SIZE", "1"}, {"RANK", "0"}});  // one process needs no rendezvous
        REQUIRE(swu_model_train_configure(m.get(), &p) == SWU_OK);
    }
    swu_optimizer_params bad = distributed_params();
    bad.distributed = static_cast<swu_distributed>(5);
    REQUIRE_STATUS(swu_model_train_configure(m.get(), &bad), SWU_ERR_INVALID_ARGUMENT, "distributed");
    bad = distributed_params(0.0);
    REQUIRE_STATUS(swu_model_train_configure(m.get(), &bad), SWU_ERR_INVALID_ARGUMENT, "distributed_timeout");

    // The model still trains on its own.
    swu_optimizer_params plain;
    swu_optimizer_params_init(&plain);
    REQUIRE(swu_model_train_configure(m.get(), &plain) == SWU_OK);
}

TEST_CASE("dist: micro_batches must divide the batch", "[unit]") {
    ModelPtr m = torch_model();
    swu_optimizer_params p;
    swu_optimizer_params_init(&p);
    CHECK(p.micro_batches == 1);
    CHECK(p.distributed == SWU_DISTRIBUTED_OFF);
    CHECK(p.distributed_timeout == 1800);
    p.micro_batches = 300;
    REQUIRE_STATUS(swu_model_train_configure(m.get(), &p), SWU_ERR_INVALID_ARGUMENT, "micro_batches");
    p.micro_batches = 2;
    REQUIRE(swu_model_train_configure(m.get(), &p) == SWU_OK);
    std::vector<float> image(64 * 64 * 64, 0.5f);
    std::vector<uint8_t> labels(image.size(), 1);
    const int64_t shape[5] = {1, 1, 64, 64, 64};
    REQUIRE_STATUS(swu_model_train_step(m.get(), image.data(), shape, labels.data(), nullptr), SWU_ERR_INVALID_ARGUMENT,
                   "does not split into 2");
}

TEST_CASE("dist: swu_train checks the environment before it writes anything", "[unit]") {
    ModelPtr m = torch_model();
    const std::string dir = "swu_dist_bad_env";
    std::filesystem::remove_all(dir);
    swu_train_params tp;
    swu_train_params_init(&tp);
    CHECK(tp.distributed == SWU_DISTRIBUTED_OFF);
    std::ofstream("swu_dist_bad_env.json") << R"({"training": [{"image": "no.nii.gz", "label": "no_lb.nii.gz"}]})";
    tp.datalist = "swu_dist_bad_env.json";
    tp.output_dir = dir.c_str();
    tp.distributed = SWU_DISTRIBUTED_ENV;
    {
        Environment env({{"WORLD_SIZE", "2"}, {"RANK", "1"}, {"MASTER_PORT", "29500"}});
        REQUIRE_STATUS(swu_train(m.get(), &tp, nullptr), SWU_ERR_INVALID_ARGUMENT, "MASTER_ADDR is not set");
    }
    CHECK(!std::filesystem::exists(dir));
    tp.distributed_timeout = -1;
    REQUIRE_STATUS(swu_train(m.get(), &tp, nullptr), SWU_ERR_INVALID_ARGUMENT, "distributed_timeout");
}

TEST_CASE("dist: swinunetr train --nproc 2", "[dist][slow]") {
    const std::string dir = "swu_dist_cli", cli = SWU_CLI_PATH, phantom = SWU_PHANTOM_PATH;
    REQUIRE(run_command("rm -rf " + dir + " && mkdir -p " + dir).exit_code == 0);
    for (int seed = 1; seed <= 3; ++seed) {
        const std::string s = std::to_string(seed);
        REQUIRE(run_command(phantom + " " + dir + "/ct" + s + ".nii.gz --labels " + dir + "/lb" + s + ".nii.gz --seed " + s)
                    .exit_code == 0);
    }
    // Three training cases over two ranks: rank 1's shard is padded with a repeat.
    std::ofstream(dir + "/datalist.json") << R"({"training": [{"image": "ct1.nii.gz", "label": "lb1.nii.gz"},
        {"image": "ct2.nii.gz", "label": "lb2.nii.gz"}, {"image": "ct3.nii.gz", "label": "lb3.nii.gz"}],
        "validation": [{"image": "ct2.nii.gz", "label": "lb2.nii.gz"}, {"image": "ct3.nii.gz", "label": "lb3.nii.gz"}]})";
    const std::string args = " train --datalist " + dir + "/datalist.json --output-dir " + dir +
                             "/out --feature-size 12 --roi 64 --batch-size 1 --num-samples 1 --max-iterations 1 "
                             "--threads 1 --backend torch --dist-timeout 120";

    const CliRun nested = run_command("WORLD_SIZE=2 " + cli + args + " --nproc 2");
    CHECK(nested.exit_code == 2);
    CHECK(contains(nested.output, "WORLD_SIZE is already set"));

    const CliRun r = run_command(cli + args + " --nproc 2");
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(contains(r.output, "2 processes, rendezvous at 127.0.0.1:"));
    CHECK(contains(r.output, "iteration 1/1"));
    // Rank 0 alone prints progress.
    CHECK(r.output.find("iteration 1/1") == r.output.rfind("iteration 1/1"));
    CHECK(contains(r.output, "(best "));
    CHECK(r.output.find("(best ") == r.output.rfind("(best "));  // one validation line
    CHECK(r.output.find("saved ") == r.output.rfind("saved "));
    for (const char* f : {"model.pt", "resume.pt", "resume.json", "metrics.jsonl"})
        CHECK(std::filesystem::exists(dir + "/out/" + f));
    std::ifstream metrics(dir + "/out/metrics.jsonl");
    int lines = 0;
    for (std::string line; std::getline(metrics, line);) ++lines;
    CHECK(lines == 2);  // one step, one validation: written once, by rank 0
}

namespace {

// name -> bytes of every tensor in a set.
std::map<std::string, std::string> tensors_of(swu_model* m, swu_tensor_set set) {
    std::map<std::string, std::string> out;
    auto fn = [](const swu_named_tensor* t, void* user) -> int {
        size_t n = t->dtype == SWU_DTYPE_INT64 ? 8 : 4;
        for (int32_t d = 0; d < t->ndim; ++d) n *= static_cast<size_t>(t->shape[d]);
        (*static_cast<std::map<std::string, std::string>*>(user))[t->name] = std::string(static_cast<const char*>(t->data), n);
        return 0;
    };
    REQUIRE(swu_model_export_tensors(m, set, fn, &out) == SWU_OK);
    return out;
}

}  // namespace

// Configuring for distributed training resets Adam; a rendezvous that then fails must
// not have cost the model the state it had (it used to come back zeroed).
TEST_CASE("dist: a failed rendezvous keeps the optimizer state", "[unit]") {
    ModelPtr m = torch_model();
    swu_optimizer_params plain;
    swu_optimizer_params_init(&plain);
    plain.learning_rate = 1e-3;
    REQUIRE(swu_model_train_configure(m.get(), &plain) == SWU_OK);
    std::vector<float> x(32 * 32 * 64);
    std::vector<uint8_t> y(x.size());
    for (size_t i = 0; i < x.size(); ++i) {
        x[i] = static_cast<float>((i * 7919) % 1000) / 1000.0f;
        y[i] = static_cast<uint8_t>((i / 512) % 14);
    }
    const int64_t shape[5] = {1, 1, 32, 32, 64};
    REQUIRE(swu_model_train_step(m.get(), x.data(), shape, y.data(), nullptr) == SWU_OK);
    const auto before = tensors_of(m.get(), SWU_TENSORS_OPTIMIZER);
    REQUIRE(!before.empty());
    {
        Environment env({{"WORLD_SIZE", "2"}, {"RANK", "1"}, {"MASTER_ADDR", "127.0.0.1"},
                         {"MASTER_PORT", std::to_string(swu_test::free_port())}});
        const swu_optimizer_params quick = distributed_params(2.0);
        REQUIRE_STATUS(swu_model_train_configure(m.get(), &quick), SWU_ERR_IO, "rendezvous");
    }
    CHECK(tensors_of(m.get(), SWU_TENSORS_OPTIMIZER) == before);
    // And it trains on from there.
    CHECK(swu_model_train_step(m.get(), x.data(), shape, y.data(), nullptr) == SWU_OK);
}
