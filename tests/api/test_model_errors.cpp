// Weights and forward-pass errors through the C API: each gives a clear status and
// message, and the model keeps working afterwards.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <thread>

#include "api_helpers.hpp"
#include "golden.hpp"

using namespace swu_test;

namespace {

const int64_t kSmall[5] = {1, 1, 32, 32, 32};
constexpr size_t kSmallIn = 32 * 32 * 32, kSmallOut = 14 * kSmallIn;

std::vector<float> small_input() {
    std::vector<float> x(kSmallIn);
    for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i * 7919) % 1000) / 1000.0f;
    return x;
}

std::vector<float> run_small(swu_model* m) {
    const std::vector<float> x = small_input();
    std::vector<float> y(kSmallOut);
    const swu_status st = swu_model_forward(m, x.data(), kSmall, y.data(), y.size());
    INFO(swu_last_error());
    REQUIRE(st == SWU_OK);
    return y;
}

ModelPtr f12_model() {
    ModelPtr m = create_model();
    const swu_status st = swu_model_load_weights(m.get(), golden_path("net_f12/model.pt").c_str());
    INFO(swu_last_error());
    REQUIRE(st == SWU_OK);
    return m;
}

std::string write_temp(const std::string& name, const std::string& bytes) {
    const std::string path = "/tmp/swu_test_" + name;
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
}

}  // namespace

TEST_CASE("forward before weights is a state error", "[unit]") {
    ModelPtr m = create_model();
    const std::vector<float> x = small_input();
    std::vector<float> y(kSmallOut);
    REQUIRE_STATUS(swu_model_forward(m.get(), x.data(), kSmall, y.data(), y.size()), SWU_ERR_STATE, "no weights loaded");
}

TEST_CASE("bad weight files are refused and the model keeps its weights", "[unit]") {
    ModelPtr m = f12_model();
    const std::vector<float> before = run_small(m.get());

    REQUIRE_STATUS(swu_model_load_weights(m.get(), "/nonexistent/model.pt"), SWU_ERR_IO, "/nonexistent/model.pt");
    REQUIRE_STATUS(swu_model_load_weights(m.get(), nullptr), SWU_ERR_INVALID_ARGUMENT, "path is NULL");
    REQUIRE_STATUS(swu_model_load_weights(m.get(), write_temp("empty.pt", "").c_str()), SWU_ERR_FORMAT, "empty");
    REQUIRE_STATUS(swu_model_load_weights(m.get(), write_temp("text.pt", "hello, this is not a checkpoint").c_str()),
                   SWU_ERR_FORMAT, "not a PyTorch");
    REQUIRE_STATUS(swu_model_load_weights(m.get(), SWU_TEST_DATA_DIR "/checkpoints/evil_os_system.pt"), SWU_ERR_FORMAT,
                   "refused pickle global 'posix.system'");
    // A valid checkpoint of something else: keys do not fit.
    REQUIRE_STATUS(swu_model_load_weights(m.get(), SWU_TEST_DATA_DIR "/checkpoints/views_f32.pt"), SWU_ERR_WEIGHTS,
                   "cannot infer");

    CHECK(model_info(m.get()).feature_size == 12);
    const std::vector<float> after = run_small(m.get());
    CHECK(before == after);
}

TEST_CASE("mismatched weights name the first offenders", "[unit]") {
    ModelPtr m = f12_model();
    const std::vector<float> before = run_small(m.get());
    // The f12 layout from keys.txt, with formula values: valid, then broken one way at a time.
    std::vector<swu::NamedTensor> good = formula_weights(read_keys(golden_path("net_f12/keys.txt")), 0);
    REQUIRE(good.size() == 159);

    auto try_load = [&](const std::vector<swu::NamedTensor>& w) {
        const NamedTensorViews v = as_c_tensors(w);
        return swu_model_set_weights(m.get(), v.views.data(), v.views.size());
    };
    SECTION("missing key") {
        auto w = good;
        w.erase(w.begin() + 20);
        REQUIRE_STATUS(try_load(w), SWU_ERR_WEIGHTS, "1 missing key(s) (swinViT.layers1.0.blocks.1.attn.qkv.weight)");
    }
    SECTION("unexpected key") {
        auto w = good;
        w.push_back(w.back());
        w.back().name = "decoder0.extra.weight";
        REQUIRE_STATUS(try_load(w), SWU_ERR_WEIGHTS, "1 unexpected key(s) (decoder0.extra.weight)");
    }
    SECTION("wrong shape") {
        auto w = good;
        w[6].tensor.shape = {12, 36};
        REQUIRE_STATUS(try_load(w), SWU_ERR_WEIGHTS, "swinViT.layers1.0.blocks.0.attn.qkv.weight is [12, 36], expected [36, 12]");
    }
    SECTION("non-finite value") {
        auto w = good;
        w[8].tensor.as<float>()[5] = std::nanf("");
        REQUIRE_STATUS(try_load(w), SWU_ERR_WEIGHTS, "non-finite");
    }
    SECTION("index out of range") {
        auto w = good;
        w[5].tensor.as<int64_t>()[3] = 5000;
        REQUIRE_STATUS(try_load(w), SWU_ERR_WEIGHTS, "outside [0, 2197)");
    }
    SECTION("integer where a float is needed") {
        auto w = good;
        w[0].tensor.dtype = swu::DType::Int64;
        w[0].tensor.data.resize(w[0].tensor.data.size() * 2);
        REQUIRE_STATUS(try_load(w), SWU_ERR_WEIGHTS, "must be floating point");
    }
    SECTION("unknown dtype") {
        NamedTensorViews v = as_c_tensors(good);
        v.views[3].dtype = static_cast<swu_dtype>(77);
        REQUIRE_STATUS(swu_model_set_weights(m.get(), v.views.data(), v.views.size()), SWU_ERR_INVALID_ARGUMENT,
                       "unknown dtype");
    }
    SECTION("feature size given in the params that the weights do not have") {
        swu_model_params p = default_params();
        p.feature_size = 24;
        ModelPtr other = create_model(p);
        REQUIRE_STATUS(swu_model_load_weights(other.get(), golden_path("net_f12/model.pt").c_str()), SWU_ERR_WEIGHTS,
                       "shape mismatch");
    }
    SECTION("a DDP module. prefix is accepted") {
        auto w = good;
        for (auto& t : w) t.name = "module." + t.name;
        REQUIRE(try_load(w) == SWU_OK);
    }
    // Whatever failed, the model still computes what it computed before.
    if (model_info(m.get()).feature_size == 12) CHECK(run_small(m.get()).size() == kSmallOut);
    (void)before;
}

TEST_CASE("forward checks shapes, values and buffers", "[unit]") {
    ModelPtr m = f12_model();
    std::vector<float> x = small_input();
    std::vector<float> y(kSmallOut);

    int64_t shape[5] = {1, 1, 32, 32, 48};
    REQUIRE_STATUS(swu_model_forward(m.get(), x.data(), shape, y.data(), y.size()), SWU_ERR_INVALID_ARGUMENT,
                   "multiples of 32");
    const int64_t two_channels[5] = {1, 2, 32, 32, 32};
    REQUIRE_STATUS(swu_model_forward(m.get(), x.data(), two_channels, y.data(), y.size()), SWU_ERR_INVALID_ARGUMENT,
                   "expects 1 input channel");
    const int64_t zero_batch[5] = {0, 1, 32, 32, 32};
    REQUIRE_STATUS(swu_model_forward(m.get(), x.data(), zero_batch, y.data(), y.size()), SWU_ERR_INVALID_ARGUMENT,
                   "batch");
    const int64_t negative[5] = {1, 1, -32, 32, 32};
    REQUIRE_STATUS(swu_model_forward(m.get(), x.data(), negative, y.data(), y.size()), SWU_ERR_INVALID_ARGUMENT,
                   "multiples of 32");
    const int64_t absurd[5] = {4096, 1, 32000, 32000, 32000};
    REQUIRE_STATUS(swu_model_forward(m.get(), x.data(), absurd, y.data(), y.size()), SWU_ERR_OUT_OF_MEMORY, "64 GiB");
    REQUIRE_STATUS(swu_model_forward(m.get(), x.data(), kSmall, y.data(), y.size() - 1), SWU_ERR_BUFFER_TOO_SMALL,
                   "needs 458752 floats");
    REQUIRE_STATUS(swu_model_forward(m.get(), nullptr, kSmall, y.data(), y.size()), SWU_ERR_INVALID_ARGUMENT,
                   "input is NULL");
    REQUIRE_STATUS(swu_model_forward(m.get(), x.data(), nullptr, y.data(), y.size()), SWU_ERR_INVALID_ARGUMENT,
                   "shape is NULL");
    x[1234] = std::nanf("");
    REQUIRE_STATUS(swu_model_forward(m.get(), x.data(), kSmall, y.data(), y.size()), SWU_ERR_INVALID_ARGUMENT,
                   "flat index 1234");
    x[1234] = INFINITY;
    REQUIRE_STATUS(swu_model_forward(m.get(), x.data(), kSmall, y.data(), y.size()), SWU_ERR_INVALID_ARGUMENT, "NaN or Inf");
    CHECK(run_small(m.get()).size() == kSmallOut);
}

TEST_CASE("taps report their shapes and refuse unknown names", "[unit]") {
    ModelPtr m = f12_model();
    const std::vector<float> x = small_input();
    swu_tap taps[3] = {};
    taps[0].name = "hidden4";
    taps[1].name = "stage2.block1";
    taps[2].name = "logits";
    REQUIRE_STATUS(swu_model_forward_taps(m.get(), x.data(), kSmall, taps, 3), SWU_ERR_BUFFER_TOO_SMALL, "hidden4");
    const int64_t hidden4[5] = {1, 192, 1, 1, 1}, block[5] = {1, 24, 8, 8, 8}, logits[5] = {1, 14, 32, 32, 32};
    CHECK(std::equal(taps[0].shape, taps[0].shape + 5, hidden4));
    CHECK(std::equal(taps[1].shape, taps[1].shape + 5, block));
    CHECK(std::equal(taps[2].shape, taps[2].shape + 5, logits));

    std::vector<float> a(192), b(24 * 512), c(kSmallOut);
    taps[0].data = a.data();
    taps[0].capacity = a.size();
    taps[1].data = b.data();
    taps[1].capacity = b.size();
    taps[2].data = c.data();
    taps[2].capacity = c.size();
    REQUIRE(swu_model_forward_taps(m.get(), x.data(), kSmall, taps, 3) == SWU_OK);
    CHECK(c == run_small(m.get()));

    swu_tap bad[1] = {};
    bad[0].name = "stage2.block2";
    REQUIRE_STATUS(swu_model_forward_taps(m.get(), x.data(), kSmall, bad, 1), SWU_ERR_INVALID_ARGUMENT,
                   "unknown tap 'stage2.block2'");
    bad[0].name = "decoder7";
    REQUIRE_STATUS(swu_model_forward_taps(m.get(), x.data(), kSmall, bad, 1), SWU_ERR_INVALID_ARGUMENT, "unknown tap");
}

TEST_CASE("a second call on a busy model returns SWU_ERR_BUSY at once", "[unit]") {
    ModelPtr m = f12_model();
    const int64_t shape[5] = {2, 1, 96, 96, 96};
    const std::vector<float> x(2 * 96 * 96 * 96, 0.25f);
    std::vector<float> y(14 * x.size());
    swu_status first = SWU_ERR_INTERNAL;
    std::thread worker([&] { first = swu_model_forward(m.get(), x.data(), shape, y.data(), y.size()); });
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    swu_model_info info{};
    info.struct_size = sizeof info;
    const auto t0 = std::chrono::steady_clock::now();
    const swu_status second = swu_model_get_info(m.get(), &info);
    const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    worker.join();
    CHECK(first == SWU_OK);
    CHECK(second == SWU_ERR_BUSY);
    CHECK(waited < 0.5);
    CHECK(model_info(m.get()).weights_loaded == 1);
}
