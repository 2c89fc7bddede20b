// Distributed training through the public C API, on the CPU with Gloo over 127.0.0.1.
//
//   swu_dist_check compare DIR   two ranks (batch 1 each) against one process training
//                                on the combined batch of 2 in 2 micro-batches, and
//                                against plain batch-2 training
//   swu_dist_check peer-dies DIR rank 1 exits after joining; rank 0 must fail, not hang
//   swu_dist_check run MODE OUT  one training process (MODE ddp | accum | plain | die),
//                                started by the two above; writes its weights to OUT
//
// DiceCE with batch=True does not decompose over the items of a batch, so a data-parallel
// step (the mean of per-rank gradients) is not batch-2 training; it is gradient
// accumulation over micro-batches of the same items, which the torch backend offers
// (swu_optimizer_params.micro_batches). Both add the same per-item gradients and halve
// the sum, so the weights are expected to agree bit for bit.
#include <sys/wait.h>
#include <unistd.h>

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "free_port.hpp"
#include "swinunetr/swinunetr.hpp"

namespace {

constexpr int kRoi = 64, kSteps = 2;
constexpr int64_t kVoxels = int64_t(kRoi) * kRoi * kRoi;

[[noreturn]] void die(const std::string& what, swu_status st) {
    std::fprintf(stderr, "%s: %s: %s\n", what.c_str(), swu_status_string(st), swu_last_error());
    std::exit(st == SWU_ERR_IO ? 3 : 1);
}

// Patch `item` of a fixed synthetic set: a smooth image with blobs, and the blobs' labels.
void make_item(int item, float* image, uint8_t* label) {
    for (int z = 0; z < kRoi; ++z)
        for (int y = 0; y < kRoi; ++y)
            for (int x = 0; x < kRoi; ++x) {
                const int64_t i = (int64_t(z) * kRoi + y) * kRoi + x;
                const double cx = 20 + 6 * item, r = std::sqrt((x - cx) * (x - cx) + (y - 32.0) * (y - 32.0) + (z - 30.0) * (z - 30.0));
                image[i] = static_cast<float>(0.3 + 0.2 * std::sin(0.1 * (x + 2 * y + 3 * z + 7 * item)) + (r < 12 ? 0.4 : 0.0));
                label[i] = static_cast<uint8_t>(r < 6 ? 1 + item % 3 : r < 12 ? 6 : (x + y) % 29 == 0 ? 8 : 0);
            }
}

// Trains kSteps steps; step s uses items {2s, 2s+1} (one process) or item 2s + rank (ddp).
int run(const std::string& mode, const std::string& out) {
    const bool ddp = mode == "ddp" || mode == "die";
    const int rank = ddp ? std::atoi(std::getenv("RANK")) : 0;
    swu_model_params mp;
    swu_model_params_init(&mp);
    mp.backend = "torch";
    mp.threads = 1;
    mp.feature_size = 12;
    swu_model* raw = nullptr;
    swu_status st = swu_model_create(&mp, &raw);
    if (st != SWU_OK) die("create", st);
    swinunetr::ModelPtr model(raw);
    // Different fresh weights on each rank: the broadcast must make them rank 0's.
    st = swu_model_init_weights(model.get(), 7 + static_cast<uint64_t>(rank));
    if (st != SWU_OK) die("init_weights", st);
    swu_optimizer_params op;
    swu_optimizer_params_init(&op);
    op.learning_rate = 1e-3;
    op.micro_batches = mode == "accum" ? 2 : 1;
    op.distributed = ddp ? SWU_DISTRIBUTED_ENV : SWU_DISTRIBUTED_OFF;
    op.distributed_timeout = 60;
    st = swu_model_train_configure(model.get(), &op);
    if (st != SWU_OK) die("train_configure", st);
    if (mode == "die") std::_Exit(7);  // in the group, then gone without a word

    const int64_t n = ddp ? 1 : 2;
    std::vector<float> image(static_cast<size_t>(n * kVoxels));
    std::vector<uint8_t> label(static_cast<size_t>(n * kVoxels));
    for (int s = 0; s < kSteps; ++s) {
        for (int64_t k = 0; k < n; ++k) {
            const int item = ddp ? 2 * s + rank : 2 * s + static_cast<int>(k);
            make_item(item, image.data() + k * kVoxels, label.data() + k * kVoxels);
        }
        const int64_t shape[5] = {n, 1, kRoi, kRoi, kRoi};
        swu_train_step_result r{};
        r.struct_size = sizeof r;
        st = swu_model_train_step(model.get(), image.data(), shape, label.data(), &r);
        if (st != SWU_OK) die("train_step", st);
        std::printf("%s rank %d step %d loss %.9g\n", mode.c_str(), rank, s + 1, r.loss);
    }
    std::ofstream file(out, std::ios::binary);
    st = swu_model_export_tensors(
        model.get(), SWU_TENSORS_WEIGHTS,
        [](const swu_named_tensor* t, void* user) {
            if (t->dtype != SWU_DTYPE_FLOAT32) return 0;
            int64_t count = 1;
            for (int32_t d = 0; d < t->ndim; ++d) count *= t->shape[d];
            static_cast<std::ofstream*>(user)->write(static_cast<const char*>(t->data), count * 4);
            return 0;
        },
        &file);
    if (st != SWU_OK) die("export_tensors", st);
    return file ? 0 : 1;
}

std::string self_path() {
    char buf[4096];
    const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

// Starts `run MODE OUT` with the given rank (or none: -1) and world size.
pid_t start(const std::string& mode, const std::string& out, int rank, int world, int port) {
    const pid_t pid = fork();
    if (pid != 0) return pid;
    if (rank >= 0) {
        setenv("RANK", std::to_string(rank).c_str(), 1);
        setenv("LOCAL_RANK", std::to_string(rank).c_str(), 1);
        setenv("WORLD_SIZE", std::to_string(world).c_str(), 1);
        setenv("MASTER_ADDR", "127.0.0.1", 1);
        setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
    }
    const std::string exe = self_path();
    execl(exe.c_str(), exe.c_str(), "run", mode.c_str(), out.c_str(), static_cast<char*>(nullptr));
    _exit(127);
}

// Exit code of each child; kills the rest 120 s after the first one ends badly.
std::vector<int> wait_all(const std::vector<pid_t>& pids) {
    std::vector<int> codes(pids.size(), -1);
    size_t left = pids.size();
    auto deadline = std::chrono::steady_clock::time_point::max();
    while (left) {
        int status = 0;
        const pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid > 0) {
            for (size_t i = 0; i < pids.size(); ++i)
                if (pids[i] == pid) {
                    codes[i] = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
                    --left;
                    if (codes[i] != 0 && deadline == std::chrono::steady_clock::time_point::max())
                        deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
                }
            continue;
        }
        if (pid < 0) break;
        if (std::chrono::steady_clock::now() > deadline)
            for (size_t i = 0; i < pids.size(); ++i)
                if (codes[i] < 0) kill(pids[i], SIGKILL);
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return codes;
}

std::vector<float> read_weights(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<float> w(bytes.size() / 4);
    std::memcpy(w.data(), bytes.data(), w.size() * 4);
    return w;
}

double max_diff(const std::vector<float>& a, const std::vector<float>& b) {
    if (a.size() != b.size() || a.empty()) return INFINITY;
    double m = 0;
    for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(static_cast<double>(a[i]) - b[i]));
    return m;
}

int compare(const std::string& dir) {
    const auto t0 = std::chrono::steady_clock::now();
    const int port = swu_test::free_port();
    const std::vector<int> ranks = wait_all({start("ddp", dir + "/rank0.bin", 0, 2, port),
                                             start("ddp", dir + "/rank1.bin", 1, 2, port)});
    const double t_ddp = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (ranks[0] != 0 || ranks[1] != 0) {
        std::fprintf(stderr, "FAIL: ranks exited with %d and %d\n", ranks[0], ranks[1]);
        return 1;
    }
    const std::vector<int> single = wait_all({start("accum", dir + "/accum.bin", -1, 0, 0),
                                              start("plain", dir + "/plain.bin", -1, 0, 0)});
    if (single[0] != 0 || single[1] != 0) {
        std::fprintf(stderr, "FAIL: single-process runs exited with %d and %d\n", single[0], single[1]);
        return 1;
    }
    const std::vector<float> r0 = read_weights(dir + "/rank0.bin"), r1 = read_weights(dir + "/rank1.bin"),
                             accum = read_weights(dir + "/accum.bin"), plain = read_weights(dir + "/plain.bin");
    const double between_ranks = max_diff(r0, r1), vs_accum = max_diff(r0, accum), vs_plain = max_diff(r0, plain);
    std::printf("weights: %zu floats; 2 ranks x batch 1, %d steps of Adam (lr 1e-3): %.1f s\n", r0.size(), kSteps, t_ddp);
    std::printf("max |rank 0 - rank 1|                         = %.3g (expected 0: broadcast + all-reduce)\n", between_ranks);
    std::printf("max |2 ranks - 1 process, 2 micro-batches|    = %.3g (tolerance 1e-6)\n", vs_accum);
    std::printf("max |2 ranks - 1 process, plain batch 2|      = %.3g (differs: DiceCE batch=True is not a mean)\n", vs_plain);
    const bool ok = between_ranks == 0 && vs_accum <= 1e-6 && vs_plain > 0 && std::isfinite(vs_plain);
    std::printf("%s\n", ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}

int peer_dies(const std::string& dir) {
    const auto t0 = std::chrono::steady_clock::now();
    const int port = swu_test::free_port();
    const std::vector<int> codes = wait_all({start("ddp", dir + "/survivor.bin", 0, 2, port),
                                             start("die", dir + "/dead.bin", 1, 2, port)});
    const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("rank 0 exited with %d, rank 1 with %d, after %.1f s\n", codes[0], codes[1], t);
    // Rank 0 reports a failed collective (status text on its stderr) instead of hanging
    // for the 60 s timeout or aborting.
    const bool ok = codes[0] == 1 && codes[1] == 7 && t < 60;
    std::printf("%s\n", ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string what = argc > 1 ? argv[1] : "";
    if (what == "run" && argc == 4) return run(argv[2], argv[3]);
    if (what == "compare" && argc == 3) return compare(argv[2]);
    if (what == "peer-dies" && argc == 3) return peer_dies(argv[2]);
    std::fprintf(stderr, "usage: swu_dist_check compare DIR | peer-dies DIR | run MODE OUT\n");
    return 2;
}
