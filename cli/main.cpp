// swinunetr — the reference command-line tool over the C API.
#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "commands.hpp"

namespace swu_cli {

int report_failure(const std::string& what, swu_status status) {
    std::fprintf(stderr, "swinunetr: %s failed (%s): %s\n", what.c_str(), swu_status_string(status), swu_last_error());
    return 1;
}

}  // namespace swu_cli

namespace {

const char* kDescription =
    "swinunetr: Swin UNETR segmentation of 13 abdominal organs in CT, and its training.\n"
    "Backends are searched in SWU_BACKEND_PATH, the install folder and next to libswinunetr.so.";

// CLI11 reports a parse error as "<what>"; we add who says it and where help is, and
// always exit 2. Help is exit 0.
int parse_failure(const CLI::App& app, const CLI::ParseError& e, const std::string& command) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);
    std::fprintf(stderr, "swinunetr%s%s: %s\nRun 'swinunetr%s%s --help' for the options.\n", command.empty() ? "" : " ",
                 command.c_str(), e.what(), command.empty() ? "" : " ", command.c_str());
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string command = argc > 1 ? argv[1] : "";
#if defined(__GLIBC__)
    // glibc's heap policy, unless the user chose one (MALLOC_*_ variables).
    if (!std::getenv("MALLOC_MMAP_THRESHOLD_")) {
        if (command == "train") {
            // Training repeats the same allocations every step: keep freed memory in the
            // heap (blocks up to glibc's 32 MB ceiling, no trimming) instead of mapping,
            // faulting in and zeroing fresh pages each time. A step of the f12 network on
            // 64^3 crops took 6.5 s on 2 cores with the 4 MB threshold below and 3.5 s so.
            mallopt(M_MMAP_THRESHOLD, 32 << 20);
            mallopt(M_TRIM_THRESHOLD, INT_MAX);
            mallopt(M_TOP_PAD, 1 << 30);
        } else {
            // A fixed mmap threshold: blocks of 4 MB and more (activations, window buffers)
            // go back to the system when freed. glibc otherwise raises the threshold after
            // each large free and keeps later ones in its heap, which adds several hundred
            // MB to the peak of a whole-volume segmentation (README, "Memory").
            mallopt(M_MMAP_THRESHOLD, 4 << 20);
        }
    }
#endif
    CLI::App app(kDescription, "swinunetr");
    app.require_subcommand(1, 1);
    app.set_version_flag("--version", std::string("swinunetr ") + swu_version_string());
    const swu_cli::Args raw_args(argc > 2 ? argv + 2 : argv + argc, argv + argc);
    std::vector<std::pair<CLI::App*, swu_cli::Run>> commands;
    const auto add = [&](swu_cli::Run run) { commands.emplace_back(app.get_subcommands([](CLI::App*) { return true; }).back(), std::move(run)); };
    add(swu_cli::add_info(app));
    add(swu_cli::add_segment(app));
    add(swu_cli::add_train(app, raw_args));
    add(swu_cli::add_evaluate(app));
    add(swu_cli::add_forward(app));
    add(swu_cli::add_bench(app));
    add(swu_cli::add_compare(app));
#if SWU_CLI_NODE
    add(swu_cli::add_serve(app));
#endif
    swu_cli::LogOptions log;
    for (auto& [cmd, run] : commands) {
        log.add(*cmd);
        // Unknown options are collected and named below rather than reported as
        // "arguments not expected".
        cmd->allow_extras();
    }

    if (command == "help" || command == "version") {  // the words, as well as the flags
        std::printf("%s", command == "help" ? app.help().c_str() : (std::string("swinunetr ") + swu_version_string() + "\n").c_str());
        return 0;
    }
    if (argc < 2) {
        std::fprintf(stderr, "%s", app.help().c_str());
        return 2;
    }
    const bool known = std::any_of(commands.begin(), commands.end(),
                                   [&](const auto& c) { return c.first->get_name() == command; });
    if (command[0] != '-' && !known) {
        std::fprintf(stderr, "swinunetr: unknown command '%s'\n\n%s", command.c_str(), app.help().c_str());
        return 2;
    }
    // An unknown option or stray argument is named first: it is the likelier mistake
    // when a required option seems to be missing too.
    const auto stray = [&]() -> bool {
        for (auto& [cmd, run] : commands)
            for (const std::string& extra : cmd->parsed() ? cmd->remaining() : std::vector<std::string>{}) {
                const bool option = extra.size() > 1 && extra[0] == '-';
                std::fprintf(stderr, "swinunetr %s: %s '%s'\nRun 'swinunetr %s --help' for the options.\n",
                             command.c_str(), option ? "unknown option" : "unexpected argument", extra.c_str(),
                             command.c_str());
                return true;
            }
        return false;
    };
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() != static_cast<int>(CLI::ExitCodes::Success) && stray()) return 2;
        return parse_failure(app, e, argc > 1 && command[0] != '-' ? command : "");
    }
    if (stray()) return 2;
    for (auto& [cmd, run] : commands)
        if (cmd->parsed()) {
            log.apply();
            return run();
        }
    return 2;  // require_subcommand makes this unreachable
}
