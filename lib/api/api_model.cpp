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

// The caller's params as this library reads them (boundary.hpp read_struct), checked.
swu_model_params model_params(const swu_model_params* params) {
    swu::require(params, "params");
    const swu_model_params v = swu::read_struct(params, swu_model_params_init_size, "swu_model_params");
    const swu_model_params* p = &v;
    if (!p->backend || !*p->backend) swu::fail(SWU_ERR_INVALID_ARGUMENT, "params.backend is NULL or empty");
    if (!p->device || !*p->device) swu::fail(SWU_ERR_INVALID_ARGUMENT, "params.device is NULL or empty");
    const int32_t precision = swu::raw_enum(p->precision), merging = swu::raw_enum(p->merging);
    if (precision < SWU_PRECISION_FP32 || precision > SWU_PRECISION_FP16)
        swu::fail(SWU_ERR_INVALID_ARGUMENT, "unknown precision " + std::to_string(precision));
    if (merging < SWU_MERGING_LEGACY || merging > SWU_MERGING_V2)
        swu::fail(SWU_ERR_INVALID_ARGUMENT, "unknown merging variant " + std::to_string(merging));
    return v;
}

}  // namespace

extern "C" {

SWU_API swu_status swu_model_params_init_size(swu_model_params* params, uint32_t struct_size) {
    return swu::api_call(__func__, [&] {
        swu::init_struct(params, struct_size, "params", [](swu_model_params& v) {
            v.backend = "auto";
            v.device = "cpu";
            v.threads = 0;
            v.precision = SWU_PRECISION_FP32;
            v.merging = SWU_MERGING_LEGACY;
        });
    });
}

// The symbol hosts built against 0.1.0's header call (its swu_model_params_init is no macro):
// the layout of that release.
SWU_API swu_status(swu_model_params_init)(swu_model_params* params) {
    return swu_model_params_init_size(params, static_cast<uint32_t>(swu::first_released_size<swu_model_params>()));
}

SWU_API swu_status swu_model_create(const swu_model_params* params, swu_model** model) {
    return swu::api_call(__func__, [&] {
        swu::require(model, "model");
        *model = nullptr;
        const swu_model_params p = model_params(params);
        swu::ModelOptions o;
        o.backend = p.backend;
        o.device = p.device;
        o.threads = p.threads;
        o.precision = p.precision;
        o.network.in_channels = p.in_channels;
        o.network.out_channels = p.out_channels;
        o.network.feature_size = p.feature_size;
        for (int i = 0; i < 4; ++i) {
            o.network.depths[i] = p.depths[i];
            o.network.num_heads[i] = p.num_heads[i];
        }
        o.network.merging = p.merging;
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
        swu_model_info r = swu::output_struct(info, "swu_model_info");
        auto lock = model->impl.acquire();
        const swu::Model& m = model->impl;
        r.backend = m.backend().name.c_str();
        r.device = m.device().c_str();
        r.threads = m.threads();
        r.precision = m.precision();
        r.weights_loaded = m.weights_loaded() ? 1 : 0;
        r.merging = m.config().merging;
        if (m.weights_loaded()) {
            const swu::NetworkConfig& c = m.config();
            r.in_channels = c.in_channels;
            r.out_channels = c.out_channels;
            r.feature_size = c.feature_size;
            for (int i = 0; i < 4; ++i) {
                r.depths[i] = c.depths[i];
                r.num_heads[i] = c.num_heads[i];
            }
            r.parameter_count = swu::parameter_count(c);
        }
        swu::write_struct(info, r);
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
