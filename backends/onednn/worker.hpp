// One thread per model that runs its forwards. oneDNN's OpenMP runtime takes its thread
// count from the calling thread's OpenMP settings; setting them on our own thread leaves
// the host's threads as they were, and a host that calls us from inside its own OpenMP
// parallel region still gets `threads` threads (not a nested, single-threaded team).
#pragma once

#include <omp.h>

#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

namespace swu_onednn {

class Worker {
public:
    explicit Worker(int threads) : threads_(threads) {}
    ~Worker() {
        if (!thread_.joinable()) return;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stop_ = true;
        }
        wake_.notify_all();
        thread_.join();
    }
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    // Runs job on the worker thread (started on first use) and waits; its exception is
    // rethrown here. One job at a time (a model's calls are serialised by the core).
    // `waiting` (optional) is called on this thread every 20 ms until the job ends (the
    // core's interrupt function: it must not run on our thread).
    void run(const std::function<void()>& job, const std::function<void()>& waiting = nullptr) {
        if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });  // std::system_error if it cannot
        std::unique_lock<std::mutex> lock(mutex_);
        job_ = &job;
        error_ = nullptr;
        wake_.notify_all();
        const auto ended = [this] { return job_ == nullptr; };
        if (!waiting) done_.wait(lock, ended);
        while (waiting && !done_.wait_for(lock, std::chrono::milliseconds(20), ended)) {
            lock.unlock();
            waiting();
            lock.lock();
        }
        if (error_) std::rethrow_exception(error_);
    }

private:
    void loop() {
        omp_set_num_threads(threads_);
        std::unique_lock<std::mutex> lock(mutex_);
        for (;;) {
            wake_.wait(lock, [this] { return stop_ || job_ != nullptr; });
            if (stop_) return;
            const std::function<void()>* job = job_;
            lock.unlock();  // run() may wake up meanwhile (its `waiting`)
            std::exception_ptr error;
            try {
                (*job)();
            } catch (...) {
                error = std::current_exception();
            }
            lock.lock();
            error_ = error;
            job_ = nullptr;
            done_.notify_all();
        }
    }

    const int threads_;
    std::thread thread_;
    std::mutex mutex_;
    std::condition_variable wake_, done_;
    const std::function<void()>* job_ = nullptr;
    std::exception_ptr error_;
    bool stop_ = false;
};

}  // namespace swu_onednn
