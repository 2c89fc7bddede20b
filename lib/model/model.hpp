// A network instance: one backend plugin instance on one device, plus the resolved
// network config. The C API's swu_model wraps exactly one of these.
#pragma once

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

class Model {
public:
    explicit Model(const ModelOptions& options);
    ~Model();
    Model(const Model&) = delete;
    Model& operator=(const Model&) = delete;

    // Validates and hands the weights to a fresh backend instance; the previous one
    // stays in service if anything fails.
    void load_weights(std::vector<NamedTensor> weights);
    // Fills the taps' shapes, then (if every buffer is large enough) runs the network.
    void forward(const float* input, const int64_t shape[5], std::vector<TapRequest>& taps);

    // Serialises calls: throws SWU_ERR_BUSY if another thread is inside a call.
    std::unique_lock<std::mutex> acquire();

    const Backend& backend() const { return *backend_; }
    const std::string& device() const { return options_.device; }
    int threads() const { return options_.threads; }
    swu_precision precision() const { return options_.precision; }
    bool weights_loaded() const { return instance_ != nullptr; }
    const NetworkConfig& config() const { return config_; }

private:
    ModelOptions options_;
    const Backend* backend_;
    void* instance_ = nullptr;
    NetworkConfig config_;
    std::mutex busy_;
};

}  // namespace swu
