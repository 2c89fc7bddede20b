// `swinunetr info`: what this installation can do. Exits 0 even when some plugins
// fail to load: listing why is its purpose.
#include <cstdio>

#include "commands.hpp"

namespace swu_cli {

namespace {

std::string capabilities(uint32_t caps) {
    std::string s;
    auto add = [&](uint32_t bit, const char* name) {
        if (caps & bit) s += (s.empty() ? "" : ",") + std::string(name);
    };
    add(SWU_CAP_INFER, "infer");
    add(SWU_CAP_TRAIN, "train");
    add(SWU_CAP_FP32, "fp32");
    add(SWU_CAP_BF16, "bf16");
    add(SWU_CAP_FP16, "fp16");
    return s.empty() ? "-" : s;
}

// What "auto" takes on the CPU at `precision`, or why nothing can.
std::string auto_choice(swu_precision precision) {
    swu_model_params p;
    swu_model_params_init(&p);
    p.precision = precision;
    swu_model* m = nullptr;
    if (swu_model_create(&p, &m) != SWU_OK) return std::string("none: ") + swu_last_error();
    swu_model_info info{};
    info.struct_size = sizeof info;
    std::string name = swu_model_get_info(m, &info) == SWU_OK ? info.backend : "?";
    swu_model_free(m);
    return name;
}

int run_info(const std::string& folder);

}  // namespace

Run add_info(CLI::App& app) {
    auto folder = std::make_shared<std::string>();
    CLI::App* cmd = app.add_subcommand("info", "version, ABI and every backend plugin found (or why it failed)");
    cmd->add_option("--backend-dir", *folder, "also load backend plugins from this folder");
    return [folder] { return run_info(*folder); };
}

namespace {

int run_info(const std::string& folder) {
    // The listing below states every plugin failure; the log would only repeat it.
    swu_set_log_callback(nullptr, nullptr, SWU_LOG_ERROR);
    std::printf("swinunetr %s (library %s), C ABI %u (header %u)\n", SWU_VERSION_STRING, swu_version_string(),
                swu_abi_version(), SWU_ABI_VERSION);
    swu_status st = swu_backends_load(folder.empty() ? nullptr : folder.c_str(), nullptr);
    if (st != SWU_OK) return report_failure("loading backends", st);
    if (!folder.empty()) swu_backends_load(nullptr, nullptr);  // the default places as well

    size_t count = 0;
    swu_backend_count(&count);
    std::printf("backends: %zu found\n", count);
    for (size_t i = 0; i < count; ++i) {
        swu_backend_info b{};
        b.struct_size = sizeof b;
        if ((st = swu_backend_get_info(i, &b)) != SWU_OK) return report_failure("backend info", st);
        if (!b.loaded) {
            std::printf("  %-8s FAILED  %s\n           %s\n", b.name, b.path, b.error);
            continue;
        }
        std::printf("  %-8s ok      %s\n           %s; capabilities %s\n", b.name, b.path, b.version,
                    capabilities(b.capabilities).c_str());
        for (int32_t d = 0; d < b.device_count; ++d) {
            swu_device_info dev{};
            dev.struct_size = sizeof dev;
            if (swu_backend_get_device(i, d, &dev) != SWU_OK) continue;
            if (dev.memory_bytes)
                std::printf("           device %-7s %s, %.1f GiB\n", dev.name, dev.description, dev.memory_bytes / 1073741824.0);
            else
                std::printf("           device %-7s %s\n", dev.name, dev.description);
        }
    }
    // "auto" scores every backend for inference when a model is created; training then
    // moves an "auto" model to the best backend that trains (backend.h, score).
    std::string trainers;
    for (size_t i = 0; i < count; ++i) {
        swu_backend_info b{};
        b.struct_size = sizeof b;
        if (swu_backend_get_info(i, &b) == SWU_OK && b.loaded && (b.capabilities & SWU_CAP_TRAIN))
            trainers += (trainers.empty() ? "" : ", ") + std::string(b.name);
    }
    std::printf("\"auto\" on the cpu (the fastest backend that can do the job):\n");
    std::printf("  inference fp32  %s\n", auto_choice(SWU_PRECISION_FP32).c_str());
    std::printf("  inference bf16  %s\n", auto_choice(SWU_PRECISION_BF16).c_str());
    std::printf("  training        %s\n",
                trainers.empty() ? "none: no loaded backend trains"
                                 : (trainers + " (the backends that train; swu_model_train_configure moves an \"auto\" "
                                               "model there)").c_str());
    return 0;
}

}  // namespace
}  // namespace swu_cli
