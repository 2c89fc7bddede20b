// Thread-safety guarantees of swinunetr.h, tested (scripts/tsan.sh also runs these
// under ThreadSanitizer): different models run in parallel with the serial results;
// one model serves one call at a time and a concurrent call gets SWU_ERR_BUSY at once,
// never a race; discovery, limits, logging and error messages are safe from any thread.
#include <atomic>
#include <cstring>
#include <mutex>
#include <thread>

#include "api_helpers.hpp"
#include "golden.hpp"

using namespace swu_test;

namespace {

constexpr int kThreads = 3;
const int64_t kShape[5] = {1, 1, 32, 32, 32};
constexpr size_t kIn = 32 * 32 * 32, kOut = 14 * kIn;

// Failures inside worker threads are collected and checked on the main thread
// (Catch2 assertions are not thread-safe).
struct Failures {
    std::atomic<int> count{0};
    std::mutex mutex;
    std::string first;
    void add(const std::string& what) {
        std::lock_guard<std::mutex> lock(mutex);
        if (count++ == 0) first = what;
    }
};

swu_model* new_f12_model(const std::string& backend, Failures& f) {
    swu_model_params p;
    swu_model_params_init(&p);
    p.backend = backend.c_str();
    p.threads = 1;
    swu_model* m = nullptr;
    if (swu_model_create(&p, &m) != SWU_OK) {
        f.add(std::string("create: ") + swu_last_error());
        return nullptr;
    }
    if (swu_model_load_weights(m, golden_path("net_f12/model.pt").c_str()) != SWU_OK) {
        f.add(std::string("load: ") + swu_last_error());
        swu_model_free(m);
        return nullptr;
    }
    return m;
}

std::vector<float> input_for(int thread) {
    std::vector<float> x(kIn);
    for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i * 7919 + size_t(thread) * 104729) % 1000) / 1000.0f;
    return x;
}

std::vector<float> forward(swu_model* m, const std::vector<float>& x, Failures& f) {
    std::vector<float> y(kOut);
    if (swu_model_forward(m, x.data(), kShape, y.data(), y.size()) != SWU_OK) f.add(std::string("forward: ") + swu_last_error());
    return y;
}

struct Ct {
    std::vector<int16_t> hu = std::vector<int16_t>(12 * 12 * 6);
    swu_volume* volume = nullptr;
    explicit Ct(int thread) {
        for (size_t i = 0; i < hu.size(); ++i) hu[i] = static_cast<int16_t>(int((i * 37 + size_t(thread) * 11) % 400) - 100);
        swu_volume_desc d;
        swu_volume_desc_init(&d);
        d.data = hu.data();
        d.size[0] = d.size[1] = 12;
        d.size[2] = 6;
        d.spacing[0] = d.spacing[1] = d.spacing[2] = 4.0;
        swu_volume_wrap(&d, &volume);
    }
    ~Ct() { swu_volume_free(volume); }
};

std::vector<uint8_t> segment(swu_model* m, const Ct& ct, Failures& f) {
    swu_infer_params p;
    swu_infer_params_init(&p);
    p.roi = 32;
    swu_volume* labels = nullptr;
    if (swu_infer(m, ct.volume, &p, &labels) != SWU_OK) {
        f.add(std::string("infer: ") + swu_last_error());
        return {};
    }
    swu_volume_info i{};
    i.struct_size = sizeof i;
    swu_volume_get_info(labels, &i);
    const auto* p8 = static_cast<const uint8_t*>(i.data);
    std::vector<uint8_t> out(p8, p8 + i.size[0] * i.size[1] * i.size[2]);
    swu_volume_free(labels);
    return out;
}

}  // namespace

TEST_CASE("concurrency: models in parallel threads give exactly the serial results", "[unit][concurrency]") {
    for (const std::string& backend : built_backends()) {
        INFO("backend " << backend);
        Failures f;
        std::vector<std::vector<float>> logits(kThreads);
        std::vector<std::vector<uint8_t>> labels(kThreads);
        {
            swu_model* m = new_f12_model(backend, f);
            REQUIRE(m);
            for (int t = 0; t < kThreads; ++t) {
                logits[t] = forward(m, input_for(t), f);
                labels[t] = segment(m, Ct(t), f);
            }
            swu_model_free(m);
        }
        INFO(f.first);
        REQUIRE(f.count == 0);

        std::vector<int> mismatches(kThreads, 0);
        std::vector<std::thread> workers;
        for (int t = 0; t < kThreads; ++t) {
            workers.emplace_back([&, t] {
                swu_model* m = new_f12_model(backend, f);
                if (!m) return;
                for (int rep = 0; rep < 2; ++rep) {
                    if (forward(m, input_for(t), f) != logits[t]) ++mismatches[t];
                    if (segment(m, Ct(t), f) != labels[t]) ++mismatches[t];
                }
                swu_model_free(m);
            });
        }
        for (auto& w : workers) w.join();
        INFO(f.first);
        CHECK(f.count == 0);
        for (int t = 0; t < kThreads; ++t) CHECK(mismatches[t] == 0);
    }
}

TEST_CASE("concurrency: two threads on one model are serialised or told SWU_ERR_BUSY", "[unit][concurrency]") {
    const std::string backend = built_backends().front();
    Failures f;
    swu_model* m = new_f12_model(backend, f);
    REQUIRE(m);
    ModelPtr owner(m);
    const std::vector<float> x = input_for(0);
    const std::vector<float> reference = forward(m, x, f);
    REQUIRE(f.count == 0);

    std::atomic<int> ok{0}, busy{0}, wrong{0};
    auto classify = [&](swu_status st, const char* call) {
        if (st == SWU_OK) ++ok;
        else if (st == SWU_ERR_BUSY && std::strstr(swu_last_error(), "in use by a call in another thread")) ++busy;
        else f.add(std::string(call) + ": unexpected status " + swu_status_string(st) + ": " + swu_last_error());
    };
    std::vector<std::thread> workers;
    for (int t = 0; t < 2; ++t) {
        workers.emplace_back([&, t] {
            std::vector<float> y(kOut);
            for (int rep = 0; rep < 6; ++rep) {
                const swu_status st = swu_model_forward(m, x.data(), kShape, y.data(), y.size());
                classify(st, "forward");
                if (st == SWU_OK && y != reference) ++wrong;
                swu_model_info info{};
                info.struct_size = sizeof info;
                classify(swu_model_get_info(m, &info), "get_info");
                if (t == 1 && rep % 3 == 0) classify(swu_model_load_weights(m, golden_path("net_f12/model.pt").c_str()), "load");
            }
        });
    }
    for (auto& w : workers) w.join();
    INFO(f.first);
    CHECK(f.count == 0);
    CHECK(wrong == 0);
    CHECK(ok > 0);
    WARN("one model, two threads: " << ok << " calls ran, " << busy << " were told SWU_ERR_BUSY");
    // Whatever interleaving happened, the model is intact.
    CHECK(forward(m, x, f) == reference);
    CHECK(f.count == 0);
}

namespace {
std::atomic<int> g_log_lines{0};
void count_log(swu_log_level, const char*, void*) { ++g_log_lines; }
}  // namespace

TEST_CASE("concurrency: discovery, limits, logging and last-error are safe from any thread", "[unit][concurrency]") {
    const std::string backend = built_backends().front();
    Failures f;
    std::vector<std::thread> workers;
    std::atomic<int> wrong_message{0};
    for (int t = 0; t < 4; ++t) {
        workers.emplace_back([&, t] {
            for (int rep = 0; rep < 20; ++rep) {
                size_t n = 0;
                if (swu_backends_load(nullptr, nullptr) != SWU_OK || swu_backend_count(&n) != SWU_OK)
                    f.add(std::string("backends: ") + swu_last_error());
                for (size_t i = 0; i < n; ++i) {
                    swu_backend_info b{};
                    b.struct_size = sizeof b;
                    if (swu_backend_get_info(i, &b) != SWU_OK || !b.name) f.add("backend info");
                }
                int64_t cap = 0;
                swu_set_max_voxels(t % 2 ? 0 : int64_t(1) << 31);
                swu_get_max_voxels(&cap);
                if (rep % 5 == 0) swu_set_log_callback(t % 2 ? count_log : nullptr, nullptr, t % 2 ? SWU_LOG_DEBUG : SWU_LOG_WARNING);
                // Each thread's own failure, with its own message.
                const std::string path = "/nonexistent/thread" + std::to_string(t) + ".pt";
                swu_model_params p;
                swu_model_params_init(&p);
                p.backend = backend.c_str();
                p.threads = 1;
                swu_model* m = nullptr;
                if (swu_model_create(&p, &m) != SWU_OK) {
                    f.add(std::string("create: ") + swu_last_error());
                    continue;
                }
                if (swu_model_load_weights(m, path.c_str()) != SWU_ERR_IO ||
                    std::string(swu_last_error()).find(path) == std::string::npos)
                    ++wrong_message;
                swu_model_free(m);
            }
        });
    }
    for (auto& w : workers) w.join();
    swu_set_log_callback(nullptr, nullptr, SWU_LOG_WARNING);
    swu_set_max_voxels(0);
    INFO(f.first);
    CHECK(f.count == 0);
    CHECK(wrong_message == 0);
}
