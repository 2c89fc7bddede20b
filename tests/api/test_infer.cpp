// Whole-volume segmentation through the C API: MONAI's golden pipeline case, wrapped
// caller buffers, orientation invariance, cancellation and errors.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "api_helpers.hpp"
#include "golden.hpp"

using namespace swu_test;

namespace {

VolumePtr read(const std::string& path) {
    swu_volume* v = nullptr;
    const swu_status st = swu_volume_read(path.c_str(), &v);
    INFO(swu_last_error());
    REQUIRE(st == SWU_OK);
    return VolumePtr(v);
}

swu_volume_info info_of(const swu_volume* v) {
    swu_volume_info i{};
    i.struct_size = sizeof i;
    REQUIRE(swu_volume_get_info(v, &i) == SWU_OK);
    return i;
}

VolumePtr infer(swu_model* m, const swu_volume* image, swu_infer_params* params = nullptr) {
    swu_infer_params p;
    swu_infer_params_init(&p);
    swu_volume* labels = nullptr;
    const swu_status st = swu_infer(m, image, params ? params : &p, &labels);
    INFO(swu_last_error());
    REQUIRE(st == SWU_OK);
    return VolumePtr(labels);
}

// Label at (i, j, k) of a uint8 or float32 volume.
int label_at(const swu_volume_info& v, int64_t i, int64_t j, int64_t k) {
    const int64_t o = i * v.strides[0] + j * v.strides[1] + k * v.strides[2];
    return v.type == SWU_VOXEL_UINT8 ? static_cast<const uint8_t*>(v.data)[o]
                                     : static_cast<int>(static_cast<const float*>(v.data)[o]);
}

int64_t count_differences(const swu_volume* a, const swu_volume* b) {
    const swu_volume_info x = info_of(a), y = info_of(b);
    REQUIRE(std::equal(x.size, x.size + 3, y.size));
    int64_t n = 0;
    for (int64_t k = 0; k < x.size[2]; ++k)
        for (int64_t j = 0; j < x.size[1]; ++j)
            for (int64_t i = 0; i < x.size[0]; ++i) n += label_at(x, i, j, k) != label_at(y, i, j, k);
    return n;
}

ModelPtr f12() {
    ModelPtr m = create_model();
    REQUIRE(swu_model_load_weights(m.get(), golden_path("net_f12/model.pt").c_str()) == SWU_OK);
    return m;
}

}  // namespace

namespace {

// The golden pipeline run of one network: net_f12's model.pt, or the bundle's feature 48
// with the README's formula weights (pipeline/f48_formula/).
struct PipelineCase {
    std::string folder;  // under golden/
    bool f48;
};

ModelPtr pipeline_model(const PipelineCase& c, const std::string& backend) {
    swu_model_params p = default_params();
    p.backend = backend.c_str();
    ModelPtr m = create_model(p);
    if (!c.f48) {
        REQUIRE(swu_model_load_weights(m.get(), golden_path("net_f12/model.pt").c_str()) == SWU_OK);
        return m;
    }
    const std::vector<swu::NamedTensor> weights = formula_weights(read_keys(golden_path("net_f48/keys.txt")), 0);
    const NamedTensorViews v = as_c_tensors(weights);
    const swu_status st = swu_model_set_weights(m.get(), v.views.data(), v.views.size());
    INFO(swu_last_error());
    REQUIRE(st == SWU_OK);
    return m;
}

}  // namespace

TEST_CASE("swu_infer reproduces MONAI's labels and probabilities of the golden pipeline case", "[golden][slow][pipeline]") {
    const std::string backend = GENERATE(from_range(built_backends()));
    const PipelineCase c = GENERATE(PipelineCase{"pipeline/", false}, PipelineCase{"pipeline/f48_formula/", true});
    INFO("backend " << backend << ", " << c.folder);
    ModelPtr m = pipeline_model(c, backend);
    VolumePtr image = read(golden_path("pipeline/image.nii.gz"));
    swu_infer_params p;
    swu_infer_params_init(&p);
    swu_volume *raw_labels = nullptr, *raw_probabilities = nullptr;
    const swu_status st = swu_infer_with_probabilities(m.get(), image.get(), &p, &raw_labels, &raw_probabilities);
    INFO(swu_last_error());
    REQUIRE(st == SWU_OK);
    VolumePtr labels(raw_labels), probabilities(raw_probabilities);
    VolumePtr golden = read(golden_path(c.folder + "labels.nii.gz"));
    const swu_volume_info li = info_of(labels.get()), gi = info_of(golden.get()), pi = info_of(probabilities.get());
    CHECK(li.type == SWU_VOXEL_UINT8);
    for (int a = 0; a < 3; ++a) {
        CHECK(li.spacing[a] == Approx(gi.spacing[a]).margin(1e-6));
        CHECK(li.origin[a] == Approx(gi.origin[a]).margin(1e-6));
    }
    for (int a = 0; a < 9; ++a) CHECK(li.direction[a] == Approx(gi.direction[a]).margin(1e-6));
    const int64_t differ = count_differences(labels.get(), golden.get());
    const int64_t total = gi.size[0] * gi.size[1] * gi.size[2];
    std::printf("golden %-34s %lld of %lld voxels differ (swu_infer)\n", labelled(c.folder + "labels.nii.gz", backend).c_str(),
                static_cast<long long>(differ), static_cast<long long>(total));
    CHECK(differ <= total / 10000);  // 99.99 % (the issue asks 99.9 %); measured 2..4 voxels of 2.1 M

    // The probabilities: 14 float32 channels on the image's grid, MONAI's inverted
    // probabilities at the golden positions, and the labels their argmax.
    int64_t channels = 0, stride = 0;
    REQUIRE(swu_volume_get_channels(probabilities.get(), &channels, &stride) == SWU_OK);
    REQUIRE(channels == 14);
    REQUIRE(stride == total);
    REQUIRE(pi.type == SWU_VOXEL_FLOAT32);
    CHECK(std::equal(pi.size, pi.size + 3, gi.size));
    const float* prob = static_cast<const float*>(pi.data);
    const swu::Tensor positions = load_golden("pipeline/inv_positions.npy");
    const swu::Tensor expected = load_golden(c.folder + "probs_inverted_at_positions.npy");
    const int64_t P = positions.shape[0];
    std::vector<float> ours(static_cast<size_t>(channels * P));
    for (int64_t j = 0; j < P; ++j) {
        const int64_t* q = positions.as<int64_t>() + 3 * j;
        const int64_t at = q[0] * pi.strides[0] + q[1] * pi.strides[1] + q[2] * pi.strides[2];
        for (int64_t ch = 0; ch < channels; ++ch) ours[static_cast<size_t>(ch * P + j)] = prob[ch * stride + at];
    }
    const Comparison cp = compare(ours.data(), expected.as<float>(), expected.numel(), 1e-5, 0.0);  // measured <= 7.8e-7
    print_comparison(labelled(c.folder + "probs_inverted_at_positions.npy", backend), cp);
    CHECK(cp.ok());
    int64_t not_argmax = 0;
    double worst_sum = 0.0;
    for (int64_t v = 0; v < total; ++v) {
        int64_t best = 0;
        double sum = 0.0;
        for (int64_t ch = 0; ch < channels; ++ch) {
            sum += prob[ch * stride + v];
            if (prob[ch * stride + v] > prob[best * stride + v]) best = ch;
        }
        worst_sum = std::max(worst_sum, std::fabs(sum - 1.0));
        not_argmax += best != static_cast<const uint8_t*>(li.data)[v];
    }
    CHECK(not_argmax == 0);
    CHECK(worst_sum < 1e-5);

    // Written and read back, the map keeps its values and geometry.
    const std::string out = "/tmp/swu_test_labels.nii.gz";
    REQUIRE(swu_volume_write(labels.get(), out.c_str()) == SWU_OK);
    VolumePtr back = read(out);
    CHECK(count_differences(back.get(), labels.get()) == 0);
    const swu_volume_info bi = info_of(back.get());
    for (int a = 0; a < 3; ++a) CHECK(bi.origin[a] == Approx(li.origin[a]).margin(1e-4));
}

TEST_CASE("the same anatomy stored flipped or transposed gets the same labels", "[golden]") {
    ModelPtr m = f12();
    VolumePtr image = read(golden_path("pipeline/image.nii.gz"));
    const swu_volume_info ii = info_of(image.get());
    VolumePtr reference = infer(m.get(), image.get());
    const swu_volume_info ri = info_of(reference.get());
    const int64_t I = ii.size[0], J = ii.size[1], K = ii.size[2];

    SECTION("axis i stored in reverse (origin at the other end, direction column negated)") {
        swu_volume_desc d;
        swu_volume_desc_init(&d);
        REQUIRE(ii.type == SWU_VOXEL_INT16);  // the golden image is int16 and stays int16
        d.type = SWU_VOXEL_INT16;
        std::copy(ii.size, ii.size + 3, d.size);
        // A negative stride is expressed by copying instead (wrap takes positive strides).
        std::vector<int16_t> flipped(static_cast<size_t>(I * J * K));
        for (int64_t k = 0; k < K; ++k)
            for (int64_t j = 0; j < J; ++j)
                for (int64_t i = 0; i < I; ++i)
                    flipped[static_cast<size_t>((k * J + j) * I + i)] =
                        static_cast<const int16_t*>(ii.data)[(I - 1 - i) * ii.strides[0] + j * ii.strides[1] + k * ii.strides[2]];
        d.data = flipped.data();
        std::copy(ii.spacing, ii.spacing + 3, d.spacing);
        std::copy(ii.direction, ii.direction + 9, d.direction);
        for (int r = 0; r < 3; ++r) {
            d.origin[r] = ii.origin[r] + ii.direction[r * 3 + 0] * ii.spacing[0] * (I - 1);
            d.direction[r * 3 + 0] = -ii.direction[r * 3 + 0];
        }
        swu_volume* raw = nullptr;
        REQUIRE(swu_volume_wrap(&d, &raw) == SWU_OK);
        VolumePtr wrapped(raw);
        VolumePtr labels = infer(m.get(), wrapped.get());
        const swu_volume_info li = info_of(labels.get());
        int64_t differ = 0;
        for (int64_t k = 0; k < K; ++k)
            for (int64_t j = 0; j < J; ++j)
                for (int64_t i = 0; i < I; ++i) differ += label_at(li, i, j, k) != label_at(ri, I - 1 - i, j, k);
        CHECK(differ == 0);
    }
    SECTION("axes i and j swapped, through strides (no copy)") {
        swu_volume_desc d;
        swu_volume_desc_init(&d);
        d.type = ii.type;
        d.data = ii.data;
        d.size[0] = J;
        d.size[1] = I;
        d.size[2] = K;
        d.strides[0] = ii.strides[1];
        d.strides[1] = ii.strides[0];
        d.strides[2] = ii.strides[2];
        d.spacing[0] = ii.spacing[1];
        d.spacing[1] = ii.spacing[0];
        d.spacing[2] = ii.spacing[2];
        std::copy(ii.origin, ii.origin + 3, d.origin);
        for (int r = 0; r < 3; ++r) {
            d.direction[r * 3 + 0] = ii.direction[r * 3 + 1];
            d.direction[r * 3 + 1] = ii.direction[r * 3 + 0];
            d.direction[r * 3 + 2] = ii.direction[r * 3 + 2];
        }
        swu_volume* raw = nullptr;
        REQUIRE(swu_volume_wrap(&d, &raw) == SWU_OK);
        VolumePtr wrapped(raw);
        VolumePtr labels = infer(m.get(), wrapped.get());
        const swu_volume_info li = info_of(labels.get());
        int64_t differ = 0;
        for (int64_t k = 0; k < K; ++k)
            for (int64_t j = 0; j < J; ++j)
                for (int64_t i = 0; i < I; ++i) differ += label_at(li, j, i, k) != label_at(ri, i, j, k);
        CHECK(differ == 0);
    }
}

namespace {
struct CancelAt {
    swu_stage stage;
    int64_t after;
    int calls = 0;
};
int cancel_progress(swu_stage stage, int64_t done, int64_t, void* user) {
    auto* c = static_cast<CancelAt*>(user);
    ++c->calls;
    return stage == c->stage && done >= c->after ? 1 : 0;
}
}  // namespace

TEST_CASE("a progress callback cancels at every stage and nothing is returned", "[unit]") {
    ModelPtr m = f12();
    // A small image keeps this quick: 40 x 30 x 20 voxels of 3 mm (one network window).
    std::vector<int16_t> ct(40 * 30 * 20);
    for (size_t i = 0; i < ct.size(); ++i) ct[i] = static_cast<int16_t>((i * 37) % 400 - 100);
    swu_volume_desc d;
    swu_volume_desc_init(&d);
    d.data = ct.data();
    d.size[0] = 40;
    d.size[1] = 30;
    d.size[2] = 20;
    d.spacing[0] = d.spacing[1] = d.spacing[2] = 3.0;
    swu_volume* raw = nullptr;
    REQUIRE(swu_volume_wrap(&d, &raw) == SWU_OK);
    VolumePtr image(raw);
    for (swu_stage stage : {SWU_STAGE_PREPROCESS, SWU_STAGE_NETWORK, SWU_STAGE_POSTPROCESS}) {
        CancelAt cancel{stage, 0};
        swu_infer_params p;
        swu_infer_params_init(&p);
        p.progress = cancel_progress;
        p.progress_user_data = &cancel;
        swu_volume* labels = reinterpret_cast<swu_volume*>(0x1);
        REQUIRE_STATUS(swu_infer(m.get(), image.get(), &p, &labels), SWU_ERR_CANCELLED, "cancelled");
        CHECK(labels == nullptr);
        CHECK(cancel.calls >= 1);
    }
    // And the model still works afterwards.
    VolumePtr labels = infer(m.get(), image.get());
    CHECK(info_of(labels.get()).size[2] == 20);

    SECTION("probabilities: only them, neither, a cancelled call, and what takes no multi-channel volume") {
        swu_infer_params p;
        swu_infer_params_init(&p);
        swu_volume* probabilities = nullptr;
        REQUIRE(swu_infer_with_probabilities(m.get(), image.get(), &p, nullptr, &probabilities) == SWU_OK);
        VolumePtr prob(probabilities);
        int64_t channels = 0, stride = 0;
        REQUIRE(swu_volume_get_channels(prob.get(), &channels, &stride) == SWU_OK);
        CHECK(channels == 14);
        CHECK(stride == 40 * 30 * 20);
        REQUIRE(swu_volume_get_channels(labels.get(), &channels, nullptr) == SWU_OK);
        CHECK(channels == 1);
        REQUIRE_STATUS(swu_infer_with_probabilities(m.get(), image.get(), &p, nullptr, nullptr), SWU_ERR_INVALID_ARGUMENT,
                       "both NULL");
        REQUIRE_STATUS(swu_infer(m.get(), prob.get(), &p, &probabilities), SWU_ERR_INVALID_ARGUMENT, "14 channels");
        CHECK(probabilities == nullptr);
        CancelAt cancel{SWU_STAGE_POSTPROCESS, 0};
        p.progress = cancel_progress;
        p.progress_user_data = &cancel;
        swu_volume *l = reinterpret_cast<swu_volume*>(0x1), *q = reinterpret_cast<swu_volume*>(0x1);
        REQUIRE_STATUS(swu_infer_with_probabilities(m.get(), image.get(), &p, &l, &q), SWU_ERR_CANCELLED, "cancelled");
        CHECK(l == nullptr);
        CHECK(q == nullptr);
        // Written, it is a 4D image (which swu_volume_read refuses: it reads CT volumes).
        REQUIRE(swu_volume_write(prob.get(), "/tmp/swu_test_probabilities.nii.gz") == SWU_OK);
        swu_volume* back = nullptr;
        REQUIRE_STATUS(swu_volume_read("/tmp/swu_test_probabilities.nii.gz", &back), SWU_ERR_INVALID_ARGUMENT, "4D");
        CHECK(back == nullptr);
    }
}

TEST_CASE("volume and inference errors are clear", "[unit]") {
    swu_volume* v = nullptr;
    REQUIRE_STATUS(swu_volume_read("/nonexistent/ct.nii.gz", &v), SWU_ERR_IO, "does not exist");
    REQUIRE_STATUS(swu_volume_read(golden_path("net_f12/keys.txt").c_str(), &v), SWU_ERR_FORMAT, "not a readable image");
    REQUIRE_STATUS(swu_volume_read(nullptr, &v), SWU_ERR_INVALID_ARGUMENT, "path is NULL");
    swu_volume_desc d;
    swu_volume_desc_init(&d);
    REQUIRE_STATUS(swu_volume_wrap(&d, &v), SWU_ERR_INVALID_ARGUMENT, "image size 0");
    int16_t voxel[8] = {0};
    d.data = voxel;
    d.size[0] = d.size[1] = d.size[2] = 2;
    d.spacing[1] = -1;
    REQUIRE_STATUS(swu_volume_wrap(&d, &v), SWU_ERR_INVALID_ARGUMENT, "spacing");
    d.spacing[1] = 1;
    d.direction[4] = 0;
    REQUIRE_STATUS(swu_volume_wrap(&d, &v), SWU_ERR_INVALID_ARGUMENT, "singular");
    d.direction[4] = 1;
    d.type = static_cast<swu_voxel_type>(9);
    REQUIRE_STATUS(swu_volume_wrap(&d, &v), SWU_ERR_INVALID_ARGUMENT, "voxel type");
    d.type = SWU_VOXEL_INT16;
    d.size[0] = d.size[1] = d.size[2] = 60000;
    REQUIRE_STATUS(swu_volume_wrap(&d, &v), SWU_ERR_OUT_OF_MEMORY, "2^31 voxels");
    d.size[0] = d.size[1] = d.size[2] = 2;
    d.strides[0] = 1;
    d.strides[1] = int64_t(1) << 62;  // the offset of voxel (1, 1, 1) overflows int64
    d.strides[2] = int64_t(1) << 62;
    REQUIRE_STATUS(swu_volume_wrap(&d, &v), SWU_ERR_INVALID_ARGUMENT, "reach beyond");
    d.strides[0] = d.strides[1] = d.strides[2] = 0;
    REQUIRE(swu_volume_wrap(&d, &v) == SWU_OK);
    VolumePtr tiny(v);

    REQUIRE_STATUS(swu_volume_write(tiny.get(), "/tmp/swu_x.png"), SWU_ERR_INVALID_ARGUMENT, "unknown image format");
    REQUIRE_STATUS(swu_volume_write(tiny.get(), "/nonexistent/dir/x.nii.gz"), SWU_ERR_IO, "cannot write");

    ModelPtr empty = create_model();
    swu_infer_params p;
    swu_infer_params_init(&p);
    swu_volume* labels = nullptr;
    REQUIRE_STATUS(swu_infer(empty.get(), tiny.get(), &p, &labels), SWU_ERR_STATE, "no weights");
    ModelPtr m = f12();
    p.blend = static_cast<swu_blend>(5);
    REQUIRE_STATUS(swu_infer(m.get(), tiny.get(), &p, &labels), SWU_ERR_INVALID_ARGUMENT, "blend");
    swu_infer_params_init(&p);
    p.overlap = 1.0;
    REQUIRE_STATUS(swu_infer(m.get(), tiny.get(), &p, &labels), SWU_ERR_INVALID_ARGUMENT, "overlap");
    swu_infer_params_init(&p);
    p.roi = 100;
    REQUIRE_STATUS(swu_infer(m.get(), tiny.get(), &p, &labels), SWU_ERR_INVALID_ARGUMENT, "roi");
    swu_infer_params_init(&p);
    p.struct_size = 4;
    REQUIRE_STATUS(swu_infer(m.get(), tiny.get(), &p, &labels), SWU_ERR_INVALID_ARGUMENT, "struct_size");
    float nan_voxels[8] = {0, 0, 0, NAN, 0, 0, 0, 0};
    d.type = SWU_VOXEL_FLOAT32;
    d.data = nan_voxels;
    REQUIRE(swu_volume_wrap(&d, &v) == SWU_OK);
    VolumePtr bad(v);
    swu_infer_params_init(&p);
    REQUIRE_STATUS(swu_infer(m.get(), bad.get(), &p, &labels), SWU_ERR_INVALID_ARGUMENT, "NaN");
    CHECK(labels == nullptr);
}

// The peak resident memory of this process so far, in MB (VmHWM).
double peak_rss_mb() {
    std::ifstream in("/proc/self/status");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024;
    return 0;
}

// Each request below once allocated gigabytes (or, for the tiny file, ran until the
// host killed it) before failing; now the memory it implies is checked first.
TEST_CASE("requests that cannot fit in memory fail before anything is allocated", "[unit]") {
    ModelPtr m = f12();
    std::vector<int16_t> voxels(64 * 64 * 64, 0);
    swu_volume_desc d;
    swu_volume_desc_init(&d);
    d.type = SWU_VOXEL_INT16;
    d.data = voxels.data();
    d.size[0] = d.size[1] = d.size[2] = 64;
    swu_volume* v = nullptr;
    REQUIRE(swu_volume_wrap(&d, &v) == SWU_OK);
    VolumePtr ct(v);
    swu_infer_params p;
    swu_infer_params_init(&p);
    p.roi = 512;
    p.sw_batch = 64;  // 64 windows of 512^3 in and out: ~900 GB
    swu_volume* labels = nullptr;
    const double before = peak_rss_mb();
    REQUIRE_STATUS(swu_infer(m.get(), ct.get(), &p, &labels), SWU_ERR_OUT_OF_MEMORY, "roi 512 and sw_batch 64 needs at least");
    CHECK(labels == nullptr);

    // 8^3 voxels of 280 x 280 x 340 mm: a network grid of about 1300 x 1300 x 1200
    // (2.0e9 voxels, under the default cap of 2^31) that needs about 130 GB.
    d.size[0] = d.size[1] = d.size[2] = 8;
    d.spacing[0] = d.spacing[1] = 280;
    d.spacing[2] = 340;
    REQUIRE(swu_volume_wrap(&d, &v) == SWU_OK);
    VolumePtr huge(v);
    swu_infer_params_init(&p);
    REQUIRE_STATUS(swu_infer(m.get(), huge.get(), &p, &labels), SWU_ERR_OUT_OF_MEMORY, "network grid with roi 96 and sw_batch 4 needs at least");
    CHECK(labels == nullptr);
    const double grown = peak_rss_mb() - before;
    INFO("peak RSS grew by " << grown << " MB");
    CHECK(grown < 64);
}

TEST_CASE("a DICOM series folder reads with the geometry pydicom gives", "[unit]") {
    // pydicom's own test data (Debian python3-pydicom): a CT series of 5 slices of 16 x 16,
    // stored in an order unrelated to position. Expected values read with pydicom: slices
    // sorted along the normal of ImageOrientationPatient, origin = ImagePositionPatient
    // of the first, HU = stored value * RescaleSlope (1) + RescaleIntercept (-1024).
    const std::string folder = "/usr/lib/python3/dist-packages/pydicom/data/test_files/dicomdirtests/98892001/CT5N";
    VolumePtr v = read(folder);
    const swu_volume_info i = info_of(v.get());
    CHECK(i.size[0] == 16);
    CHECK(i.size[1] == 16);
    CHECK(i.size[2] == 5);
    CHECK(i.spacing[0] == Approx(0.488281).margin(1e-6));
    CHECK(i.spacing[1] == Approx(0.488281).margin(1e-6));
    CHECK(i.spacing[2] == Approx(2.5).margin(1e-4));
    const double origin[3] = {-72.199997, -143.0, -1.2375};
    for (int r = 0; r < 3; ++r) {
        CHECK(i.origin[r] == Approx(origin[r]).margin(1e-4));
        for (int c = 0; c < 3; ++c) CHECK(i.direction[r * 3 + c] == Approx(r == c ? 1.0 : 0.0).margin(1e-6));
    }
    const float* voxels = static_cast<const float*>(i.data);  // slice 0, row 0: 991 999 1002 1002 stored
    CHECK(voxels[0] == 991.0f - 1024.0f);
    CHECK(voxels[1] == 999.0f - 1024.0f);
    CHECK(voxels[3] == 1002.0f - 1024.0f);
}

namespace {
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SWU_TEST_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(SWU_TEST_SANITIZED)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

// Asks to stop once `after` seconds of the network stage have passed, and notes when.
struct CancelAfter {
    double after;
    std::chrono::steady_clock::time_point network_start{}, asked{};
    bool started = false, cancelled = false;
};
int cancel_after(swu_stage stage, int64_t, int64_t, void* user) {
    auto* c = static_cast<CancelAfter*>(user);
    if (stage != SWU_STAGE_NETWORK) return 0;
    const auto now = std::chrono::steady_clock::now();
    if (!c->started) {
        c->started = true;
        c->network_start = now;
    }
    if (!c->cancelled && std::chrono::duration<double>(now - c->network_start).count() >= c->after) {
        c->cancelled = true;
        c->asked = now;
    }
    return c->cancelled ? 1 : 0;
}
}  // namespace

// The bundle's f48 network on one 96^3 window (a forward of 2-16 s on one thread): a cancel
// 0.3 s into it ends the call within 1 s, inside the forward, on every built backend. One
// thread, so that the sanitizer suite can check it for leaks (LeakSanitizer cannot while
// OpenMP workers live); run alone (tests/CMakeLists.txt: RUN_SERIAL), as a timing.
TEST_CASE("a cancel 0.3 s into a 96^3 f48 window ends swu_infer within 1 s, on every backend", "[cancel]") {
    std::vector<int16_t> ct(96 * 96 * 96);
    for (size_t i = 0; i < ct.size(); ++i) ct[i] = static_cast<int16_t>((i * 37) % 400 - 100);
    swu_volume_desc d;
    swu_volume_desc_init(&d);
    d.data = ct.data();
    d.size[0] = d.size[1] = d.size[2] = 96;
    d.spacing[0] = d.spacing[1] = 1.5;  // the bundle's pixdim: no resampling, one window
    d.spacing[2] = 2.0;
    swu_volume* raw = nullptr;
    REQUIRE(swu_volume_wrap(&d, &raw) == SWU_OK);
    VolumePtr image(raw);
    for (const std::string& backend : built_backends()) {
        INFO("backend " << backend);
        swu_model_params mp = default_params();
        mp.backend = backend.c_str();
        mp.feature_size = 48;
        mp.threads = 1;
        ModelPtr m = create_model(mp);
        REQUIRE(swu_model_init_weights(m.get(), 11) == SWU_OK);
        CancelAfter cancel{0.3};
        swu_infer_params p;
        swu_infer_params_init(&p);
        p.sw_batch = 1;
        p.progress = cancel_after;
        p.progress_user_data = &cancel;
        swu_volume* labels = reinterpret_cast<swu_volume*>(0x1);
        REQUIRE_STATUS(swu_infer(m.get(), image.get(), &p, &labels), SWU_ERR_CANCELLED, "cancelled");
        // From when the host wanted to stop (not when it was first asked: the gap between
        // two questions counts too).
        const auto wanted = cancel.network_start + std::chrono::milliseconds(300);
        const double late = std::chrono::duration<double>(std::chrono::steady_clock::now() - wanted).count();
        std::printf("cancel on %s: wanted 0.3 s into the network stage, asked at %.2f s, the call returned %.3f s after 0.3 s\n",
                    backend.c_str(), std::chrono::duration<double>(cancel.asked - cancel.network_start).count(), late);
        CHECK(labels == nullptr);
        REQUIRE(cancel.cancelled);
        // Under AddressSanitizer our kernels run instrumented and unvectorised (-O1): a
        // looser bound there; the release suite holds the 1 s.
        CHECK(late < (kSanitized ? 3.0 : 1.0));
        // Usable afterwards: a 32^3 forward gives finite logits.
        std::vector<float> x(32 * 32 * 32, 0.25f), logits(14 * 32 * 32 * 32, std::nanf(""));
        const int64_t shape[5] = {1, 1, 32, 32, 32};
        REQUIRE(swu_model_forward(m.get(), x.data(), shape, logits.data(), logits.size()) == SWU_OK);
        CHECK(std::all_of(logits.begin(), logits.end(), [](float v) { return std::isfinite(v); }));
    }
}
