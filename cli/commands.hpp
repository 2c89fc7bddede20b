// Sub-commands of the `swinunetr` CLI. Each returns the process exit code:
// 0 success, 1 the library reported an error, 2 bad command line.
#pragma once

#include <string>
#include <vector>

#include "swinunetr/swinunetr.h"

namespace swu_cli {

using Args = std::vector<std::string>;

int cmd_info(const Args& args);
int cmd_forward(const Args& args);
int cmd_compare(const Args& args);
int cmd_segment(const Args& args);
int cmd_train(const Args& args);
int cmd_evaluate(const Args& args);
int cmd_bench(const Args& args);

// Runs `swinunetr <command> <args>` as nproc local processes with torchrun's
// environment (launch_local.cpp); returns the first failing rank's exit code, else 0.
int launch_local(int nproc, const std::string& command, const Args& args);

// Prints "swinunetr: <what>: <status>: <last error>" and returns 1.
int report_failure(const std::string& what, swu_status status);

}  // namespace swu_cli
