#include "train/batch_producer.hpp"

#include <algorithm>
#include <random>
#include <stdexcept>

#include "train/augment.hpp"
#include "train/sharding.hpp"

namespace swu {
namespace {

// The per-epoch generator: a resumed run draws the same batches as an uninterrupted one.
Rng epoch_rng(uint64_t seed, int64_t epoch) {
    std::seed_seq seq{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32), static_cast<uint32_t>(epoch),
                      static_cast<uint32_t>(epoch >> 32), 0x5377u};
    return Rng(seq);
}

// The crops and augmentations of one rank of a data-parallel run (the shuffle stays the
// epoch's, shared by all ranks).
Rng rank_rng(uint64_t seed, int64_t epoch, int rank) {
    std::seed_seq seq{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32), static_cast<uint32_t>(epoch),
                      static_cast<uint32_t>(epoch >> 32), 0x5377u, static_cast<uint32_t>(rank) + 1u};
    return Rng(seq);
}

}  // namespace

BatchProducer::BatchProducer(const Dataset& data, const TrainOptions& options, int64_t first_epoch, int rank, int world_size)
    : data_(data), o_(options), rank_(rank), world_size_(world_size), thread_([this, first_epoch] { run(first_epoch); }) {}

BatchProducer::~BatchProducer() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
    }
    changed_.notify_all();
    thread_.join();
}

Batch BatchProducer::next() {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return !queue_.empty() || error_; });
    if (queue_.empty() && error_) std::rethrow_exception(error_);
    Batch b = std::move(queue_.front());
    queue_.pop_front();
    changed_.notify_all();
    return b;
}

void BatchProducer::push(Batch b) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return queue_.size() < 2 || stop_; });
    if (stop_) throw Stopped();
    queue_.push_back(std::move(b));
    changed_.notify_all();
}

void BatchProducer::run(int64_t first_epoch) {
    try {
        AugmentOptions a;
        a.roi = o_.roi;
        a.num_samples = o_.num_samples;
        const size_t voxels = static_cast<size_t>(o_.roi) * o_.roi * o_.roi;
        for (int64_t epoch = first_epoch; epoch <= o_.max_epochs; ++epoch) {
            Rng rng = epoch_rng(o_.seed, epoch);
            std::vector<size_t> order(data_.size());
            for (size_t i = 0; i < order.size(); ++i) order[i] = i;
            std::shuffle(order.begin(), order.end(), rng);
            if (world_size_ > 1) {
                order = shard_even(order, rank_, world_size_);
                rng = rank_rng(o_.seed, epoch, rank_);
            }
            for (size_t first = 0; first < order.size(); first += static_cast<size_t>(o_.batch_size)) {
                Batch b;
                b.epoch = epoch;
                const size_t last = std::min(order.size(), first + static_cast<size_t>(o_.batch_size));
                for (size_t k = first; k < last; ++k) {
                    const std::shared_ptr<const Case> c = data_.get(order[k]);
                    for (Patch& p : random_patches(*c, a, rng)) {
                        b.image.insert(b.image.end(), p.image.begin(), p.image.end());
                        b.label.insert(b.label.end(), p.label.begin(), p.label.end());
                        ++b.count;
                    }
                }
                if (b.image.size() != static_cast<size_t>(b.count) * voxels) throw std::logic_error("batch size");
                push(std::move(b));
            }
            Batch end;
            end.epoch = epoch;
            end.epoch_end = true;
            push(std::move(end));
        }
    } catch (const Stopped&) {
    } catch (...) {
        std::lock_guard<std::mutex> lock(mutex_);
        error_ = std::current_exception();
        changed_.notify_all();
    }
}

}  // namespace swu
