// Small helpers that hide the differences between the LibTorch versions the backend
// builds against: Debian's CPU LibTorch 1.13 and pip's torch 2.x (CPU or CUDA).
// Everything version- or CUDA-specific lives here; the network code stays plain ATen.
//
// SWU_TORCH_CUDA (set by CMakeLists.txt, 0 or 1): the plugin is built against a CUDA
// LibTorch and may use the CUDA runtime headers (device properties).
#pragma once

#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>
#include <c10/core/impl/LocalDispatchKeySet.h>
#include <torch/version.h>

#include <cstdint>
#include <string>

#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define SWU_TORCH_DEVICE_AUTOCAST_API 1  // at::autocast::*(DeviceType, ...) since 2.4
#include <optional>
#else
#define SWU_TORCH_DEVICE_AUTOCAST_API 0  // 1.13 .. 2.3: the CUDA-only *_gpu_* functions
#include <c10/util/Optional.h>
#endif

#ifndef SWU_TORCH_CUDA
#define SWU_TORCH_CUDA 0
#endif
#if SWU_TORCH_CUDA
#include <cuda_runtime_api.h>
#endif

namespace swu_torch::compat {

// c10::optional became std::optional in 2.x; the backend spells it compat::optional.
#if SWU_TORCH_DEVICE_AUTOCAST_API
template <class T> using optional = std::optional<T>;
inline constexpr std::nullopt_t nullopt = std::nullopt;
#else
template <class T> using optional = c10::optional<T>;
inline constexpr c10::nullopt_t nullopt = c10::nullopt;
#endif

// CUDA autocast (AMP) for the current thread while in scope: matmuls and convolutions
// run in `dtype` (kHalf / kBFloat16), reductions such as softmax and layer_norm in
// float32 (PyTorch's autocast op lists). The previous state is restored on exit.
class CudaAutocast {
public:
    explicit CudaAutocast(at::ScalarType dtype) {
#if SWU_TORCH_DEVICE_AUTOCAST_API
        was_enabled_ = at::autocast::is_autocast_enabled(at::kCUDA);
        old_dtype_ = at::autocast::get_autocast_dtype(at::kCUDA);
        at::autocast::set_autocast_dtype(at::kCUDA, dtype);
        at::autocast::set_autocast_enabled(at::kCUDA, true);
#else
        was_enabled_ = at::autocast::is_enabled();
        old_dtype_ = at::autocast::get_autocast_gpu_dtype();
        at::autocast::set_autocast_gpu_dtype(dtype);
        at::autocast::set_enabled(true);
#endif
    }
    ~CudaAutocast() {
#if SWU_TORCH_DEVICE_AUTOCAST_API
        at::autocast::set_autocast_enabled(at::kCUDA, was_enabled_);
        at::autocast::set_autocast_dtype(at::kCUDA, old_dtype_);
#else
        at::autocast::set_enabled(was_enabled_);
        at::autocast::set_autocast_gpu_dtype(old_dtype_);
#endif
        // Weights never require grad, so autocast caches nothing; clearing is cheap.
        at::autocast::clear_cache();
    }
    CudaAutocast(const CudaAutocast&) = delete;
    CudaAutocast& operator=(const CudaAutocast&) = delete;

private:
    bool was_enabled_ = false;
    at::ScalarType old_dtype_ = at::kHalf;
};

// Whether CUDA autocast is on for this thread (activation checkpointing recomputes
// under the same setting).
inline bool cuda_autocast_enabled() {
#if SWU_TORCH_DEVICE_AUTOCAST_API
    return at::autocast::is_autocast_enabled(at::kCUDA);
#else
    return at::autocast::is_enabled();
#endif
}

// Suspends autocast for the ops in its scope: they compute in their inputs' dtype
// (used to keep a few cheap, precision-critical ops in float32 under AMP). Without
// autocast active it changes nothing.
class NoAutocast {
public:
    NoAutocast() : guard_(c10::autocast_dispatch_keyset) {}

private:
    c10::impl::ExcludeDispatchKeyGuard guard_;
};

// Process-wide cuDNN / cuBLAS settings for CUDA instances: autotuned convolution
// algorithms (the window shape is fixed, so the search pays off after the first call)
// and no TF32, so that fp32 means IEEE float32 and meets the golden tolerance.
// setAllowTF32CuDNN/CuBLAS exist from 1.7 to 2.x (2.9+ maps them onto its
// float32-precision settings).
inline void configure_cuda_math() {
    at::Context& ctx = at::globalContext();
    ctx.setBenchmarkCuDNN(true);
    ctx.setAllowTF32CuDNN(false);
    ctx.setAllowTF32CuBLAS(false);
}

// Name, total memory and compute capability of CUDA device `index`; false when the
// plugin was built without the CUDA headers (then only the index is known).
struct CudaDeviceProperties {
    std::string name;
    uint64_t memory_bytes = 0;
    int major = 0, minor = 0;
};
inline bool cuda_device_properties(int index, CudaDeviceProperties& out) {
#if SWU_TORCH_CUDA
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, index) != cudaSuccess) {
        (void)cudaGetLastError();  // clear the sticky error state of this thread
        return false;
    }
    out.name = prop.name;
    out.memory_bytes = static_cast<uint64_t>(prop.totalGlobalMem);
    out.major = prop.major;
    out.minor = prop.minor;
    return true;
#else
    (void)index;
    (void)out;
    return false;
#endif
}

}  // namespace swu_torch::compat
