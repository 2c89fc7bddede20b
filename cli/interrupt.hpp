// Ctrl-C and SIGTERM for the long commands (segment, train): the first signal asks the
// command to stop at its next stage boundary or progress report, with nothing written
// or with what it wrote removed; a second one ends the process at once (exit 130).
#pragma once

#include <string>
#include <vector>

namespace swu_cli {

// Installs the handlers (SIGINT, SIGTERM).
void catch_interrupts();
// Whether a first signal arrived.
bool interrupted();

// A command's stage boundary: true when the command must stop here. For the tests, the
// environment variable SWU_CLI_SIGNAL_AT=<stage> makes the process send itself SIGINT on
// entering that stage ("<stage>:2": two signals), so that every stage's handling can be
// checked deterministically.
bool stop_at(const char* stage);

// Files a command has written; on an interruption they are removed, so that a run
// leaves all of its outputs or none.
class Outputs {
public:
    void add(const std::string& path) { written_.push_back(path); }
    void remove_all();

private:
    std::vector<std::string> written_;
};

}  // namespace swu_cli
