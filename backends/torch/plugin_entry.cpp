// libswinunetr_torch.so: the backend table over the ATen implementation. Every entry
// point catches everything; errors leave as a status plus a message.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <fstream>
#include <new>
#include <string>

#include "swin_unetr.hpp"

namespace swu_torch {
namespace {

struct Instance {
    swu_backend_network net{};
    at::Device device = at::kCPU;
    int threads = 1;
    Params params;
};

class Failure : public std::runtime_error {
public:
    Failure(swu_status s, const std::string& m) : std::runtime_error(m), status(s) {}
    swu_status status;
};

void write_error(char* err, size_t size, const std::string& message) {
    if (!err || size == 0) return;
    std::strncpy(err, message.c_str(), size - 1);
    err[size - 1] = 0;
}

template <class F> swu_status guarded(char* err, size_t err_size, F&& f) noexcept {
    try {
        f();
        return SWU_OK;
    } catch (const Failure& e) {
        write_error(err, err_size, e.what());
        return e.status;
    } catch (const c10::Error& e) {
        const std::string what = e.what_without_backtrace();
        const bool oom = what.find("out of memory") != std::string::npos || what.find("DefaultCPUAllocator") != std::string::npos;
        write_error(err, err_size, what);
        return oom ? SWU_ERR_OUT_OF_MEMORY : SWU_ERR_BACKEND;
    } catch (const std::bad_alloc&) {
        write_error(err, err_size, "out of memory");
        return SWU_ERR_OUT_OF_MEMORY;
    } catch (const std::exception& e) {
        write_error(err, err_size, e.what());
        return SWU_ERR_BACKEND;
    } catch (...) {
        write_error(err, err_size, "unknown exception in the torch backend");
        return SWU_ERR_INTERNAL;
    }
}

int32_t cuda_devices() noexcept {
    try {
        return at::hasCUDA() ? static_cast<int32_t>(torch::cuda::device_count()) : 0;
    } catch (...) {
        return 0;
    }
}

// "cpu" -> CPU; "cuda:N" -> that GPU if it exists; otherwise nullopt.
c10::optional<at::Device> parse_device(const char* device) {
    if (!device) return c10::nullopt;
    const std::string d = device;
    if (d == "cpu") return at::Device(at::kCPU);
    if (d.compare(0, 5, "cuda:") == 0 && d.size() > 5 && d.find_first_not_of("0123456789", 5) == std::string::npos) {
        const int index = std::stoi(d.substr(5));
        if (index < cuda_devices()) return at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(index));
    }
    return c10::nullopt;
}

std::string cpu_model() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line))
        if (line.compare(0, 10, "model name") == 0) {
            const size_t p = line.find(':');
            if (p != std::string::npos) return line.substr(p + 2);
        }
    return "CPU";
}

// Copies requested intermediate results straight into the caller's buffers.
class BufferTaps : public TapSink {
public:
    BufferTaps(swu_backend_tap* taps, size_t count) : taps_(taps), count_(count) {}
    bool wants(const std::string& name) const override { return find(name) != nullptr; }
    void put(const std::string& name, const at::Tensor& value) override {
        for (size_t i = 0; i < count_; ++i) {
            if (name != taps_[i].name) continue;
            const at::Tensor host = value.to(at::kCPU, at::kFloat).contiguous();
            const at::IntArrayRef s = host.sizes();
            if (s.size() != 5 || !std::equal(s.begin(), s.end(), taps_[i].shape))
                throw Failure(SWU_ERR_INTERNAL, "tap '" + name + "' has an unexpected shape");
            std::memcpy(taps_[i].data, host.data_ptr<float>(), sizeof(float) * static_cast<size_t>(host.numel()));
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
            description = "CUDA device " + std::to_string(index - 1);
        } else {
            throw Failure(SWU_ERR_INVALID_ARGUMENT, "no device " + std::to_string(index));
        }
        std::strncpy(out->name, name.c_str(), sizeof out->name - 1);
        std::strncpy(out->description, description.c_str(), sizeof out->description - 1);
    });
}

int32_t score(const char* device, int32_t precision) {
    try {
        if (precision != SWU_PRECISION_FP32) return 0;
        return parse_device(device) ? 10 : 0;
    } catch (...) {
        return 0;
    }
}

swu_status create(const swu_backend_create_params* params, void** instance, char* err, size_t err_size) {
    return guarded(err, err_size, [&] {
        if (params->precision != SWU_PRECISION_FP32)
            throw Failure(SWU_ERR_UNSUPPORTED, "the torch backend computes in fp32 only");
        const auto device = parse_device(params->device);
        if (!device) throw Failure(SWU_ERR_UNSUPPORTED, std::string("device '") + params->device + "' is not available");
        auto inst = std::make_unique<Instance>();
        inst->net = params->network;
        inst->device = *device;
        inst->threads = params->threads > 0 ? params->threads : 1;
        *instance = inst.release();
    });
}

void destroy(void* instance) { delete static_cast<Instance*>(instance); }

swu_status load_weights(void* instance, const swu_backend_tensor* tensors, size_t count, char* err, size_t err_size) {
    return guarded(err, err_size, [&] {
        Instance& inst = *static_cast<Instance*>(instance);
        Params params;
        for (size_t i = 0; i < count; ++i) {
            const swu_backend_tensor& t = tensors[i];
            const at::ScalarType type = t.dtype == SWU_DTYPE_INT64 ? at::kLong : at::kFloat;
            const at::Tensor host = at::from_blob(const_cast<void*>(t.data), at::IntArrayRef(t.shape, static_cast<size_t>(t.ndim)),
                                                  at::TensorOptions().dtype(type));
            params[t.name] = host.to(inst.device, /*non_blocking=*/false, /*copy=*/true);
        }
        inst.params = std::move(params);
    });
}

swu_status forward(void* instance, const float* input, const int64_t shape[5], swu_backend_tap* taps, size_t tap_count,
                   char* err, size_t err_size) {
    return guarded(err, err_size, [&] {
        Instance& inst = *static_cast<Instance*>(instance);
        at::set_num_threads(inst.threads);
        c10::InferenceMode inference;
        const at::Tensor x = at::from_blob(const_cast<float*>(input), at::IntArrayRef(shape, 5), at::kFloat).to(inst.device);
        BufferTaps sink(taps, tap_count);
        swin_unetr(inst.params, inst.net, x, sink);
    });
}

const swu_backend_vtable kTable = {
    SWU_BACKEND_ABI_VERSION,
    sizeof(swu_backend_vtable),
    "torch",
    "swinunetr torch backend " SWU_VERSION_STRING ", libtorch " TORCH_VERSION,
    SWU_CAP_INFER | SWU_CAP_FP32,
    device_count,
    device_info,
    score,
    create,
    destroy,
    load_weights,
    forward,
};

}  // namespace
}  // namespace swu_torch

extern "C" __attribute__((visibility("default"))) const swu_backend_vtable* swu_backend_entry(void) {
    return &swu_torch::kTable;
}
