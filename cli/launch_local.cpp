// `swinunetr train --nproc N`: torchrun's job on one machine without Python. Starts N
// copies of this program with the torchrun variables set (RANK, LOCAL_RANK, WORLD_SIZE,
// LOCAL_WORLD_SIZE, MASTER_ADDR=127.0.0.1, MASTER_PORT = a free port) and waits for them.
// When one fails, the others are asked to stop (SIGTERM, then SIGKILL after a grace
// period) so that none waits for a collective until its timeout.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "commands.hpp"

namespace swu_cli {
namespace {

// A TCP port the kernel considers free right now (it may be taken before rank 0 binds
// it; a clash then fails the run with a clear rendezvous error).
int free_port() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return 0;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof a;
    int port = 0;
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

int exit_code(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 1;
}

}  // namespace

int launch_local(int nproc, const std::string& command, const Args& args) {
    const int port = free_port();
    if (port == 0) {
        std::fprintf(stderr, "swinunetr %s --nproc: no free TCP port on 127.0.0.1\n", command.c_str());
        return 1;
    }
    std::vector<std::string> argv_text = {"/proc/self/exe", command};
    argv_text.insert(argv_text.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : argv_text) argv.push_back(a.data());
    argv.push_back(nullptr);

    std::fprintf(stderr, "swinunetr %s: %d processes, rendezvous at 127.0.0.1:%d\n", command.c_str(), nproc, port);
    std::vector<pid_t> children;
    for (int rank = 0; rank < nproc; ++rank) {
        const pid_t pid = fork();
        if (pid < 0) {
            std::perror("swinunetr: fork");
            for (pid_t c : children) kill(c, SIGTERM);
            break;
        }
        if (pid == 0) {
            const std::string r = std::to_string(rank), n = std::to_string(nproc), p = std::to_string(port);
            setenv("RANK", r.c_str(), 1);
            setenv("LOCAL_RANK", r.c_str(), 1);
            setenv("WORLD_SIZE", n.c_str(), 1);
            setenv("LOCAL_WORLD_SIZE", n.c_str(), 1);
            setenv("MASTER_ADDR", "127.0.0.1", 1);
            setenv("MASTER_PORT", p.c_str(), 1);
            execv("/proc/self/exe", argv.data());
            std::perror("swinunetr: exec");
            _exit(127);
        }
        children.push_back(pid);
    }
    if (static_cast<int>(children.size()) < nproc) {
        for (pid_t c : children) waitpid(c, nullptr, 0);
        return 1;
    }

    // Ctrl-C reaches every child through the terminal's process group; here it only must
    // not end the launcher before its children.
    signal(SIGINT, SIG_IGN);
    int first_failure = 0;
    size_t running = children.size();
    auto deadline = std::chrono::steady_clock::time_point::max();
    while (running > 0) {
        int status = 0;
        const pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid > 0) {
            for (pid_t& c : children) {
                if (c != pid) continue;
                c = 0;
                --running;
                const int code = exit_code(status);
                if (code != 0 && first_failure == 0) {
                    first_failure = code;
                    std::fprintf(stderr, "swinunetr %s: a rank exited with %d; stopping the others\n", command.c_str(), code);
                    for (pid_t other : children)
                        if (other > 0) kill(other, SIGTERM);
                    deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
                }
            }
            continue;
        }
        if (pid < 0) break;
        if (std::chrono::steady_clock::now() > deadline) {
            for (pid_t other : children)
                if (other > 0) kill(other, SIGKILL);
            deadline = std::chrono::steady_clock::time_point::max();
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return first_failure;
}

}  // namespace swu_cli
