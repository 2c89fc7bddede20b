// A network instance: one backend plugin instance on one device, plus the resolved
// network config. The C API's swu_model wraps exactly one of these.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "common/tensor.hpp"
#include "model/network_config.hpp"
#include "plugin/plugin_registry.hpp"

namespace swu {

struct ModelOptions {
    std::string backend = "auto";
    std::string device = "cpu";
    int threads = 0;  // 0 = all cores
    swu_precision precision = SWU_PRECISION_FP32;
    NetworkConfig network;  // zero fields are inferred from the weights
};

// A requested intermediate output (see swu_tap).
struct TapRequest {
    std::string name;
    float* data = nullptr;
    size_t capacity = 0;
    std::array<int64_t, 5> shape{};
};

// Optimiser and training options handed to the backend (see swu_backend_train_config).
struct TrainConfig {
    double learning_rate = 2e-4, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0.0;
    bool amp = false;
    bool checkpointing = false;
    int micro_batches = 1;  // gradient accumulation over this many equal parts of a batch
};

struct StepLoss {
    double total = 0, dice = 0, ce = 0;
    bool skipped = false;  // AMP skipped the update (non-finite gradients)
};

class Model {
public:
    explicit Model(const ModelOptions& options);
    ~Model();
    Model(const Model&) = delete;
    Model& operator=(const Model&) = delete;

    // Validates and hands the weights to a fresh backend instance; the previous one
    // stays in service if anything fails.
    void load_weights(std::vector<NamedTensor> weights);
    // Checks a checkpoint's names and shapes (no data) against the network they would
    // make, so that a hostile file is refused before its storages are read.
    void check_weight_headers(const std::vector<NamedTensor>& headers) const;
    // Reads a checkpoint file screened by check_weight_headers, then load_weights.
    void load_weights_file(const std::string& path);
    // Fresh weights (init_weights.hpp) for the requested network, fields left 0 taking
    // the bundle's values.
    void init_weights(uint64_t seed);
    // Fills the taps' shapes, then (if every buffer is large enough) runs the network.
    // `interrupted` (optional) is called on this thread while the backend computes, every
    // 0.05 s or so where the backend has set_interrupt (else not at all): returning true
    // cancels the call (SWU_ERR_CANCELLED); an exception it throws is rethrown.
    void forward(const float* input, const int64_t shape[5], std::vector<TapRequest>& taps,
                 const std::function<bool()>& interrupted = nullptr);

    // The backend's optional sliding_window entry: whether it has one, and the call. image
    // {X, Y, Z} float32 (a single-channel network); fills `probabilities` ({out_channels,
    // X, Y, Z}, softmaxed) with the stitched result. `progress` (done, total windows)
    // returns false to cancel (SWU_ERR_CANCELLED); an exception it throws is rethrown. It
    // is also called again with its last values while the backend computes a batch, as
    // forward's `interrupted`, so that a cancel takes effect inside the batch.
    // `params` comes from pipeline/sliding_window.cpp, which checks it against backend.h's
    // guarantees (check_backend_window_params).
    bool can_stitch() const { return backend_->can_stitch(); }
    void stitch(const float* image, const int64_t size[3], const swu_backend_window_params& params, float* probabilities,
                size_t capacity, const std::function<bool(int64_t, int64_t)>& progress);

    // Training (backends with SWU_CAP_TRAIN). configure starts a fresh optimiser state.
    // Its backend trains, or it was created with "auto" and some loaded backend trains.
    bool can_train() const;
    // On a model created with backend "auto" whose backend only infers, first moves the
    // weights to the best backend that trains (the plugin's export_tensors).
    void train_configure(const TrainConfig& config);
    // input {N, in_channels, D, H, W}; labels {N, 1, D, H, W} class indices < out_channels.
    StepLoss train_step(const float* input, const int64_t shape[5], const uint8_t* labels);
    // The backend's tensors of one set (SWU_BACKEND_TENSORS_*). Weights come in the
    // state_dict order of MONAI; the others sorted by name.
    std::vector<NamedTensor> export_tensors(int set) const;
    // Restores an optimiser state exported earlier (after train_configure).
    void import_optimizer(const std::vector<NamedTensor>& state);

    // Data-parallel training (after train_configure, on every rank at once): joins the
    // process group of `env` (nothing to join when world_size is 1) and takes rank 0's
    // weights; train_step then averages gradients and losses over the ranks. The model
    // stays in the group until its weights are replaced. SWU_ERR_UNSUPPORTED for a backend
    // without collectives; SWU_ERR_IO when the rendezvous fails.
    void distribute(int rank, int world_size, const std::string& master_addr, int master_port, double timeout_seconds);
    bool distributed() const { return world_size_ > 1; }
    // Configures training and, with world_size > 1, joins the process group. A failed
    // rendezvous leaves the model as it was: the previous optimizer config and Adam state
    // are put back (or training is unconfigured again where it was not configured).
    void train_configure_and_join(const TrainConfig& c, int rank, int world_size, const std::string& master_addr,
                                  int master_port, double timeout_seconds);
    int rank() const { return rank_; }
    int world_size() const { return world_size_; }
    // values summed over the ranks (unchanged in one process).
    void all_reduce_sum(std::vector<double>& values);

    // Serialises calls: throws SWU_ERR_BUSY if another thread is inside a call.
    std::unique_lock<std::mutex> acquire();

    const Backend& backend() const { return *backend_; }
    const std::string& device() const { return options_.device; }
    int threads() const { return options_.threads; }
    swu_precision precision() const { return options_.precision; }
    bool weights_loaded() const { return instance_ != nullptr; }
    const NetworkConfig& config() const { return config_; }

private:
    void move_to_training_backend();
    ModelOptions options_;
    const Backend* backend_;
    void* instance_ = nullptr;
    NetworkConfig config_;
    bool train_configured_ = false;
    TrainConfig train_config_;  // the last one train_configure applied
    int micro_batches_ = 1;
    int rank_ = 0, world_size_ = 1;
    std::mutex busy_;
};

}  // namespace swu
