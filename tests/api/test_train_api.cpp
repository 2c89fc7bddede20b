// Training through the C API: what each call refuses, and a short deterministic run of
// swu_train on in-memory volumes (fresh weights, tiny crops).
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "api_helpers.hpp"
#include "golden.hpp"

using namespace swu_test;

namespace {

swu_volume* wrap(const void* data, swu_voxel_type type, int64_t nx, int64_t ny, int64_t nz) {
    swu_volume_desc d;
    swu_volume_desc_init(&d);
    d.type = type;
    d.data = data;
    d.size[0] = nx;
    d.size[1] = ny;
    d.size[2] = nz;
    d.spacing[0] = d.spacing[1] = 1.5;
    d.spacing[2] = 2.0;
    swu_volume* v = nullptr;
    REQUIRE(swu_volume_wrap(&d, &v) == SWU_OK);
    return v;
}

struct Losses {
    std::vector<double> values;
};

int record(const swu_train_event* e, void* user) {
    if (e->kind == SWU_TRAIN_EVENT_ITERATION) static_cast<Losses*>(user)->values.push_back(e->loss);
    return 0;
}

struct Iterations {
    std::vector<int64_t> values;
};

int record_iteration(const swu_train_event* e, void* user) {
    if (e->kind == SWU_TRAIN_EVENT_ITERATION) static_cast<Iterations*>(user)->values.push_back(e->iteration);
    return 0;
}

int cancel_at_first_step(const swu_train_event* e, void*) { return e->kind == SWU_TRAIN_EVENT_ITERATION ? 1 : 0; }
int cancel_at_validation(const swu_train_event* e, void*) { return e->kind == SWU_TRAIN_EVENT_VALIDATION ? 1 : 0; }

}  // namespace

TEST_CASE("train api: every misuse gets a clear status", "[unit]") {
    swu_optimizer_params o;
    REQUIRE(swu_optimizer_params_init(&o) == SWU_OK);
    ModelPtr m = create_model();
    REQUIRE_STATUS(swu_model_train_configure(m.get(), &o), SWU_ERR_STATE, "no weights");
    REQUIRE(swu_model_load_weights(m.get(), golden_path("net_f12/model.pt").c_str()) == SWU_OK);
    std::vector<float> x(32 * 32 * 64, 0.5f);
    std::vector<uint8_t> y(32 * 32 * 64, 0);
    const int64_t shape[5] = {1, 1, 32, 32, 64};
    REQUIRE_STATUS(swu_model_train_step(m.get(), x.data(), shape, y.data(), nullptr), SWU_ERR_STATE, "not configured");
    o.learning_rate = -1;
    REQUIRE_STATUS(swu_model_train_configure(m.get(), &o), SWU_ERR_INVALID_ARGUMENT, "learning_rate");
    swu_optimizer_params_init(&o);
    o.amp = 1;
    REQUIRE_STATUS(swu_model_train_configure(m.get(), &o), SWU_ERR_UNSUPPORTED, "CUDA");
    o.amp = 0;
    REQUIRE(swu_model_train_configure(m.get(), &o) == SWU_OK);
    y[100] = 14;
    REQUIRE_STATUS(swu_model_train_step(m.get(), x.data(), shape, y.data(), nullptr), SWU_ERR_INVALID_ARGUMENT, "label 14");
    y[100] = 0;
    x[7] = NAN;
    REQUIRE_STATUS(swu_model_train_step(m.get(), x.data(), shape, y.data(), nullptr), SWU_ERR_INVALID_ARGUMENT, "non-finite");
    x[7] = 0.5f;
    const int64_t bad_shape[5] = {1, 1, 32, 32, 62};
    REQUIRE_STATUS(swu_model_train_step(m.get(), x.data(), bad_shape, y.data(), nullptr), SWU_ERR_INVALID_ARGUMENT, "32");
    const int64_t cube32[5] = {1, 1, 32, 32, 32};
    REQUIRE_STATUS(swu_model_train_step(m.get(), x.data(), cube32, y.data(), nullptr), SWU_ERR_INVALID_ARGUMENT, "bottleneck");
    REQUIRE_STATUS(swu_model_export_tensors(m.get(), static_cast<swu_tensor_set>(9), nullptr, nullptr),
                   SWU_ERR_INVALID_ARGUMENT, "NULL");
    REQUIRE_STATUS(swu_model_save_weights(m.get(), "/nonexistent-dir/model.pt"), SWU_ERR_IO, "nonexistent-dir");

    swu_train_params tp;
    REQUIRE(swu_train_params_init(&tp) == SWU_OK);
    CHECK(tp.max_epochs == 500);
    CHECK(tp.batch_size == 2);
    CHECK(tp.num_samples == 2);
    CHECK(tp.roi == 96);
    CHECK(tp.val_interval == 5);
    CHECK(tp.val_overlap == 0.25);
    CHECK(tp.val_sw_batch == 2);
    CHECK(tp.seed == 123);
    REQUIRE_STATUS(swu_train(m.get(), &tp, nullptr), SWU_ERR_INVALID_ARGUMENT, "output_dir");
    tp.output_dir = "swu_train_api_out";
    REQUIRE_STATUS(swu_train(m.get(), &tp, nullptr), SWU_ERR_INVALID_ARGUMENT, "no training cases");
    const swu_volume* none[] = {nullptr};
    tp.train_images = none;
    tp.train_labels = none;
    tp.train_count = 1;
    REQUIRE_STATUS(swu_train(m.get(), &tp, nullptr), SWU_ERR_INVALID_ARGUMENT, "NULL");
    tp.train_count = 0;
    tp.datalist = "/nonexistent/datalist.json";
    REQUIRE_STATUS(swu_train(m.get(), &tp, nullptr), SWU_ERR_IO, "datalist.json");
    REQUIRE_STATUS(swu_evaluate(m.get(), "/nonexistent/datalist.json", nullptr, nullptr, nullptr, nullptr), SWU_ERR_IO,
                   "datalist.json");

    // The model still works after all of that.
    REQUIRE(swu_model_train_step(m.get(), x.data(), shape, y.data(), nullptr) == SWU_OK);

    // A backend that cannot train says so.
    for (const std::string& b : built_backends()) {
        if (b == "torch") continue;
        swu_model_params p = default_params();
        p.backend = b.c_str();
        ModelPtr other = create_model(p);
        REQUIRE(swu_model_load_weights(other.get(), golden_path("net_f12/model.pt").c_str()) == SWU_OK);
        REQUIRE_STATUS(swu_model_train_configure(other.get(), &o), SWU_ERR_UNSUPPORTED, "cannot train");
    }
    // "auto" infers on the fastest backend (onednn where built) and trains on torch: the
    // weights move at train_configure, and the moved model computes the same logits.
    {
        swu_model_params p = default_params();
        p.backend = "auto";
        ModelPtr a = create_model(p);
        REQUIRE(swu_model_load_weights(a.get(), golden_path("net_f12/model.pt").c_str()) == SWU_OK);
        const std::string inferring = model_info(a.get()).backend;
        CHECK(inferring == auto_cpu_backend());
        std::vector<float> before(static_cast<size_t>(14 * shape[2] * shape[3] * shape[4])), after(before.size());
        REQUIRE(swu_model_forward(a.get(), x.data(), shape, before.data(), before.size()) == SWU_OK);
        INFO(swu_last_error());
        REQUIRE(swu_model_train_configure(a.get(), &o) == SWU_OK);
        CHECK(std::string(model_info(a.get()).backend) == "torch");
        REQUIRE(swu_model_forward(a.get(), x.data(), shape, after.data(), after.size()) == SWU_OK);
        const Comparison c = compare(after.data(), before.data(), static_cast<int64_t>(before.size()), 1e-4, 1e-4);
        print_comparison("logits after \"auto\" moved from " + inferring + " to torch", c);
        CHECK(c.ok());
        REQUIRE(swu_model_train_step(a.get(), x.data(), shape, y.data(), nullptr) == SWU_OK);
    }
    // Fresh weights: the bundle's network with the requested feature size, deterministic per seed.
    swu_model_params fp = default_params();
    fp.backend = "torch";
    fp.feature_size = 12;
    ModelPtr fresh = create_model(fp);
    REQUIRE(swu_model_init_weights(fresh.get(), 5) == SWU_OK);
    const swu_model_info fi = model_info(fresh.get());
    CHECK(fi.feature_size == 12);
    CHECK(fi.out_channels == 14);
    CHECK(fi.parameter_count == 4078220);  // MONAI's SwinUNETR(feature_size=12)
    fp.feature_size = 13;
    ModelPtr odd = create_model(fp);
    REQUIRE_STATUS(swu_model_init_weights(odd.get(), 5), SWU_ERR_INVALID_ARGUMENT, "multiple of 12");
    CHECK(std::string(swu_label_name(1)) == "spleen");
    CHECK(std::string(swu_label_name(13)) == "left adrenal gland");
    CHECK(swu_label_name(14) == nullptr);
    uint8_t rgb[3] = {1, 2, 3};
    CHECK(swu_label_color(0, rgb) == SWU_OK);
    CHECK((rgb[0] == 0 && rgb[1] == 0 && rgb[2] == 0));
    CHECK(swu_label_color(6, rgb) == SWU_OK);  // liver, the SEG's colour
    CHECK((rgb[0] == 221 && rgb[1] == 130 && rgb[2] == 101));
    CHECK(swu_label_color(14, rgb) == SWU_ERR_INVALID_ARGUMENT);
    CHECK(std::string(swu_last_error()).find("label 14") != std::string::npos);
    CHECK(swu_label_color(1, nullptr) == SWU_ERR_INVALID_ARGUMENT);
}

TEST_CASE("train api: swu_train on wrapped volumes is reproducible, cancellable and writes MONAI files", "[unit]") {
    // A 40 x 40 x 36 "CT" on the network grid already (1.5 x 1.5 x 2 mm, RAS after LPS flips):
    // a bright block labelled liver, the rest soft tissue.
    const int64_t nx = 40, ny = 40, nz = 36;
    std::vector<int16_t> ct(static_cast<size_t>(nx * ny * nz), 40);
    std::vector<uint8_t> lab(ct.size(), 0);
    for (int64_t k = 8; k < 24; ++k)
        for (int64_t j = 10; j < 30; ++j)
            for (int64_t i = 10; i < 30; ++i) {
                const size_t at = static_cast<size_t>((k * ny + j) * nx + i);
                ct[at] = 160;
                lab[at] = 6;
            }
    swu_volume* image = wrap(ct.data(), SWU_VOXEL_INT16, nx, ny, nz);
    swu_volume* label = wrap(lab.data(), SWU_VOXEL_UINT8, nx, ny, nz);
    const swu_volume* images[] = {image};
    const swu_volume* labels[] = {label};

    auto run = [&](const char* dir, void* user, swu_train_fn fn, int32_t resume = 0, int64_t max_iterations = 2) {
        swu_model_params p = default_params();
        p.feature_size = 12;
        ModelPtr m = create_model(p);
        swu_train_params tp;
        swu_train_params_init(&tp);
        tp.train_images = images;
        tp.train_labels = labels;
        tp.train_count = 1;
        tp.val_images = images;
        tp.val_labels = labels;
        tp.val_count = 1;
        tp.output_dir = dir;
        tp.roi = 64;
        tp.batch_size = 1;
        tp.num_samples = 1;
        tp.max_iterations = max_iterations;
        tp.resume = resume;
        tp.seed = 9;
        tp.callback = fn;
        tp.callback_user_data = user;
        swu_train_result r{};
        r.struct_size = sizeof r;
        const swu_status st = swu_train(m.get(), &tp, &r);
        return std::make_pair(st, r);
    };
    Losses a, b;
    const auto ra = run("swu_train_api_a", &a, record);
    INFO(swu_last_error());
    REQUIRE(ra.first == SWU_OK);
    CHECK(ra.second.iterations == 2);
    CHECK(ra.second.best_mean_dice >= 0);
    REQUIRE(run("swu_train_api_b", &b, record).first == SWU_OK);
    REQUIRE(a.values.size() == 2);
    CHECK(a.values == b.values);  // same seed, threads and data: the same losses, bit for bit
    std::printf("swu_train: losses %.6f %.6f (twice the same)\n", a.values[0], a.values[1]);

    // The best weights load again; the resume files exist.
    ModelPtr again = create_model();
    CHECK(swu_model_load_weights(again.get(), "swu_train_api_a/model.pt") == SWU_OK);
    std::FILE* resume = std::fopen("swu_train_api_a/resume.json", "r");
    CHECK(resume != nullptr);
    if (resume) std::fclose(resume);

    // Resuming continues the count. The counters live in resume.pt itself: a resume.json
    // left from an earlier epoch (a crash between the two writes) cannot rewind them.
    if (std::FILE* stale = std::fopen("swu_train_api_a/resume.json", "w")) {
        std::fputs("{\"epoch\": 0, \"iteration\": 0, \"best_mean_dice\": null, \"best_epoch\": 0}\n", stale);
        std::fclose(stale);
    }
    Iterations resumed;
    const auto rr = run("swu_train_api_a", &resumed, record_iteration, 1, 3);
    INFO(swu_last_error());
    REQUIRE(rr.first == SWU_OK);
    CHECK(resumed.values == std::vector<int64_t>{3});
    CHECK(rr.second.iterations == 3);

    Losses c;
    const auto rc = run("swu_train_api_c", &c, cancel_at_first_step);
    CHECK(rc.first == SWU_ERR_CANCELLED);
    CHECK(rc.second.iterations == 1);  // the result holds the run up to the cancel

    // Cancelled from the validation event: that validation's new best is already on disk.
    Losses d;
    std::remove("swu_train_api_d/model.pt");
    const auto rd = run("swu_train_api_d", &d, cancel_at_validation);
    CHECK(rd.first == SWU_ERR_CANCELLED);
    CHECK(rd.second.iterations == 2);
    CHECK(rd.second.best_mean_dice >= 0);
    ModelPtr best = create_model();
    CHECK(swu_model_load_weights(best.get(), "swu_train_api_d/model.pt") == SWU_OK);
    swu_volume_free(image);
    swu_volume_free(label);
}

TEST_CASE("train api: activation checkpointing gives the same loss and gradients", "[unit]") {
    std::vector<float> x(2 * 32 * 32 * 64);
    std::vector<uint8_t> y(x.size());
    for (size_t i = 0; i < x.size(); ++i) {
        x[i] = static_cast<float>((i * 7919) % 1000) / 1000.0f;
        y[i] = static_cast<uint8_t>((i / 512) % 14);
    }
    const int64_t shape[5] = {2, 1, 32, 32, 64};
    std::map<std::string, std::vector<float>> grads[2];
    double loss[2][2];
    for (int checkpointing = 0; checkpointing < 2; ++checkpointing) {
        ModelPtr m = create_model();
        REQUIRE(swu_model_load_weights(m.get(), golden_path("net_f12/model.pt").c_str()) == SWU_OK);
        swu_optimizer_params o;
        swu_optimizer_params_init(&o);
        o.checkpointing = checkpointing;
        REQUIRE(swu_model_train_configure(m.get(), &o) == SWU_OK);
        for (int step = 0; step < 2; ++step) {
            swu_train_step_result r{};
            r.struct_size = sizeof r;
            const swu_status st = swu_model_train_step(m.get(), x.data(), shape, y.data(), &r);
            INFO("checkpointing " << checkpointing << ": " << swu_last_error());
            REQUIRE(st == SWU_OK);
            loss[checkpointing][step] = r.loss;
            if (step == 0) {
                auto sink = [](const swu_named_tensor* t, void* user) {
                    int64_t n = 1;
                    for (int32_t d = 0; d < t->ndim; ++d) n *= t->shape[d];
                    const float* v = static_cast<const float*>(t->data);
                    (*static_cast<std::map<std::string, std::vector<float>>*>(user))[t->name].assign(v, v + n);
                    return 0;
                };
                REQUIRE(swu_model_export_tensors(m.get(), SWU_TENSORS_GRADIENTS, sink, &grads[checkpointing]) == SWU_OK);
            }
        }
    }
    CHECK(loss[0][0] == loss[1][0]);
    CHECK(std::fabs(loss[0][1] - loss[1][1]) <= 1e-6 * loss[0][1]);
    REQUIRE(grads[0].size() == grads[1].size());
    REQUIRE(grads[0].size() > 100);
    double worst = 0;
    for (const auto& [name, g] : grads[0]) {
        const std::vector<float>& h = grads[1].at(name);
        double diff = 0, norm = 0;
        for (size_t i = 0; i < g.size(); ++i) {
            diff = std::max(diff, static_cast<double>(std::fabs(g[i] - h[i])));
            norm = std::max(norm, static_cast<double>(std::fabs(g[i])));
        }
        worst = std::max(worst, diff / std::max(norm, 1e-20));
    }
    std::printf("checkpointing: %zu gradients, worst max-diff / max-abs %.2e\n", grads[0].size(), worst);
    CHECK(worst <= 1e-4);
}
