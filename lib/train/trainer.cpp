#include "train/trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "checkpoint/checkpoint.hpp"
#include "checkpoint/checkpoint_writer.hpp"
#include "common/error.hpp"
#include "common/log.hpp"
#include "io/json.hpp"
#include "model/init_weights.hpp"
#include "pipeline/sliding_window.hpp"
#include "train/augment.hpp"
#include "train/dice.hpp"
#include "train/distributed_env.hpp"
#include "train/sharding.hpp"

namespace swu {
namespace {

constexpr const char* kOptimizerPrefix = "optimizer.";

struct Batch {
    int64_t epoch = 0;
    bool epoch_end = false;     // marker after an epoch's last batch
    int64_t count = 0;          // patches
    std::vector<float> image;   // {count, 1, roi, roi, roi}
    std::vector<uint8_t> label; // {count, 1, roi, roi, roi}
};

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

// Prepares batches on one worker thread, one batch ahead of the training step. The
// order of random draws depends only on the seed, the epoch and the rank, never on timing.
class BatchProducer {
public:
    BatchProducer(const Dataset& data, const TrainOptions& o, int64_t first_epoch, int rank, int world_size)
        : data_(data), o_(o), rank_(rank), world_size_(world_size), thread_([this, first_epoch] { run(first_epoch); }) {}
    ~BatchProducer() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stop_ = true;
        }
        changed_.notify_all();
        thread_.join();
    }
    // The next batch (or epoch marker); rethrows the worker's error.
    Batch next() {
        std::unique_lock<std::mutex> lock(mutex_);
        changed_.wait(lock, [&] { return !queue_.empty() || error_; });
        if (queue_.empty() && error_) std::rethrow_exception(error_);
        Batch b = std::move(queue_.front());
        queue_.pop_front();
        changed_.notify_all();
        return b;
    }

private:
    void push(Batch b) {
        std::unique_lock<std::mutex> lock(mutex_);
        changed_.wait(lock, [&] { return queue_.size() < 2 || stop_; });
        if (stop_) throw Stopped();
        queue_.push_back(std::move(b));
        changed_.notify_all();
    }
    struct Stopped {};
    void run(int64_t first_epoch) {
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

std::string number(double v) {
    if (!std::isfinite(v)) return "null";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.9g", v);
    return buf;
}

// One JSON object per line (metrics.jsonl); NaN is written as null.
void append_line(const std::string& path, const json::Document& record) {
    std::ofstream out(path, std::ios::app);
    out << record.dump() << "\n";
    if (!out) fail(SWU_ERR_IO, path + ": cannot append (disk full?)");
}

struct ResumeState {
    int64_t epoch = 0;  // completed epochs
    int64_t iteration = 0;
    double best = -1;
    int64_t best_epoch = 0;
};

// The counters travel inside resume.pt as 0-d tensors under "resume.", so that one
// atomic write holds weights, optimizer state and counters together: a crash between
// resume.pt and resume.json (a copy for people and scripts) cannot pair new weights
// with old counters.
constexpr const char* kCounterPrefix = "resume.";

NamedTensor scalar(const std::string& name, double v) {
    NamedTensor t{kCounterPrefix + name, {}};
    t.tensor.dtype = DType::Float64;
    t.tensor.data.resize(8);
    std::memcpy(t.tensor.data.data(), &v, 8);
    return t;
}

void save_resume(Model& model, const std::string& dir, const ResumeState& s) {
    std::vector<NamedTensor> all = model.export_tensors(SWU_BACKEND_TENSORS_WEIGHTS);
    for (NamedTensor& t : model.export_tensors(SWU_BACKEND_TENSORS_OPTIMIZER)) {
        t.name = kOptimizerPrefix + t.name;
        all.push_back(std::move(t));
    }
    all.push_back(scalar("epoch", double(s.epoch)));
    all.push_back(scalar("iteration", double(s.iteration)));
    all.push_back(scalar("best_mean_dice", s.best));
    all.push_back(scalar("best_epoch", double(s.best_epoch)));
    write_state_dict_file(dir + "/resume.pt", all);
    const json::Document meta{{"epoch", s.epoch},
                              {"iteration", s.iteration},
                              {"best_mean_dice", s.best},
                              {"best_epoch", s.best_epoch}};
    write_file_atomically(dir + "/resume.json", meta.dump() + "\n");
}

ResumeState load_resume(Model& model, const std::string& dir, const TrainConfig& config) {
    ResumeState s;
    std::vector<NamedTensor> weights, optimizer;
    const std::string prefix = kOptimizerPrefix;
    // Before any data is read: the weights must fit the network, and the optimizer state
    // (Adam's two moments per parameter and a step count) be no larger than twice them.
    const std::string counters = kCounterPrefix;
    auto screen = [&](const std::vector<NamedTensor>& headers) {
        std::vector<NamedTensor> w;
        uint64_t weight_elems = 0, state_elems = 0;
        for (const NamedTensor& h : headers) {
            if (h.name.compare(0, counters.size(), counters) == 0) {
                if (!h.tensor.shape.empty()) fail(SWU_ERR_FORMAT, "resume.pt: '" + h.name + "' is not a scalar");
            } else if (h.name.compare(0, prefix.size(), prefix) == 0) {
                if (__builtin_add_overflow(state_elems, uint64_t(h.tensor.numel()), &state_elems)) state_elems = UINT64_MAX;
            } else {
                weight_elems += uint64_t(h.tensor.numel());
                w.push_back(h);
            }
        }
        model.check_weight_headers(w);
        if (state_elems > 2 * weight_elems + 1024)
            fail(SWU_ERR_FORMAT, "resume.pt holds " + std::to_string(state_elems) + " elements of optimizer state for " +
                                     std::to_string(weight_elems) + " weights; Adam keeps two per weight");
    };
    std::map<std::string, double> counted;
    for (NamedTensor& t : read_checkpoint_file(dir + "/resume.pt", screen)) {
        if (t.name.compare(0, counters.size(), counters) == 0) {
            double v = 0;
            if (t.tensor.dtype == DType::Float64) std::memcpy(&v, t.tensor.data.data(), 8);
            else v = double(to_float32(t.tensor).as<float>()[0]);
            counted[t.name.substr(counters.size())] = v;
        } else if (t.name.compare(0, prefix.size(), prefix) == 0) {
            t.name = t.name.substr(prefix.size());
            optimizer.push_back(std::move(t));
        } else {
            weights.push_back(std::move(t));
        }
    }
    // Counters from resume.pt itself; resume.json only for files written before they
    // moved there.
    if (counted.empty()) {
        const json::Value meta = json::parse_file(dir + "/resume.json");
        s.epoch = static_cast<int64_t>(meta.at("epoch").as_number());
        s.iteration = static_cast<int64_t>(meta.at("iteration").as_number());
        s.best = meta.at("best_mean_dice").is_null() ? -1 : meta.at("best_mean_dice").as_number();
        s.best_epoch = static_cast<int64_t>(meta.at("best_epoch").as_number());
    } else {
        for (const char* key : {"epoch", "iteration", "best_mean_dice", "best_epoch"})
            if (!counted.count(key)) fail(SWU_ERR_FORMAT, dir + "/resume.pt: counter 'resume." + key + "' is missing");
        s.epoch = static_cast<int64_t>(counted["epoch"]);
        s.iteration = static_cast<int64_t>(counted["iteration"]);
        s.best = counted["best_mean_dice"];
        s.best_epoch = static_cast<int64_t>(counted["best_epoch"]);
    }
    model.load_weights(std::move(weights));
    model.train_configure(config);
    model.import_optimizer(optimizer);
    return s;
}

void check_options(const TrainOptions& o) {
    auto bad = [](const std::string& why) { fail(SWU_ERR_INVALID_ARGUMENT, why); };
    if (o.training.empty()) bad("no training cases (datalist \"training\" or train volumes)");
    if (o.output_dir.empty()) bad("output_dir is required");
    if (o.max_epochs < 1) bad("max_epochs must be >= 1");
    if (o.max_iterations < 0) bad("max_iterations must be >= 0");
    if (o.batch_size < 1 || o.batch_size > 256) bad("batch_size must be 1..256");
    if (o.num_samples < 1 || o.num_samples > 64) bad("num_samples must be 1..64");
    if (o.roi < 64 || o.roi % 32 || o.roi > 256)
        bad("roi must be a multiple of 32 in 64..256 (32^3 crops leave one voxel at the bottleneck)");
    if (!(o.learning_rate > 0)) bad("learning_rate must be > 0");
    if (o.val_interval < 0) bad("val_interval must be >= 0");
    if (!(o.val_overlap >= 0 && o.val_overlap < 1)) bad("val_overlap must be in [0, 1)");
    if (o.val_sw_batch < 1 || o.val_sw_batch > 64) bad("val_sw_batch must be 1..64");
    if (o.cache_bytes < 0) bad("cache_bytes must be >= 0");
    if (o.distributed && !(o.distributed_timeout > 0 && o.distributed_timeout <= 1e7))
        bad("distributed_timeout must be > 0 and at most 1e7 seconds");
}

std::vector<CaseSource> pick(const std::vector<CaseSource>& all, const std::vector<size_t>& indices) {
    std::vector<CaseSource> out;
    for (size_t i : indices) out.push_back(all[i]);
    return out;
}

}  // namespace

std::vector<uint8_t> predict_case(Model& model, const Case& c, int roi, double overlap, int sw_batch) {
    SlidingWindowOptions w;
    w.roi = roi;
    w.overlap = overlap;
    w.sw_batch = sw_batch;
    const std::vector<float> logits = sliding_window(model, c.image, c.size, w, nullptr);
    const int64_t channels = model.config().out_channels, n = c.size[0] * c.size[1] * c.size[2];
    std::vector<uint8_t> labels(static_cast<size_t>(n));
    for (int64_t v = 0; v < n; ++v) {
        int best = 0;
        for (int64_t ch = 1; ch < channels; ++ch)
            if (logits[static_cast<size_t>(ch * n + v)] > logits[static_cast<size_t>(best * n + v)]) best = static_cast<int>(ch);
        labels[static_cast<size_t>(v)] = static_cast<uint8_t>(best);
    }
    return labels;
}

void train(Model& model, const TrainOptions& o, const TrainCallback& callback, TrainSummary& summary) {
    check_options(o);
    if (!model.can_train())
        fail(SWU_ERR_UNSUPPORTED, "backend '" + model.backend().name + "' cannot train (it computes the forward pass only); " +
                                      "create the model with backend \"torch\"");
    // The environment first: a bad launch fails before anything is read or written.
    DistributedEnv env;
    if (o.distributed) {
        env = distributed_env_from_environment();
        if (env.world_size > 1 && !model.backend().can_distribute())
            fail(SWU_ERR_UNSUPPORTED, "backend '" + model.backend().name + "' cannot train distributed (no c10d "
                                      "collectives); create the model with backend \"torch\"");
    }
    const bool writer = env.rank == 0;  // only rank 0 writes files and logs
    const auto started = std::chrono::steady_clock::now();
    auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(); };
    // One process cancels at once. In a distributed run a rank that stopped alone would
    // leave the others waiting in a collective, so the ranks agree on it after each step.
    bool cancel_requested = false;
    auto emit = [&](TrainEvent e) {
        e.elapsed_seconds = elapsed();
        e.rank = env.rank;
        e.world_size = env.world_size;
        if (callback && !callback(e)) {
            if (env.world_size == 1) fail(SWU_ERR_CANCELLED, "training cancelled by the callback");
            cancel_requested = true;
        }
    };
    auto agree_on_cancel = [&] {
        if (env.world_size == 1) return;
        std::vector<double> flag = {cancel_requested ? 1.0 : 0.0};
        model.all_reduce_sum(flag);
        if (flag[0] > 0) fail(SWU_ERR_CANCELLED, "training cancelled by the callback (on " + number(flag[0]) + " rank(s))");
    };

    if (writer) {
        std::error_code ec;
        std::filesystem::create_directories(o.output_dir, ec);
        if (!std::filesystem::is_directory(o.output_dir))
            fail(SWU_ERR_IO, "output_dir '" + o.output_dir + "' cannot be created" + (ec ? ": " + ec.message() : ""));
    }

    TrainConfig config;
    config.learning_rate = o.learning_rate;
    config.amp = o.amp;
    config.checkpointing = o.checkpointing;

    // Weights: resume > initial weights > the model's own > fresh. Every rank reads the
    // resume files (output_dir on a shared file system); rank 0's weights win anyway.
    ResumeState state;
    if (o.resume) {
        state = load_resume(model, o.output_dir, config);
        if (writer) log_info("resuming after epoch " + std::to_string(state.epoch) + ", iteration " + std::to_string(state.iteration));
    } else {
        if (!o.initial_weights.empty()) model.load_weights_file(o.initial_weights);
        else if (!model.weights_loaded()) model.init_weights(o.seed);
        model.train_configure(config);
    }
    if (env.world_size > 1 && !model.distributed()) {
        model.distribute(env.rank, env.world_size, env.master_addr, env.master_port, o.distributed_timeout);
        if (writer) log_info("distributed training: " + std::to_string(env.world_size) + " ranks, rendezvous at " +
                             env.master_addr + ":" + std::to_string(env.master_port));
    }
    const int classes = model.config().out_channels;

    // Validation cases are split across the ranks (each scored once), training cases
    // are sharded per epoch by the batch producer.
    Dataset training(o.training, classes, model.threads());
    Dataset validation(pick(o.validation, shard_strided(o.validation.size(), env.rank, env.world_size)), classes,
                       model.threads());
    const size_t total_cases = training.size() + validation.size();
    int64_t budget = o.cache_bytes;
    size_t prepared = 0;
    auto preparing = [&](size_t, size_t) {
        TrainEvent e;
        e.kind = TrainEventKind::Preparing;
        e.iteration = static_cast<int64_t>(++prepared);
        e.total_iterations = static_cast<int64_t>(total_cases);
        emit(e);
        return true;
    };
    training.warm_cache(budget, preparing);
    validation.warm_cache(budget, preparing);
    agree_on_cancel();

    const int64_t cases_per_rank = static_cast<int64_t>((training.size() + env.world_size - 1) / env.world_size);
    const int64_t steps_per_epoch = (cases_per_rank + o.batch_size - 1) / o.batch_size;
    int64_t total = (o.max_epochs - state.epoch) * steps_per_epoch;
    if (o.max_iterations > 0) total = std::min(total, std::max<int64_t>(0, o.max_iterations - state.iteration));
    const int64_t planned = state.iteration + total;  // the last iteration of this run
    const std::string metrics = o.output_dir + "/metrics.jsonl";
    const std::string best_path = o.output_dir + "/model.pt";
    const bool has_validation = !o.validation.empty();

    summary = TrainSummary{};
    summary.best_mean_dice = state.best;
    summary.best_epoch = state.best_epoch;
    summary.iterations = state.iteration;
    summary.epochs = state.epoch;

    // model.pt: written first, announced by a Checkpoint event after (a cancel from the
    // callback between the two keeps the file).
    auto write_best = [&] {
        if (writer) write_state_dict_file(best_path, model.export_tensors(SWU_BACKEND_TENSORS_WEIGHTS));
    };
    auto announce_best = [&](int64_t epoch) {
        if (!writer) return;
        TrainEvent e;
        e.kind = TrainEventKind::Checkpoint;
        e.epoch = epoch;
        e.iteration = summary.iterations;
        e.path = best_path;
        e.best_mean_dice = summary.best_mean_dice;
        e.best_epoch = summary.best_epoch;
        emit(e);
    };
    auto save_best = [&](int64_t epoch) {
        write_best();
        announce_best(epoch);
    };

    // Every rank scores its validation cases; the sums behind the means are added up
    // over the ranks, so all of them see the same Dice and agree on the best epoch.
    auto validate = [&](int64_t epoch) {
        std::vector<std::vector<double>> raw;
        for (size_t i = 0; i < validation.size(); ++i) {
            const std::shared_ptr<const Case> c = validation.get(i);
            const std::vector<uint8_t> pred = predict_case(model, *c, o.roi, o.val_overlap, o.val_sw_batch);
            raw.push_back(dice_per_class(pred.data(), c->label.data(), static_cast<int64_t>(pred.size()), classes));
        }
        std::vector<double> sums = dice_sums(raw, classes - 1);
        model.all_reduce_sum(sums);
        const DiceMeans means = dice_means(sums);
        TrainEvent e;
        e.kind = TrainEventKind::Validation;
        e.epoch = epoch;
        e.iteration = summary.iterations;
        e.mean_dice = means.mean;
        e.organ_dice = means.per_class;
        const bool better = std::isfinite(e.mean_dice) && e.mean_dice > summary.best_mean_dice;
        if (better) {
            summary.best_mean_dice = e.mean_dice;
            summary.best_epoch = epoch;
        }
        e.best_mean_dice = summary.best_mean_dice;
        e.best_epoch = summary.best_epoch;
        if (better) write_best();  // on disk before the callback can cancel
        if (writer) {
            append_line(metrics, json::Document{{"epoch", epoch},
                                                {"iteration", e.iteration},
                                                {"val_mean_dice", e.mean_dice},
                                                {"val_organ_dice", e.organ_dice},
                                                {"seconds", elapsed()}});
            log_info("epoch " + std::to_string(epoch) + ": validation mean Dice " + number(e.mean_dice));
        }
        emit(e);
        if (better) announce_best(epoch);
        agree_on_cancel();
        return better;
    };

    int64_t last_validated = 0;
    bool stopped_early = false;
    if (total > 0) {
        BatchProducer producer(training, o, state.epoch + 1, env.rank, env.world_size);
        int64_t done = 0;
        while (true) {
            Batch b = producer.next();
            if (done >= total && !b.epoch_end) {
                stopped_early = true;  // max_iterations reached inside an epoch
                break;
            }
            if (b.epoch_end) {
                summary.epochs = b.epoch;
                state.epoch = b.epoch;
                state.iteration = summary.iterations;
                if (o.val_interval > 0 && has_validation && b.epoch % o.val_interval == 0) {
                    last_validated = b.epoch;
                    validate(b.epoch);
                }
                state.best = summary.best_mean_dice;
                state.best_epoch = summary.best_epoch;
                if (writer) save_resume(model, o.output_dir, state);
                if (b.epoch >= o.max_epochs || done >= total) break;
                continue;
            }
            const int64_t shape[5] = {b.count, 1, o.roi, o.roi, o.roi};
            const StepLoss loss = model.train_step(b.image.data(), shape, b.label.data());
            ++summary.iterations;
            ++done;
            summary.last_loss = loss.total;
            if (writer)
                append_line(metrics, json::Document{{"epoch", b.epoch},
                                                    {"iteration", summary.iterations},
                                                    {"loss", loss.total},
                                                    {"dice_loss", loss.dice},
                                                    {"ce_loss", loss.ce},
                                                    {"learning_rate", o.learning_rate},
                                                    {"seconds", elapsed()}});
            TrainEvent e;
            e.kind = TrainEventKind::Iteration;
            e.epoch = b.epoch;
            e.iteration = summary.iterations;
            e.total_iterations = planned;
            e.loss = loss.total;
            e.dice_loss = loss.dice;
            e.ce_loss = loss.ce;
            e.learning_rate = o.learning_rate;
            e.best_mean_dice = summary.best_mean_dice;
            e.best_epoch = summary.best_epoch;
            emit(e);
            agree_on_cancel();
        }
    }
    // The run ends with a model.pt: validated at the end when validation data exist and
    // the last epoch was not validated; without validation data, the last weights.
    if (stopped_early) {
        state.iteration = summary.iterations;
        if (writer) save_resume(model, o.output_dir, state);
    }
    if (has_validation) {
        if (last_validated != summary.epochs || stopped_early)
            if (!validate(summary.epochs) && writer && !std::filesystem::exists(best_path)) save_best(summary.epochs);
    } else {
        save_best(summary.epochs);
    }
}

}  // namespace swu
