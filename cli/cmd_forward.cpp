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

struct Options {
    std::string weights, input, output, merging = "legacy", folder;
    ModelOptions model;
};

int run_forward(const Options& o);

}  // namespace

Run add_forward(CLI::App& app) {
    auto o = std::make_shared<Options>();
    CLI::App* cmd = app.add_subcommand("forward", "the bare network on an .npy batch (no pre- or postprocessing)");
    cmd->footer("X.npy: float32 {N, C, D, H, W} (also {C, D, H, W} or {D, H, W}), D, H, W multiples of 32.\n"
                "Y.npy: float32 logits {N, out_channels, D, H, W}.");
    cmd->add_option("--weights", o->weights, "model.pt or .safetensors")->required();
    cmd->add_option("--input", o->input, "X.npy")->required();
    cmd->add_option("--output", o->output, "Y.npy")->required();
    o->model.add(*cmd);
    cmd->add_option("--merging", o->merging, "patch-merging layout of the weights (MONAI < 1.5, 1.5, v2)")
        ->check(CLI::IsMember({"legacy", "monai15", "v2"}))->capture_default_str()->group("Model");
    cmd->add_option("--backend-dir", o->folder, "also load backend plugins from this folder")->group("Model");
    return [o] { return run_forward(*o); };
}

namespace {

int run_forward(const Options& o) {
    const std::string& input = o.input;
    const std::string& output = o.output;
    const std::string& weights = o.weights;
    const std::string& folder = o.folder;
    swu_model_params p;
    swu_model_params_init(&p);
    o.model.apply(p);
    if (o.merging == "monai15") p.merging = SWU_MERGING_MONAI15;
    else if (o.merging == "v2") p.merging = SWU_MERGING_V2;
    else p.merging = SWU_MERGING_LEGACY;

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

}  // namespace
}  // namespace swu_cli
