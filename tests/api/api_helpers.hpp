// Small RAII helpers for tests that use only the C API.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "swinunetr/swinunetr.hpp"

namespace swu_test {

using swinunetr::ModelPtr;
using swinunetr::VolumePtr;

// The backends this build made (SWU_TEST_BACKENDS, comma-separated, from tests/CMakeLists.txt).
// The backends this build made; SWU_TEST_ONLY_BACKEND=<name> narrows a run to one.
inline std::vector<std::string> built_backends() {
    std::vector<std::string> out;
    const char* only = std::getenv("SWU_TEST_ONLY_BACKEND");
    const std::string list = only && *only ? only : SWU_TEST_BACKENDS;
    for (size_t start = 0; start <= list.size();) {
        const size_t end = std::min(list.find(',', start), list.size());
        if (end > start) out.push_back(list.substr(start, end - start));
        start = end + 1;
    }
    return out;
}

// What "auto" takes for CPU inference: onednn where this build made it (it scores above torch).
inline std::string auto_cpu_backend() {
    const std::vector<std::string> b = built_backends();
    return std::find(b.begin(), b.end(), "onednn") != b.end() ? "onednn" : "torch";
}

// Figures are printed under the file name, with the backend appended unless it is torch.
inline std::string labelled(const std::string& name, const std::string& backend) {
    return backend == "torch" ? name : name + " [" + backend + "]";
}

// torch where this build made it, else the first backend it made (the sanitizer
// builds have only onednn).
inline swu_model_params default_params() {
    static const std::string backend = built_backends().front();
    swu_model_params p;
    swu_model_params_init(&p);
    p.backend = backend.c_str();
    p.threads = 2;
    return p;
}

inline ModelPtr create_model(const swu_model_params& p) {
    swu_model* m = nullptr;
    const swu_status st = swu_model_create(&p, &m);
    INFO(swu_last_error());
    REQUIRE(st == SWU_OK);
    return ModelPtr(m);
}

inline ModelPtr create_model() { return create_model(default_params()); }

inline swu_model_info model_info(swu_model* m) {
    swu_model_info info{};
    info.struct_size = sizeof info;
    REQUIRE(swu_model_get_info(m, &info) == SWU_OK);
    return info;
}

// A whole file's bytes, unchanged (opened binary, so it serves model.pt as well as a
// report); empty when it cannot be read.
inline std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Checks a failing call's status and that its message mentions `needle`.
#define REQUIRE_STATUS(call, expected, needle)                                  \
    do {                                                                        \
        const swu_status st_ = (call);                                          \
        INFO("last error: " << swu_last_error());                               \
        REQUIRE(st_ == (expected));                                             \
        REQUIRE(std::string(swu_last_error()).find(needle) != std::string::npos); \
    } while (0)

}  // namespace swu_test
