#include "interrupt.hpp"

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace swu_cli {
namespace {

std::atomic<int> signals{0};

void on_signal(int) {
    if (signals.fetch_add(1) >= 1) {
        static const char msg[] = "\nswinunetr: interrupted again; exiting now\n";
        (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
        _exit(130);
    }
}

}  // namespace

void catch_interrupts() {
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
}

bool interrupted() { return signals.load() > 0; }

bool stop_at(const char* stage) {
    if (const char* at = std::getenv("SWU_CLI_SIGNAL_AT")) {
        const size_t n = std::strlen(stage);
        // "<stage>" sends one signal, "<stage>:2" two (the second ends the process).
        if (std::strncmp(at, stage, n) == 0 && (at[n] == '\0' || std::strcmp(at + n, ":2") == 0)) {
            std::raise(SIGINT);
            if (at[n] == ':') std::raise(SIGINT);
        }
    }
    return interrupted();
}

void Outputs::remove_all() {
    for (const std::string& p : written_) std::remove(p.c_str());
    written_.clear();
}

}  // namespace swu_cli
