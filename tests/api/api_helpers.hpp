// Small RAII helpers for tests that use only the C API.
#pragma once

#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "swinunetr/swinunetr.hpp"

namespace swu_test {

using swinunetr::ModelPtr;

inline swu_model_params default_params() {
    swu_model_params p;
    swu_model_params_init(&p);
    p.backend = "torch";
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

// Checks a failing call's status and that its message mentions `needle`.
#define REQUIRE_STATUS(call, expected, needle)                                  \
    do {                                                                        \
        const swu_status st_ = (call);                                          \
        INFO("last error: " << swu_last_error());                               \
        REQUIRE(st_ == (expected));                                             \
        REQUIRE(std::string(swu_last_error()).find(needle) != std::string::npos); \
    } while (0)

}  // namespace swu_test
