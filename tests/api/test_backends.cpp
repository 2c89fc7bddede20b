// Backend discovery: healthy and broken plugins, listing and errors.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <future>
#include <memory>
#include <thread>

#include <filesystem>
#include <string>

#include "api_helpers.hpp"
#include "cli_run.hpp"

using namespace swu_test;

namespace {

std::vector<swu_backend_info> all_backends() {
    size_t n = 0;
    REQUIRE(swu_backend_count(&n) == SWU_OK);
    std::vector<swu_backend_info> out;
    for (size_t i = 0; i < n; ++i) {
        swu_backend_info b{};
        b.struct_size = sizeof b;
        REQUIRE(swu_backend_get_info(i, &b) == SWU_OK);
        out.push_back(b);
    }
    return out;
}

const swu_backend_info* find(const std::vector<swu_backend_info>& list, const std::string& name) {
    for (const auto& b : list)
        if (name == b.name) return &b;
    return nullptr;
}

}  // namespace

TEST_CASE("the default search finds the torch backend next to libswinunetr", "[unit]") {
    REQUIRE(swu_backends_load(nullptr, nullptr) == SWU_OK);
    const auto list = all_backends();
    const swu_backend_info* torch = find(list, "torch");
    REQUIRE(torch);
    CHECK(torch->loaded == 1);
    CHECK(std::string(torch->error).empty());
    CHECK(std::string(torch->path).find("swinunetr/backends/libswinunetr_torch.so") != std::string::npos);
    CHECK((torch->capabilities & SWU_CAP_INFER));
    CHECK((torch->capabilities & SWU_CAP_FP32));
    CHECK(std::string(torch->version).find("libtorch") != std::string::npos);
    REQUIRE(torch->device_count >= 1);
    const size_t index = static_cast<size_t>(torch - list.data());
    swu_device_info d{};
    d.struct_size = sizeof d;
    REQUIRE(swu_backend_get_device(index, 0, &d) == SWU_OK);
    CHECK(std::string(d.name) == "cpu");
    REQUIRE_STATUS(swu_backend_get_device(index, 99, &d), SWU_ERR_INVALID_ARGUMENT, "out of range");
    // Loading again adds nothing.
    size_t loaded = 99;
    REQUIRE(swu_backends_load(nullptr, &loaded) == SWU_OK);
    CHECK(loaded == 0);
}

TEST_CASE("broken plugins are listed with the reason and the process goes on", "[unit]") {
    REQUIRE_STATUS(swu_backends_load("/nonexistent/folder", nullptr), SWU_ERR_IO, "/nonexistent/folder");
    REQUIRE_STATUS(swu_backends_load("", nullptr), SWU_ERR_INVALID_ARGUMENT, "empty");
    size_t loaded = 99;
    REQUIRE(swu_backends_load(SWU_TEST_PLUGIN_DIR, &loaded) == SWU_OK);
    CHECK(loaded == 0);
    const auto list = all_backends();

    const swu_backend_info* abi = find(list, "wrongabi");
    REQUIRE(abi);
    CHECK(abi->loaded == 0);
    CHECK(abi->capabilities == 0);
    CHECK(std::string(abi->path).find("libswinunetr_wrongabi.so") != std::string::npos);
    CHECK(std::string(abi->error).find("plugin ABI version 999") != std::string::npos);
    CHECK(std::string(abi->error).find("expects plugin ABI version 1") != std::string::npos);

    const swu_backend_info* dep = find(list, "missingdep");
    REQUIRE(dep);
    CHECK(dep->loaded == 0);
    CHECK(std::string(dep->error).find("libswu_test_fakedep.so") != std::string::npos);

    const swu_backend_info* none = find(list, "noentry");
    REQUIRE(none);
    CHECK(std::string(none->error).find("no 'swu_backend_entry' symbol") != std::string::npos);

    swu_model_params p = default_params();
    p.backend = "wrongabi";
    swu_model* m = nullptr;
    REQUIRE_STATUS(swu_model_create(&p, &m), SWU_ERR_BACKEND, "failed to load: plugin ABI version 999");
    const size_t index = static_cast<size_t>(abi - list.data());
    swu_device_info d{};
    d.struct_size = sizeof d;
    REQUIRE_STATUS(swu_backend_get_device(index, 0, &d), SWU_ERR_STATE, "not loaded");

    // The healthy backend still serves "auto".
    p.backend = "auto";
    ModelPtr healthy = create_model(p);
    CHECK(std::string(model_info(healthy.get()).backend) == auto_cpu_backend());
}

TEST_CASE("backend listing checks its arguments", "[unit]") {
    REQUIRE_STATUS(swu_backend_count(nullptr), SWU_ERR_INVALID_ARGUMENT, "count is NULL");
    swu_backend_info b{};
    b.struct_size = sizeof b;
    REQUIRE_STATUS(swu_backend_get_info(100000, &b), SWU_ERR_INVALID_ARGUMENT, "out of range");
    b.struct_size = 1;
    REQUIRE_STATUS(swu_backend_get_info(0, &b), SWU_ERR_INVALID_ARGUMENT, "struct_size");
    REQUIRE_STATUS(swu_backend_get_info(0, nullptr), SWU_ERR_INVALID_ARGUMENT, "info is NULL");
}

namespace {

// Runs f on a thread of its own; a call still running after 60 s is a deadlock: the test
// process then ends at once with a message (it could not be unwound).
void within_a_minute(const char* what, const std::function<void()>& f) {
    auto done = std::make_shared<std::promise<void>>();
    std::future<void> finished = done->get_future();
    std::thread([f, done] {
        f();
        done->set_value();
    }).detach();
    if (finished.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
        std::fprintf(stderr, "FAILED: %s did not return within 60 s (deadlock)\n", what);
        std::fflush(stderr);
        std::_Exit(1);
    }
}

struct Reentrant {
    std::atomic<int> lines{0};
    std::atomic<size_t> counted{0};
};

void count_backends(swu_log_level, const char*, void* user) {
    auto& r = *static_cast<Reentrant*>(user);
    size_t n = 0;
    if (swu_backend_count(&n) == SWU_OK) r.counted = n;  // the plugin registry's lock
    ++r.lines;
}

void replace_myself(swu_log_level, const char*, void* user) {
    ++*static_cast<std::atomic<int>*>(user);
    swu_set_log_callback(nullptr, nullptr, SWU_LOG_ERROR);  // the log's own lock
}

}  // namespace

TEST_CASE("a log callback may call back into the library", "[unit]") {
    Reentrant r;
    REQUIRE(swu_set_log_callback(count_backends, &r, SWU_LOG_DEBUG) == SWU_OK);
    // Loading the broken test plugins logs a warning for each, under the registry's lock
    // before: the callback's swu_backend_count then waited for itself.
    within_a_minute("swu_backends_load with a callback calling swu_backend_count",
                    [] { swu_backends_load(SWU_TEST_PLUGIN_DIR, nullptr); });
    CHECK(r.lines > 0);
    CHECK(r.counted > 0);

    std::atomic<int> calls{0};
    REQUIRE(swu_set_log_callback(replace_myself, &calls, SWU_LOG_DEBUG) == SWU_OK);
    within_a_minute("swu_backends_load with a callback calling swu_set_log_callback",
                    [] { swu_backends_load(SWU_TEST_MISBEHAVING_PLUGIN_DIR, nullptr); });
    CHECK(calls == 1);  // it replaced itself at its first line
    swu_set_log_callback(nullptr, nullptr, SWU_LOG_WARNING);
}

// A host that opened libswinunetr.so as "./libswinunetr.so" and then changed directory:
// the plugin folder beside the library is where the library was, not "./swinunetr/
// backends" of wherever the host is now (which used to find the planted plugin there and
// miss the real ones).
TEST_CASE("a library opened by a relative name never searches the working directory", "[unit]") {
    char tmpl[] = "/tmp/swu-cwd-XXXXXX";
    REQUIRE(mkdtemp(tmpl));
    const std::filesystem::path cwd = tmpl;
    std::filesystem::create_directories(cwd / "swinunetr" / "backends");
    std::filesystem::copy_file(std::string(SWU_TEST_PLUGIN_DIR) + "/libswinunetr_wrongabi.so",
                               cwd / "swinunetr" / "backends" / "libswinunetr_planted.so");
    const std::filesystem::path lib = SWU_LIBRARY_FILE;
    const CliRun r = run_command("cd '" + lib.parent_path().string() + "' && env -u SWU_BACKEND_PATH '" +
                                 SWU_RELATIVE_LOAD_PROBE + "' ./" + lib.filename().string() + " '" + cwd.string() + "'");
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(r.output.find("planted") == std::string::npos);
    const std::string beside = std::filesystem::canonical(lib.parent_path()).string() + "/swinunetr/backends/libswinunetr_";
    CHECK(r.output.find("1 " + beside) != std::string::npos);
    std::filesystem::remove_all(cwd);
}
