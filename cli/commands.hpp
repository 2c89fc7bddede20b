// Sub-commands of the `swinunetr` CLI. Each add_* declares one command, its options and
// their --help on `app` (CLI11), and returns what runs it once the command line has
// parsed. A run returns the process exit code: 0 success, 1 the library reported an
// error, 2 bad command line (also every parse error: main.cpp), 130 interrupted.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

#include "swinunetr/swinunetr.h"

namespace swu_cli {

using Args = std::vector<std::string>;
using Run = std::function<int()>;

Run add_info(CLI::App& app);
Run add_forward(CLI::App& app);
Run add_compare(CLI::App& app);
Run add_segment(CLI::App& app);
Run add_train(CLI::App& app, const Args& raw_args);  // --nproc starts ranks with raw_args
Run add_evaluate(CLI::App& app);
Run add_bench(CLI::App& app);
Run add_serve(CLI::App& app);  // with DCMTK (SWU_CLI_NODE)

// ---- options several commands share (options.cpp) ---------------------------------------
// Where and how the network runs: --backend, --device, --precision, --threads, in the
// option group "Model". Call apply() after parsing.
struct ModelOptions {
    std::string backend = "auto", device = "cpu", precision = "fp32";
    int threads = 0;
    CLI::Option* threads_option = nullptr;  // count() > 0 when --threads was given
    void add(CLI::App& cmd, bool with_precision = true);
    void apply(swu_model_params& p) const;  // the strings stay owned by this struct
};
swu_precision precision_of(const std::string& name);  // fp32 | bf16 | fp16 (checked by CLI11)

// --log-level (falls back to SWU_LOG_LEVEL, as the library does), on every command.
struct LogOptions {
    std::string level;
    void add(CLI::App& cmd);
    void apply() const;
};

// Runs `swinunetr <command> <args>` as nproc local processes with torchrun's
// environment (launch_local.cpp); returns the first failing rank's exit code, else 0.
int launch_local(int nproc, const std::string& command, const Args& args);

// Prints "swinunetr: <what>: <status>: <last error>" and returns 1.
int report_failure(const std::string& what, swu_status status);

}  // namespace swu_cli
