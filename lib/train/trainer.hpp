// The bundle's training loop (train.json) over a Model whose backend can train: batches
// prepared on a worker thread, DiceCE + Adam steps, validation every val_interval epochs,
// the best weights as model.pt (MONAI format), a resume checkpoint after every epoch and
// a JSON-lines metrics log.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "model/model.hpp"
#include "train/dataset.hpp"

namespace swu {

struct TrainOptions {
    std::vector<CaseSource> training, validation;
    std::string output_dir;
    int max_epochs = 500;
    int64_t max_iterations = 0;  // 0: the epochs decide
    int batch_size = 2;
    int num_samples = 2;
    int roi = 96;
    double learning_rate = 2e-4;
    int val_interval = 5;
    double val_overlap = 0.25;
    int val_sw_batch = 2;
    uint64_t seed = 123;
    bool amp = false;
    bool checkpointing = true;
    std::string initial_weights;  // empty: keep the model's weights, or fresh ones
    bool resume = false;
    int64_t cache_bytes = int64_t(4) << 30;
    // Data parallelism with the torchrun environment (distributed_env.hpp): training cases
    // sharded per epoch as DistributedSampler does, validation cases split across ranks,
    // gradients and Dice sums reduced; only rank 0 writes files.
    bool distributed = false;
    double distributed_timeout = 1800;  // seconds, PyTorch's default
};

enum class TrainEventKind { Preparing = 0, Iteration = 1, Validation = 2, Checkpoint = 3 };

struct TrainEvent {
    TrainEventKind kind = TrainEventKind::Iteration;
    int64_t epoch = 0, iteration = 0, total_iterations = 0;
    double loss = 0, dice_loss = 0, ce_loss = 0, learning_rate = 0;
    double mean_dice = 0;
    std::vector<double> organ_dice;
    double best_mean_dice = -1;
    int64_t best_epoch = 0;
    double elapsed_seconds = 0;
    std::string path;
    int rank = 0, world_size = 1;  // of the process that emits it
};

// Returns false to cancel.
using TrainCallback = std::function<bool(const TrainEvent&)>;

struct TrainSummary {
    int64_t epochs = 0, iterations = 0;
    double last_loss = 0;
    double best_mean_dice = -1;
    int64_t best_epoch = 0;
};

// The caller holds the model (Model::acquire). `summary` is kept current as the run goes,
// so it holds the run so far when this throws swu::Error: SWU_ERR_CANCELLED when the
// callback cancels (files already written stay intact, a new best model.pt included).
void train(Model& model, const TrainOptions& options, const TrainCallback& callback, TrainSummary& summary);

// Argmax labels of the sliding-window logits of a preprocessed case.
std::vector<uint8_t> predict_case(Model& model, const Case& c, int roi, double overlap, int sw_batch);

}  // namespace swu
