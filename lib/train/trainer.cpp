#include "train/trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "checkpoint/checkpoint_writer.hpp"
#include "common/error.hpp"
#include "common/log.hpp"
#include "pipeline/sliding_window.hpp"
#include "train/batch_producer.hpp"
#include "train/dice.hpp"
#include "train/distributed_env.hpp"
#include "train/run_files.hpp"
#include "train/sharding.hpp"

namespace swu {
namespace {

std::string number(double v) {
    if (!std::isfinite(v)) return "null";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.9g", v);
    return buf;
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

// One call of train(): the run's state and its steps, in the order run() takes them.
class TrainingRun {
public:
    TrainingRun(Model& model, const TrainOptions& o, const TrainCallback& callback, TrainSummary& summary)
        : model_(model), o_(o), callback_(callback), summary_(summary) {}

    void run() {
        check_preconditions();
        prepare_output_dir();
        load_starting_weights();
        join_ranks();
        prepare_data();
        train_epochs();
        finish();
    }

private:
    Model& model_;
    const TrainOptions& o_;
    const TrainCallback& callback_;
    TrainSummary& summary_;

    DistributedEnv env_;
    bool writer_ = true;  // only rank 0 writes files and logs
    const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
    // One process cancels at once. In a distributed run a rank that stopped alone would
    // leave the others waiting in a collective, so the ranks agree on it after each step.
    bool cancel_requested_ = false;
    TrainConfig config_;
    ResumeState state_;
    int classes_ = 0;
    std::unique_ptr<Dataset> training_, validation_;
    int64_t total_ = 0;    // steps this run takes
    int64_t planned_ = 0;  // the last iteration of this run
    int64_t last_validated_ = 0;
    bool stopped_early_ = false;  // max_iterations reached inside an epoch
    const std::string metrics_ = o_.output_dir + "/metrics.jsonl";
    const std::string best_path_ = o_.output_dir + "/model.pt";

    double elapsed() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count(); }
    bool has_validation() const { return !o_.validation.empty(); }

    // The options, the backend and the environment: a bad launch fails before anything
    // is read or written.
    void check_preconditions() {
        check_options(o_);
        if (!model_.can_train())
            fail(SWU_ERR_UNSUPPORTED, "backend '" + model_.backend().name + "' cannot train (it computes the forward pass "
                                      "only); create the model with backend \"torch\"");
        if (o_.distributed) {
            env_ = distributed_env_from_environment();
            if (env_.world_size > 1 && !model_.backend().can_distribute())
                fail(SWU_ERR_UNSUPPORTED, "backend '" + model_.backend().name + "' cannot train distributed (no c10d "
                                          "collectives); create the model with backend \"torch\"");
        }
        writer_ = env_.rank == 0;
    }

    void prepare_output_dir() {
        if (!writer_) return;
        std::error_code ec;
        std::filesystem::create_directories(o_.output_dir, ec);
        if (!std::filesystem::is_directory(o_.output_dir))
            fail(SWU_ERR_IO, "output_dir '" + o_.output_dir + "' cannot be created" + (ec ? ": " + ec.message() : ""));
    }

    // Weights: resume > initial weights > the model's own > fresh. Every rank reads the
    // resume files (output_dir on a shared file system); rank 0's weights win anyway.
    void load_starting_weights() {
        config_.learning_rate = o_.learning_rate;
        config_.amp = o_.amp;
        config_.checkpointing = o_.checkpointing;
        if (o_.resume) {
            state_ = load_resume(model_, o_.output_dir, config_);
            if (writer_)
                log_info("resuming after epoch " + std::to_string(state_.epoch) + ", iteration " +
                         std::to_string(state_.iteration));
        } else {
            if (!o_.initial_weights.empty()) model_.load_weights_file(o_.initial_weights);
            else if (!model_.weights_loaded()) model_.init_weights(o_.seed);
            model_.train_configure(config_);
        }
    }

    void join_ranks() {
        if (env_.world_size <= 1 || model_.distributed()) return;
        model_.distribute(env_.rank, env_.world_size, env_.master_addr, env_.master_port, o_.distributed_timeout);
        if (writer_)
            log_info("distributed training: " + std::to_string(env_.world_size) + " ranks, rendezvous at " +
                     env_.master_addr + ":" + std::to_string(env_.master_port));
    }

    // Validation cases are split across the ranks (each scored once), training cases
    // are sharded per epoch by the batch producer. Preprocessed up front, within the cache.
    void prepare_data() {
        classes_ = model_.config().out_channels;
        training_ = std::make_unique<Dataset>(o_.training, classes_, model_.threads());
        validation_ = std::make_unique<Dataset>(
            pick(o_.validation, shard_strided(o_.validation.size(), env_.rank, env_.world_size)), classes_, model_.threads());
        const size_t total_cases = training_->size() + validation_->size();
        int64_t budget = o_.cache_bytes;
        size_t prepared = 0;
        auto preparing = [&](size_t, size_t) {
            TrainEvent e;
            e.kind = TrainEventKind::Preparing;
            e.iteration = static_cast<int64_t>(++prepared);
            e.total_iterations = static_cast<int64_t>(total_cases);
            emit(e);
            return true;
        };
        training_->warm_cache(budget, preparing);
        validation_->warm_cache(budget, preparing);
        agree_on_cancel();

        const int64_t cases_per_rank = static_cast<int64_t>((training_->size() + env_.world_size - 1) / env_.world_size);
        const int64_t steps_per_epoch = (cases_per_rank + o_.batch_size - 1) / o_.batch_size;
        total_ = (o_.max_epochs - state_.epoch) * steps_per_epoch;
        if (o_.max_iterations > 0) total_ = std::min(total_, std::max<int64_t>(0, o_.max_iterations - state_.iteration));
        planned_ = state_.iteration + total_;

        summary_ = TrainSummary{};
        summary_.best_mean_dice = state_.best;
        summary_.best_epoch = state_.best_epoch;
        summary_.iterations = state_.iteration;
        summary_.epochs = state_.epoch;
    }

    void emit(TrainEvent e) {
        e.elapsed_seconds = elapsed();
        e.rank = env_.rank;
        e.world_size = env_.world_size;
        if (callback_ && !callback_(e)) {
            if (env_.world_size == 1) fail(SWU_ERR_CANCELLED, "training cancelled by the callback");
            cancel_requested_ = true;
        }
    }

    void agree_on_cancel() {
        if (env_.world_size == 1) return;
        std::vector<double> flag = {cancel_requested_ ? 1.0 : 0.0};
        model_.all_reduce_sum(flag);
        if (flag[0] > 0) fail(SWU_ERR_CANCELLED, "training cancelled by the callback (on " + number(flag[0]) + " rank(s))");
    }

    void train_epochs() {
        if (total_ <= 0) return;
        BatchProducer producer(*training_, o_, state_.epoch + 1, env_.rank, env_.world_size);
        int64_t done = 0;
        while (true) {
            Batch b = producer.next();
            if (done >= total_ && !b.epoch_end) {
                stopped_early_ = true;
                return;
            }
            if (b.epoch_end) {
                end_epoch(b.epoch);
                if (b.epoch >= o_.max_epochs || done >= total_) return;
                continue;
            }
            step(b);
            ++done;
        }
    }

    void step(const Batch& b) {
        const int64_t shape[5] = {b.count, 1, o_.roi, o_.roi, o_.roi};
        const StepLoss loss = model_.train_step(b.image.data(), shape, b.label.data());
        ++summary_.iterations;
        summary_.last_loss = loss.total;
        if (writer_)
            append_metrics(metrics_, json::Document{{"epoch", b.epoch},
                                                    {"iteration", summary_.iterations},
                                                    {"loss", loss.total},
                                                    {"dice_loss", loss.dice},
                                                    {"ce_loss", loss.ce},
                                                    {"learning_rate", o_.learning_rate},
                                                    {"seconds", elapsed()}});
        TrainEvent e;
        e.kind = TrainEventKind::Iteration;
        e.epoch = b.epoch;
        e.iteration = summary_.iterations;
        e.total_iterations = planned_;
        e.loss = loss.total;
        e.dice_loss = loss.dice;
        e.ce_loss = loss.ce;
        e.learning_rate = o_.learning_rate;
        e.best_mean_dice = summary_.best_mean_dice;
        e.best_epoch = summary_.best_epoch;
        emit(e);
        agree_on_cancel();
    }

    // After an epoch's last batch: validation when due, then the resume checkpoint.
    void end_epoch(int64_t epoch) {
        summary_.epochs = epoch;
        state_.epoch = epoch;
        state_.iteration = summary_.iterations;
        if (o_.val_interval > 0 && has_validation() && epoch % o_.val_interval == 0) {
            last_validated_ = epoch;
            validate(epoch);
        }
        state_.best = summary_.best_mean_dice;
        state_.best_epoch = summary_.best_epoch;
        if (writer_) save_resume(model_, o_.output_dir, state_);
    }

    // model.pt: written first, announced by a Checkpoint event after (a cancel from the
    // callback between the two keeps the file).
    void write_best() {
        if (writer_) write_state_dict_file(best_path_, model_.export_tensors(SWU_BACKEND_TENSORS_WEIGHTS));
    }
    void announce_best(int64_t epoch) {
        if (!writer_) return;
        TrainEvent e;
        e.kind = TrainEventKind::Checkpoint;
        e.epoch = epoch;
        e.iteration = summary_.iterations;
        e.path = best_path_;
        e.best_mean_dice = summary_.best_mean_dice;
        e.best_epoch = summary_.best_epoch;
        emit(e);
    }

    // Every rank scores its validation cases; the sums behind the means are added up
    // over the ranks, so all of them see the same Dice and agree on the best epoch.
    // Returns whether this epoch is the best so far.
    bool validate(int64_t epoch) {
        std::vector<std::vector<double>> raw;
        for (size_t i = 0; i < validation_->size(); ++i) {
            const std::shared_ptr<const Case> c = validation_->get(i);
            const std::vector<uint8_t> pred = predict_case(model_, *c, o_.roi, o_.val_overlap, o_.val_sw_batch);
            raw.push_back(dice_per_class(pred.data(), c->label.data(), static_cast<int64_t>(pred.size()), classes_));
        }
        std::vector<double> sums = dice_sums(raw, classes_ - 1);
        model_.all_reduce_sum(sums);
        const DiceMeans means = dice_means(sums);
        TrainEvent e;
        e.kind = TrainEventKind::Validation;
        e.epoch = epoch;
        e.iteration = summary_.iterations;
        e.mean_dice = means.mean;
        e.organ_dice = means.per_class;
        const bool better = std::isfinite(e.mean_dice) && e.mean_dice > summary_.best_mean_dice;
        if (better) {
            summary_.best_mean_dice = e.mean_dice;
            summary_.best_epoch = epoch;
        }
        e.best_mean_dice = summary_.best_mean_dice;
        e.best_epoch = summary_.best_epoch;
        if (better) write_best();  // on disk before the callback can cancel
        if (writer_) {
            append_metrics(metrics_, json::Document{{"epoch", epoch},
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
    }

    // The run ends with a model.pt: validated at the end when validation data exist and
    // the last epoch was not validated; without validation data, the last weights.
    void finish() {
        if (stopped_early_) {
            state_.iteration = summary_.iterations;
            if (writer_) save_resume(model_, o_.output_dir, state_);
        }
        if (has_validation()) {
            if (last_validated_ != summary_.epochs || stopped_early_)
                if (!validate(summary_.epochs) && writer_ && !std::filesystem::exists(best_path_)) {
                    write_best();
                    announce_best(summary_.epochs);
                }
        } else {
            write_best();
            announce_best(summary_.epochs);
        }
    }
};

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
    TrainingRun(model, o, callback, summary).run();
}

}  // namespace swu
