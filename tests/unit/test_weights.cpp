// Weight validation and conversion before anything reaches a backend.
#include <catch2/catch.hpp>

#include "common/error.hpp"
#include "golden.hpp"
#include "model/weights.hpp"

namespace {

swu::NetworkConfig f12() {
    swu::NetworkConfig c;
    c.in_channels = 1;
    c.out_channels = 14;
    c.feature_size = 12;
    c.depths = {2, 2, 2, 2};
    c.num_heads = {3, 6, 12, 24};
    return c;
}

std::vector<swu::NamedTensor> good() {
    return swu_test::formula_weights(swu_test::read_keys(swu_test::golden_path("net_f12/keys.txt")), 0);
}

}  // namespace

TEST_CASE("valid weights come out as float32 and int64 in layout order", "[unit]") {
    auto w = good();
    // Half and bfloat16 inputs are widened exactly.
    w[1].tensor.dtype = swu::DType::BFloat16;
    w[1].tensor.data.assign(12 * 2, 0);
    w[1].tensor.data[1] = 0x3f;
    w[1].tensor.data[0] = 0x80;  // 1.0 in bfloat16 = 0x3f80
    w[2].tensor.dtype = swu::DType::Float16;
    w[2].tensor.data.assign(12 * 2, 0);
    w[2].tensor.data[1] = 0x3c;  // 1.0 in float16 = 0x3c00
    const auto out = swu::prepare_weights(f12(), w);
    REQUIRE(out.size() == 159);
    CHECK(out[1].tensor.dtype == swu::DType::Float32);
    CHECK(out[1].tensor.as<float>()[0] == 1.0f);
    CHECK(out[2].tensor.as<float>()[0] == 1.0f);
    CHECK(out[5].tensor.dtype == swu::DType::Int64);
}

TEST_CASE("mismatches are reported with counts and the first names", "[unit]") {
    auto w = good();
    w.erase(w.begin() + 10, w.begin() + 15);
    w.push_back({"extra.a", w[0].tensor});
    w[0].tensor.shape = {12, 1, 2, 2, 1};
    try {
        swu::prepare_weights(f12(), w);
        FAIL("accepted");
    } catch (const swu::Error& e) {
        CHECK(e.status() == SWU_ERR_WEIGHTS);
        const std::string m = e.what();
        CHECK(m.find("5 missing key(s) (swinViT.layers1.0.blocks.0.norm2.weight, swinViT.layers1.0.blocks.0.norm2.bias, "
                     "swinViT.layers1.0.blocks.0.mlp.linear1.weight, ...)") != std::string::npos);
        CHECK(m.find("1 unexpected key(s) (extra.a)") != std::string::npos);
        CHECK(m.find("is [12, 1, 2, 2, 1], expected [12, 1, 2, 2, 2]") != std::string::npos);
    }
}

TEST_CASE("module. prefixes are stripped only when every key has one", "[unit]") {
    std::vector<swu::NamedTensor> w = {{"module.a", {}}, {"module.b", {}}};
    swu::strip_module_prefix(w);
    CHECK(w[0].name == "a");
    w = {{"module.a", {}}, {"b", {}}};
    swu::strip_module_prefix(w);
    CHECK(w[0].name == "module.a");
}
