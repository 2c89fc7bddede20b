// `swinunetr compare A.npy B.npy`: element-wise agreement of two float arrays with
// the golden data's rule |a - b| <= atol + rtol * |b| (b is the reference).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "commands.hpp"
#include "common/error.hpp"
#include "io/npy.hpp"

namespace swu_cli {

namespace {

struct Options {
    std::string actual, reference;
    double atol = 1e-4, rtol = 1e-4;
};

int run_compare(const Options& o);

}  // namespace

Run add_compare(CLI::App& app) {
    auto o = std::make_shared<Options>();
    CLI::App* cmd = app.add_subcommand("compare", "compare two .npy arrays: |a - b| <= atol + rtol * |b|");
    cmd->add_option("ACTUAL", o->actual, "ACTUAL.npy")->required();
    cmd->add_option("REFERENCE", o->reference, "REFERENCE.npy")->required();
    cmd->add_option("--atol", o->atol, "absolute tolerance")->check(CLI::NonNegativeNumber)->capture_default_str();
    cmd->add_option("--rtol", o->rtol, "relative tolerance")->check(CLI::NonNegativeNumber)->capture_default_str();
    return [o] { return run_compare(*o); };
}

namespace {

int run_compare(const Options& o) {
    const std::vector<std::string> files = {o.actual, o.reference};
    const double atol = o.atol, rtol = o.rtol;
    swu::Tensor a, b;
    try {
        a = swu::to_float32(swu::read_npy(files[0]));
        b = swu::to_float32(swu::read_npy(files[1]));
    } catch (const swu::Error& e) {
        std::fprintf(stderr, "swinunetr compare: %s\n", e.what());
        return 1;
    }
    if (a.shape != b.shape) {
        std::fprintf(stderr, "swinunetr compare: shapes differ: %s vs %s\n", swu::shape_string(a.shape).c_str(),
                     swu::shape_string(b.shape).c_str());
        return 1;
    }
    double max_abs = 0, max_rel = 0;
    int64_t outside = 0;
    for (int64_t i = 0; i < a.numel(); ++i) {
        const double x = a.as<float>()[i], r = b.as<float>()[i], d = std::fabs(x - r);
        if (!(d <= atol + rtol * std::fabs(r))) ++outside;
        if (d > max_abs || std::isnan(d)) max_abs = d;
        if (std::fabs(r) > 1e-3) max_rel = std::max(max_rel, d / std::fabs(r));
    }
    std::printf("%lld values %s: max abs %.3g, max rel %.3g; %lld outside |a-b| <= %g + %g|b|\n",
                static_cast<long long>(a.numel()), swu::shape_string(a.shape).c_str(), max_abs, max_rel,
                static_cast<long long>(outside), atol, rtol);
    return outside == 0 ? 0 : 1;
}

}  // namespace
}  // namespace swu_cli
