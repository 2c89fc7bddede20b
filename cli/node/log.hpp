// The node's log: one line per association, series, job and send, on stderr, with a
// UTC time stamp. Patient names and IDs never reach it unless the config says so.
#pragma once

#include <cstdio>
#include <ctime>
#include <mutex>
#include <string>

namespace swu_node {

class Log {
public:
    void line(const std::string& text) {
        std::lock_guard<std::mutex> hold(mutex_);
        char stamp[32];
        const std::time_t now = std::time(nullptr);
        std::tm tm{};
        gmtime_r(&now, &tm);
        std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
        std::fprintf(stderr, "%s swinunetr serve: %s\n", stamp, text.c_str());
        std::fflush(stderr);
    }

private:
    std::mutex mutex_;
};

}  // namespace swu_node
