// The network layout matches MONAI's state_dict key for key; config inference.
#include <catch2/catch.hpp>

#include "checkpoint/checkpoint.hpp"
#include "common/error.hpp"
#include "golden.hpp"
#include "model/network_config.hpp"

namespace {

swu::NetworkConfig bundle(int feature) {
    swu::NetworkConfig c;
    c.in_channels = 1;
    c.out_channels = 14;
    c.feature_size = feature;
    c.depths = {2, 2, 2, 2};
    c.num_heads = {3, 6, 12, 24};
    return c;
}

}  // namespace

TEST_CASE("layout equals MONAI's keys.txt for feature 12 and 48", "[unit]") {
    for (int f : {12, 48}) {
        const auto keys = swu_test::read_keys(swu_test::golden_path(f == 12 ? "net_f12/keys.txt" : "net_f48/keys.txt"));
        const auto layout = swu::state_dict_layout(bundle(f));
        REQUIRE(layout.size() == keys.size());
        for (size_t i = 0; i < keys.size(); ++i) {
            INFO(i);
            CHECK(layout[i].name == keys[i].name);
            CHECK(layout[i].shape == keys[i].shape);
            CHECK(layout[i].is_index == (keys[i].dtype == "int64"));
        }
    }
    CHECK(swu::parameter_count(bundle(48)) == 62187296);
    CHECK(swu::parameter_count(bundle(12)) == 4078220);
}

TEST_CASE("config is inferred from the golden checkpoint", "[unit]") {
    const auto weights = swu::read_checkpoint_file(swu_test::golden_path("net_f12/model.pt"));
    const swu::NetworkConfig c = swu::infer_config(swu::NetworkConfig(), weights);
    CHECK(c.feature_size == 12);
    CHECK(c.in_channels == 1);
    CHECK(c.out_channels == 14);
    CHECK(c.depths == std::array<int, 4>{2, 2, 2, 2});
    CHECK(c.num_heads == std::array<int, 4>{3, 6, 12, 24});
    swu::NetworkConfig partial;
    partial.depths = {2, 0, 2, 2};
    CHECK_THROWS_AS(swu::infer_config(partial, weights), swu::Error);
}

TEST_CASE("invalid configs and input shapes are refused", "[unit]") {
    swu::NetworkConfig c = bundle(30);
    CHECK_THROWS_WITH(swu::check_config(c), Catch::Contains("multiple of 12"));
    c = bundle(48);
    c.num_heads = {5, 6, 12, 24};
    CHECK_THROWS_WITH(swu::check_config(c), Catch::Contains("not divisible by 5 heads"));
    c = bundle(48);
    const int64_t ok[5] = {1, 1, 64, 96, 128};
    CHECK_NOTHROW(swu::check_input_shape(c, ok));
    const int64_t odd[5] = {1, 1, 64, 96, 100};
    CHECK_THROWS_WITH(swu::check_input_shape(c, odd), Catch::Contains("multiples of 32"));
}

TEST_CASE("tap shapes follow the network geometry", "[unit]") {
    const swu::NetworkConfig c = bundle(48);
    const int64_t in[5] = {3, 1, 64, 96, 128};
    using S = std::array<int64_t, 5>;
    CHECK(swu::tap_shape(c, "logits", in) == S{3, 14, 64, 96, 128});
    CHECK(swu::tap_shape(c, "hidden0", in) == S{3, 48, 32, 48, 64});
    CHECK(swu::tap_shape(c, "hidden4", in) == S{3, 768, 2, 3, 4});
    CHECK(swu::tap_shape(c, "dec3", in) == S{3, 384, 4, 6, 8});
    CHECK(swu::tap_shape(c, "stage1.block1", in) == S{3, 48, 32, 48, 64});
    CHECK(swu::tap_shape(c, "stage4.block0", in) == S{3, 384, 4, 6, 8});
    CHECK_THROWS_AS(swu::tap_shape(c, "stage5.block0", in), swu::Error);
    CHECK_THROWS_AS(swu::tap_shape(c, "hidden5", in), swu::Error);
}
