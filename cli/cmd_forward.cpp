// `swinunetr forward`: the raw network on an .npy batch, so integrators can prove
// their deployment computes what their Python reference computes.
#include <chrono>
#include <cstdio>
#include <cstring>

#include "commands.hpp"
#include "common/error.hpp"
#include "io/npy.hpp"
#include "swinunetr/swinunetr.hpp"

namespace swu_cli {

namespace {

const char* kUsage =
    "usage: swinunetr forward --weights W.pt --input X.npy --output Y.npy\n"
    "         [--backend auto|torch|onednn] [--device cpu|cuda:N] [--precision fp32|bf16|fp16]\n"
    "         [--threads N] [--merging legacy|monai15|v2] [--backend-dir DIR]\n"
    "  X.npy: float32 {N, C, D, H, W} (also {C, D, H, W} or {D, H, W}), D, H, W multiples of 32.\n"
    "  Y.npy: float32 logits {N, out_channels, D, H, W}.\n";

}  // namespace

int cmd_forward(const Args& args) {
    std::string weights, input, output, backend = "auto", device = "cpu", precision = "fp32", merging = "legacy", folder;
    int threads = 0;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--help" || a == "-h") {
            std::printf("%s", kUsage);
            return 0;
        }
        if (i + 1 >= args.size()) {
            std::fprintf(stderr, "swinunetr forward: '%s' needs a value (or is unknown)\n%s", a.c_str(), kUsage);
            return 2;
        }
        const std::string& v = args[++i];
        if (a == "--weights") weights = v;
        else if (a == "--input") input = v;
        else if (a == "--output") output = v;
        else if (a == "--backend") backend = v;
        else if (a == "--device") device = v;
        else if (a == "--precision") precision = v;
        else if (a == "--merging") merging = v;
        else if (a == "--backend-dir") folder = v;
        else if (a == "--threads") {
            char* end = nullptr;
            threads = static_cast<int>(std::strtol(v.c_str(), &end, 10));
            if (*end || threads < 0) {
                std::fprintf(stderr, "swinunetr forward: --threads needs a number >= 0\n");
                return 2;
            }
        } else {
            std::fprintf(stderr, "swinunetr forward: unknown option '%s'\n%s", a.c_str(), kUsage);
            return 2;
        }
    }
    if (weights.empty() || input.empty() || output.empty()) {
        std::fprintf(stderr, "swinunetr forward: --weights, --input and --output are required\n%s", kUsage);
        return 2;
    }
    swu_model_params p;
    swu_model_params_init(&p);
    p.backend = backend.c_str();
    p.device = device.c_str();
    p.threads = threads;
    if (precision == "fp32") p.precision = SWU_PRECISION_FP32;
    else if (precision == "bf16") p.precision = SWU_PRECISION_BF16;
    else if (precision == "fp16") p.precision = SWU_PRECISION_FP16;
    else {
        std::fprintf(stderr, "swinunetr forward: --precision must be fp32, bf16 or fp16\n");
        return 2;
    }
    if (merging == "legacy") p.merging = SWU_MERGING_LEGACY;
    else if (merging == "monai15") p.merging = SWU_MERGING_MONAI15;
    else if (merging == "v2") p.merging = SWU_MERGING_V2;
    else {
        std::fprintf(stderr, "swinunetr forward: --merging must be legacy, monai15 or v2\n");
        return 2;
    }

    swu::Tensor x;
    try {
        x = swu::read_npy(input);
    } catch (const swu::Error& e) {
        std::fprintf(stderr, "swinunetr forward: %s\n", e.what());
        return 1;
    }
    if (x.dtype != swu::DType::Float32) {
        std::fprintf(stderr, "swinunetr forward: %s holds %s; float32 is required\n", input.c_str(), swu::dtype_name(x.dtype));
        return 1;
    }
    while (x.shape.size() < 5) x.shape.insert(x.shape.begin(), 1);
    if (x.shape.size() != 5) {
        std::fprintf(stderr, "swinunetr forward: %s has shape %s; {N, C, D, H, W} expected\n", input.c_str(),
                     swu::shape_string(x.shape).c_str());
        return 1;
    }

    swu_status st;
    if (!folder.empty() && (st = swu_backends_load(folder.c_str(), nullptr)) != SWU_OK)
        return report_failure("loading backends from " + folder, st);
    swu_model* raw = nullptr;
    if ((st = swu_model_create(&p, &raw)) != SWU_OK) return report_failure("creating the model", st);
    swinunetr::ModelPtr model(raw);
    if ((st = swu_model_load_weights(model.get(), weights.c_str())) != SWU_OK) return report_failure("loading weights", st);

    swu_model_info info{};
    info.struct_size = sizeof info;
    swu_model_get_info(model.get(), &info);
    swu::Tensor y;
    y.dtype = swu::DType::Float32;
    y.shape = {x.shape[0], info.out_channels, x.shape[2], x.shape[3], x.shape[4]};
    y.data.resize(static_cast<size_t>(y.numel()) * sizeof(float));

    const auto t0 = std::chrono::steady_clock::now();
    st = swu_model_forward(model.get(), x.as<float>(), x.shape.data(), y.as<float>(), static_cast<size_t>(y.numel()));
    if (st != SWU_OK) return report_failure("forward", st);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    try {
        swu::write_npy(output, y);
    } catch (const swu::Error& e) {
        std::fprintf(stderr, "swinunetr forward: %s\n", e.what());
        return 1;
    }
    std::fprintf(stderr, "swinunetr forward: %s -> %s %s on %s/%s, %d threads, feature_size %d: %.0f ms\n", input.c_str(),
                 output.c_str(), swu::shape_string(y.shape).c_str(), info.backend, info.device, info.threads,
                 info.feature_size, ms);
    return 0;
}

}  // namespace swu_cli
