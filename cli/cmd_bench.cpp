// `swinunetr bench`: SwinUNETR forward time per backend and precision, and with --volume
// a whole CT through swu_infer with the time of each stage.
//
//   swinunetr bench [--backends onednn,torch] [--precisions fp32,bf16] [--batches 1,4]
//                   [--threads 2] [--repeats 5] [--size 96] [--feature 48] [--weights model.pt]
//                   [--volume CT.nii.gz [--roi 96] [--overlap 0.5] [--sw-batch 4]]
//
// Each configuration runs in its own child process (so peak RSS is its own): the weights
// of --weights, or weights of the bundle's layout from a fixed RNG (plus MONAI's
// relative_position_index), one warm-up forward, then `repeats` timed forwards; prints
// the median, the time per window, GFLOP/s (2 x MACs counted from the shapes: a direct
// convolution's arithmetic) against the machine's fp32 peak measured with an FMA loop on
// the same thread count (bench/fp32_peak.hpp), and the child's peak RSS. A configuration
// the machine cannot run prints why ("not available: ..."). Where the time goes inside
// oneDNN: bench/onednn-profile.sh.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cerrno>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "../bench/fp32_peak.hpp"
#include "../bench/network_shapes.hpp"
#include "commands.hpp"

namespace swu_cli {
namespace {

using swu_bench::Key;
using swu_bench::Net;


using swu_bench::Key;
using swu_bench::Net;

uint64_t splitmix64(uint64_t x) {
    uint64_t z = x + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
// Uniform in [-1, 1).
double uniform(uint64_t k, uint64_t i) {
    return static_cast<double>(splitmix64((k << 40) ^ i) >> 11) * 0x1.0p-52 - 1.0;
}

struct Weights {
    std::vector<Key> keys;
    std::vector<std::vector<float>> floats;
    std::vector<std::vector<int64_t>> ints;
    std::vector<swu_named_tensor> views;
};

// Scaled like PyTorch's default initialisation (1/sqrt(fan_in)), so activations stay O(1).
Weights make_weights(const Net& net) {
    Weights w;
    w.keys = swu_bench::state_dict_layout(net);
    w.floats.resize(w.keys.size());
    w.ints.resize(w.keys.size());
    const int64_t ws = net.window, span = 2 * ws - 1;
    for (size_t k = 0; k < w.keys.size(); ++k) {
        const Key& key = w.keys[k];
        int64_t numel = 1, fan_in = 1;
        for (size_t d = 0; d < key.shape.size(); ++d) {
            numel *= key.shape[d];
            if (d > 0) fan_in *= key.shape[d];
        }
        swu_named_tensor v{};
        v.name = key.name.c_str();
        v.ndim = static_cast<int32_t>(key.shape.size());
        v.shape = key.shape.data();
        if (key.index) {
            // relative_position_index[a, b] = (da-db+6)*169 + (ha-hb+6)*13 + (wa-wb+6).
            std::vector<int64_t>& idx = w.ints[k];
            idx.resize(static_cast<size_t>(numel));
            const int64_t n = ws * ws * ws;
            for (int64_t a = 0; a < n; ++a)
                for (int64_t b = 0; b < n; ++b) {
                    const int64_t dd = a / (ws * ws) - b / (ws * ws), dh = (a / ws) % ws - (b / ws) % ws,
                                  dw = a % ws - b % ws;
                    idx[static_cast<size_t>(a * n + b)] = ((dd + ws - 1) * span + dh + ws - 1) * span + dw + ws - 1;
                }
            v.dtype = SWU_DTYPE_INT64;
            v.data = idx.data();
        } else {
            std::vector<float>& f = w.floats[k];
            f.resize(static_cast<size_t>(numel));
            const bool vector = key.shape.size() == 1;
            const bool norm = vector && key.name.size() > 7 && key.name.compare(key.name.size() - 7, 7, ".weight") == 0;
            const double scale = vector ? 0.03125 : 1.0 / std::sqrt(static_cast<double>(fan_in));
            for (int64_t i = 0; i < numel; ++i)
                f[static_cast<size_t>(i)] = static_cast<float>((norm ? 1.0 : 0.0) + uniform(k, static_cast<uint64_t>(i)) *
                                                                                         (norm ? 0.125 : scale));
            v.dtype = SWU_DTYPE_FLOAT32;
            v.data = f.data();
        }
        w.views.push_back(v);
    }
    return w;
}

struct Options {
    std::vector<std::string> backends = {"onednn", "torch"}, precisions = {"fp32"};
    std::vector<int> batches = {1, 4};
    int threads = 2, repeats = 5, size = 96, feature = 48;
    std::string weights, volume;
    int roi = 96, sw_batch = 4;
    double overlap = 0.5;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// A model of `backend` at `precision` with --weights or the RNG weights; null after
// printing why to `out`.
swu_model* bench_model(const Options& o, const std::string& backend, const std::string& precision, Net& net, FILE* out) {
    swu_model_params p;
    swu_model_params_init(&p);
    p.backend = backend.c_str();
    p.threads = o.threads;
    p.precision = precision == "bf16" ? SWU_PRECISION_BF16 : precision == "fp16" ? SWU_PRECISION_FP16 : SWU_PRECISION_FP32;
    swu_model* m = nullptr;
    if (swu_model_create(&p, &m) != SWU_OK) {
        std::fprintf(out, "not available: %s", swu_last_error());
        return nullptr;
    }
    swu_status st;
    if (!o.weights.empty()) {
        st = swu_model_load_weights(m, o.weights.c_str());
    } else {
        const Weights w = make_weights(net);
        st = swu_model_set_weights(m, w.views.data(), w.views.size());
    }
    if (st != SWU_OK) {
        std::fprintf(out, "weights refused: %s", swu_last_error());
        swu_model_free(m);
        return nullptr;
    }
    swu_model_info info{};
    info.struct_size = sizeof info;
    if (swu_model_get_info(m, &info) == SWU_OK) {
        net.feature = info.feature_size;
        net.out = info.out_channels;
    }
    return m;
}

// Runs one configuration in this (child) process; writes one result line to `out`.
int run_config(const Options& o, const std::string& backend, const std::string& precision, int batch, double peak,
               FILE* out) {
    Net net;
    net.feature = o.feature;
    swu_model* m = bench_model(o, backend, precision, net, out);
    if (!m) return 1;
    const int64_t S = o.size, V = S * S * S;
    const int64_t shape[5] = {batch, 1, S, S, S};
    std::vector<float> x(static_cast<size_t>(batch * V)), y(static_cast<size_t>(batch * net.out * V));
    for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(0.5 + 0.5 * uniform(9999, i));
    std::vector<double> ms;
    for (int r = 0; r <= o.repeats; ++r) {  // r == 0: warm-up (primitive creation, weight reorders)
        const auto t0 = std::chrono::steady_clock::now();
        if (swu_model_forward(m, x.data(), shape, y.data(), y.size()) != SWU_OK) {
            std::fprintf(out, "forward failed: %s", swu_last_error());
            swu_model_free(m);
            return 1;
        }
        const auto t1 = std::chrono::steady_clock::now();
        if (r > 0) ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
    swu_model_free(m);
    std::sort(ms.begin(), ms.end());
    const double median = ms.size() % 2 ? ms[ms.size() / 2] : 0.5 * (ms[ms.size() / 2 - 1] + ms[ms.size() / 2]);
    const double macs = swu_bench::forward_macs(net, S, S, S) * batch;
    const double gflops = 2.0 * macs / (median * 1e6);
    std::fprintf(out, "median %9.1f ms (min %9.1f, max %9.1f)  per window %8.1f ms  %6.1f GFLOP/s (%2.0f %% of peak)", median,
                 ms.front(), ms.back(), median / batch, gflops, 100.0 * gflops / peak);
    return 0;
}

// Stage times of one swu_infer, from its progress callback: each stage runs from its
// first report to the next stage's first report.
struct StageClock {
    std::chrono::steady_clock::time_point start, first[3];
    bool seen[3] = {false, false, false};
    int64_t windows = 0;
};

int clock_stage(swu_stage stage, int64_t, int64_t total, void* user) {
    auto& c = *static_cast<StageClock*>(user);
    const int s = static_cast<int>(stage);
    if (s >= 0 && s < 3 && !c.seen[s]) {
        c.seen[s] = true;
        c.first[s] = std::chrono::steady_clock::now();
        if (stage == SWU_STAGE_NETWORK) c.windows = total;
    }
    return 0;
}

// One whole CT: read, weights, swu_infer (preprocessing, windows and stitching, inversion
// to the source grid), write; one result line to `out`.
int run_volume(const Options& o, const std::string& backend, const std::string& precision, FILE* out) {
    Net net;
    net.feature = o.feature;
    auto t = std::chrono::steady_clock::now();
    swu_volume* ct = nullptr;
    if (swu_volume_read(o.volume.c_str(), &ct) != SWU_OK) {
        std::fprintf(out, "reading %s failed: %s", o.volume.c_str(), swu_last_error());
        return 1;
    }
    const double read_s = seconds_since(t);
    t = std::chrono::steady_clock::now();
    swu_model* m = bench_model(o, backend, precision, net, out);
    if (!m) {
        swu_volume_free(ct);
        return 1;
    }
    const double weights_s = seconds_since(t);
    swu_infer_params ip;
    swu_infer_params_init(&ip);
    ip.roi = o.roi;
    ip.sw_batch = o.sw_batch;
    ip.overlap = o.overlap;
    StageClock clock;
    ip.progress = clock_stage;
    ip.progress_user_data = &clock;
    swu_volume* labels = nullptr;
    clock.start = std::chrono::steady_clock::now();
    const swu_status st = swu_infer(m, ct, &ip, &labels);
    const auto end = std::chrono::steady_clock::now();
    swu_model_free(m);
    swu_volume_free(ct);
    if (st != SWU_OK) {
        std::fprintf(out, "swu_infer failed: %s", swu_last_error());
        return 1;
    }
    char dir[] = "/tmp/swu_bench_XXXXXX";
    double write_s = -1;
    if (mkdtemp(dir)) {
        const std::string path = std::string(dir) + "/labels.nii.gz";
        t = std::chrono::steady_clock::now();
        if (swu_volume_write(labels, path.c_str()) == SWU_OK) write_s = seconds_since(t);
        std::remove(path.c_str());
        rmdir(dir);
    }
    swu_volume_free(labels);
    auto span = [&](int from, std::chrono::steady_clock::time_point to) {
        return clock.seen[from] ? std::chrono::duration<double>(to - clock.first[from]).count() : 0.0;
    };
    const double pre = clock.seen[1] ? std::chrono::duration<double>(clock.first[1] - clock.start).count() : 0.0;
    const double windows = span(1, clock.seen[2] ? clock.first[2] : end), invert = span(2, end);
    const double infer = std::chrono::duration<double>(end - clock.start).count();
    std::fprintf(out,
                 "read %.2f s, weights %.2f s, preprocess %.2f s, %lld windows + stitching %.2f s (%.0f ms each), "
                 "invert %.2f s, write %.2f s; segment %.2f s (infer %.2f s)",
                 read_s, weights_s, pre, static_cast<long long>(clock.windows), windows,
                 clock.windows ? 1000.0 * windows / static_cast<double>(clock.windows) : 0.0, invert, write_s,
                 read_s + weights_s + infer + std::max(write_s, 0.0), infer);
    return 0;
}

// Runs `child` in a forked process; its result line and peak RSS go to stdout after `label`.
void in_child(const std::string& label, const std::function<int(FILE*)>& child) {
    std::fflush(stdout);
    int fds[2];
    if (pipe(fds) != 0) {
        std::printf("%s  could not start: %s\n", label.c_str(), std::strerror(errno));
        return;
    }
    const pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        FILE* out = fdopen(fds[1], "w");
        const int rc = child(out);
        std::fclose(out);
        _exit(rc);
    }
    close(fds[1]);
    std::string line;
    char buf[512];
    ssize_t n;
    while ((n = read(fds[0], buf, sizeof buf)) > 0) line.append(buf, static_cast<size_t>(n));
    close(fds[0]);
    int status = 0;
    struct rusage ru {};
    if (pid > 0) wait4(pid, &status, 0, &ru);
    std::printf("%s  %s  peak RSS %7.0f MiB\n", label.c_str(), line.c_str(), ru.ru_maxrss / 1024.0);
}

int run_bench(const Options& o);

}  // namespace

Run add_bench(CLI::App& app) {
    auto o = std::make_shared<Options>();
    CLI::App* cmd = app.add_subcommand("bench", "forward time, GFLOP/s and peak RSS per backend and precision, or a whole CT's time per stage");
    cmd->footer("Each configuration runs in a child process of its own (its peak RSS is its own).");
    cmd->add_option("--backends", o->backends, "backends to time")->delimiter(',')->capture_default_str();
    cmd->add_option("--precisions", o->precisions, "precisions to time")
        ->delimiter(',')->check(CLI::IsMember({"fp32", "bf16", "fp16"}))->capture_default_str();
    cmd->add_option("--threads", o->threads, "CPU threads")->check(CLI::PositiveNumber)->capture_default_str();
    cmd->add_option("--weights", o->weights, "model.pt to time (default: random weights of --feature)");
    cmd->add_option("--batches", o->batches, "windows per network call")
        ->delimiter(',')->check(CLI::PositiveNumber)->capture_default_str()->group("Forward pass");
    cmd->add_option("--repeats", o->repeats, "timed runs (the median is printed) after one warm-up")
        ->check(CLI::PositiveNumber)->capture_default_str()->group("Forward pass");
    cmd->add_option("--size", o->size, "window size per axis, a multiple of 32")
        ->check([](const std::string& v) { return std::atoi(v.c_str()) >= 32 && std::atoi(v.c_str()) % 32 == 0 ? "" : "a multiple of 32 from 32 up"; })
        ->capture_default_str()->group("Forward pass");
    cmd->add_option("--feature", o->feature, "feature size of the random-weights network, a multiple of 12")
        ->check([](const std::string& v) { return std::atoi(v.c_str()) >= 12 && std::atoi(v.c_str()) % 12 == 0 ? "" : "a multiple of 12 from 12 up"; })
        ->capture_default_str()->group("Forward pass");
    cmd->add_option("--volume", o->volume, "time a whole segmentation of this CT instead, per stage")->group("Whole CT");
    cmd->add_option("--roi", o->roi, "sliding-window size")->check(CLI::PositiveNumber)->capture_default_str()->group("Whole CT");
    cmd->add_option("--overlap", o->overlap, "window overlap")->capture_default_str()->group("Whole CT");
    cmd->add_option("--sw-batch", o->sw_batch, "windows per network call")->check(CLI::PositiveNumber)->capture_default_str()->group("Whole CT");
    return [o] { return run_bench(*o); };
}

namespace {

int run_bench(const Options& o) {
    if (!o.volume.empty()) {
        std::printf("swinunetr segment of %s, %d threads (stage times from swu_infer's progress reports)\n",
                    o.volume.c_str(), o.threads);
        for (const std::string& backend : o.backends)
            for (const std::string& precision : o.precisions)
                in_child(backend + std::string(8 - std::min<size_t>(8, backend.size()), ' ') + " " + precision,
                         [&](FILE* out) { return run_volume(o, backend, precision, out); });
        return 0;
    }
    if (o.weights.empty()) {
        Net net;
        net.feature = o.feature;
        std::printf("SwinUNETR feature %d on %d^3 windows: %.1f GMAC per window; %d threads; median of %d after 1 "
                    "warm-up\n",
                    o.feature, o.size, swu_bench::forward_macs(net, o.size, o.size, o.size) / 1e9, o.threads, o.repeats);
    } else {
        std::printf("SwinUNETR of %s on %d^3 windows; %d threads; median of %d after 1 warm-up\n", o.weights.c_str(),
                    o.size, o.threads, o.repeats);
    }
    const double peak = swu_bench::measured_fp32_peak(o.threads);
    std::printf("fp32 peak of this machine on %d threads (FMA loop): %.1f GFLOP/s\n", o.threads, peak);
    for (const std::string& backend : o.backends)
        for (const std::string& precision : o.precisions)
            for (int batch : o.batches) {
                char label[64];
                std::snprintf(label, sizeof label, "%-8s %-5s batch %d", backend.c_str(), precision.c_str(), batch);
                in_child(label, [&](FILE* out) { return run_config(o, backend, precision, batch, peak, out); });
            }
    return 0;
}

}  // namespace
}  // namespace swu_cli
