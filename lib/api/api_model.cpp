// Model lifecycle, weights and forward passes.
#include <cstring>
#include <limits>

#include "api/boundary.hpp"
#include "api/model_handle.hpp"
#include "checkpoint/checkpoint.hpp"

namespace {

swu::Tensor copy_named_tensor(const swu_named_tensor& t, size_t index) {
    const std::string where = "tensors[" + std::to_string(index) + "]";
    if (!t.name) swu::fail(SWU_ERR_INVALID_ARGUMENT, where + ".name is NULL");
    swu::Tensor out;
    switch (swu::raw_enum(t.dtype)) {
        case SWU_DTYPE_FLOAT32: out.dtype = swu::DType::Float32; break;
        case SWU_DTYPE_FLOAT16: out.dtype = swu::DType::Float16; break;
        case SWU_DTYPE_BFLOAT16: out.dtype = swu::DType::BFloat16; break;
        case SWU_DTYPE_INT64: out.dtype = swu::DType::Int64; break;
        default:
            swu::fail(SWU_ERR_INVALID_ARGUMENT, where + " ('" + t.name + "') has unknown dtype " +
                                                    std::to_string(swu::raw_enum(t.dtype)));
    }
    if (t.ndim < 0 || t.ndim > 8 || (t.ndim > 0 && !t.shape))
        swu::fail(SWU_ERR_INVALID_ARGUMENT, where + " ('" + t.name + "') has an invalid ndim/shape");
    uint64_t numel = 1;
    for (int32_t d = 0; d < t.ndim; ++d) {
        if (t.shape[d] < 0 || t.shape[d] > (int64_t(1) << 32))
            swu::fail(SWU_ERR_INVALID_ARGUMENT, where + " ('" + t.name + "') has an invalid dimension");
        numel *= static_cast<uint64_t>(t.shape[d]);
        if (numel > (uint64_t(1) << 34)) swu::fail(SWU_ERR_INVALID_ARGUMENT, where + " ('" + t.name + "') is too large");
        out.shape.push_back(t.shape[d]);
    }
    if (numel && !t.data) swu::fail(SWU_ERR_INVALID_ARGUMENT, where + " ('" + t.name + "') data is NULL");
    out.data.resize(numel * swu::dtype_size(out.dtype));
    if (numel) std::memcpy(out.data.data(), t.data, out.data.size());
    return out;
}

void check_model_params(const swu_model_params* p) {
    swu::require(p, "params");
    swu::require_struct(p->struct_size, sizeof(swu_model_params), "swu_model_params");
    if (!p->backend || !*p->backend) swu::fail(SWU_ERR_INVALID_ARGUMENT, "params.backend is NULL or empty");
    if (!p->device || !*p->device) swu::fail(SWU_ERR_INVALID_ARGUMENT, "params.device is NULL or empty");
    const int32_t precision = swu::raw_enum(p->precision), merging = swu::raw_enum(p->merging);
    if (precision < SWU_PRECISION_FP32 || precision > SWU_PRECISION_FP16)
        swu::fail(SWU_ERR_INVALID_ARGUMENT, "unknown precision " + std::to_string(precision));
    if (merging < SWU_MERGING_LEGACY || merging > SWU_MERGING_V2)
        swu::fail(SWU_ERR_INVALID_ARGUMENT, "unknown merging variant " + std::to_string(merging));
}

}  // namespace

extern "C" {

SWU_API swu_status swu_model_params_init(swu_model_params* params) {
    return swu::api_call(__func__, [&] {
        swu::require(params, "params");
        std::memset(params, 0, sizeof *params);
        params->struct_size = sizeof *params;
        params->backend = "auto";
        params->device = "cpu";
        params->threads = 0;
        params->precision = SWU_PRECISION_FP32;
        params->merging = SWU_MERGING_LEGACY;
    });
}

SWU_API swu_status swu_model_create(const swu_model_params* params, swu_model** model) {
    return swu::api_call(__func__, [&] {
        swu::require(model, "model");
        *model = nullptr;
        check_model_params(params);
        swu::ModelOptions o;
        o.backend = params->backend;
        o.device = params->device;
        o.threads = params->threads;
        o.precision = params->precision;
        o.network.in_channels = params->in_channels;
        o.network.out_channels = params->out_channels;
        o.network.feature_size = params->feature_size;
        for (int i = 0; i < 4; ++i) {
            o.network.depths[i] = params->depths[i];
            o.network.num_heads[i] = params->num_heads[i];
        }
        o.network.merging = params->merging;
        *model = new swu_model(o);
    });
}

SWU_API void swu_model_free(swu_model* model) { delete model; }

SWU_API swu_status swu_model_load_weights(swu_model* model, const char* path) {
    return swu::api_call(__func__, [&] {
        swu::require(model, "model");
        swu::require(path, "path");
        auto lock = model->impl.acquire();
        model->impl.load_weights_file(path);
    });
}

SWU_API swu_status swu_model_set_weights(swu_model* model, const swu_named_tensor* tensors, size_t count) {
    return swu::api_call(__func__, [&] {
        swu::require(model, "model");
        if (count && !tensors) swu::fail(SWU_ERR_INVALID_ARGUMENT, "tensors is NULL");
        auto lock = model->impl.acquire();
        std::vector<swu::NamedTensor> weights;
        weights.reserve(count);
        for (size_t i = 0; i < count; ++i) weights.push_back({tensors[i].name ? tensors[i].name : "", copy_named_tensor(tensors[i], i)});
        model->impl.load_weights(std::move(weights));
    });
}

SWU_API swu_status swu_model_get_info(swu_model* model, swu_model_info* info) {
    return swu::api_call(__func__, [&] {
        swu::require(model, "model");
        swu::require(info, "info");
        swu::require_struct(info->struct_size, sizeof(swu_model_info), "swu_model_info");
        auto lock = model->impl.acquire();
        const swu::Model& m = model->impl;
        std::memset(reinterpret_cast<char*>(info) + sizeof info->struct_size, 0, sizeof *info - sizeof info->struct_size);
        info->backend = m.backend().name.c_str();
        info->device = m.device().c_str();
        info->threads = m.threads();
        info->precision = m.precision();
        info->weights_loaded = m.weights_loaded() ? 1 : 0;
        info->merging = m.config().merging;
        if (m.weights_loaded()) {
            const swu::NetworkConfig& c = m.config();
            info->in_channels = c.in_channels;
            info->out_channels = c.out_channels;
            info->feature_size = c.feature_size;
            for (int i = 0; i < 4; ++i) {
                info->depths[i] = c.depths[i];
                info->num_heads[i] = c.num_heads[i];
            }
            info->parameter_count = swu::parameter_count(c);
        }
    });
}

SWU_API swu_status swu_model_forward(swu_model* model, const float* input, const int64_t shape[5], float* output,
                                     size_t output_count) {
    return swu::api_call(__func__, [&] {
        swu::require(model, "model");
        swu::require(shape, "shape");
        swu::require(output, "output");
        auto lock = model->impl.acquire();
        std::vector<swu::TapRequest> taps(1);
        taps[0].name = "logits";
        taps[0].data = output;
        taps[0].capacity = output_count;
        model->impl.forward(input, shape, taps);
    });
}

SWU_API swu_status swu_model_forward_taps(swu_model* model, const float* input, const int64_t shape[5], swu_tap* taps,
                                          size_t tap_count) {
    return swu::api_call(__func__, [&] {
        swu::require(model, "model");
        swu::require(shape, "shape");
        swu::require(taps, "taps");
        if (tap_count == 0 || tap_count > 256) swu::fail(SWU_ERR_INVALID_ARGUMENT, "tap_count must be 1..256");
        auto lock = model->impl.acquire();
        std::vector<swu::TapRequest> requests(tap_count);
        for (size_t i = 0; i < tap_count; ++i) {
            if (!taps[i].name) swu::fail(SWU_ERR_INVALID_ARGUMENT, "taps[" + std::to_string(i) + "].name is NULL");
            requests[i].name = taps[i].name;
            requests[i].data = taps[i].data;
            requests[i].capacity = taps[i].capacity;
        }
        struct ShapeOut {  // report shapes also when forward() fails on a too-small buffer
            std::vector<swu::TapRequest>& r;
            swu_tap* t;
            ~ShapeOut() {
                for (size_t i = 0; i < r.size(); ++i) std::memcpy(t[i].shape, r[i].shape.data(), sizeof t[i].shape);
            }
        } shape_out{requests, taps};
        model->impl.forward(input, shape, requests);
    });
}

}  // extern "C"
