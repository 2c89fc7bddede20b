// Options several commands share, declared once.
#include <map>

#include "commands.hpp"

namespace swu_cli {

void ModelOptions::add(CLI::App& cmd, bool with_precision) {
    cmd.add_option("--backend", backend, "backend plugin: auto (the fastest that can do the job), torch, onednn, ...")
        ->capture_default_str()
        ->group("Model");
    cmd.add_option("--device", device, "cpu or cuda:N")->capture_default_str()->group("Model");
    if (with_precision)
        cmd.add_option("--precision", precision, "arithmetic of the network")
            ->check(CLI::IsMember({"fp32", "bf16", "fp16"}))
            ->capture_default_str()
            ->group("Model");
    threads_option = cmd.add_option("--threads", threads, "CPU threads; 0: one per core")
                         ->check(CLI::NonNegativeNumber)
                         ->capture_default_str()
                         ->group("Model");
}

swu_precision precision_of(const std::string& name) {
    if (name == "bf16") return SWU_PRECISION_BF16;
    if (name == "fp16") return SWU_PRECISION_FP16;
    return SWU_PRECISION_FP32;
}

void ModelOptions::apply(swu_model_params& p) const {
    p.backend = backend.c_str();
    p.device = device.c_str();
    p.precision = precision_of(precision);
    p.threads = threads;
}

namespace {
const std::map<std::string, swu_log_level> kLogLevels = {{"debug", SWU_LOG_DEBUG},
                                                         {"info", SWU_LOG_INFO},
                                                         {"warning", SWU_LOG_WARNING},
                                                         {"error", SWU_LOG_ERROR},
                                                         {"none", SWU_LOG_NONE}};
}  // namespace

void LogOptions::add(CLI::App& cmd) {
    cmd.add_option("--log-level", level, "library messages shown on stderr (default: warning)")
        ->check(CLI::IsMember({"debug", "info", "warning", "error", "none"}))
        ->envname("SWU_LOG_LEVEL")
        ->group("Diagnostics");
}

void LogOptions::apply() const {
    const auto it = kLogLevels.find(level);
    if (it != kLogLevels.end()) swu_set_log_callback(nullptr, nullptr, it->second);
}

}  // namespace swu_cli
