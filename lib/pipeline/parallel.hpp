// Splits [0, n) into contiguous chunks run on `threads` threads, the first chunk on
// the calling thread; the first exception thrown by any chunk is rethrown on the caller's thread.
// Where no more threads can be started (a container's pids limit, RLIMIT_NPROC) the
// calling thread runs the chunks that found none: slower, never std::terminate.
#pragma once

#include <algorithm>
#include <cstdint>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace swu {

template <class Body> void parallel_for(int64_t n, int threads, Body&& body) {
    threads = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, n)));
    if (threads <= 1) {
        body(int64_t(0), n);
        return;
    }
    std::exception_ptr error;
    std::mutex mutex;
    std::vector<std::thread> pool;
    auto run = [&](int64_t begin, int64_t end) {
        try {
            body(begin, end);
        } catch (...) {
            std::lock_guard<std::mutex> lock(mutex);
            if (!error) error = std::current_exception();
        }
    };
    int64_t unstarted = n;  // [unstarted, n) found no thread
    for (int t = 1; t < threads; ++t) {
        try {
            pool.emplace_back(run, n * t / threads, n * (t + 1) / threads);
        } catch (const std::system_error&) {
            unstarted = n * t / threads;
            break;
        }
    }
    run(0, n / threads);  // the first chunk on the caller's thread (progress callbacks run there)
    if (unstarted < n) run(unstarted, n);
    for (auto& th : pool) th.join();
    if (error) std::rethrow_exception(error);
}

}  // namespace swu
