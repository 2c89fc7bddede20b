// libswinunetr_onednn.so: the backend table over the oneDNN implementation. Every entry
// point catches everything; errors leave as a status plus a message.
#include <dnnl.hpp>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "../common/plugin_support.hpp"
#include "buffer_pool.hpp"
#include "dnnl_ops.hpp"
#include "network.hpp"

namespace swu_onednn {
namespace {

#define SWU_STR2(x) #x
#define SWU_STR(x) SWU_STR2(x)

using swu_plugin::Failure;
using swu_plugin::cpu_model;

void classify(const std::exception& e, swu_status& status, std::string& message) {
    if (const auto* d = dynamic_cast<const dnnl::error*>(&e)) {
        message = std::string("oneDNN: ") + d->what();
        if (d->status == dnnl_out_of_memory) status = SWU_ERR_OUT_OF_MEMORY;
    }
}

template <class F> swu_status guarded(char* err, size_t err_size, F&& f) noexcept {
    return swu_plugin::guarded(err, err_size, "onednn", classify, std::forward<F>(f));
}

bool is_cpu(const char* device) { return device && std::strcmp(device, "cpu") == 0; }

// Copies requested intermediate results out, channel-first, from either layout inside.
class BufferTaps : public TapSink {
public:
    BufferTaps(swu_onednn::Context& ctx, swu_backend_tap* taps, size_t count) : ctx_(ctx), taps_(taps), count_(count) {}
    bool wants(const std::string& name) const override {
        for (size_t i = 0; i < count_; ++i)
            if (name == taps_[i].name) return true;
        return false;
    }
    void put(const std::string& name, const Act& v) override {
        for (size_t i = 0; i < count_; ++i) {
            if (name != taps_[i].name) continue;
            const int64_t* s = taps_[i].shape;
            if (s[0] != v.n || s[1] != v.c || s[2] != v.d || s[3] != v.h || s[4] != v.w)
                throw Failure(SWU_ERR_INTERNAL, "tap '" + name + "' has an unexpected shape");
            swu_onednn::reorder(ctx_, v, dnnl::memory::format_tag::ncdhw, taps_[i].data);
        }
    }

private:
    swu_onednn::Context& ctx_;
    swu_backend_tap* taps_;
    size_t count_;
};

swu_status device_count(int32_t* count, char* err, size_t err_size) {
    return guarded(err, err_size, [&] { *count = 1; });
}

swu_status device_info(int32_t index, swu_backend_device* out, char* err, size_t err_size) {
    return guarded(err, err_size, [&] {
        if (index != 0) throw Failure(SWU_ERR_INVALID_ARGUMENT, "no device " + std::to_string(index));
        std::memset(out, 0, sizeof *out);
        std::strncpy(out->name, "cpu", sizeof out->name - 1);
        std::strncpy(out->description, cpu_model().c_str(), sizeof out->description - 1);
    });
}

// bf16 needs oneDNN's avx512_core_bf16 kernels (AVX512-BF16) or AMX: oneDNN 2.6 creates no
// bf16 convolution on CPUs without them.
bool cpu_has_bf16() {
    const auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
    const auto bf16 = static_cast<unsigned>(dnnl::cpu_isa::avx512_core_bf16);
    return (isa & bf16) == bf16;
}

// Why this CPU cannot run bf16 (for a CPU where cpu_has_bf16() is false).
std::string bf16_refusal() {
    const char* cap = std::getenv("ONEDNN_MAX_CPU_ISA");
    return "bf16 on the onednn backend needs a CPU with AVX512-BF16 or AMX (oneDNN 2.6 has no bf16 kernels "
           "without them); this CPU (" + cpu_model() + ") has neither" +
           (cap ? std::string(" (or ONEDNN_MAX_CPU_ISA=") + cap + " hides them)" : std::string());
}

// "auto" picks the highest score for inference: on the CPU this backend is the faster
// one (f48, 96^3 windows, 2 threads: 3.0 s against torch's ~8 s on AVX-512, 6.2 against
// 14.0 s on AVX2), so it scores above torch's 10. Training goes to torch (backend.h).
constexpr int32_t kCpuScore = 20;

int32_t score(const char* device, int32_t precision) {
    if (!is_cpu(device)) return 0;
    if (precision == SWU_PRECISION_FP32) return kCpuScore;
    if (precision == SWU_PRECISION_BF16 && cpu_has_bf16()) return kCpuScore;
    return 0;
}

// Models alive; the buffer pool is emptied when the last one is destroyed.
std::atomic<int> live_instances{0};

swu_status create(const swu_backend_create_params* params, void** instance, char* err, size_t err_size) {
    return guarded(err, err_size, [&] {
        if (!is_cpu(params->device))
            throw Failure(SWU_ERR_UNSUPPORTED, std::string("the onednn backend runs on the cpu only, not '") +
                                                   (params->device ? params->device : "") + "'");
        if (params->precision == SWU_PRECISION_BF16) {
            if (!cpu_has_bf16()) throw Failure(SWU_ERR_UNSUPPORTED, bf16_refusal());
        } else if (params->precision != SWU_PRECISION_FP32) {
            throw Failure(SWU_ERR_UNSUPPORTED, "the onednn backend computes in fp32 or bf16, not fp16");
        }
        auto inst = std::make_unique<Network>();
        inst->ctx.bf16 = params->precision == SWU_PRECISION_BF16;
        inst->net = params->network;
        inst->threads = std::max(1, params->threads);
        inst->worker = std::make_unique<Worker>(inst->threads);
        ++live_instances;
        *instance = inst.release();
    });
}

void destroy(void* instance) {
    if (!instance) return;
    delete static_cast<Network*>(instance);
    if (--live_instances == 0) pool_release_all();
}

swu_status load_weights(void* instance, const swu_backend_tensor* tensors, size_t count, char* err, size_t err_size) {
    return guarded(err, err_size, [&] {
        Network& m = *static_cast<Network*>(instance);
        std::unordered_map<std::string, Param> params;
        for (size_t i = 0; i < count; ++i) {
            const swu_backend_tensor& t = tensors[i];
            Param p;
            p.shape.assign(t.shape, t.shape + t.ndim);
            int64_t numel = 1;
            for (int64_t d : p.shape) numel *= d;
            if (t.dtype == SWU_DTYPE_INT64) {
                const int64_t* v = static_cast<const int64_t*>(t.data);
                p.indices.assign(v, v + numel);
            } else {
                const float* v = static_cast<const float*>(t.data);
                p.values.assign(v, v + numel);
            }
            params[t.name] = std::move(p);
        }
        m.reset_derived();
        m.params = std::move(params);
    });
}

swu_status forward(void* instance, const float* input, const int64_t shape[5], swu_backend_tap* taps, size_t tap_count,
                   char* err, size_t err_size) {
    return guarded(err, err_size, [&] {
        Network& m = *static_cast<Network*>(instance);
        // One item at a time: faster per window than a batch and far less memory (f48, 96^3
        // windows, 2 threads, batch 4: 6.6 s per window and 7.0 GB peak as one batch, 6.1 s
        // and 2.7 GB item by item). Each tap receives its item's slice.
        const int64_t item_shape[5] = {1, shape[1], shape[2], shape[3], shape[4]};
        const int64_t item_input = shape[1] * shape[2] * shape[3] * shape[4];
        std::vector<swu_backend_tap> item_taps(taps, taps + tap_count);
        for (size_t t = 0; t < tap_count; ++t)
            if (taps[t].shape[0] != shape[0])
                throw Failure(SWU_ERR_INTERNAL, std::string("tap '") + taps[t].name + "' has an unexpected batch size");
        // On the model's own thread, with its thread count (worker.hpp); this thread asks the
        // core's interrupt function meanwhile (it must be called here, not there).
        m.ctx.cancel = false;
        std::function<void()> waiting;
        if (m.interrupt.fn)
            waiting = [&m] {
                if (!m.ctx.cancel && m.interrupt.requested()) m.ctx.cancel = true;
            };
        m.worker->run([&] {
            for (int64_t i = 0; i < shape[0]; ++i) {
                for (size_t t = 0; t < tap_count; ++t) {
                    const int64_t* s = taps[t].shape;
                    item_taps[t].shape[0] = 1;
                    item_taps[t].data = taps[t].data + i * s[1] * s[2] * s[3] * s[4];
                }
                BufferTaps sink(m.ctx, item_taps.data(), tap_count);
                swu_onednn::forward(m, input + i * item_input, item_shape, sink);
            }
        }, waiting);
    });
}

void set_interrupt(void* instance, swu_backend_interrupt_fn fn, void* user) {
    Network& m = *static_cast<Network*>(instance);
    m.interrupt = {fn, user};
}

// The weights as load_weights took them (so that training on an "auto" model can move them
// to a backend that trains); this backend has no gradients or optimiser state.
swu_status export_tensors(void* instance, int32_t set, swu_backend_tensor_sink sink, void* user, char* err,
                          size_t err_size) {
    return guarded(err, err_size, [&] {
        if (set != SWU_BACKEND_TENSORS_WEIGHTS)
            throw Failure(SWU_ERR_UNSUPPORTED, "the onednn backend does not train: it holds weights only");
        const Network& m = *static_cast<const Network*>(instance);
        for (const auto& [name, p] : m.params) {
            swu_backend_tensor t{};
            t.name = name.c_str();
            t.dtype = p.indices.empty() ? SWU_DTYPE_FLOAT32 : SWU_DTYPE_INT64;
            t.ndim = static_cast<int32_t>(p.shape.size());
            std::copy(p.shape.begin(), p.shape.end(), t.shape);
            t.data = p.indices.empty() ? static_cast<const void*>(p.values.data()) : p.indices.data();
            sink(&t, user);
        }
    });
}

const swu_backend_vtable kTable = {
    SWU_BACKEND_ABI_VERSION,
    sizeof(swu_backend_vtable),
    "onednn",
    "swinunetr onednn backend " SWU_VERSION_STRING ", oneDNN " SWU_STR(DNNL_VERSION_MAJOR) "." SWU_STR(
        DNNL_VERSION_MINOR) "." SWU_STR(DNNL_VERSION_PATCH),
    SWU_CAP_INFER | SWU_CAP_FP32,  // | SWU_CAP_BF16 where the CPU has it (swu_backend_entry)
    device_count,
    device_info,
    score,
    create,
    destroy,
    load_weights,
    forward,
    // No training: SWU_CAP_TRAIN is not set; export_tensors gives the weights only.
    nullptr,
    nullptr,
    export_tensors,
    nullptr,
    // No distributed training (dist_init, all_reduce_sum).
    nullptr,
    nullptr,
    // No sliding_window: the core stitches the windows on the host.
    nullptr,
    set_interrupt,
};

}  // namespace
}  // namespace swu_onednn

extern "C" __attribute__((visibility("default"))) const swu_backend_vtable* swu_backend_entry(void) {
    static const swu_backend_vtable table = [] {
        swu_backend_vtable t = swu_onednn::kTable;
        if (swu_onednn::cpu_has_bf16()) t.capabilities |= SWU_CAP_BF16;
        return t;
    }();
    return &table;
}
