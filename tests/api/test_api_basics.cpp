// Versions, statuses, errors, logging and model parameters through the C API.
#include <mutex>

#include "api_helpers.hpp"

using namespace swu_test;

TEST_CASE("versions of header and library agree", "[unit]") {
    CHECK(swu_version_number() == SWU_VERSION_NUMBER);
    CHECK(std::string(swu_version_string()) == SWU_VERSION_STRING);
    CHECK(swu_abi_version() == SWU_ABI_VERSION);
}

TEST_CASE("every status has a description", "[unit]") {
    for (int s = SWU_OK; s <= SWU_ERR_CANCELLED; ++s)
        CHECK(std::string(swu_status_string(static_cast<swu_status>(s))) != "unknown status");
    CHECK(std::string(swu_status_string(static_cast<swu_status>(999))) == "unknown status");
    CHECK(std::string(swu_status_string(SWU_ERR_BUSY)) == "busy");
}

TEST_CASE("last error names the failing function and clears on success", "[unit]") {
    REQUIRE((swu_model_params_init)(nullptr) == SWU_ERR_INVALID_ARGUMENT);
    CHECK(std::string(swu_last_error()).find("swu_model_params_init") == 0);
    CHECK(std::string(swu_last_error()).find("params is NULL") != std::string::npos);
    swu_model_params p;
    REQUIRE(swu_model_params_init(&p) == SWU_OK);
    CHECK(std::string(swu_last_error()).empty());
}

TEST_CASE("params defaults are the documented ones", "[unit]") {
    swu_model_params p;
    REQUIRE(swu_model_params_init(&p) == SWU_OK);
    CHECK(p.struct_size == sizeof p);
    CHECK(std::string(p.backend) == "auto");
    CHECK(std::string(p.device) == "cpu");
    CHECK(p.threads == 0);
    CHECK(p.precision == SWU_PRECISION_FP32);
    CHECK(p.feature_size == 0);
    CHECK(p.merging == SWU_MERGING_LEGACY);
}

TEST_CASE("model creation rejects bad params with a clear status", "[unit]") {
    swu_model* m = nullptr;
    REQUIRE_STATUS(swu_model_create(nullptr, &m), SWU_ERR_INVALID_ARGUMENT, "params is NULL");
    swu_model_params p = default_params();
    REQUIRE_STATUS(swu_model_create(&p, nullptr), SWU_ERR_INVALID_ARGUMENT, "model is NULL");

    p.struct_size = 8;
    REQUIRE_STATUS(swu_model_create(&p, &m), SWU_ERR_INVALID_ARGUMENT, "struct_size");
    p.struct_size = sizeof p + 16;
    REQUIRE_STATUS(swu_model_create(&p, &m), SWU_ERR_INVALID_ARGUMENT, "struct_size");

    p = default_params();
    p.device = "gpu";
    REQUIRE_STATUS(swu_model_create(&p, &m), SWU_ERR_INVALID_ARGUMENT, "gpu");
    p = default_params();
    p.precision = static_cast<swu_precision>(7);
    REQUIRE_STATUS(swu_model_create(&p, &m), SWU_ERR_INVALID_ARGUMENT, "precision");
    p = default_params();
    p.threads = -1;
    REQUIRE_STATUS(swu_model_create(&p, &m), SWU_ERR_INVALID_ARGUMENT, "threads");
    p = default_params();
    p.merging = static_cast<swu_merging>(9);
    REQUIRE_STATUS(swu_model_create(&p, &m), SWU_ERR_INVALID_ARGUMENT, "merging");
    p = default_params();
    p.feature_size = -12;
    REQUIRE_STATUS(swu_model_create(&p, &m), SWU_ERR_INVALID_ARGUMENT, ">= 0");
    p = default_params();
    p.backend = "nonexistent";
    REQUIRE_STATUS(swu_model_create(&p, &m), SWU_ERR_BACKEND, "no backend named 'nonexistent'");
    p = default_params();
    p.precision = SWU_PRECISION_FP16;
    REQUIRE_STATUS(swu_model_create(&p, &m), SWU_ERR_UNSUPPORTED, "precision fp16");
    p = default_params();
    p.device = "cuda:0";
    p.backend = "auto";
    REQUIRE_STATUS(swu_model_create(&p, &m), SWU_ERR_UNSUPPORTED, "cuda:0");
    CHECK(m == nullptr);
    swu_model_free(nullptr);
}

TEST_CASE("a fresh model reports its backend and no weights", "[unit]") {
    swu_model_params p = default_params();
    p.backend = "auto";
    ModelPtr m = create_model(p);
    const swu_model_info info = model_info(m.get());
    CHECK(std::string(info.backend) == auto_cpu_backend());
    CHECK(std::string(info.device) == "cpu");
    CHECK(info.threads == 2);
    CHECK(info.weights_loaded == 0);
    CHECK(info.feature_size == 0);
    swu_model_info bad{};
    bad.struct_size = 3;
    REQUIRE_STATUS(swu_model_get_info(m.get(), &bad), SWU_ERR_INVALID_ARGUMENT, "swu_model_info.struct_size");
}

namespace {
struct LogCapture {
    std::mutex mutex;
    std::vector<std::string> lines;
};
void capture(swu_log_level, const char* message, void* user) {
    auto* c = static_cast<LogCapture*>(user);
    std::lock_guard<std::mutex> lock(c->mutex);
    c->lines.push_back(message);
}
}  // namespace

TEST_CASE("the log callback receives the library's messages", "[unit]") {
    LogCapture c;
    REQUIRE(swu_set_log_callback(capture, &c, SWU_LOG_DEBUG) == SWU_OK);
    swu_model_params p = default_params();
    p.backend = "nonexistent";
    swu_model* m = nullptr;
    CHECK(swu_model_create(&p, &m) == SWU_ERR_BACKEND);
    REQUIRE(swu_set_log_callback(nullptr, nullptr, SWU_LOG_WARNING) == SWU_OK);
    bool seen = false;
    for (const std::string& l : c.lines) seen |= l.find("nonexistent") != std::string::npos;
    CHECK(seen);
    REQUIRE_STATUS(swu_set_log_callback(nullptr, nullptr, static_cast<swu_log_level>(42)), SWU_ERR_INVALID_ARGUMENT,
                   "log level");
}
