// Times the oneDNN backend's Winograd convolution on the 3x3x3 layers of an f48 window
// (channels-last fp32, the network's grids), per output tile, on a given thread count:
//
//   build/bin/swu_winograd_layers [threads] [tiles, e.g. 2,3; 2b: F(2,3) in bf16]
//
// Best of 6 after one warm-up; "direct-equivalent GFLOP/s" is a direct convolution's
// 2 * 27 * C * O per voxel over the time, so the tiles compare on one scale.
#include "winograd/winograd_conv.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

int main(int argc, char** argv) {
    const int threads = argc > 1 ? std::atoi(argv[1]) : 2;
    std::vector<std::string> tiles;  // "2", "3", "4"; "2b": F(2,3) in bf16 (the decoder's, without AMX)
    std::stringstream list(argc > 2 ? argv[2] : "2,3");
    for (std::string t; std::getline(list, t, ',');)
        if (t == "2" || t == "3" || t == "4" || t == "2b") tiles.push_back(t);
    if (threads < 1 || tiles.empty()) {
        std::fprintf(stderr, "usage: %s [threads >= 1] [tiles among 2,3,4,2b]\n", argv[0]);
        return 2;
    }
    for (const std::string& t : tiles)
        if (t == "2b" && !swu_winograd::bf16_available()) {
            std::fprintf(stderr, "2b: this CPU has no avx512_bf16\n");
            return 2;
        }
    struct Layer {
        int c, o, s;
    };
    const Layer layers[] = {{48, 48, 96}, {96, 48, 96}, {48, 48, 48}, {96, 48, 48},
                            {96, 96, 24}, {192, 96, 24}, {192, 192, 12}, {384, 192, 12}};
    std::printf("Winograd layers of an f48 window, %d threads, %s kernel, best of 6\n", threads,
                swu_winograd::kernel_name());
    for (const Layer& l : layers) {
        const size_t voxels = size_t(l.s) * l.s * l.s;
        std::vector<float> x(voxels * l.c), w(size_t(l.o) * l.c * 27), b(l.o, 0.01f), y(voxels * l.o);
        for (size_t i = 0; i < x.size(); ++i) x[i] = float((i * 2654435761u) % 1000) / 500.0f - 1.0f;
        for (size_t i = 0; i < w.size(); ++i) w[i] = float((i * 40503u) % 1000) / 5000.0f - 0.1f;
        std::printf("%4d -> %4d at %3d^3:", l.c, l.o, l.s);
        for (const std::string& t : tiles) {
            const int m = t[0] - '0';
            const bool bf16 = t == "2b";
            const swu_winograd::Weights wt = swu_winograd::transform_weights(w.data(), b.data(), l.o, l.c, m, bf16);
            double best = 1e30;
            for (int r = 0; r < 7; ++r) {
                const auto t0 = std::chrono::steady_clock::now();
                swu_winograd::conv3x3x3(wt, x.data(), 1, l.s, l.s, l.s, y.data(), threads);
                const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
                if (r > 0) best = std::min(best, s);
            }
            std::printf("   F(%d,3)%s %7.1f ms (%4.0f GFLOP/s)", m, bf16 ? " bf16" : "", best * 1e3, 2.0 * 27 * l.c * l.o * voxels / best / 1e9);
        }
        std::printf("\n");
    }
    return 0;
}
