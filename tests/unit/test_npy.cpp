// .npy reading and writing.
#include <catch2/catch.hpp>

#include <fstream>

#include "common/error.hpp"
#include "golden.hpp"
#include "io/npy.hpp"

TEST_CASE("npy: golden files read with their dtype and shape", "[unit]") {
    const swu::Tensor x = swu_test::load_golden("net_f12/input.npy");
    CHECK(x.dtype == swu::DType::Float32);
    CHECK(x.shape == std::vector<int64_t>({1, 1, 64, 64, 64}));
    const swu::Tensor pos = swu_test::load_golden("net_f48/positions.npy");
    CHECK(pos.dtype == swu::DType::Int64);
    CHECK(pos.shape == std::vector<int64_t>({4096, 3}));
    CHECK(pos.as<int64_t>()[3 * 7 + 2] == 95);  // corner 7 = (95, 95, 95)
    const swu::Tensor am = swu_test::load_golden("net_f48/argmax.npy");
    CHECK(am.dtype == swu::DType::UInt8);
}

TEST_CASE("npy: write then read round-trips", "[unit]") {
    swu::Tensor t;
    t.dtype = swu::DType::Float32;
    t.shape = {2, 3, 5};
    t.data.resize(30 * 4);
    for (int i = 0; i < 30; ++i) t.as<float>()[i] = i * 0.5f - 3.0f;
    swu::write_npy("/tmp/swu_npy_roundtrip.npy", t);
    const swu::Tensor r = swu::read_npy("/tmp/swu_npy_roundtrip.npy");
    CHECK(r.shape == t.shape);
    CHECK(r.data == t.data);
    std::ifstream in("/tmp/swu_npy_roundtrip.npy", std::ios::binary);
    std::string head(10, '\0');
    in.read(&head[0], 10);
    CHECK((10 + static_cast<unsigned char>(head[8])) % 64 == 0);  // header padded to 64 bytes
}

TEST_CASE("npy: corrupt files give format errors", "[unit]") {
    auto expect_format = [](const std::string& bytes, const std::string& needle) {
        const std::string path = "/tmp/swu_npy_bad.npy";
        std::ofstream(path, std::ios::binary) << bytes;
        try {
            swu::read_npy(path);
            FAIL("no error for " << needle);
        } catch (const swu::Error& e) {
            CHECK(e.status() == SWU_ERR_FORMAT);
            INFO(e.what());
            CHECK(std::string(e.what()).find(needle) != std::string::npos);
        }
    };
    const std::string magic("\x93NUMPY\x01\x00", 8);
    auto with_header = [&](const std::string& h) {
        return magic + std::string(1, static_cast<char>(h.size())) + std::string(1, '\0') + h;
    };
    expect_format("", "bad magic");
    expect_format("PK\x03\x04 not npy", "bad magic");
    expect_format(with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (4, 4), }\n") + "abc", "truncated");
    expect_format(with_header("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }\n") + "abcd", "unsupported .npy dtype");
    expect_format(with_header("{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }\n") + "abcd", "Fortran");
    expect_format(with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }\n"), "malformed shape");
    expect_format(with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999), }\n"), "overflows");
    try {
        swu::read_npy("/nonexistent/x.npy");
        FAIL("no error");
    } catch (const swu::Error& e) {
        CHECK(e.status() == SWU_ERR_IO);
    }
}
