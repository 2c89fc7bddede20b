// Training and evaluation: one step at a time, and the bundle's whole recipe.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>

#include "api/boundary.hpp"
#include "api/infer_params.hpp"
#include "api/model_handle.hpp"
#include "api/volume_handle.hpp"
#include "checkpoint/checkpoint_writer.hpp"
#include "dicom/organ_codes.hpp"
#include "model/labels.hpp"
#include "train/datalist.hpp"
#include "train/distributed_env.hpp"
#include "train/evaluate.hpp"
#include "train/trainer.hpp"

namespace {

swu::TrainConfig to_config(const swu_optimizer_params& p) {
    swu::TrainConfig c;
    c.learning_rate = p.learning_rate;
    c.beta1 = p.beta1;
    c.beta2 = p.beta2;
    c.eps = p.eps;
    c.weight_decay = p.weight_decay;
    c.amp = p.amp != 0;
    c.checkpointing = p.checkpointing != 0;
    c.micro_batches = p.micro_batches == 0 ? 1 : p.micro_batches;  // 0: a zero-filled struct's "one pass"
    return c;
}

// The enum is read as the integer the caller stored (any value a C host can put there)
// and checked before it is used as an enum.
void check_distributed(const swu_distributed& field, double timeout, const char* what) {
    const int32_t mode = swu::raw_enum(field);
    if (mode != SWU_DISTRIBUTED_OFF && mode != SWU_DISTRIBUTED_ENV)
        swu::fail(SWU_ERR_INVALID_ARGUMENT, std::string(what) + ".distributed must be SWU_DISTRIBUTED_OFF or _ENV, got " +
                                                std::to_string(mode));
    if (mode == SWU_DISTRIBUTED_ENV && !(timeout > 0 && timeout <= 1e7))
        swu::fail(SWU_ERR_INVALID_ARGUMENT, std::string(what) + ".distributed_timeout must be > 0 and at most 1e7 s");
}

void add_volumes(std::vector<swu::CaseSource>& out, const swu_volume* const* images, const swu_volume* const* labels,
                 size_t count, const char* what) {
    if (!count) return;
    if (!images || !labels) swu::fail(SWU_ERR_INVALID_ARGUMENT, std::string(what) + " images or labels is NULL");
    for (size_t i = 0; i < count; ++i) {
        if (!images[i] || !labels[i])
            swu::fail(SWU_ERR_INVALID_ARGUMENT, std::string(what) + " volume " + std::to_string(i) + " is NULL");
        swu::CaseSource s;
        s.image = &images[i]->volume;
        s.label = &labels[i]->volume;
        out.push_back(s);
    }
}

std::vector<swu::CaseSource> to_sources(const std::vector<swu::CasePaths>& paths) {
    std::vector<swu::CaseSource> out;
    for (const swu::CasePaths& p : paths) {
        swu::CaseSource s;
        s.image_path = p.image;
        s.label_path = p.label;
        out.push_back(s);
    }
    return out;
}

}  // namespace

extern "C" {

SWU_API swu_status swu_optimizer_params_init_size(swu_optimizer_params* params, uint32_t struct_size) {
    return swu::api_call(__func__, [&] {
        swu::init_struct(params, struct_size, "params", [](swu_optimizer_params& v) {
            v.learning_rate = 2e-4;
            v.beta1 = 0.9;
            v.beta2 = 0.999;
            v.eps = 1e-8;
            v.micro_batches = 1;
            v.distributed = SWU_DISTRIBUTED_OFF;
            v.distributed_timeout = swu::TrainOptions().distributed_timeout;
        });
    });
}

// The symbol hosts built against 0.1.0's header call (its swu_optimizer_params_init is no macro):
// the layout of that release.
SWU_API swu_status(swu_optimizer_params_init)(swu_optimizer_params* params) {
    return swu_optimizer_params_init_size(params, static_cast<uint32_t>(swu::first_released_size<swu_optimizer_params>()));
}

SWU_API swu_status swu_model_init_weights(swu_model* model, uint64_t seed) {
    return swu::api_call(__func__, [&] {
        swu::require(model, "model");
        auto lock = model->impl.acquire();
        model->impl.init_weights(seed);
    });
}

SWU_API swu_status swu_model_train_configure(swu_model* model, const swu_optimizer_params* params) {
    return swu::api_call(__func__, [&] {
        swu::require(model, "model");
        swu::require(params, "params");
        const swu_optimizer_params p = swu::read_struct(params, swu_optimizer_params_init_size, "swu_optimizer_params");
        check_distributed(p.distributed, p.distributed_timeout, "params");
        // The environment before anything changes: a bad launch leaves the model as it was.
        swu::DistributedEnv env;
        if (p.distributed == SWU_DISTRIBUTED_ENV) env = swu::distributed_env_from_environment();
        auto lock = model->impl.acquire();
        model->impl.train_configure_and_join(to_config(p), env.rank, env.world_size, env.master_addr, env.master_port,
                                             p.distributed_timeout);
    });
}

SWU_API swu_status swu_model_train_step(swu_model* model, const float* input, const int64_t shape[5],
                                        const uint8_t* labels, swu_train_step_result* result) {
    return swu::api_call(__func__, [&] {
        swu::require(model, "model");
        swu::require(shape, "shape");
        swu_train_step_result r{};
        if (result) r = swu::output_struct(result, "swu_train_step_result");
        auto lock = model->impl.acquire();
        const swu::StepLoss loss = model->impl.train_step(input, shape, labels);
        if (result) {
            r.loss = loss.total;
            r.dice_loss = loss.dice;
            r.ce_loss = loss.ce;
            r.skipped = loss.skipped ? 1 : 0;
            swu::write_struct(result, r);
        }
    });
}

SWU_API swu_status swu_model_export_tensors(swu_model* model, swu_tensor_set set, swu_tensor_fn fn, void* user_data) {
    return swu::api_call(__func__, [&] {
        swu::require(model, "model");
        if (!fn) swu::fail(SWU_ERR_INVALID_ARGUMENT, "fn is NULL");
        const int32_t raw_set = swu::raw_enum(set);
        if (raw_set != SWU_TENSORS_WEIGHTS && raw_set != SWU_TENSORS_GRADIENTS && raw_set != SWU_TENSORS_OPTIMIZER)
            swu::fail(SWU_ERR_INVALID_ARGUMENT, "unknown tensor set " + std::to_string(raw_set));
        auto lock = model->impl.acquire();
        const std::vector<swu::NamedTensor> tensors = model->impl.export_tensors(raw_set);
        for (const swu::NamedTensor& t : tensors) {
            swu_named_tensor c{};
            c.name = t.name.c_str();
            c.dtype = t.tensor.dtype == swu::DType::Int64 ? SWU_DTYPE_INT64 : SWU_DTYPE_FLOAT32;
            c.ndim = static_cast<int32_t>(t.tensor.shape.size());
            c.shape = t.tensor.shape.data();
            c.data = t.tensor.data.data();
            if (fn(&c, user_data) != 0) break;
        }
    });
}

SWU_API swu_status swu_model_save_weights(swu_model* model, const char* path) {
    return swu::api_call(__func__, [&] {
        swu::require(model, "model");
        swu::require(path, "path");
        auto lock = model->impl.acquire();
        swu::write_state_dict_file(path, model->impl.export_tensors(SWU_BACKEND_TENSORS_WEIGHTS));
    });
}

SWU_API swu_status swu_train_params_init_size(swu_train_params* params, uint32_t struct_size) {
    return swu::api_call(__func__, [&] {
        swu::init_struct(params, struct_size, "params", [](swu_train_params& v) {
            const swu::TrainOptions d;
            v.max_epochs = d.max_epochs;
            v.max_iterations = d.max_iterations;
            v.batch_size = d.batch_size;
            v.num_samples = d.num_samples;
            v.roi = d.roi;
            v.learning_rate = d.learning_rate;
            v.val_interval = d.val_interval;
            v.val_overlap = d.val_overlap;
            v.val_sw_batch = d.val_sw_batch;
            v.seed = d.seed;
            v.amp = -1;
            v.checkpointing = d.checkpointing ? 1 : 0;
            v.cache_bytes = d.cache_bytes;
            v.distributed = SWU_DISTRIBUTED_OFF;
            v.distributed_timeout = d.distributed_timeout;
        });
    });
}

// The symbol hosts built against 0.1.0's header call (its swu_train_params_init is no macro):
// the layout of that release.
SWU_API swu_status(swu_train_params_init)(swu_train_params* params) {
    return swu_train_params_init_size(params, static_cast<uint32_t>(swu::first_released_size<swu_train_params>()));
}

SWU_API swu_status swu_train(swu_model* model, const swu_train_params* params, swu_train_result* result) {
    return swu::api_call(__func__, [&] {
        swu::require(model, "model");
        swu::require(params, "params");
        const swu_train_params p = swu::read_struct(params, swu_train_params_init_size, "swu_train_params");
        swu_train_result r{};
        if (result) r = swu::output_struct(result, "swu_train_result");
        if (!p.output_dir || !*p.output_dir) swu::fail(SWU_ERR_INVALID_ARGUMENT, "params.output_dir is required");
        if (p.amp < -1 || p.amp > 1) swu::fail(SWU_ERR_INVALID_ARGUMENT, "params.amp must be -1, 0 or 1");
        check_distributed(p.distributed, p.distributed_timeout, "params");
        auto lock = model->impl.acquire();

        swu::TrainOptions o;
        if (p.datalist) {
            const swu::Datalist d = swu::read_datalist(p.datalist);
            o.training = to_sources(d.training);
            o.validation = to_sources(d.validation);
        }
        add_volumes(o.training, p.train_images, p.train_labels, p.train_count, "train");
        add_volumes(o.validation, p.val_images, p.val_labels, p.val_count, "validation");
        o.output_dir = p.output_dir;
        o.max_epochs = p.max_epochs;
        o.max_iterations = p.max_iterations;
        o.batch_size = p.batch_size;
        o.num_samples = p.num_samples;
        o.roi = p.roi;
        o.learning_rate = p.learning_rate;
        o.val_interval = p.val_interval;
        o.val_overlap = p.val_overlap;
        o.val_sw_batch = p.val_sw_batch;
        o.seed = p.seed;
        const bool on_cuda = model->impl.device().compare(0, 5, "cuda:") == 0;
        o.amp = p.amp == -1 ? on_cuda : p.amp == 1;
        o.checkpointing = p.checkpointing != 0;
        if (p.initial_weights) o.initial_weights = p.initial_weights;
        o.resume = p.resume != 0;
        o.cache_bytes = p.cache_bytes;
        o.distributed = p.distributed == SWU_DISTRIBUTED_ENV;
        o.distributed_timeout = p.distributed_timeout;

        swu::TrainCallback callback;
        if (p.callback) {
            callback = [p](const swu::TrainEvent& e) {
                swu_train_event c{};
                c.struct_size = sizeof c;
                c.kind = static_cast<swu_train_event_kind>(e.kind);
                c.epoch = e.epoch;
                c.iteration = e.iteration;
                c.total_iterations = e.total_iterations;
                c.loss = e.loss;
                c.dice_loss = e.dice_loss;
                c.ce_loss = e.ce_loss;
                c.learning_rate = e.learning_rate;
                c.mean_dice = e.kind == swu::TrainEventKind::Validation ? e.mean_dice : std::numeric_limits<double>::quiet_NaN();
                c.organ_dice = e.organ_dice.empty() ? nullptr : e.organ_dice.data();
                c.organ_count = static_cast<int32_t>(e.organ_dice.size());
                c.best_mean_dice = e.best_mean_dice;
                c.best_epoch = e.best_epoch;
                c.elapsed_seconds = e.elapsed_seconds;
                c.path = e.path.empty() ? nullptr : e.path.c_str();
                c.rank = e.rank;
                c.world_size = e.world_size;
                return p.callback(&c, p.callback_user_data) == 0;
            };
        }
        swu::TrainSummary s;
        auto report = [&] {
            if (!result) return;
            r.epochs = s.epochs;
            r.iterations = s.iterations;
            r.last_loss = s.last_loss;
            r.best_mean_dice = s.best_mean_dice;
            r.best_epoch = s.best_epoch;
            swu::write_struct(result, r);
        };
        try {
            swu::train(model->impl, o, callback, s);
        } catch (...) {
            report();  // the run so far, cancelled or failed
            throw;
        }
        report();
    });
}

SWU_API const char* swu_label_name(int32_t label) { return swu::label_name(label); }

SWU_API swu_status swu_label_color(int32_t label, uint8_t rgb[3]) {
    return swu::api_call(__func__, [&] {
        swu::require(rgb, "rgb");
        if (label < 0 || label >= swu::kLabelCount)
            swu::fail(SWU_ERR_INVALID_ARGUMENT, "label " + std::to_string(label) + " is not one of the classes 0..13");
        const std::array<uint8_t, 3> c = label == 0 ? std::array<uint8_t, 3>{0, 0, 0} : swu::organ_codes()[static_cast<size_t>(label - 1)].rgb;
        std::copy(c.begin(), c.end(), rgb);
    });
}

SWU_API swu_status swu_evaluate(swu_model* model, const char* datalist, const char* section,
                                const swu_infer_params* params, const char* report_path, double* mean_dice) {
    return swu::api_call(__func__, [&] {
        swu::require(model, "model");
        swu::require(datalist, "datalist");
        const swu_infer_params p = swu::infer_params(params);
        swu::SegmentOptions o = swu::segment_options(model->impl, p);
        o.labels.type = swu::VoxelType::UInt8;  // compared as class indices
        auto lock = model->impl.acquire();
        const swu::Datalist d = swu::read_datalist(datalist);
        std::vector<swu::CasePaths> cases;
        if (section && std::strcmp(section, "training") == 0) cases = d.training;
        else if (section && std::strcmp(section, "validation") == 0) cases = d.validation;
        else if (section) swu::fail(SWU_ERR_INVALID_ARGUMENT, "section must be \"training\", \"validation\" or NULL");
        else cases = d.validation.empty() ? d.training : d.validation;

        const swu::EvaluationReport report = swu::evaluate(model->impl, cases, o, swu::progress_of(p));
        if (report_path) swu::write_file_atomically(report_path, report.to_json());
        if (mean_dice) *mean_dice = report.mean;
    });
}

}  // extern "C"
