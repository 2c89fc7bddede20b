// A long-lived host creates, uses and frees models and volumes for months: the heap
// must not grow with the number of cycles. (Under scripts/sanitize.sh LeakSanitizer
// also checks every test process for unreachable memory at exit.)
#include <malloc.h>

#include "api_helpers.hpp"
#include "golden.hpp"

using namespace swu_test;

namespace {

size_t heap_in_use() { return mallinfo2().uordblks; }

// One full cycle of what a PACS integration does per study, including failures.
void cycle(const std::vector<int16_t>& hu) {
    swu_model_params p = default_params();
    p.threads = 1;
    ModelPtr m = create_model(p);
    REQUIRE(swu_model_load_weights(m.get(), golden_path("net_f12/model.pt").c_str()) == SWU_OK);
    REQUIRE(swu_model_load_weights(m.get(), "/nonexistent.pt") == SWU_ERR_IO);
    REQUIRE(swu_model_load_weights(m.get(), SWU_TEST_DATA_DIR "/checkpoints/evil_os_system.pt") == SWU_ERR_FORMAT);
    swu_volume_desc d;
    swu_volume_desc_init(&d);
    d.data = hu.data();
    d.size[0] = d.size[1] = 12;
    d.size[2] = 6;
    d.spacing[0] = d.spacing[1] = d.spacing[2] = 4.0;
    swu_volume* raw = nullptr;
    REQUIRE(swu_volume_wrap(&d, &raw) == SWU_OK);
    VolumePtr image(raw);
    swu_infer_params ip;
    swu_infer_params_init(&ip);
    ip.roi = 32;
    swu_volume* labels = nullptr;
    REQUIRE(swu_infer(m.get(), image.get(), &ip, &labels) == SWU_OK);
    swu_volume_free(labels);
    ip.overlap = 2;  // an error path too
    REQUIRE(swu_infer(m.get(), image.get(), &ip, &labels) == SWU_ERR_INVALID_ARGUMENT);
}

}  // namespace

TEST_CASE("leaks: create / load / infer / free cycles do not grow the heap", "[unit][leak]") {
    std::vector<int16_t> hu(12 * 12 * 6);
    for (size_t i = 0; i < hu.size(); ++i) hu[i] = static_cast<int16_t>(int(i * 37 % 400) - 100);
    for (int i = 0; i < 3; ++i) cycle(hu);  // warm-up: caches, thread pools, plugin state
    const size_t before = heap_in_use();
    constexpr int kCycles = 10;
    for (int i = 0; i < kCycles; ++i) cycle(hu);
    const size_t after = heap_in_use();
    const double growth = static_cast<double>(after) - static_cast<double>(before);
    WARN("heap in use before " << before << " B, after " << kCycles << " more cycles " << after << " B (growth "
                               << growth << " B)");
    // A leak of even one weight tensor per cycle would be > 10 KB; allow allocator noise.
    CHECK(growth < 64 * 1024);
}
