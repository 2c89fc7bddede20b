// swu_torch_gpu_check — golden parity and per-window timings of one backend on one
// device, through the public C API only (run by scripts/gpu-check.sh; built with the torch
// plugin when it has CUDA, or with -DSWU_TORCH_GPU_CHECK=ON).
//
//   swu_torch_gpu_check [--device cuda:0] [--backend torch] [--backend-dir DIR]
//                       [--precisions fp32,fp16,bf16] [--batches 1,4] [--reps 7] [--warmup 2]
//                       [--no-f48] [--no-bench] [--no-train]
//
// Parity (golden/README sections 4 and 6):
//   net_f12: MONAI's model.pt on its input, all logits.
//   pipeline: swu_infer of the golden pipeline case with net_f12 (on CUDA the plugin's
//            sliding_window stitches on the GPU), labels against MONAI's.
//   net_f48: the bundle-sized network with the formula weights on the formula input
//            (batch 2): logits at the 4096 stored positions, per-channel statistics, argmax.
// fp32 must meet the golden rules (|a-g| <= 1e-4 + 1e-4|g|; argmax identical except
// where the top-2 margin < 2e-3, at most 0.01 % of voxels). AMP (fp16 / bf16 autocast)
// is held to the looser rules of kAmpRules below and to >= 99 % argmax agreement.
// Training (golden train_step/, once, not per precision): three DiceCE + Adam steps of
// net_f12 on the golden batch through swu_model_train_step —
//   fp32: losses within 1e-5 relative of MONAI's, step-1 gradient L2 norms within 1e-2;
//   AMP (fp16 autocast, gradient scaling): see kAmpTrainRtol; updates not all skipped;
// (NCCL needs two GPUs: a one-process run makes no process group; see tests/dist/.)
// then the time of one training step of the bundle's network (f48, 96^3, batch 4 = the
// bundle's 2 volumes x 2 crops, activation checkpointing) in fp32 and AMP.
// Timing: formula-weight net_f48, input {B, 1, 96, 96, 96}, median of --reps calls to
// swu_model_forward after --warmup calls (cuDNN autotuning happens in the warm-up).
// Exit status 0 when every parity check passed.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include <zlib.h>

#include "golden.hpp"
#include "golden_f48.hpp"
#include "io/json.hpp"
#include "swinunetr/swinunetr.hpp"

using namespace swu_test;

namespace {

struct Options {
    std::string device = "cuda:0", backend = "torch", backend_dir;
    std::vector<std::string> precisions = {"fp32", "fp16", "bf16"};
    std::vector<int> batches = {1, 4};
    int reps = 7, warmup = 2;
    bool f48 = true, bench = true, train = true;
};

// Tolerances per precision. fp32: golden/README section 6. AMP: autocast runs the
// convolutions and matmuls with fp16 (10-bit mantissa, unit roundoff 4.9e-4) or bf16
// (7-bit, 3.9e-3) inputs and outputs (fp32 accumulation), so the logits move by
// several units of those roundoffs. Measured on an H200 (torch 2.11, cuDNN 9.19),
// max |a - g| of the logits: fp16 3.6e-3 (net_f12) / 3.3e-3 (net_f48 positions),
// bf16 3.2e-2 / 2.8e-2; per-channel statistics up to 5e-3 (fp16) and 2.9e-2 (bf16).
// The bounds are 3-4x those figures. The argmax agreement is the sharper test: a real
// error (wrong window, shift, mask or merge order) moves logits by 1e-1..1 and breaks
// the agreement far below 99 %; measured 99.89 % (fp16) and 99.08 % (bf16) on net_f48,
// whose formula weights give unusually flat logits (many voxels with top-2 margins
// below bf16's resolution), and 99.95 % / 99.55 % on net_f12.
struct Rules {
    double atol, rtol;              // logits, element-wise
    double stats_atol, stats_rtol;  // per-channel mean/std/min/max
    double min_argmax_agreement;    // fraction of voxels
};
constexpr Rules kFp32Rules = {1e-4, 1e-4, 1e-4, 1e-5, 0.9999};
constexpr Rules kFp16Rules = {1.5e-2, 1e-2, 2e-2, 1e-2, 0.99};
constexpr Rules kBf16Rules = {1e-1, 5e-2, 1e-1, 5e-2, 0.99};

const Rules& rules_for(swu_precision p) {
    return p == SWU_PRECISION_FP32 ? kFp32Rules : p == SWU_PRECISION_FP16 ? kFp16Rules : kBf16Rules;
}

swu_precision parse_precision(const std::string& s) {
    if (s == "fp32") return SWU_PRECISION_FP32;
    if (s == "fp16") return SWU_PRECISION_FP16;
    if (s == "bf16") return SWU_PRECISION_BF16;
    std::fprintf(stderr, "unknown precision '%s'\n", s.c_str());
    std::exit(2);
}

std::vector<std::string> split(const std::string& s) {
    std::vector<std::string> out;
    std::stringstream ss(s);
    std::string item;
    while (std::getline(ss, item, ','))
        if (!item.empty()) out.push_back(item);
    return out;
}

[[noreturn]] void die(const std::string& what, swu_status st) {
    std::fprintf(stderr, "swu_torch_gpu_check: %s failed (%s): %s\n", what.c_str(), swu_status_string(st), swu_last_error());
    std::exit(1);
}

// Null (with the reason printed) when the backend does not offer this device/precision.
swinunetr::ModelPtr make_model(const Options& o, swu_precision precision) {
    swu_model_params p;
    swu_model_params_init(&p);
    p.backend = o.backend.c_str();
    p.device = o.device.c_str();
    p.precision = precision;
    swu_model* raw = nullptr;
    const swu_status st = swu_model_create(&p, &raw);
    if (st != SWU_OK)
        std::printf("cannot create a model on %s (%s): %s\n", o.device.c_str(), swu_status_string(st), swu_last_error());
    return swinunetr::ModelPtr(raw);
}

// MONAI's net_f12 model.pt on a new model; null as make_model.
swinunetr::ModelPtr make_f12(const Options& o, swu_precision precision) {
    swinunetr::ModelPtr m = make_model(o, precision);
    if (!m) return m;
    const swu_status st = swu_model_load_weights(m.get(), golden_path("net_f12/model.pt").c_str());
    if (st != SWU_OK) die("loading net_f12/model.pt", st);
    return m;
}

void forward(swu_model* m, const float* x, const int64_t shape[5], std::vector<float>& y) {
    const swu_status st = swu_model_forward(m, x, shape, y.data(), y.size());
    if (st != SWU_OK) die("forward", st);
}

// Fraction of voxels whose argmax over C channels equals `golden` (uint8 per voxel),
// and how many disagreements have a clear top-2 margin (>= 2e-3) in our logits.
struct Argmax {
    int64_t voxels = 0, differ = 0, differ_clear = 0;
    double agreement() const { return voxels ? 1.0 - static_cast<double>(differ) / static_cast<double>(voxels) : 0.0; }
};
Argmax argmax_vs(const float* logits, int64_t N, int64_t C, int64_t V, const uint8_t* golden) {
    Argmax a;
    for (int64_t n = 0; n < N; ++n)
        for (int64_t v = 0; v < V; ++v) {
            const float* p = logits + n * C * V + v;
            int best = 0;
            float top = p[0], second = -INFINITY;
            for (int64_t c = 1; c < C; ++c) {
                const float x = p[c * V];
                if (x > top) {
                    second = top;
                    top = x;
                    best = static_cast<int>(c);
                } else if (x > second) {
                    second = x;
                }
            }
            ++a.voxels;
            if (best != golden[n * V + v]) {
                ++a.differ;
                if (top - second >= 2e-3) ++a.differ_clear;
            }
        }
    return a;
}

std::vector<uint8_t> argmax_of(const float* logits, int64_t N, int64_t C, int64_t V) {
    std::vector<uint8_t> out(static_cast<size_t>(N * V));
    for (int64_t n = 0; n < N; ++n)
        for (int64_t v = 0; v < V; ++v) {
            const float* p = logits + n * C * V + v;
            int best = 0;
            for (int64_t c = 1; c < C; ++c)
                if (p[c * V] > p[best * V]) best = static_cast<int>(c);
            out[static_cast<size_t>(n * V + v)] = static_cast<uint8_t>(best);
        }
    return out;
}

bool verdict(const char* label, bool ok) {
    std::printf("  %-44s %s\n", label, ok ? "PASS" : "FAIL");
    return ok;
}

std::string describe(const Comparison& c) {
    char b[160];
    std::snprintf(b, sizeof b, "max|a-g| %.3g, max rel %.3g, %lld of %lld outside", c.max_abs, c.max_rel,
                  static_cast<long long>(c.violations), static_cast<long long>(c.count));
    return b;
}

bool check_f12(const Options& o, swu_precision precision, const std::string& name) {
    const Rules& r = rules_for(precision);
    swinunetr::ModelPtr m = make_f12(o, precision);
    if (!m) return verdict("net_f12 model", false);
    const swu::Tensor x = load_golden("net_f12/input.npy");
    const swu::Tensor g = load_golden("net_f12/logits.npy");
    std::vector<float> y(static_cast<size_t>(g.numel()));
    forward(m.get(), x.as<float>(), x.shape.data(), y);
    const Comparison c = compare(y.data(), g.as<float>(), g.numel(), r.atol, r.rtol);
    const int64_t C = 14, V = 64 * 64 * 64;
    const std::vector<uint8_t> golden_argmax = argmax_of(g.as<float>(), 1, C, V);
    const Argmax a = argmax_vs(y.data(), 1, C, V, golden_argmax.data());
    std::printf("net_f12 %s on %s: logits %s (atol %g, rtol %g); argmax agreement %.4f %% (%lld voxels differ)\n",
                name.c_str(), o.device.c_str(), describe(c).c_str(), r.atol, r.rtol, 100.0 * a.agreement(),
                static_cast<long long>(a.differ));
    bool ok = verdict("net_f12 logits", c.ok());
    if (precision == SWU_PRECISION_FP32)
        ok &= verdict("net_f12 argmax (clear margins identical)", a.differ_clear == 0);
    else
        ok &= verdict("net_f12 argmax agreement >= 99 %", a.agreement() >= r.min_argmax_agreement);
    return ok;
}

// A NIfTI-1 .nii.gz as the golden data stores it (sform affine, no scaling), read without
// ITK (the CUDA builds have none): the voxels (i fastest) and, for an image, the volume
// over them. Returns false when the file is not such a NIfTI.
struct Nifti {
    std::vector<uint8_t> bytes;  // header + voxels
    int64_t size[3] = {0, 0, 0};
    int16_t datatype = 0;
    const uint8_t* voxels = nullptr;
};

bool read_nifti_gz(const std::string& path, Nifti& n) {
    gzFile f = gzopen(path.c_str(), "rb");
    if (!f) return false;
    uint8_t chunk[1 << 16];
    int got;
    while ((got = gzread(f, chunk, sizeof chunk)) > 0) n.bytes.insert(n.bytes.end(), chunk, chunk + got);
    gzclose(f);
    auto at = [&](size_t offset, auto value) {
        std::memcpy(&value, n.bytes.data() + offset, sizeof value);
        return value;
    };
    if (n.bytes.size() < 352 || at(0, int32_t{}) != 348) return false;
    const float slope = at(112, float{}), inter = at(116, float{});
    if ((slope != 0.0f && slope != 1.0f) || inter != 0.0f || at(254, int16_t{}) <= 0) return false;
    for (int a = 0; a < 3; ++a) n.size[a] = at(42 + 2 * a, int16_t{});
    n.datatype = at(70, int16_t{});
    const size_t offset = static_cast<size_t>(at(108, float{}));
    const size_t bytes_per = n.datatype == 2 ? 1 : n.datatype == 4 ? 2 : 0;  // uint8, int16
    if (!bytes_per || n.bytes.size() < offset + bytes_per * n.size[0] * n.size[1] * n.size[2]) return false;
    n.voxels = n.bytes.data() + offset;
    return true;
}

// The volume over an int16 NIfTI's voxels (RAS sform -> LPS geometry).
swu_volume* wrap_nifti(const Nifti& n) {
    auto row = [&](int r, int c) {
        float v;
        std::memcpy(&v, n.bytes.data() + 280 + 16 * r + 4 * c, sizeof v);
        return r < 2 ? -static_cast<double>(v) : static_cast<double>(v);
    };
    swu_volume_desc d;
    swu_volume_desc_init(&d);
    d.type = SWU_VOXEL_INT16;
    d.data = n.voxels;
    for (int c = 0; c < 3; ++c) {
        d.size[c] = n.size[c];
        d.spacing[c] = std::sqrt(row(0, c) * row(0, c) + row(1, c) * row(1, c) + row(2, c) * row(2, c));
        for (int r = 0; r < 3; ++r) d.direction[r * 3 + c] = row(r, c) / d.spacing[c];
        d.origin[c] = row(c, 3);
    }
    swu_volume* v = nullptr;
    const swu_status st = swu_volume_wrap(&d, &v);
    if (st != SWU_OK) die("wrapping the golden pipeline image", st);
    return v;
}

// The golden pipeline case through swu_infer (defaults: roi 96, overlap 0.5, sw_batch 4,
// constant blend). fp32: at most 0.01 % of the labels differ from MONAI's; AMP: >= 99 %.
bool check_pipeline(const Options& o, swu_precision precision, const std::string& name) {
    swinunetr::ModelPtr m = make_f12(o, precision);
    if (!m) return verdict("pipeline model", false);
    swu_status st = SWU_OK;
    Nifti ni, nl;
    if (!read_nifti_gz(golden_path("pipeline/image.nii.gz"), ni) || ni.datatype != 4 ||
        !read_nifti_gz(golden_path("pipeline/labels.nii.gz"), nl) || nl.datatype != 2)
        return verdict("pipeline: golden image.nii.gz (int16) and labels.nii.gz (uint8) readable", false);
    swu_volume* image = wrap_nifti(ni);
    swu_volume* labels = nullptr;
    swu_infer_params p;
    swu_infer_params_init(&p);
    const auto t0 = std::chrono::steady_clock::now();
    if ((st = swu_infer(m.get(), image, &p, &labels)) != SWU_OK) die("swu_infer", st);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    swu_volume_info a{};
    a.struct_size = sizeof a;
    if ((st = swu_volume_get_info(labels, &a)) != SWU_OK) die("volume info", st);
    const bool same_grid = a.type == SWU_VOXEL_UINT8 && a.size[0] == nl.size[0] && a.size[1] == nl.size[1] &&
                           a.size[2] == nl.size[2];
    int64_t differ = 0;
    const int64_t voxels = a.size[0] * a.size[1] * a.size[2];
    const auto* la = static_cast<const uint8_t*>(a.data);
    for (int64_t k = 0; same_grid && k < a.size[2]; ++k)
        for (int64_t j = 0; j < a.size[1]; ++j)
            for (int64_t i = 0; i < a.size[0]; ++i)
                differ += la[i * a.strides[0] + j * a.strides[1] + k * a.strides[2]] !=
                          nl.voxels[(k * nl.size[1] + j) * nl.size[0] + i];
    swu_volume_free(labels);
    swu_volume_free(image);
    if (!same_grid) return verdict("pipeline labels: uint8 on the golden grid", false);
    const double agreement = 1.0 - static_cast<double>(differ) / static_cast<double>(voxels);
    std::printf("pipeline net_f12 %s on %s: swu_infer %.2f s; labels: %lld of %lld voxels differ from MONAI's\n",
                name.c_str(), o.device.c_str(), seconds, static_cast<long long>(differ), static_cast<long long>(voxels));
    if (precision == SWU_PRECISION_FP32) return verdict("pipeline labels (<= 0.01 % differ)", differ <= voxels / 10000);
    return verdict("pipeline labels agreement >= 99 %", agreement >= rules_for(precision).min_argmax_agreement);
}

struct F48 {
    std::vector<swu::NamedTensor> weights;
    NamedTensorViews views;
    std::vector<float> input;  // batch 2
};

swinunetr::ModelPtr make_f48(const Options& o, swu_precision precision, const F48& f) {
    swinunetr::ModelPtr m = make_model(o, precision);
    if (!m) return m;
    const swu_status st = swu_model_set_weights(m.get(), f.views.views.data(), f.views.views.size());
    if (st != SWU_OK) die("setting the net_f48 formula weights", st);
    return m;
}

// The shared golden net_f48 check (tests/support/golden_f48), with this precision's rules.
bool check_f48(const Options& o, swu_precision precision, const std::string& name, const F48& f, swu_model* m) {
    const Rules& r = rules_for(precision);
    const int64_t shape[5] = {kF48Batch, 1, kF48Size, kF48Size, kF48Size};
    std::vector<float> y(static_cast<size_t>(kF48Batch * kF48Classes * kF48Voxels));
    forward(m, f.input.data(), shape, y);
    F48Tolerance t;
    t.atol = r.atol;
    t.rtol = r.rtol;
    t.stats_atol = r.stats_atol;
    t.stats_rtol = r.stats_rtol;
    const F48Result a = compare_f48(y.data(), t);
    std::printf("net_f48 %s on %s (batch 2):\n  positions %s (atol %g, rtol %g)\n  statistics %s (atol %g, rtol %g)\n"
                "  argmax agreement %.4f %% (%s)\n",
                name.c_str(), o.device.c_str(), describe(a.positions).c_str(), r.atol, r.rtol,
                describe(a.statistics).c_str(), r.stats_atol, r.stats_rtol, 100.0 * a.agreement(), a.argmax_text().c_str());
    bool ok = verdict("net_f48 logits at positions", a.positions.ok());
    ok &= verdict("net_f48 logits statistics", a.statistics.ok());
    if (precision == SWU_PRECISION_FP32)
        ok &= verdict("net_f48 argmax (golden rule)", a.argmax_golden());
    else
        ok &= verdict("net_f48 argmax agreement >= 99 %", a.agreement() >= r.min_argmax_agreement);
    return ok;
}

void bench(const Options& o, const std::string& name, swu_model* m) {
    const int64_t C = 14, S = 96, V = S * S * S;
    for (int B : o.batches) {
        const std::vector<float> x = formula_input(B, 0);
        const int64_t shape[5] = {B, 1, S, S, S};
        std::vector<float> y(static_cast<size_t>(B * C * V));
        for (int i = 0; i < o.warmup; ++i) forward(m, x.data(), shape, y);
        std::vector<double> ms;
        for (int i = 0; i < o.reps; ++i) {
            const auto t0 = std::chrono::steady_clock::now();
            forward(m, x.data(), shape, y);
            ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        }
        std::sort(ms.begin(), ms.end());
        const double median = ms[ms.size() / 2];
        std::printf("bench net_f48 %s on %s: batch %d, 96^3: median %.1f ms per call (%.1f ms per window), min %.1f, "
                    "max %.1f over %d calls after %d warm-up\n",
                    name.c_str(), o.device.c_str(), B, median, median / B, ms.front(), ms.back(), o.reps, o.warmup);
        std::fflush(stdout);
    }
}

// End to end: a synthetic 512 x 512 x 200 CT (0.78 x 0.78 x 2.5 mm, int16 HU) through
// swu_infer with the bundle's defaults (overlap 0.5, sw_batch 4), the CPU stages on all cores.
void bench_segmentation(const Options& o, const std::string& name, swu_model* m) {
    const int64_t I = 512, J = 512, K = 200;
    std::vector<int16_t> ct(static_cast<size_t>(I * J * K));
    for (int64_t k = 0; k < K; ++k)
        for (int64_t j = 0; j < J; ++j)
            for (int64_t i = 0; i < I; ++i) {
                const double x = (i - 256.0) / 230.0, y = (j - 256.0) / 170.0;
                const bool body = x * x + y * y < 1.0;
                const bool organ = (x + 0.3) * (x + 0.3) + y * y < 0.12;
                ct[static_cast<size_t>((k * J + j) * I + i)] =
                    static_cast<int16_t>(!body ? -1000 : organ ? 60 + (i * 7 + j * 3 + k) % 25 : 40 + (i + j * 5 + k * 3) % 17);
            }
    swu_volume_desc d;
    swu_volume_desc_init(&d);
    d.data = ct.data();
    d.size[0] = I;
    d.size[1] = J;
    d.size[2] = K;
    d.spacing[0] = d.spacing[1] = 0.78;
    d.spacing[2] = 2.5;
    swu_volume* image = nullptr;
    swu_status st = swu_volume_wrap(&d, &image);
    if (st != SWU_OK) die("wrapping the synthetic CT", st);
    swu_infer_params p;
    swu_infer_params_init(&p);
    std::vector<double> seconds;
    for (int run = 0; run < 2; ++run) {
        swu_volume* labels = nullptr;
        const auto t0 = std::chrono::steady_clock::now();
        st = swu_infer(m, image, &p, &labels);
        seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        swu_volume_free(labels);
        if (st != SWU_OK) die("swu_infer", st);
    }
    swu_volume_free(image);
    std::printf("bench segmentation %s on %s: 512x512x200 CT (0.78x0.78x2.5 mm), end to end %.2f s (first run %.2f s)\n",
                name.c_str(), o.device.c_str(), seconds[1], seconds[0]);
    std::fflush(stdout);
}

// ---- training ----------------------------------------------------------------------

// AMP training: the forward runs in fp16 (logits off by up to ~4e-3, see kFp16Rules), so
// the DiceCE loss (~3.6, a mean over 2 x 64^3 voxels) moves by far less than 1e-3
// relative; later steps also inherit the fp16 gradients' rounding through Adam, whose
// first updates are lr x sign(gradient). 1e-3 relative is ~40x the loss change of one
// Adam step here (3.586 -> 3.571), so a wrong update direction still fails.
constexpr double kAmpTrainRtol = 1e-3;

struct TrainRun {
    std::vector<swu_train_step_result> steps;
    double seconds = 0;
    swinunetr::ModelPtr model;
};

// Three steps of net_f12 on the golden batch; null model when something failed (printed).
TrainRun train_golden(const Options& o, int amp) {
    TrainRun run;
    run.model = make_f12(o, SWU_PRECISION_FP32);
    if (!run.model) return run;
    swu_status st = SWU_OK;
    swu_optimizer_params p;
    swu_optimizer_params_init(&p);
    p.amp = amp;
    if ((st = swu_model_train_configure(run.model.get(), &p)) != SWU_OK) {
        std::printf("cannot configure training (amp %d) on %s (%s): %s\n", amp, o.device.c_str(), swu_status_string(st),
                    swu_last_error());
        run.model.reset();
        return run;
    }
    const swu::Tensor x = load_golden("train_step/input.npy");
    const swu::Tensor y = load_golden("train_step/labels.npy");
    const auto t0 = std::chrono::steady_clock::now();
    for (int step = 0; step < 3; ++step) {
        swu_train_step_result r{};
        r.struct_size = sizeof r;
        if ((st = swu_model_train_step(run.model.get(), x.as<float>(), x.shape.data(), y.as<uint8_t>(), &r)) != SWU_OK)
            die("swu_model_train_step", st);
        run.steps.push_back(r);
        if (step == 0 && amp == 0) {
            TensorMap grad;
            if ((st = export_float_tensors(run.model.get(), SWU_TENSORS_GRADIENTS, grad)) != SWU_OK)
                die("exporting gradients", st);
            const GradientNorms g = compare_gradient_norms(grad, 1e-2);
            std::printf("train fp32 on %s: step-1 gradients: %zu tensors, %zu within 1e-2 relative L2, worst %.2e (%s)\n",
                        o.device.c_str(), g.compared, g.within, g.worst, g.worst_key.c_str());
            if (!verdict("train fp32 step-1 gradient norms", g.ok(grad.size()))) {
                run.model.reset();
                return run;
            }
        }
    }
    run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return run;
}

double max_weight_difference(swu_model* a, swu_model* b) {
    TensorMap wa, wb;
    if (export_float_tensors(a, SWU_TENSORS_WEIGHTS, wa) != SWU_OK || export_float_tensors(b, SWU_TENSORS_WEIGHTS, wb) != SWU_OK)
        return INFINITY;
    double worst = 0;
    for (const auto& [key, va] : wa) {
        const auto it = wb.find(key);
        if (it == wb.end() || it->second.size() != va.size()) return INFINITY;
        for (size_t i = 0; i < va.size(); ++i) worst = std::max(worst, static_cast<double>(std::fabs(va[i] - it->second[i])));
    }
    return worst;
}

// Losses of a run against MONAI's (or another run's) within rtol; prints them.
bool losses_match(const char* label, const TrainRun& run, const std::vector<double>& want, double rtol) {
    bool ok = run.steps.size() == want.size();
    double worst = 0;
    for (size_t i = 0; ok && i < want.size(); ++i) {
        const double rel = std::fabs(run.steps[i].loss - want[i]) / want[i];
        worst = std::max(worst, rel);
        std::printf("  step %zu: loss %.9f (reference %.9f, rel %.2e)%s\n", i + 1, run.steps[i].loss, want[i], rel,
                    run.steps[i].skipped ? " [update skipped: non-finite fp16 gradients]" : "");
    }
    char text[96];
    std::snprintf(text, sizeof text, "%s (rel <= %g; worst %.2e)", label, rtol, worst);
    return verdict(text, ok && worst <= rtol);
}

// One training step of the bundle's network, median of reps after warm-ups.
void bench_training(const Options& o, const F48& f, int amp) {
    swinunetr::ModelPtr m = make_f48(o, SWU_PRECISION_FP32, f);
    if (!m) return;
    swu_status st = SWU_OK;
    swu_optimizer_params p;
    swu_optimizer_params_init(&p);
    p.amp = amp;
    p.checkpointing = 1;
    if ((st = swu_model_train_configure(m.get(), &p)) != SWU_OK) {
        std::printf("bench train: cannot configure (%s): %s\n", swu_status_string(st), swu_last_error());
        return;
    }
    const int B = 4, S = 96;
    const int64_t V = int64_t{S} * S * S, shape[5] = {B, 1, S, S, S};
    const std::vector<float> x = formula_input(B, 0);
    std::vector<uint8_t> labels(static_cast<size_t>(B * V));
    for (size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<uint8_t>((i / 4096 + i % 97) % 14);
    std::vector<double> ms;
    int skipped = 0;
    for (int i = 0; i < o.warmup + o.reps; ++i) {
        swu_train_step_result r{};
        r.struct_size = sizeof r;
        const auto t0 = std::chrono::steady_clock::now();
        if ((st = swu_model_train_step(m.get(), x.data(), shape, labels.data(), &r)) != SWU_OK) die("train step", st);
        if (i >= o.warmup) ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        skipped += r.skipped;
    }
    std::sort(ms.begin(), ms.end());
    std::printf("bench train net_f48 %s on %s: batch %d, 96^3, checkpointing: median %.1f ms per step, min %.1f, max %.1f "
                "over %d steps after %d warm-up (%d updates skipped)\n",
                amp ? "AMP fp16" : "fp32", o.device.c_str(), B, ms[ms.size() / 2], ms.front(), ms.back(), o.reps,
                o.warmup, skipped);
    std::fflush(stdout);
}

bool check_training(const Options& o, const F48& f) {
    const swu::json::Value golden = swu::json::parse_file(golden_path("train_step/losses.json"));
    std::vector<double> monai;
    for (const swu::json::Value& s : golden.at("steps").elements()) monai.push_back(s.at("loss").as_number());
    const bool cuda = o.device.rfind("cuda", 0) == 0;
    bool ok = true;

    std::printf("train fp32 on %s: 3 Adam steps of net_f12 on train_step/ (batch 2, 64^3)\n", o.device.c_str());
    const TrainRun fp32 = train_golden(o, 0);
    if (!fp32.model) return verdict("train fp32", false);
    ok &= losses_match("train fp32 losses vs MONAI", fp32, monai, 1e-5);
    std::printf("  3 steps in %.2f s\n", fp32.seconds);

    if (cuda) {  // AMP is CUDA-only
        std::printf("train AMP fp16 on %s\n", o.device.c_str());
        const TrainRun amp = train_golden(o, 1);
        if (!amp.model) {
            ok &= verdict("train AMP", false);
        } else {
            ok &= losses_match("train AMP losses vs MONAI", amp, monai, kAmpTrainRtol);
            int skipped = 0;
            for (const swu_train_step_result& r : amp.steps) skipped += r.skipped;
            ok &= verdict("train AMP: at least one update applied", skipped < 3);
            std::printf("  3 steps in %.2f s; max |weight AMP - weight fp32| after 3 steps: %.3g\n", amp.seconds,
                        max_weight_difference(amp.model.get(), fp32.model.get()));
        }
    }

    std::fflush(stdout);

    if (o.bench && !f.weights.empty()) {
        bench_training(o, f, 0);
        if (cuda) bench_training(o, f, 1);
    }
    return ok;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "%s needs a value\n", a.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--device") o.device = value();
        else if (a == "--backend") o.backend = value();
        else if (a == "--backend-dir") o.backend_dir = value();
        else if (a == "--precisions") o.precisions = split(value());
        else if (a == "--batches") {
            o.batches.clear();
            for (const std::string& b : split(value())) o.batches.push_back(std::atoi(b.c_str()));
        } else if (a == "--reps") o.reps = std::max(1, std::atoi(value().c_str()));
        else if (a == "--warmup") o.warmup = std::max(0, std::atoi(value().c_str()));
        else if (a == "--no-f48") o.f48 = false;
        else if (a == "--no-bench") o.bench = false;
        else if (a == "--no-train") o.train = false;
        else {
            std::fprintf(stderr, "usage: see the comment at the top of tests/device/gpu_check.cpp\n");
            return 2;
        }
    }
    if (!golden_available()) {
        std::fprintf(stderr, "swu_torch_gpu_check: no golden data at %s (set SWU_GOLDEN_DIR)\n", golden_dir().c_str());
        return 1;
    }
    if (!o.backend_dir.empty()) {
        const swu_status st = swu_backends_load(o.backend_dir.c_str(), nullptr);
        if (st != SWU_OK) die("loading backends from " + o.backend_dir, st);
    }

    F48 f;
    if (o.f48 || o.bench) {  // also for the training benchmark
        f.weights = f48_weights();
        f.views = as_c_tensors(f.weights);
        f.input = f48_input();
    }
    int failed = 0;
    for (const std::string& name : o.precisions) {
        const swu_precision precision = parse_precision(name);
        if (!check_f12(o, precision, name)) ++failed;
        if (!check_pipeline(o, precision, name)) ++failed;
        std::fflush(stdout);
        if (!o.f48 && !o.bench) continue;
        swinunetr::ModelPtr m = make_f48(o, precision, f);
        if (!m) continue;  // already counted by check_f12
        if (o.f48 && !check_f48(o, precision, name, f, m.get())) ++failed;
        std::fflush(stdout);
        if (o.bench) bench(o, name, m.get());
        if (o.bench) bench_segmentation(o, name, m.get());
    }
    if (o.train && !check_training(o, f)) ++failed;
    std::printf("%s: %d check group(s) failed\n", failed ? "FAILED" : "ALL PASSED", failed);
    return failed ? 1 : 0;
}
