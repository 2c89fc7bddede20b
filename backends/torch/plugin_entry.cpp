// libswinunetr_torch.so: the backend table over the ATen implementation. Every entry
// point catches everything; errors leave as a status plus a message.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include <dlfcn.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "../common/plugin_support.hpp"
#include "instance.hpp"
#include "sliding_window.hpp"
#include "torch_compat.hpp"

namespace swu_torch {
namespace {

using swu_plugin::Failure;
using swu_plugin::cpu_model;

// The instance's thread count for LibTorch's OpenMP pool, and one thread for a threaded
// OpenBLAS behind it (Debian's libblas.so.3 is OpenBLAS's pthread build). OpenBLAS would
// otherwise start its own pool beside OpenMP's, and on a small machine the two pools'
// spinning workers take cores from each other: a training step of the f12 network on 64^3
// crops took 4.7 s on 2 cores with both pools and 3.5 s with OpenMP's alone. The user's
// OPENBLAS_NUM_THREADS wins; a BLAS without the symbol is left alone.
void use_threads(int threads) {
    at::set_num_threads(threads);
    static const bool blas_single = [] {
        using SetThreads = void (*)(int);
        if (std::getenv("OPENBLAS_NUM_THREADS")) return false;
        // Already loaded by LibTorch (NOLOAD): its own name, or the BLAS it provides.
        for (const char* lib : {"libopenblas.so.0", "libblas.so.3"}) {
            void* handle = dlopen(lib, RTLD_LAZY | RTLD_NOLOAD);
            if (!handle) continue;
            auto set = reinterpret_cast<SetThreads>(dlsym(handle, "openblas_set_num_threads"));
            if (set) set(1);
            dlclose(handle);
            if (set) return true;
        }
        return false;
    }();
    (void)blas_single;
}

// LibTorch's errors: the message without its C++ backtrace; allocation failures as such.
void classify(const std::exception& e, swu_status& status, std::string& message) {
    if (const auto* c = dynamic_cast<const c10::Error*>(&e)) {
        message = c->what_without_backtrace();
        if (message.find("out of memory") != std::string::npos || message.find("DefaultCPUAllocator") != std::string::npos)
            status = SWU_ERR_OUT_OF_MEMORY;
    }
}

template <class F> swu_status guarded(char* err, size_t err_size, F&& f) noexcept {
    return swu_plugin::guarded(err, err_size, "torch", classify, std::forward<F>(f));
}

int32_t cuda_devices() noexcept {
    try {
        return at::hasCUDA() ? static_cast<int32_t>(torch::cuda::device_count()) : 0;
    } catch (...) {
        return 0;
    }
}

// "cpu" -> CPU; "cuda:N" -> that GPU if it exists; otherwise nullopt.
compat::optional<at::Device> parse_device(const char* device) {
    if (!device) return compat::nullopt;
    const std::string d = device;
    if (d == "cpu") return at::Device(at::kCPU);
    if (d.compare(0, 5, "cuda:") == 0 && d.size() > 5 && d.find_first_not_of("0123456789", 5) == std::string::npos) {
        const int index = std::stoi(d.substr(5));
        if (index < cuda_devices()) return at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(index));
    }
    return compat::nullopt;
}

// Which precisions a device computes. CPU: fp32 only (no CPU autocast path). CUDA:
// fp32 always; fp16 / bf16 autocast when the plugin was built against a CUDA LibTorch
// (SWU_TORCH_CUDA), bf16 only from compute capability 8.0 (Ampere) on.
bool supports(const at::Device& device, int32_t precision) {
    if (precision == SWU_PRECISION_FP32) return true;
    if (!device.is_cuda() || !SWU_TORCH_CUDA) return false;
    if (precision == SWU_PRECISION_FP16) return true;
    if (precision != SWU_PRECISION_BF16) return false;
    compat::CudaDeviceProperties props;
    return compat::cuda_device_properties(device.index(), props) && props.major >= 8;
}

const char* precision_name(int32_t precision) {
    return precision == SWU_PRECISION_FP32 ? "fp32" : precision == SWU_PRECISION_FP16 ? "fp16"
                                                    : precision == SWU_PRECISION_BF16 ? "bf16"
                                                                                      : "an unknown precision";
}

// Copies requested intermediate results straight into the caller's buffers.
class BufferTaps : public TapSink {
public:
    // Values put here are batch items [first, first + size(0)) of each tap.
    BufferTaps(swu_backend_tap* taps, size_t count, int64_t first = 0) : taps_(taps), count_(count), first_(first) {}
    bool wants(const std::string& name) const override { return find(name) != nullptr; }
    void put(const std::string& name, const at::Tensor& value) override {
        for (size_t i = 0; i < count_; ++i) {
            if (name != taps_[i].name) continue;
            const at::IntArrayRef s = value.sizes();
            const int64_t* want = taps_[i].shape;
            if (s.size() != 5 || first_ + s[0] > want[0] || !std::equal(s.begin() + 1, s.end(), want + 1))
                throw Failure(SWU_ERR_INTERNAL, "tap '" + name + "' has an unexpected shape");
            float* dst = taps_[i].data + first_ * (want[1] * want[2] * want[3] * want[4]);
            // Straight into the caller's buffer, always float32 (AMP results are widened
            // on the device first, so only float32 crosses to the host).
            at::from_blob(dst, s, at::kFloat).copy_(value.to(at::kFloat));
        }
    }

private:
    const swu_backend_tap* find(const std::string& name) const {
        for (size_t i = 0; i < count_; ++i)
            if (name == taps_[i].name) return &taps_[i];
        return nullptr;
    }
    swu_backend_tap* taps_;
    size_t count_;
    int64_t first_;
};

swu_status device_count(int32_t* count, char* err, size_t err_size) {
    return guarded(err, err_size, [&] { *count = 1 + cuda_devices(); });
}

swu_status device_info(int32_t index, swu_backend_device* out, char* err, size_t err_size) {
    return guarded(err, err_size, [&] {
        std::memset(out, 0, sizeof *out);
        std::string name, description;
        if (index == 0) {
            name = "cpu";
            description = cpu_model();
        } else if (index - 1 < cuda_devices()) {
            name = "cuda:" + std::to_string(index - 1);
            compat::CudaDeviceProperties props;
            if (compat::cuda_device_properties(index - 1, props)) {
                description = props.name + ", compute capability " + std::to_string(props.major) + "." +
                              std::to_string(props.minor);
                out->memory_bytes = props.memory_bytes;
            } else {
                description = "CUDA device " + std::to_string(index - 1);
            }
        } else {
            throw Failure(SWU_ERR_INVALID_ARGUMENT, "no device " + std::to_string(index));
        }
        std::strncpy(out->name, name.c_str(), sizeof out->name - 1);
        std::strncpy(out->description, description.c_str(), sizeof out->description - 1);
    });
}

int32_t score(const char* device, int32_t precision) {
    try {
        const auto d = parse_device(device);
        return d && supports(*d, precision) ? 10 : 0;
    } catch (...) {
        return 0;
    }
}

swu_status create(const swu_backend_create_params* params, void** instance, char* err, size_t err_size) {
    return guarded(err, err_size, [&] {
        const auto device = parse_device(params->device);
        if (!device) throw Failure(SWU_ERR_UNSUPPORTED, std::string("device '") + params->device + "' is not available");
        if (!supports(*device, params->precision))
            throw Failure(SWU_ERR_UNSUPPORTED, std::string("the torch backend does not compute ") +
                                                   precision_name(params->precision) + " on " + params->device +
                                                   " (CPU: fp32 only; CUDA: fp32, fp16, bf16 from compute 8.0)");
        if (device->is_cuda()) compat::configure_cuda_math();
        auto inst = std::make_unique<Instance>();
        inst->net = params->network;
        inst->device = *device;
        inst->threads = params->threads > 0 ? params->threads : 1;
        inst->precision = params->precision;
        *instance = inst.release();
    });
}

void destroy(void* instance) { delete static_cast<Instance*>(instance); }

// Copies of the core's tensors (valid only during the call) on `device`, by name.
Params device_copies(const swu_backend_tensor* tensors, size_t count, const at::Device& device) {
    Params out;
    for (size_t i = 0; i < count; ++i) {
        const swu_backend_tensor& t = tensors[i];
        const at::ScalarType type = t.dtype == SWU_DTYPE_INT64 ? at::kLong : at::kFloat;
        const at::Tensor host = at::from_blob(const_cast<void*>(t.data), at::IntArrayRef(t.shape, static_cast<size_t>(t.ndim)),
                                              at::TensorOptions().dtype(type));
        out[t.name] = host.to(device, /*non_blocking=*/false, /*copy=*/true);
    }
    return out;
}

swu_status load_weights(void* instance, const swu_backend_tensor* tensors, size_t count, char* err, size_t err_size) {
    return guarded(err, err_size, [&] {
        Instance& inst = *static_cast<Instance*>(instance);
        inst.params = device_copies(tensors, count, inst.device);
    });
}


swu_status forward(void* instance, const float* input, const int64_t shape[5], swu_backend_tap* taps, size_t tap_count,
                   char* err, size_t err_size) {
    return guarded(err, err_size, [&] {
        Instance& inst = *static_cast<Instance*>(instance);
        const InterruptScope interruptible(inst.interrupt);
        use_threads(inst.threads);
        c10::InferenceMode inference;
        const at::Tensor x = at::from_blob(const_cast<float*>(input), at::IntArrayRef(shape, 5), at::kFloat).to(inst.device);
        run_network(inst, x, [&](int64_t first) { return BufferTaps(taps, tap_count, first); },
                    [](int64_t, const at::Tensor&) {});
    });
}

void set_interrupt(void* instance, swu_backend_interrupt_fn fn, void* user) {
    static_cast<Instance*>(instance)->interrupt = {fn, user};
}

// The core's window layout on the instance's device (sliding_window.cpp).
swu_status sliding_window(void* instance, const float* image, const int64_t size[3],
                          const swu_backend_window_params* params, float* probabilities, size_t capacity,
                          swu_backend_progress_fn progress, void* progress_user_data, char* err, size_t err_size) {
    return guarded(err, err_size, [&] {
        Instance& inst = *static_cast<Instance*>(instance);
        const InterruptScope interruptible(inst.interrupt);
        use_threads(inst.threads);
        c10::InferenceMode inference;
        stitch_windows(inst, image, size, params, probabilities, capacity, progress, progress_user_data);
    });
}

swu_status train_configure(void* instance, const swu_backend_train_config* config, char* err, size_t err_size) {
    return guarded(err, err_size, [&] {
        Instance& inst = *static_cast<Instance*>(instance);
        if (config->amp && !inst.device.is_cuda())
            throw Failure(SWU_ERR_UNSUPPORTED, "AMP training runs on CUDA devices only (this instance is on the CPU)");
        if (config->amp && !SWU_TORCH_CUDA)
            throw Failure(SWU_ERR_UNSUPPORTED, "AMP training needs a plugin built against a CUDA LibTorch");
        AdamConfig adam;
        adam.lr = config->learning_rate;
        adam.beta1 = config->beta1;
        adam.beta2 = config->beta2;
        adam.eps = config->eps;
        adam.weight_decay = config->weight_decay;
        // micro_batches arrived with the distributed entries; an older core's config ends before it.
        const bool has_micro = config->struct_size >= offsetof(swu_backend_train_config, micro_batches) + sizeof(int32_t);
        const int micro = has_micro && config->micro_batches > 1 ? config->micro_batches : 1;
        inst.trainer.configure(adam, config->amp != 0, config->checkpointing != 0, micro, config->reset_state != 0,
                               inst.params);
    });
}

swu_status train_step(void* instance, const float* input, const int64_t shape[5], const uint8_t* labels,
                      swu_backend_loss* loss, char* err, size_t err_size) {
    return guarded(err, err_size, [&] {
        Instance& inst = *static_cast<Instance*>(instance);
        if (!inst.trainer.configured()) throw Failure(SWU_ERR_STATE, "training is not configured");
        use_threads(inst.threads);
        const at::IntArrayRef sizes(shape, 5);
        const at::Tensor x = at::from_blob(const_cast<float*>(input), sizes, at::kFloat).to(inst.device);
        const int64_t label_shape[5] = {shape[0], 1, shape[2], shape[3], shape[4]};
        const at::Tensor y = at::from_blob(const_cast<uint8_t*>(labels), at::IntArrayRef(label_shape, 5), at::kByte)
                                 .to(inst.device, at::kLong);
        const Trainer::Result r = inst.trainer.step(inst.params, inst.net, x, y);
        double values[3] = {r.total, r.dice, r.ce};
        if (inst.group) {
            // The losses reported are the mean over the ranks, as the gradients are.
            inst.group->all_reduce_sum(values, 3);
            for (double& v : values) v /= inst.group->world_size();
        }
        loss->total = values[0];
        loss->dice = values[1];
        loss->ce = values[2];
        loss->skipped = r.skipped ? 1 : 0;
    });
}

swu_status dist_init(void* instance, int32_t rank, int32_t world_size, const char* master_addr, int32_t master_port,
                     double timeout_seconds, char* err, size_t err_size) {
    return guarded(err, err_size, [&] {
        Instance& inst = *static_cast<Instance*>(instance);
        if (inst.group) throw Failure(SWU_ERR_INVALID_ARGUMENT, "this instance already belongs to a process group");
        if (!inst.trainer.configured()) throw Failure(SWU_ERR_INVALID_ARGUMENT, "dist_init before train_configure");
        auto group = std::make_unique<DataParallel>(rank, world_size, master_addr ? master_addr : "", master_port,
                                                    timeout_seconds, inst.device);
        group->broadcast(inst.params);
        DataParallel* g = group.get();
        inst.trainer.set_gradient_reducer([g](Params& p) { g->average_gradients(p); },
                                          [g](Params& p) { g->overlap_next_backward(p); });
        inst.group = std::move(group);
    });
}

swu_status all_reduce_sum(void* instance, double* values, size_t count, char* err, size_t err_size) {
    return guarded(err, err_size, [&] {
        Instance& inst = *static_cast<Instance*>(instance);
        if (!inst.group) throw Failure(SWU_ERR_INVALID_ARGUMENT, "all_reduce_sum without a process group (dist_init)");
        inst.group->all_reduce_sum(values, count);
    });
}

// Hands one tensor to the sink as float32 / int64 host memory.
void emit(const std::string& name, const at::Tensor& value, swu_backend_tensor_sink sink, void* user_data) {
    const at::Tensor host = value.detach().to(at::kCPU).contiguous();
    swu_backend_tensor t{};
    t.name = name.c_str();
    t.dtype = host.scalar_type() == at::kLong ? SWU_DTYPE_INT64 : SWU_DTYPE_FLOAT32;
    const at::Tensor typed = t.dtype == SWU_DTYPE_INT64 ? host : host.to(at::kFloat);
    t.ndim = static_cast<int32_t>(typed.dim());
    for (int64_t d = 0; d < typed.dim(); ++d) t.shape[d] = typed.size(d);
    t.data = typed.data_ptr();
    sink(&t, user_data);
}

swu_status export_tensors(void* instance, int32_t set, swu_backend_tensor_sink sink, void* user_data, char* err,
                          size_t err_size) {
    return guarded(err, err_size, [&] {
        Instance& inst = *static_cast<Instance*>(instance);
        if (set == SWU_BACKEND_TENSORS_WEIGHTS) {
            for (const auto& [name, t] : inst.params) emit(name, t, sink, user_data);
        } else if (set == SWU_BACKEND_TENSORS_GRADIENTS) {
            for (const auto& [name, t] : inst.params)
                if (t.is_floating_point() && t.grad().defined()) emit(name, t.grad(), sink, user_data);
        } else if (set == SWU_BACKEND_TENSORS_OPTIMIZER) {
            for (const auto& [name, m] : inst.trainer.moments()) {
                emit("exp_avg." + name, m.exp_avg, sink, user_data);
                emit("exp_avg_sq." + name, m.exp_avg_sq, sink, user_data);
            }
            emit("step", at::full({1}, inst.trainer.step_count(), at::kLong), sink, user_data);
        } else {
            throw Failure(SWU_ERR_INVALID_ARGUMENT, "unknown tensor set " + std::to_string(set));
        }
    });
}

swu_status import_optimizer(void* instance, const swu_backend_tensor* tensors, size_t count, char* err,
                            size_t err_size) {
    return guarded(err, err_size, [&] {
        Instance& inst = *static_cast<Instance*>(instance);
        try {
            inst.trainer.restore(device_copies(tensors, count, inst.device), inst.params);
        } catch (const std::invalid_argument& e) {
            throw Failure(SWU_ERR_FORMAT, e.what());
        }
    });
}

const swu_backend_vtable kTable = {
    SWU_BACKEND_ABI_VERSION,
    sizeof(swu_backend_vtable),
    "torch",
    "swinunetr torch backend " SWU_VERSION_STRING ", libtorch " TORCH_VERSION,
    // A CUDA build also offers AMP inference (on CUDA devices; score() says which).
    SWU_CAP_INFER | SWU_CAP_TRAIN | SWU_CAP_FP32 | (SWU_TORCH_CUDA ? SWU_CAP_FP16 | SWU_CAP_BF16 : 0u),
    device_count,
    device_info,
    score,
    create,
    destroy,
    load_weights,
    forward,
    train_configure,
    train_step,
    export_tensors,
    import_optimizer,
    dist_init,
    all_reduce_sum,
    sliding_window,
    set_interrupt,
};

}  // namespace
}  // namespace swu_torch

extern "C" __attribute__((visibility("default"))) const swu_backend_vtable* swu_backend_entry(void) {
    return &swu_torch::kTable;
}
