#include "model/model.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <exception>
#include <thread>

#include "checkpoint/checkpoint.hpp"
#include "common/error.hpp"
#include "common/log.hpp"
#include "model/init_weights.hpp"
#include "model/weights.hpp"

namespace swu {
namespace {

constexpr size_t kErrSize = 1024;

swu_backend_network to_backend(const NetworkConfig& c) {
    swu_backend_network n{};
    n.in_channels = c.in_channels;
    n.out_channels = c.out_channels;
    n.feature_size = c.feature_size;
    for (int i = 0; i < 4; ++i) {
        n.depths[i] = c.depths[i];
        n.num_heads[i] = c.num_heads[i];
    }
    n.window_size = c.window_size;
    n.patch_size = c.patch_size;
    n.mlp_ratio = c.mlp_ratio;
    n.merging = c.merging;
    return n;
}

// What a plugin says is untrusted: its status must be one a backend may return (an
// unknown or misleading one such as SWU_ERR_BUSY becomes SWU_ERR_BACKEND), and its
// message is cut at the buffer's end even when the plugin wrote no NUL.
swu_status plugin_status(int32_t st) {
    switch (st) {
        case SWU_ERR_INVALID_ARGUMENT: case SWU_ERR_UNSUPPORTED: case SWU_ERR_BACKEND: case SWU_ERR_WEIGHTS:
        case SWU_ERR_OUT_OF_MEMORY: case SWU_ERR_INTERNAL: case SWU_ERR_IO:  // IO: a rendezvous that failed
            return static_cast<swu_status>(st);
        default:
            return SWU_ERR_BACKEND;
    }
}

std::string plugin_message(int32_t st, char* err, size_t size) {
    err[size - 1] = 0;
    std::string msg = err[0] ? err : "failed without a message";
    if (plugin_status(st) != st) msg += " (the plugin returned status " + std::to_string(st) + ")";
    return msg;
}

// A plugin's failure as swu::Error: its status only when it is one a backend may give,
// its message bounded; `what` follows the backend's name ("backend 'torch' <what>: ...").
void check_plugin(int32_t st, const Backend& b, char* err, size_t size, const std::string& what = "") {
    if (st != SWU_OK) fail(plugin_status(st), "backend '" + b.name + "'" + what + ": " + plugin_message(st, err, size));
}

void check_finite(const float* input, const int64_t shape[5]) {
    const int64_t n = shape[0] * shape[1] * shape[2] * shape[3] * shape[4];
    for (int64_t i = 0; i < n; ++i)
        if (!std::isfinite(input[i]))
            fail(SWU_ERR_INVALID_ARGUMENT, "input holds a non-finite value (NaN or Inf) at flat index " + std::to_string(i));
}

// Views of host tensors as the plugin ABI's (valid while `tensors` lives).
std::vector<swu_backend_tensor> backend_tensors(const std::vector<NamedTensor>& tensors) {
    std::vector<swu_backend_tensor> out(tensors.size());
    for (size_t i = 0; i < tensors.size(); ++i) {
        const NamedTensor& w = tensors[i];
        swu_backend_tensor& t = out[i];
        t.name = w.name.c_str();
        t.dtype = w.tensor.dtype == DType::Int64 ? SWU_DTYPE_INT64 : SWU_DTYPE_FLOAT32;
        t.ndim = static_cast<int32_t>(w.tensor.shape.size());
        for (size_t d = 0; d < w.tensor.shape.size(); ++d) t.shape[d] = w.tensor.shape[d];
        t.data = w.tensor.data.data();
    }
    return out;
}

void check_device(const std::string& device) {
    if (device == "cpu") return;
    if (device.compare(0, 5, "cuda:") == 0 && device.size() > 5 && device.size() <= 8 &&
        device.find_first_not_of("0123456789", 5) == std::string::npos)
        return;
    fail(SWU_ERR_INVALID_ARGUMENT, "device '" + device + "' is not \"cpu\" or \"cuda:N\"");
}

}  // namespace

Model::Model(const ModelOptions& options) : options_(options) {
    check_device(options_.device);
    if (options_.precision != SWU_PRECISION_FP32 && options_.precision != SWU_PRECISION_BF16 &&
        options_.precision != SWU_PRECISION_FP16)
        fail(SWU_ERR_INVALID_ARGUMENT, "unknown precision " + std::to_string(static_cast<int>(options_.precision)));
    if (options_.threads < 0 || options_.threads > 1024)
        fail(SWU_ERR_INVALID_ARGUMENT, "threads must be 0 (all cores) .. 1024, got " + std::to_string(options_.threads));
    if (options_.threads == 0) options_.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    const NetworkConfig& n = options_.network;
    if (n.in_channels < 0 || n.out_channels < 0 || n.feature_size < 0)
        fail(SWU_ERR_INVALID_ARGUMENT, "network sizes must be >= 0 (0 = from the weights)");
    for (int i = 0; i < 4; ++i)
        if (n.depths[i] < 0 || n.num_heads[i] < 0)
            fail(SWU_ERR_INVALID_ARGUMENT, "depths and num_heads must be >= 0 (0 = from the weights)");
    if (n.merging != SWU_MERGING_LEGACY && n.merging != SWU_MERGING_MONAI15 && n.merging != SWU_MERGING_V2)
        fail(SWU_ERR_INVALID_ARGUMENT, "unknown merging variant " + std::to_string(static_cast<int>(n.merging)));

    PluginRegistry& registry = PluginRegistry::instance();
    registry.ensure_loaded();
    backend_ = &registry.choose(options_.backend, options_.device, options_.precision);
}

Model::~Model() {
    if (instance_) backend_->vtable->destroy(instance_);
}

std::unique_lock<std::mutex> Model::acquire() {
    std::unique_lock<std::mutex> lock(busy_, std::try_to_lock);
    if (!lock.owns_lock()) fail(SWU_ERR_BUSY, "the model is in use by a call in another thread");
    return lock;
}

void Model::load_weights(std::vector<NamedTensor> weights) {
    strip_module_prefix(weights);
    const NetworkConfig config = infer_config(options_.network, weights);
    const std::vector<NamedTensor> prepared = prepare_weights(config, std::move(weights));

    const swu_backend_vtable* vt = backend_->vtable;
    swu_backend_create_params params{};
    params.struct_size = sizeof params;
    params.device = options_.device.c_str();
    params.threads = options_.threads;
    params.precision = options_.precision;
    params.network = to_backend(config);
    char err[kErrSize] = {0};
    void* instance = nullptr;
    // Plugin statuses are kept as integers: a garbage value is no valid swu_status.
    int32_t st = static_cast<int32_t>(vt->create(&params, &instance, err, sizeof err));
    if (st != SWU_OK || !instance) {
        if (st == SWU_OK) fail(SWU_ERR_BACKEND, "backend '" + backend_->name + "': create returned no instance");
        check_plugin(st, *backend_, err, sizeof err);
    }

    const std::vector<swu_backend_tensor> tensors = backend_tensors(prepared);
    st = static_cast<int32_t>(vt->load_weights(instance, tensors.data(), tensors.size(), err, sizeof err));
    if (st != SWU_OK) {
        vt->destroy(instance);
        check_plugin(st, *backend_, err, sizeof err, " refused the weights");
    }
    if (instance_) vt->destroy(instance_);
    instance_ = instance;
    train_configured_ = false;
    rank_ = 0;  // the new instance belongs to no process group
    world_size_ = 1;
    config_ = config;
    log_info("weights loaded: " + config.describe());
}

void Model::check_weight_headers(const std::vector<NamedTensor>& headers) const {
    check_weights_fit(infer_config(options_.network, headers), headers);
}

void Model::load_weights_file(const std::string& path) {
    load_weights(read_checkpoint_file(path, [this](const std::vector<NamedTensor>& headers) { check_weight_headers(headers); }));
}

void Model::init_weights(uint64_t seed) {
    NetworkConfig c = options_.network;
    if (c.in_channels == 0) c.in_channels = 1;
    if (c.out_channels == 0) c.out_channels = 14;
    if (c.feature_size == 0) c.feature_size = 48;
    const std::array<int, 4> depths = {2, 2, 2, 2}, heads = {3, 6, 12, 24};
    for (int i = 0; i < 4; ++i) {
        if (c.depths[i] == 0) c.depths[i] = depths[i];
        if (c.num_heads[i] == 0) c.num_heads[i] = heads[i];
    }
    load_weights(initial_weights(c, seed));
}

namespace {

// A host callback lent to the backend's set_interrupt for one call (cleared when this
// goes out of scope, exceptions included). The C trampoline lets no exception into the
// plugin: one thrown by the callback cancels the call and is rethrown by check(). Calls
// closer than 0.05 s to the previous one answer without asking the callback again.
class Interruption {
public:
    Interruption(const Backend& backend, void* instance, const std::function<bool()>& fn)
        : backend_(backend), instance_(instance), fn_(fn) {
        if (fn_ && backend_.can_interrupt()) {
            backend_.vtable->set_interrupt(instance_, poll, this);
            set_ = true;
        }
    }
    ~Interruption() {
        if (set_) backend_.vtable->set_interrupt(instance_, nullptr, nullptr);
    }
    Interruption(const Interruption&) = delete;
    Interruption& operator=(const Interruption&) = delete;

    // After the call: the callback's exception, or SWU_ERR_CANCELLED if it asked to stop
    // (whatever the plugin returned: its result then counts as none).
    void check() const {
        if (error_) std::rethrow_exception(error_);
        if (fired_) fail(SWU_ERR_CANCELLED, "cancelled by the progress callback");
    }

private:
    static int32_t poll(void* user) {
        auto& s = *static_cast<Interruption*>(user);
        if (s.fired_) return 1;
        const auto now = std::chrono::steady_clock::now();
        if (now - s.last_ < std::chrono::milliseconds(50)) return 0;
        s.last_ = now;
        try {
            if (s.fn_()) s.fired_ = true;
        } catch (...) {
            s.error_ = std::current_exception();
            s.fired_ = true;
        }
        return s.fired_ ? 1 : 0;
    }

    const Backend& backend_;
    void* instance_;
    const std::function<bool()>& fn_;
    bool set_ = false, fired_ = false;
    std::exception_ptr error_;
    std::chrono::steady_clock::time_point last_{};
};

}  // namespace

void Model::forward(const float* input, const int64_t shape[5], std::vector<TapRequest>& taps,
                    const std::function<bool()>& interrupted) {
    if (!instance_) fail(SWU_ERR_STATE, "no weights loaded (call swu_model_load_weights first)");
    if (!input) fail(SWU_ERR_INVALID_ARGUMENT, "input is NULL");
    check_input_shape(config_, shape);
    if (taps.empty()) fail(SWU_ERR_INVALID_ARGUMENT, "no output requested");

    bool too_small = false;
    std::string small_text;
    for (TapRequest& t : taps) {
        t.shape = tap_shape(config_, t.name, shape);
        const uint64_t need = static_cast<uint64_t>(t.shape[0]) * t.shape[1] * t.shape[2] * t.shape[3] * t.shape[4];
        if (t.capacity < need || !t.data) {
            too_small = true;
            if (small_text.empty())
                small_text = "output '" + t.name + "' needs " + std::to_string(need) + " floats, buffer holds " +
                             std::to_string(t.data ? t.capacity : 0);
        }
    }
    if (too_small) fail(SWU_ERR_BUFFER_TOO_SMALL, small_text);

    check_finite(input, shape);

    std::vector<swu_backend_tap> backend_taps(taps.size());
    for (size_t i = 0; i < taps.size(); ++i) {
        backend_taps[i].name = taps[i].name.c_str();
        backend_taps[i].data = taps[i].data;
        for (int d = 0; d < 5; ++d) backend_taps[i].shape[d] = taps[i].shape[d];
    }
    char err[kErrSize] = {0};
    Interruption stop(*backend_, instance_, interrupted);
    const int32_t st = static_cast<int32_t>(backend_->vtable->forward(instance_, input, shape, backend_taps.data(),
                                                                      backend_taps.size(), err, sizeof err));
    stop.check();
    check_plugin(st, *backend_, err, sizeof err);
}

namespace {

// The C trampoline of Model::stitch's progress: no exception crosses into the plugin;
// one thrown by the callback cancels the call and is rethrown afterwards.
struct StitchProgress {
    const std::function<bool(int64_t, int64_t)>* fn;
    bool cancelled = false;
    std::exception_ptr error;
    int64_t done = 0, total = 0;  // the last report
};

int32_t stitch_progress(int64_t done, int64_t total, void* user) {
    auto& p = *static_cast<StitchProgress*>(user);
    p.done = done;
    p.total = total;
    if (p.cancelled) return 0;
    try {
        if (!(*p.fn)(done, total)) p.cancelled = true;
    } catch (...) {
        p.error = std::current_exception();
        p.cancelled = true;
    }
    return p.cancelled ? 0 : 1;
}

}  // namespace

void Model::stitch(const float* image, const int64_t size[3], const swu_backend_window_params& params,
                   float* probabilities, size_t capacity, const std::function<bool(int64_t, int64_t)>& progress) {
    if (!instance_) fail(SWU_ERR_STATE, "no weights loaded (call swu_model_load_weights first)");
    if (!backend_->can_stitch())
        fail(SWU_ERR_UNSUPPORTED, "backend '" + backend_->name + "' has no sliding_window entry");
    if (config_.in_channels != 1) fail(SWU_ERR_UNSUPPORTED, "sliding_window needs a single-channel network");
    if (!image || !probabilities) fail(SWU_ERR_INVALID_ARGUMENT, "image or probabilities is NULL");
    for (int a = 0; a < 3; ++a)
        if (size[a] < 1) fail(SWU_ERR_INVALID_ARGUMENT, "image extent must be >= 1 on every axis");
    const int64_t shape[5] = {1, 1, size[0], size[1], size[2]};
    const uint64_t need = static_cast<uint64_t>(config_.out_channels) * size[0] * size[1] * size[2];
    if (capacity < need)
        fail(SWU_ERR_BUFFER_TOO_SMALL, "probabilities need " + std::to_string(need) + " floats, buffer holds " +
                                           std::to_string(capacity));
    check_finite(image, shape);
    StitchProgress p{&progress, false, nullptr};
    // Inside a batch: the last report again (once the plugin has made one).
    std::function<bool()> again;
    if (progress) again = [&p] { return p.total > 0 && !(*p.fn)(p.done, p.total); };
    char err[kErrSize] = {0};
    int32_t st;
    {
        Interruption stop(*backend_, instance_, again);
        st = static_cast<int32_t>(backend_->vtable->sliding_window(instance_, image, size, &params, probabilities,
                                                                   capacity, progress ? stitch_progress : nullptr, &p,
                                                                   err, sizeof err));
        stop.check();
    }
    if (p.error) std::rethrow_exception(p.error);
    if (p.cancelled) {
        // Cancelled by the callback: whatever the plugin returned, the result counts as none.
        fail(SWU_ERR_CANCELLED, "cancelled by the progress callback");
    }
    check_plugin(st, *backend_, err, sizeof err);
}

}  // namespace swu

namespace swu {
namespace {

const Backend& training_backend(const Backend& b, bool has_weights) {
    if (!b.can_train())
        fail(SWU_ERR_UNSUPPORTED, "backend '" + b.name + "' cannot train (it computes the forward pass only); use " +
                                      "backend \"torch\"");
    if (!has_weights) fail(SWU_ERR_STATE, "no weights loaded (load or initialise weights before training)");
    return b;
}

// What a plugin's export_tensors hands over, checked before it is copied: the sink runs
// inside the plugin's call, so it records the first problem instead of throwing through
// plugin frames; Sink::check reports it after the call.
struct Sink {
    std::vector<NamedTensor> out;
    std::string problem;
    void check(const Backend& b) const {
        if (!problem.empty()) fail(SWU_ERR_BACKEND, "backend '" + b.name + "' exported a malformed tensor: " + problem);
    }
};

constexpr int64_t kMaxExportedElements = int64_t(1) << 32;

void sink_to_vector(const swu_backend_tensor* t, void* user) {
    auto& sink = *static_cast<Sink*>(user);
    if (!sink.problem.empty()) return;
    const std::string name = t && t->name ? std::string(t->name, strnlen(t->name, 512)) : std::string();
    if (!t || !t->name) {
        sink.problem = "a tensor without a name";
        return;
    }
    if (t->dtype != SWU_DTYPE_FLOAT32 && t->dtype != SWU_DTYPE_INT64) {
        sink.problem = "'" + name + "' has dtype " + std::to_string(t->dtype);
        return;
    }
    if (t->ndim < 0 || t->ndim > 8) {
        sink.problem = "'" + name + "' has " + std::to_string(t->ndim) + " axes";
        return;
    }
    int64_t numel = 1;
    for (int32_t d = 0; d < t->ndim; ++d)
        if (t->shape[d] < 0 || __builtin_mul_overflow(numel, t->shape[d], &numel) || numel > kMaxExportedElements) {
            sink.problem = "'" + name + "' has an impossible shape";
            return;
        }
    if (numel > 0 && !t->data) {
        sink.problem = "'" + name + "' has no data";
        return;
    }
    NamedTensor n;
    n.name = name;
    n.tensor.dtype = t->dtype == SWU_DTYPE_INT64 ? DType::Int64 : DType::Float32;
    n.tensor.shape.assign(t->shape, t->shape + t->ndim);
    const size_t bytes = static_cast<size_t>(numel) * dtype_size(n.tensor.dtype);
    n.tensor.data.assign(static_cast<const uint8_t*>(t->data), static_cast<const uint8_t*>(t->data) + bytes);
    sink.out.push_back(std::move(n));
}

}  // namespace

bool Model::can_train() const {
    if (backend_->can_train()) return true;
    return options_.backend == "auto" &&
           PluginRegistry::instance().best(options_.device, options_.precision, PluginRegistry::Job::train);
}

void Model::move_to_training_backend() {
    const Backend& to = PluginRegistry::instance().choose("auto", options_.device, options_.precision,
                                                          PluginRegistry::Job::train);
    if (!instance_) {  // no weights yet: nothing to move
        backend_ = &to;
        return;
    }
    const swu_backend_vtable* vt = backend_->vtable;
    if (!vt->export_tensors)
        fail(SWU_ERR_UNSUPPORTED, "backend '" + backend_->name + "' cannot hand its weights to backend '" + to.name +
                                      "' for training; create the model with backend \"" + to.name + "\"");
    Sink sink;
    char err[kErrSize] = {0};
    const int32_t st = static_cast<int32_t>(
        vt->export_tensors(instance_, SWU_BACKEND_TENSORS_WEIGHTS, sink_to_vector, &sink, err, sizeof err));
    check_plugin(st, *backend_, err, sizeof err);
    sink.check(*backend_);
    std::vector<NamedTensor> weights = std::move(sink.out);
    const Backend* from = backend_;
    void* from_instance = instance_;
    backend_ = &to;
    instance_ = nullptr;
    try {
        load_weights(std::move(weights));
    } catch (...) {
        backend_ = from;
        instance_ = from_instance;
        throw;
    }
    from->vtable->destroy(from_instance);
    log_info("training: backend \"auto\" moved the model from '" + from->name + "' (inference) to '" + to.name + "'");
}

void Model::train_configure(const TrainConfig& c) {
    // "auto" chose for inference; training goes to the best backend that trains.
    if (options_.backend == "auto" && !backend_->can_train()) move_to_training_backend();
    const Backend& b = training_backend(*backend_, instance_ != nullptr);
    if (!(c.learning_rate > 0) || !(c.beta1 >= 0 && c.beta1 < 1) || !(c.beta2 >= 0 && c.beta2 < 1) || !(c.eps > 0) ||
        !(c.weight_decay >= 0))
        fail(SWU_ERR_INVALID_ARGUMENT, "optimizer: need learning_rate > 0, 0 <= beta1, beta2 < 1, eps > 0, weight_decay >= 0");
    if (c.micro_batches < 1 || c.micro_batches > 256) fail(SWU_ERR_INVALID_ARGUMENT, "micro_batches must be 1..256");
    if (c.micro_batches > 1 && !b.can_distribute())
        fail(SWU_ERR_UNSUPPORTED, "backend '" + b.name + "' has no gradient accumulation (micro_batches); its plugin "
                                  "predates it");
    swu_backend_train_config config{};
    config.struct_size = sizeof config;
    config.learning_rate = c.learning_rate;
    config.beta1 = c.beta1;
    config.beta2 = c.beta2;
    config.eps = c.eps;
    config.weight_decay = c.weight_decay;
    config.amp = c.amp ? 1 : 0;
    config.checkpointing = c.checkpointing ? 1 : 0;
    config.reset_state = 1;
    config.micro_batches = c.micro_batches;
    // A plugin from before micro_batches gets the config it knows.
    if (!b.can_distribute()) config.struct_size = SWU_BACKEND_TRAIN_CONFIG_V1_SIZE;
    char err[kErrSize] = {0};
    const int32_t st = static_cast<int32_t>(b.vtable->train_configure(instance_, &config, err, sizeof err));
    check_plugin(st, b, err, sizeof err);
    train_configured_ = true;
    train_config_ = c;
    micro_batches_ = c.micro_batches;
}

void Model::train_configure_and_join(const TrainConfig& c, int rank, int world_size, const std::string& master_addr,
                                     int master_port, double timeout_seconds) {
    const bool joining = world_size > 1 && !distributed();
    const bool was_configured = train_configured_;
    const TrainConfig before = train_config_;
    std::vector<NamedTensor> state;
    if (joining && was_configured) state = export_tensors(SWU_BACKEND_TENSORS_OPTIMIZER);
    train_configure(c);
    if (!joining) return;
    try {
        distribute(rank, world_size, master_addr, master_port, timeout_seconds);
    } catch (...) {
        if (was_configured) {
            train_configure(before);
            import_optimizer(state);
        } else {
            train_configured_ = false;
        }
        throw;
    }
}

void Model::distribute(int rank, int world_size, const std::string& master_addr, int master_port,
                       double timeout_seconds) {
    const Backend& b = training_backend(*backend_, instance_ != nullptr);
    if (!train_configured_) fail(SWU_ERR_STATE, "training is not configured (distributed training joins after it)");
    if (world_size_ > 1) fail(SWU_ERR_STATE, "the model already belongs to a process group");
    if (rank < 0 || world_size < 1 || rank >= world_size)
        fail(SWU_ERR_INVALID_ARGUMENT, "rank " + std::to_string(rank) + " of world size " + std::to_string(world_size));
    if (!(timeout_seconds > 0) || timeout_seconds > 1e7)
        fail(SWU_ERR_INVALID_ARGUMENT, "the distributed timeout must be > 0 and at most 1e7 seconds");
    if (world_size == 1) return;
    if (!b.can_distribute())
        fail(SWU_ERR_UNSUPPORTED, "backend '" + b.name + "' cannot train distributed (its plugin has no c10d "
                                  "collectives); use backend \"torch\"");
    char err[kErrSize] = {0};
    const int32_t st = static_cast<int32_t>(b.vtable->dist_init(instance_, rank, world_size, master_addr.c_str(),
                                                                master_port, timeout_seconds, err, sizeof err));
    check_plugin(st, b, err, sizeof err);
    rank_ = rank;
    world_size_ = world_size;
}

void Model::all_reduce_sum(std::vector<double>& values) {
    if (world_size_ == 1 || values.empty()) return;
    char err[kErrSize] = {0};
    const int32_t st =
        static_cast<int32_t>(backend_->vtable->all_reduce_sum(instance_, values.data(), values.size(), err, sizeof err));
    check_plugin(st, *backend_, err, sizeof err);
}

StepLoss Model::train_step(const float* input, const int64_t shape[5], const uint8_t* labels) {
    const Backend& b = training_backend(*backend_, instance_ != nullptr);
    if (!train_configured_) fail(SWU_ERR_STATE, "training is not configured (call swu_model_train_configure first)");
    if (!input || !labels) fail(SWU_ERR_INVALID_ARGUMENT, "input or labels is NULL");
    check_input_shape(config_, shape);
    // At the bottleneck (1/32 of the input) instance norm over a single voxel makes the
    // deepest features constant; PyTorch refuses to train so ("Expected more than 1
    // spatial element when training").
    if ((shape[2] / 32) * (shape[3] / 32) * (shape[4] / 32) == 1)
        fail(SWU_ERR_INVALID_ARGUMENT, "training needs at least one spatial axis of 64 or more (a 32^3 input leaves one "
                                       "voxel at the bottleneck, where instance norm is degenerate)");
    if (shape[0] % micro_batches_ != 0)
        fail(SWU_ERR_INVALID_ARGUMENT, "a batch of " + std::to_string(shape[0]) + " does not split into " +
                                           std::to_string(micro_batches_) + " equal micro-batches");
    check_finite(input, shape);
    const int64_t label_count = shape[0] * shape[2] * shape[3] * shape[4];
    for (int64_t i = 0; i < label_count; ++i)
        if (labels[i] >= config_.out_channels)
            fail(SWU_ERR_INVALID_ARGUMENT, "label " + std::to_string(labels[i]) + " at flat index " + std::to_string(i) +
                                               " is not a class of this network (0.." +
                                               std::to_string(config_.out_channels - 1) + ")");
    swu_backend_loss loss{};
    char err[kErrSize] = {0};
    const int32_t st = static_cast<int32_t>(b.vtable->train_step(instance_, input, shape, labels, &loss, err, sizeof err));
    check_plugin(st, b, err, sizeof err);
    return {loss.total, loss.dice, loss.ce, loss.skipped != 0};
}

std::vector<NamedTensor> Model::export_tensors(int set) const {
    const Backend& b = training_backend(*backend_, instance_ != nullptr);
    Sink sink;
    char err[kErrSize] = {0};
    const int32_t st = static_cast<int32_t>(b.vtable->export_tensors(instance_, set, sink_to_vector, &sink, err, sizeof err));
    check_plugin(st, b, err, sizeof err);
    sink.check(b);
    std::vector<NamedTensor>& out = sink.out;
    if (set == SWU_BACKEND_TENSORS_WEIGHTS || set == SWU_BACKEND_TENSORS_GRADIENTS) {
        // MONAI's state_dict order, so a written model.pt lists keys as torch.save would;
        // every tensor with its parameter's shape.
        std::vector<NamedTensor> ordered;
        for (const ParamSpec& spec : state_dict_layout(config_))
            for (NamedTensor& t : out)
                if (t.name == spec.name) {
                    if (t.tensor.shape != spec.shape)
                        fail(SWU_ERR_BACKEND, "backend '" + b.name + "' exported '" + t.name + "' as " +
                                                  shape_string(t.tensor.shape) + ", expected " + shape_string(spec.shape));
                    ordered.push_back(std::move(t));
                }
        if (ordered.size() != out.size()) fail(SWU_ERR_BACKEND, "backend '" + b.name + "' exported unexpected tensors");
        if (set == SWU_BACKEND_TENSORS_WEIGHTS) return ordered;
        out = std::move(ordered);
    }
    std::sort(out.begin(), out.end(), [](const NamedTensor& a, const NamedTensor& c) { return a.name < c.name; });
    return out;
}

void Model::import_optimizer(const std::vector<NamedTensor>& state) {
    const Backend& b = training_backend(*backend_, instance_ != nullptr);
    if (!train_configured_) fail(SWU_ERR_STATE, "training is not configured");
    for (const NamedTensor& n : state) {
        if (n.tensor.dtype != DType::Float32 && n.tensor.dtype != DType::Int64)
            fail(SWU_ERR_FORMAT, "optimizer state '" + n.name + "' is " + dtype_name(n.tensor.dtype));
        if (n.tensor.shape.size() > 8) fail(SWU_ERR_FORMAT, "optimizer state '" + n.name + "' has too many axes");
    }
    const std::vector<swu_backend_tensor> tensors = backend_tensors(state);
    char err[kErrSize] = {0};
    const int32_t st = static_cast<int32_t>(b.vtable->import_optimizer(instance_, tensors.data(), tensors.size(), err, sizeof err));
    check_plugin(st, b, err, sizeof err);
}

}  // namespace swu
