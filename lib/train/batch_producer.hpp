// The training batches of one rank: shuffled per epoch, sharded across the ranks of a
// data-parallel run, cropped and augmented on a worker thread one batch ahead of the
// training step. The order of random draws depends only on the seed, the epoch and the
// rank, never on timing, so a resumed run draws the same batches as an uninterrupted one.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "train/dataset.hpp"
#include "train/trainer.hpp"

namespace swu {

struct Batch {
    int64_t epoch = 0;
    bool epoch_end = false;     // marker after an epoch's last batch
    int64_t count = 0;          // patches
    std::vector<float> image;   // {count, 1, roi, roi, roi}
    std::vector<uint8_t> label; // {count, 1, roi, roi, roi}
};

class BatchProducer {
public:
    // Starts the worker at `first_epoch`; it runs up to options.max_epochs.
    BatchProducer(const Dataset& data, const TrainOptions& options, int64_t first_epoch, int rank, int world_size);
    ~BatchProducer();  // stops and joins the worker
    // The next batch (or epoch marker); rethrows the worker's error.
    Batch next();

private:
    struct Stopped {};
    void push(Batch b);
    void run(int64_t first_epoch);

    const Dataset& data_;
    const TrainOptions& o_;
    const int rank_, world_size_;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<Batch> queue_;
    std::exception_ptr error_;
    bool stop_ = false;
    std::thread thread_;  // last: starts after everything above is constructed
};

}  // namespace swu
