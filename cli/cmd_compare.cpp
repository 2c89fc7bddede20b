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

int cmd_compare(const Args& args) {
    std::vector<std::string> files;
    double atol = 1e-4, rtol = 1e-4;
    for (size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--help" || args[i] == "-h") {
            std::printf("usage: swinunetr compare ACTUAL.npy REFERENCE.npy [--atol 1e-4] [--rtol 1e-4]\n");
            return 0;
        }
        if ((args[i] == "--atol" || args[i] == "--rtol") && i + 1 < args.size()) {
            (args[i] == "--atol" ? atol : rtol) = std::strtod(args[i + 1].c_str(), nullptr);
            ++i;
        } else {
            files.push_back(args[i]);
        }
    }
    if (files.size() != 2) {
        std::fprintf(stderr, "usage: swinunetr compare ACTUAL.npy REFERENCE.npy [--atol 1e-4] [--rtol 1e-4]\n");
        return 2;
    }
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

}  // namespace swu_cli
