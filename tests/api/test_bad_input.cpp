// The bad-input catalogue (issue 9): every wrong call, value or file a host can hand the
// C API ends in a status and a useful message, and the model still works afterwards.
// Cases already covered elsewhere are not repeated here: weight key/shape/dtype
// mismatches and forward shapes (test_model_errors.cpp), broken plugins
// (test_backends.cpp), cancellation at each stage and wrap errors (test_infer.cpp).
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "api_helpers.hpp"
#include "golden.hpp"

using namespace swu_test;

namespace {

// The first backend this build made (torch where built; the sanitizer builds have only onednn).
swu_model_params params_for_built_backend() {
    swu_model_params p = default_params();
    static const std::string backend = built_backends().front();
    p.backend = backend.c_str();
    p.threads = 1;
    return p;
}

ModelPtr f12_model() {
    ModelPtr m = create_model(params_for_built_backend());
    const swu_status st = swu_model_load_weights(m.get(), golden_path("net_f12/model.pt").c_str());
    INFO(swu_last_error());
    REQUIRE(st == SWU_OK);
    return m;
}

const int64_t kSmall[5] = {1, 1, 32, 32, 32};

std::vector<float> forward_small(swu_model* m) {
    std::vector<float> x(32 * 32 * 32);
    for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i * 7919) % 1000) / 1000.0f;
    std::vector<float> y(14 * x.size());
    const swu_status st = swu_model_forward(m, x.data(), kSmall, y.data(), y.size());
    INFO(swu_last_error());
    REQUIRE(st == SWU_OK);
    return y;
}

// Sets the voxel cap for a test and restores the default however the test ends.
struct CapGuard {
    explicit CapGuard(int64_t cap) { REQUIRE(swu_set_max_voxels(cap) == SWU_OK); }
    ~CapGuard() { swu_set_max_voxels(0); }
};

std::string temp_path(const std::string& name) { return "/tmp/swu_bad_input_" + name; }

std::string write_file(const std::string& name, const std::string& bytes) {
    const std::string path = temp_path(name);
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
}

// A small CT-like volume (int16 HU) wrapped without a copy.
struct SmallCt {
    std::vector<int16_t> hu;
    VolumePtr volume;
    SmallCt(int64_t nx, int64_t ny, int64_t nz, double spacing) : hu(static_cast<size_t>(nx * ny * nz)) {
        for (size_t i = 0; i < hu.size(); ++i) hu[i] = static_cast<int16_t>(int(i * 37 % 400) - 100);
        swu_volume_desc d;
        swu_volume_desc_init(&d);
        d.data = hu.data();
        d.size[0] = nx;
        d.size[1] = ny;
        d.size[2] = nz;
        d.spacing[0] = d.spacing[1] = d.spacing[2] = spacing;
        swu_volume* v = nullptr;
        REQUIRE(swu_volume_wrap(&d, &v) == SWU_OK);
        volume.reset(v);
    }
};

std::string raw_nrrd(const std::string& name, const std::string& header_fields, size_t payload_bytes) {
    return write_file(name, "NRRD0004\ntype: short\nendian: little\nencoding: raw\n" + header_fields + "\n" +
                                std::string(payload_bytes, '\0'));
}

}  // namespace

TEST_CASE("bad input: every pointer argument may be NULL and says which", "[unit][bad_input]") {
    swu_model_params mp;
    REQUIRE(swu_model_params_init(&mp) == SWU_OK);
    swu_infer_params ip;
    REQUIRE(swu_infer_params_init(&ip) == SWU_OK);
    swu_volume_desc vd;
    REQUIRE(swu_volume_desc_init(&vd) == SWU_OK);
    swu_model* m = nullptr;
    swu_volume* v = nullptr;
    size_t n = 0;
    int64_t shape[5] = {1, 1, 32, 32, 32};
    float buf[4] = {0};

    // The functions themselves (the *_init macros take sizeof *p) and the sized forms.
    REQUIRE_STATUS((swu_model_params_init)(nullptr), SWU_ERR_INVALID_ARGUMENT, "params is NULL");
    REQUIRE_STATUS((swu_infer_params_init)(nullptr), SWU_ERR_INVALID_ARGUMENT, "params is NULL");
    REQUIRE_STATUS((swu_volume_desc_init)(nullptr), SWU_ERR_INVALID_ARGUMENT, "desc is NULL");
    REQUIRE_STATUS(swu_model_params_init_size(nullptr, sizeof(swu_model_params)), SWU_ERR_INVALID_ARGUMENT, "params is NULL");
    swu_infer_params sized;
    REQUIRE_STATUS(swu_infer_params_init_size(&sized, sizeof sized + 8), SWU_ERR_INVALID_ARGUMENT, "newer swinunetr.h");
    REQUIRE_STATUS(swu_infer_params_init_size(&sized, 4), SWU_ERR_INVALID_ARGUMENT, "struct_size is 4");
    REQUIRE_STATUS(swu_backend_count(nullptr), SWU_ERR_INVALID_ARGUMENT, "count is NULL");
    REQUIRE_STATUS(swu_backend_get_info(0, nullptr), SWU_ERR_INVALID_ARGUMENT, "info is NULL");
    REQUIRE_STATUS(swu_backend_get_device(0, 0, nullptr), SWU_ERR_INVALID_ARGUMENT, "NULL");
    REQUIRE_STATUS(swu_get_max_voxels(nullptr), SWU_ERR_INVALID_ARGUMENT, "max_voxels is NULL");

    REQUIRE_STATUS(swu_model_create(nullptr, &m), SWU_ERR_INVALID_ARGUMENT, "params is NULL");
    REQUIRE_STATUS(swu_model_create(&mp, nullptr), SWU_ERR_INVALID_ARGUMENT, "model is NULL");
    REQUIRE_STATUS(swu_model_load_weights(nullptr, "x.pt"), SWU_ERR_INVALID_ARGUMENT, "model is NULL");
    REQUIRE_STATUS(swu_model_set_weights(nullptr, nullptr, 0), SWU_ERR_INVALID_ARGUMENT, "model is NULL");
    REQUIRE_STATUS(swu_model_get_info(nullptr, nullptr), SWU_ERR_INVALID_ARGUMENT, "model is NULL");
    REQUIRE_STATUS(swu_model_forward(nullptr, buf, shape, buf, 4), SWU_ERR_INVALID_ARGUMENT, "model is NULL");
    REQUIRE_STATUS(swu_model_forward_taps(nullptr, buf, shape, nullptr, 1), SWU_ERR_INVALID_ARGUMENT, "model is NULL");

    REQUIRE_STATUS(swu_volume_read(nullptr, &v), SWU_ERR_INVALID_ARGUMENT, "path is NULL");
    REQUIRE_STATUS(swu_volume_read("/tmp/x.nii", nullptr), SWU_ERR_INVALID_ARGUMENT, "volume is NULL");
    REQUIRE_STATUS(swu_volume_wrap(nullptr, &v), SWU_ERR_INVALID_ARGUMENT, "desc is NULL");
    REQUIRE_STATUS(swu_volume_wrap(&vd, nullptr), SWU_ERR_INVALID_ARGUMENT, "volume is NULL");
    REQUIRE_STATUS(swu_volume_get_info(nullptr, nullptr), SWU_ERR_INVALID_ARGUMENT, "volume is NULL");
    REQUIRE_STATUS(swu_volume_write(nullptr, "/tmp/x.nii"), SWU_ERR_INVALID_ARGUMENT, "volume is NULL");
    REQUIRE_STATUS(swu_infer(nullptr, nullptr, &ip, &v), SWU_ERR_INVALID_ARGUMENT, "model is NULL");

    ModelPtr model = f12_model();
    SmallCt ct(4, 4, 4, 1.0);
    REQUIRE_STATUS(swu_model_set_weights(model.get(), nullptr, 3), SWU_ERR_INVALID_ARGUMENT, "tensors is NULL");
    REQUIRE_STATUS(swu_model_get_info(model.get(), nullptr), SWU_ERR_INVALID_ARGUMENT, "info is NULL");
    REQUIRE_STATUS(swu_model_forward(model.get(), buf, shape, nullptr, 4), SWU_ERR_INVALID_ARGUMENT, "output is NULL");
    REQUIRE_STATUS(swu_model_forward_taps(model.get(), buf, shape, nullptr, 1), SWU_ERR_INVALID_ARGUMENT, "taps is NULL");
    REQUIRE_STATUS(swu_model_forward_taps(model.get(), buf, nullptr, nullptr, 1), SWU_ERR_INVALID_ARGUMENT, "NULL");
    swu_tap unnamed[1] = {};
    REQUIRE_STATUS(swu_model_forward_taps(model.get(), buf, shape, unnamed, 1), SWU_ERR_INVALID_ARGUMENT,
                   "taps[0].name is NULL");
    REQUIRE_STATUS(swu_model_forward_taps(model.get(), buf, shape, unnamed, 0), SWU_ERR_INVALID_ARGUMENT, "tap_count");
    swu_named_tensor nameless{};
    REQUIRE_STATUS(swu_model_set_weights(model.get(), &nameless, 1), SWU_ERR_INVALID_ARGUMENT, "name is NULL");
    int64_t dims[1] = {4};
    swu_named_tensor dataless{"x", SWU_DTYPE_FLOAT32, 1, dims, nullptr};
    REQUIRE_STATUS(swu_model_set_weights(model.get(), &dataless, 1), SWU_ERR_INVALID_ARGUMENT, "data is NULL");
    swu_named_tensor shapeless{"x", SWU_DTYPE_FLOAT32, 2, nullptr, buf};
    REQUIRE_STATUS(swu_model_set_weights(model.get(), &shapeless, 1), SWU_ERR_INVALID_ARGUMENT, "ndim/shape");
    REQUIRE_STATUS(swu_volume_get_info(ct.volume.get(), nullptr), SWU_ERR_INVALID_ARGUMENT, "info is NULL");
    REQUIRE_STATUS(swu_volume_write(ct.volume.get(), nullptr), SWU_ERR_INVALID_ARGUMENT, "path is NULL");
    REQUIRE_STATUS(swu_infer(model.get(), nullptr, &ip, &v), SWU_ERR_INVALID_ARGUMENT, "image is NULL");
    REQUIRE_STATUS(swu_infer(model.get(), ct.volume.get(), nullptr, &v), SWU_ERR_INVALID_ARGUMENT, "params is NULL");
    REQUIRE_STATUS(swu_infer(model.get(), ct.volume.get(), &ip, nullptr), SWU_ERR_INVALID_ARGUMENT, "labels is NULL");
    mp.backend = nullptr;
    REQUIRE_STATUS(swu_model_create(&mp, &m), SWU_ERR_INVALID_ARGUMENT, "params.backend is NULL");
    CHECK(m == nullptr);
    mp.backend = "auto";
    mp.device = "";
    REQUIRE_STATUS(swu_model_create(&mp, &m), SWU_ERR_INVALID_ARGUMENT, "params.device is NULL or empty");
    vd.data = nullptr;
    vd.size[0] = vd.size[1] = vd.size[2] = 2;
    REQUIRE_STATUS(swu_volume_wrap(&vd, &v), SWU_ERR_INVALID_ARGUMENT, "voxel data is NULL");
    CHECK(v == nullptr);

    // Freeing NULL is a no-op; a NULL log callback restores the default.
    swu_model_free(nullptr);
    swu_volume_free(nullptr);
    REQUIRE(swu_set_log_callback(nullptr, nullptr, SWU_LOG_WARNING) == SWU_OK);
    REQUIRE(swu_backend_count(&n) == SWU_OK);
    CHECK(std::string(swu_last_error()).empty());
    CHECK(forward_small(model.get()).size() == 14 * 32 * 32 * 32);
}

TEST_CASE("bad input: struct_size too small or too large is refused for every struct", "[unit][bad_input]") {
    ModelPtr model = f12_model();
    SmallCt ct(4, 4, 4, 1.0);
    swu_model* m = nullptr;
    swu_volume* v = nullptr;
    for (const uint32_t delta : {-4, -1, 1, 8, 4096}) {
        INFO("struct_size off by " << static_cast<int32_t>(delta));
        swu_model_params mp = params_for_built_backend();
        mp.struct_size += delta;
        REQUIRE_STATUS(swu_model_create(&mp, &m), SWU_ERR_INVALID_ARGUMENT, "swu_model_params.struct_size");
        swu_infer_params ip;
        swu_infer_params_init(&ip);
        ip.struct_size += delta;
        REQUIRE_STATUS(swu_infer(model.get(), ct.volume.get(), &ip, &v), SWU_ERR_INVALID_ARGUMENT,
                       "swu_infer_params.struct_size");
        swu_volume_desc d;
        swu_volume_desc_init(&d);
        d.struct_size += delta;
        REQUIRE_STATUS(swu_volume_wrap(&d, &v), SWU_ERR_INVALID_ARGUMENT, "swu_volume_desc.struct_size");
        swu_volume_info vi{};
        vi.struct_size = sizeof vi + delta;
        REQUIRE_STATUS(swu_volume_get_info(ct.volume.get(), &vi), SWU_ERR_INVALID_ARGUMENT, "swu_volume_info.struct_size");
        swu_model_info mi{};
        mi.struct_size = sizeof mi + delta;
        REQUIRE_STATUS(swu_model_get_info(model.get(), &mi), SWU_ERR_INVALID_ARGUMENT, "swu_model_info.struct_size");
        swu_backend_info bi{};
        bi.struct_size = sizeof bi + delta;
        REQUIRE_STATUS(swu_backend_get_info(0, &bi), SWU_ERR_INVALID_ARGUMENT, "struct_size");
        swu_device_info di{};
        di.struct_size = sizeof di + delta;
        REQUIRE_STATUS(swu_backend_get_device(0, 0, &di), SWU_ERR_INVALID_ARGUMENT, "struct_size");
    }
    swu_model_info mi{};
    mi.struct_size = 0;
    REQUIRE_STATUS(swu_model_get_info(model.get(), &mi), SWU_ERR_INVALID_ARGUMENT, "must be rebuilt");
    CHECK(forward_small(model.get()).size() == 14 * 32 * 32 * 32);
}

TEST_CASE("bad input: unknown enum values are refused by name", "[unit][bad_input]") {
    swu_model* m = nullptr;
    swu_model_params mp = params_for_built_backend();
    mp.precision = static_cast<swu_precision>(3);
    REQUIRE_STATUS(swu_model_create(&mp, &m), SWU_ERR_INVALID_ARGUMENT, "unknown precision 3");
    mp = params_for_built_backend();
    mp.precision = static_cast<swu_precision>(-1);
    REQUIRE_STATUS(swu_model_create(&mp, &m), SWU_ERR_INVALID_ARGUMENT, "unknown precision -1");
    mp = params_for_built_backend();
    mp.merging = static_cast<swu_merging>(17);
    REQUIRE_STATUS(swu_model_create(&mp, &m), SWU_ERR_INVALID_ARGUMENT, "unknown merging variant 17");
    mp = params_for_built_backend();
    mp.device = "gpu";
    REQUIRE_STATUS(swu_model_create(&mp, &m), SWU_ERR_INVALID_ARGUMENT, "device 'gpu'");
    mp.device = "cuda:x";
    REQUIRE_STATUS(swu_model_create(&mp, &m), SWU_ERR_INVALID_ARGUMENT, "device 'cuda:x'");
    mp = params_for_built_backend();
    mp.backend = "no-such-backend";
    REQUIRE_STATUS(swu_model_create(&mp, &m), SWU_ERR_BACKEND, "no backend named 'no-such-backend'");
    mp = params_for_built_backend();
    mp.threads = -2;
    REQUIRE_STATUS(swu_model_create(&mp, &m), SWU_ERR_INVALID_ARGUMENT, "threads");
    mp.threads = 100000;
    REQUIRE_STATUS(swu_model_create(&mp, &m), SWU_ERR_INVALID_ARGUMENT, "threads");
    CHECK(m == nullptr);

    REQUIRE_STATUS(swu_set_log_callback(nullptr, nullptr, static_cast<swu_log_level>(9)), SWU_ERR_INVALID_ARGUMENT, "level");
    CHECK(std::string(swu_status_string(static_cast<swu_status>(999))) == "unknown status");
    CHECK(std::string(swu_status_string(static_cast<swu_status>(-1))) == "unknown status");

    ModelPtr model = f12_model();
    SmallCt ct(4, 4, 4, 1.0);
    swu_volume* v = nullptr;
    swu_infer_params ip;
    swu_infer_params_init(&ip);
    ip.label_type = SWU_VOXEL_INT16;
    REQUIRE_STATUS(swu_infer(model.get(), ct.volume.get(), &ip, &v), SWU_ERR_INVALID_ARGUMENT, "label_type");
    ip.label_type = static_cast<swu_voxel_type>(42);
    REQUIRE_STATUS(swu_infer(model.get(), ct.volume.get(), &ip, &v), SWU_ERR_INVALID_ARGUMENT, "label_type");
    swu_infer_params_init(&ip);
    ip.blend = static_cast<swu_blend>(-3);
    REQUIRE_STATUS(swu_infer(model.get(), ct.volume.get(), &ip, &v), SWU_ERR_INVALID_ARGUMENT, "unknown blend mode -3");
    swu_infer_params_init(&ip);
    ip.sw_batch = 0;
    REQUIRE_STATUS(swu_infer(model.get(), ct.volume.get(), &ip, &v), SWU_ERR_INVALID_ARGUMENT, "sw_batch");
    swu_infer_params_init(&ip);
    ip.overlap = NAN;
    REQUIRE_STATUS(swu_infer(model.get(), ct.volume.get(), &ip, &v), SWU_ERR_INVALID_ARGUMENT, "overlap");
    swu_infer_params_init(&ip);
    ip.roi = -96;
    REQUIRE_STATUS(swu_infer(model.get(), ct.volume.get(), &ip, &v), SWU_ERR_INVALID_ARGUMENT, "roi");
    CHECK(v == nullptr);
    CHECK(forward_small(model.get()).size() == 14 * 32 * 32 * 32);
}

TEST_CASE("bad input: dimensions and the configurable voxel cap", "[unit][bad_input]") {
    int64_t cap = 0;
    REQUIRE(swu_get_max_voxels(&cap) == SWU_OK);
    CHECK(cap == (std::getenv("SWU_MAX_VOXELS") ? cap : SWU_DEFAULT_MAX_VOXELS));

    int16_t voxel[8] = {0};
    swu_volume_desc d;
    swu_volume_desc_init(&d);
    d.data = voxel;
    swu_volume* v = nullptr;
    for (const int64_t bad : {int64_t(0), int64_t(-1), int64_t(65537), INT64_MIN, INT64_MAX}) {
        d.size[0] = 2;
        d.size[1] = bad;
        d.size[2] = 2;
        INFO("size " << bad);
        REQUIRE_STATUS(swu_volume_wrap(&d, &v), SWU_ERR_INVALID_ARGUMENT, "outside 1..65536");
    }
    d.size[0] = d.size[1] = d.size[2] = 2;
    d.strides[0] = -1;
    d.strides[1] = 2;
    d.strides[2] = 4;
    REQUIRE_STATUS(swu_volume_wrap(&d, &v), SWU_ERR_INVALID_ARGUMENT, "strides");
    d.strides[0] = 0;
    REQUIRE_STATUS(swu_volume_wrap(&d, &v), SWU_ERR_INVALID_ARGUMENT, "strides");
    d.strides[0] = d.strides[1] = d.strides[2] = 0;
    d.spacing[0] = INFINITY;
    REQUIRE_STATUS(swu_volume_wrap(&d, &v), SWU_ERR_INVALID_ARGUMENT, "spacing");
    d.spacing[0] = 1;
    d.origin[2] = NAN;
    REQUIRE_STATUS(swu_volume_wrap(&d, &v), SWU_ERR_INVALID_ARGUMENT, "origin");
    d.origin[2] = 0;
    d.direction[1] = NAN;
    REQUIRE_STATUS(swu_volume_wrap(&d, &v), SWU_ERR_INVALID_ARGUMENT, "direction");
    d.direction[1] = 0;

    // The cap is configurable at run time and checked before anything is allocated.
    CapGuard guard(7);
    REQUIRE(swu_get_max_voxels(&cap) == SWU_OK);
    CHECK(cap == 7);
    REQUIRE_STATUS(swu_volume_wrap(&d, &v), SWU_ERR_OUT_OF_MEMORY, "exceeds the limit of 7 voxels");
    REQUIRE_STATUS(swu_set_max_voxels(-5), SWU_ERR_INVALID_ARGUMENT, "must be > 0");
    REQUIRE(swu_set_max_voxels(0) == SWU_OK);
    REQUIRE(swu_volume_wrap(&d, &v) == SWU_OK);
    swu_volume_free(v);
    v = nullptr;

    // A file whose header claims a huge image is refused before its voxels are read.
    const std::string claims_big = raw_nrrd("big.nrrd", "dimension: 3\nsizes: 60000 60000 60000\n", 64);
    REQUIRE_STATUS(swu_volume_read(claims_big.c_str(), &v), SWU_ERR_OUT_OF_MEMORY, "exceeds the limit of 2^31 voxels");
    REQUIRE(swu_set_max_voxels(1000) == SWU_OK);
    const std::string medium = raw_nrrd("medium.nrrd", "dimension: 3\nsizes: 20 20 20\n", 20 * 20 * 20 * 2);
    REQUIRE_STATUS(swu_volume_read(medium.c_str(), &v), SWU_ERR_OUT_OF_MEMORY, "exceeds the limit of 1000 voxels");
    REQUIRE(swu_set_max_voxels(0) == SWU_OK);
    REQUIRE(swu_volume_read(medium.c_str(), &v) == SWU_OK);
    swu_volume_free(v);
}

TEST_CASE("bad input: absurd requests fail cleanly instead of exhausting memory", "[unit][bad_input]") {
    ModelPtr model = f12_model();
    swu_volume* labels = nullptr;
    swu_infer_params ip;
    swu_infer_params_init(&ip);
    // 4 voxels of 1 m: fine as an image, but 1.5 mm resampling would need ~10^10 voxels.
    SmallCt huge_spacing(4, 4, 4, 1000.0);
    REQUIRE_STATUS(swu_infer(model.get(), huge_spacing.volume.get(), &ip, &labels), SWU_ERR_OUT_OF_MEMORY,
                   "resampled network grid");
    for (const double spacing : {1e5, 1e300}) {
        SmallCt absurd_spacing(4, 4, 4, spacing);
        const swu_status st = swu_infer(model.get(), absurd_spacing.volume.get(), &ip, &labels);
        INFO(swu_last_error());
        CHECK((st == SWU_ERR_OUT_OF_MEMORY || st == SWU_ERR_INVALID_ARGUMENT));
    }
    // The cap applies to the network grid too: 16 x 16 x 8 voxels of 3 mm make 31 x 31 x 12.
    SmallCt ct(16, 16, 8, 3.0);
    CapGuard guard(10000);
    REQUIRE_STATUS(swu_infer(model.get(), ct.volume.get(), &ip, &labels), SWU_ERR_OUT_OF_MEMORY,
                   "resampled network grid (1.5 x 1.5 x 2 mm) of 31 x 31 x 12 voxels exceeds the limit of 10000 voxels");
    REQUIRE(swu_set_max_voxels(0) == SWU_OK);
    CHECK(labels == nullptr);
    const int64_t absurd[5] = {INT64_MAX, 1, 32, 32, 32};
    float x[4] = {0}, y[4] = {0};
    REQUIRE_STATUS(swu_model_forward(model.get(), x, absurd, y, 4), SWU_ERR_INVALID_ARGUMENT, "batch");
    const int64_t overflow[5] = {1, 1, int64_t(1) << 40, int64_t(1) << 40, int64_t(1) << 40};
    CHECK(swu_model_forward(model.get(), x, overflow, y, 4) != SWU_OK);
    CHECK(std::string(swu_last_error()).size() > 10);
    CHECK(forward_small(model.get()).size() == 14 * 32 * 32 * 32);
}

TEST_CASE("bad input: NaN and infinite voxels and values", "[unit][bad_input]") {
    ModelPtr model = f12_model();
    float voxels[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    swu_volume_desc d;
    swu_volume_desc_init(&d);
    d.type = SWU_VOXEL_FLOAT32;
    d.data = voxels;
    d.size[0] = d.size[1] = d.size[2] = 2;
    swu_infer_params ip;
    swu_infer_params_init(&ip);
    for (const float bad : {INFINITY, -INFINITY, NAN}) {
        voxels[6] = bad;
        swu_volume* v = nullptr;
        REQUIRE(swu_volume_wrap(&d, &v) == SWU_OK);
        VolumePtr image(v);
        swu_volume* labels = nullptr;
        REQUIRE_STATUS(swu_infer(model.get(), image.get(), &ip, &labels), SWU_ERR_INVALID_ARGUMENT, "(0, 1, 1)");
        CHECK(labels == nullptr);
    }
    // Implausible NIfTI geometry is refused before ITK sees it (it made ITK 5.2 hang).
    const std::string hang = SWU_TEST_DATA_DIR "/regress/fuzz_volume_nifti/svd_hang_nonfinite_srow.nii";
    swu_volume* hv = nullptr;
    REQUIRE_STATUS(swu_volume_read(hang.c_str(), &hv), SWU_ERR_FORMAT, "srow value");
        CHECK(forward_small(model.get()).size() == 14 * 32 * 32 * 32);
}

TEST_CASE("bad input: 2D, 4D, vector and truncated volume files", "[unit][bad_input]") {
    swu_volume* v = nullptr;
    const std::string two_d = raw_nrrd("2d.nrrd", "dimension: 2\nsizes: 4 4\n", 32);
    REQUIRE_STATUS(swu_volume_read(two_d.c_str(), &v), SWU_ERR_INVALID_ARGUMENT, "2D image");
    const std::string one_slice = raw_nrrd("1slice.nrrd", "dimension: 3\nsizes: 4 4 1\n", 32);
    REQUIRE_STATUS(swu_volume_read(one_slice.c_str(), &v), SWU_ERR_INVALID_ARGUMENT, "2D image");
    const std::string four_d = raw_nrrd("4d.nrrd", "dimension: 4\nsizes: 4 4 4 3\n", 4 * 4 * 4 * 3 * 2);
    REQUIRE_STATUS(swu_volume_read(four_d.c_str(), &v), SWU_ERR_INVALID_ARGUMENT, "4D image");
    const std::string vector = raw_nrrd("vector.nrrd", "dimension: 4\nsizes: 3 4 4 4\nkinds: vector domain domain domain\n",
                                        4 * 4 * 4 * 3 * 2);
    REQUIRE_STATUS(swu_volume_read(vector.c_str(), &v), SWU_ERR_UNSUPPORTED, "3-component");
    const std::string truncated = raw_nrrd("truncated.nrrd", "dimension: 3\nsizes: 8 8 8\n", 100);
    REQUIRE_STATUS(swu_volume_read(truncated.c_str(), &v), SWU_ERR_FORMAT, "truncated.nrrd");
    const std::string empty_dir = temp_path("empty_dir");
    std::filesystem::create_directories(empty_dir);
    REQUIRE_STATUS(swu_volume_read(empty_dir.c_str(), &v), SWU_ERR_FORMAT, "no DICOM series");
    // A folder with something else than DICOM files is refused before GDCM parses it.
    const std::string mixed_dir = temp_path("mixed_dir");
    std::filesystem::create_directories(mixed_dir);
    std::ofstream(mixed_dir + "/notes.txt") << "not DICOM";
    REQUIRE_STATUS(swu_volume_read(mixed_dir.c_str(), &v), SWU_ERR_FORMAT, "not a DICOM Part 10 file");
    CHECK(v == nullptr);

    // A valid file written by the library, then cut at several lengths.
    SmallCt ct(8, 7, 6, 1.5);
    for (const char* ext : {".nii", ".nii.gz", ".nrrd", ".mha"}) {
        const std::string path = temp_path(std::string("whole") + ext);
        REQUIRE(swu_volume_write(ct.volume.get(), path.c_str()) == SWU_OK);
        const std::string bytes = read_text(path);
        for (const size_t keep : {size_t(0), size_t(10), bytes.size() / 2, bytes.size() - 1}) {
            // ITK's NRRD reader ignores the gzip trailer (CRC and length) after complete data.
            if (std::string(ext) == ".nrrd" && keep == bytes.size() - 1) continue;
            INFO(ext << " cut to " << keep << " of " << bytes.size() << " bytes");
            const std::string cut = write_file(std::string("cut") + ext, bytes.substr(0, keep));
            const swu_status st = swu_volume_read(cut.c_str(), &v);
            CHECK((st == SWU_ERR_FORMAT || st == SWU_ERR_INVALID_ARGUMENT));
            CHECK(std::string(swu_last_error()).find(cut) != std::string::npos);
            CHECK(v == nullptr);
        }
    }
}

TEST_CASE("bad input: truncated and mangled checkpoints through the C API", "[unit][bad_input]") {
    ModelPtr model = f12_model();
    const std::vector<float> before = forward_small(model.get());
    const std::string bytes = read_text(golden_path("net_f12/model.pt"));
    REQUIRE(bytes.size() > 1000);
    for (const size_t keep : {size_t(1), size_t(100), bytes.size() / 3, bytes.size() - 22, bytes.size() - 1}) {
        INFO("cut to " << keep);
        const std::string cut = write_file("cut.pt", bytes.substr(0, keep));
        REQUIRE_STATUS(swu_model_load_weights(model.get(), cut.c_str()), SWU_ERR_FORMAT, cut);
    }
    REQUIRE_STATUS(swu_model_load_weights(model.get(), "/tmp"), SWU_ERR_IO, "not a regular file");
    REQUIRE_STATUS(swu_model_load_weights(model.get(), SWU_TEST_DATA_DIR "/checkpoints/evil_eval.pt"), SWU_ERR_FORMAT,
                   "refused pickle global");
    REQUIRE_STATUS(swu_model_load_weights(model.get(), SWU_TEST_DATA_DIR "/checkpoints/torchscript.pt"), SWU_ERR_FORMAT,
                   "TorchScript");
    // Valid checkpoints of other things: half/bfloat16 views of a small network.
    REQUIRE_STATUS(swu_model_load_weights(model.get(), SWU_TEST_DATA_DIR "/checkpoints/half_bf16.pt"), SWU_ERR_WEIGHTS, "");
    CHECK(forward_small(model.get()) == before);
}

// ---- a plugin that returns garbage ---------------------------------------------------

namespace {

struct Misbehave {
    explicit Misbehave(const char* fault) { ::setenv("SWU_TEST_MISBEHAVE", fault, 1); }
    ~Misbehave() { ::unsetenv("SWU_TEST_MISBEHAVE"); }
};

}  // namespace

TEST_CASE("bad input: a plugin returning garbage statuses and messages cannot hurt the host", "[unit][bad_input]") {
    REQUIRE(swu_backends_load(nullptr, nullptr) == SWU_OK);  // the real backends first
    REQUIRE(swu_backends_load(SWU_TEST_MISBEHAVING_PLUGIN_DIR, nullptr) == SWU_OK);
    swu_model_params p = params_for_built_backend();
    p.backend = "misbehaving";
    ModelPtr m = create_model(p);
    const std::string weights = golden_path("net_f12/model.pt");
    {
        Misbehave f("create_garbage");
        REQUIRE_STATUS(swu_model_load_weights(m.get(), weights.c_str()), SWU_ERR_BACKEND, "returned status 12345");
    }
    {
        Misbehave f("create_null");
        REQUIRE_STATUS(swu_model_load_weights(m.get(), weights.c_str()), SWU_ERR_BACKEND, "no instance");
    }
    {
        Misbehave f("load_busy");
        REQUIRE_STATUS(swu_model_load_weights(m.get(), weights.c_str()), SWU_ERR_BACKEND, "pretends to be busy");
    }
    CHECK(model_info(m.get()).weights_loaded == 0);
    REQUIRE(swu_model_load_weights(m.get(), weights.c_str()) == SWU_OK);
    std::vector<float> x(32 * 32 * 32, 0.5f), y(14 * x.size(), 1.0f);
    {
        Misbehave f("forward_garbage");
        REQUIRE_STATUS(swu_model_forward(m.get(), x.data(), kSmall, y.data(), y.size()), SWU_ERR_BACKEND,
                       "garbage status from forward (the plugin returned status -7)");
    }
    {
        Misbehave f("forward_unterminated");
        REQUIRE_STATUS(swu_model_forward(m.get(), x.data(), kSmall, y.data(), y.size()), SWU_ERR_BACKEND, "EEEE");
        CHECK(std::string(swu_last_error()).size() < 1200);
    }
    {
        Misbehave f("forward_empty");
        REQUIRE_STATUS(swu_model_forward(m.get(), x.data(), kSmall, y.data(), y.size()), SWU_ERR_INTERNAL,
                       "failed without a message");
    }
    REQUIRE(swu_model_forward(m.get(), x.data(), kSmall, y.data(), y.size()) == SWU_OK);
    CHECK(y[0] == 0.0f);
    // Tensors a plugin exports are checked before they are copied (an ndim of 99 read
    // past the shape array, a huge shape allocated without bound, NULL data crashed).
    auto ignore = [](const swu_named_tensor*, void*) -> int { return 0; };
    for (const char* f : {"export_ndim", "export_huge", "export_null", "export_shape"}) {
        Misbehave fault_on(f);
        INFO(f);
        REQUIRE_STATUS(swu_model_export_tensors(m.get(), SWU_TENSORS_WEIGHTS, ignore, nullptr), SWU_ERR_BACKEND,
                       std::string(f) == "export_shape" ? "expected [" : "malformed tensor");
    }
    // Device strings the plugin left unterminated come back cut, not overrun.
    size_t n = 0;
    REQUIRE(swu_backend_count(&n) == SWU_OK);
    for (size_t i = 0; i < n; ++i) {
        swu_backend_info b{};
        b.struct_size = sizeof b;
        REQUIRE(swu_backend_get_info(i, &b) == SWU_OK);
        if (std::string(b.name) != "misbehaving") continue;
        swu_device_info d{};
        d.struct_size = sizeof d;
        REQUIRE(swu_backend_get_device(i, 0, &d) == SWU_OK);
        CHECK(std::strlen(d.name) == 63);
        CHECK(std::strlen(d.description) == 191);
    }
    // The real backends are unaffected; "auto" never picks the test plugin.
    ModelPtr real = f12_model();
    CHECK(forward_small(real.get()).size() == 14 * 32 * 32 * 32);
    swu_model_params a = params_for_built_backend();
    a.backend = "auto";
    ModelPtr chosen = create_model(a);
    CHECK(std::string(model_info(chosen.get()).backend) != "misbehaving");
}

// ---- cancellation at every progress call ------------------------------------------------

namespace {

// Counts the distinct reports: while the network computes, the last report is asked
// again (a variable number of times), and those repeats answer as the report itself did.
struct CancelAtCall {
    int cancel_at;
    int calls = 0;
    int64_t last[3] = {-1, -1, -1};
};

int cancel_at_call(swu_stage stage, int64_t done, int64_t total, void* user) {
    auto* c = static_cast<CancelAtCall*>(user);
    const bool repeat = c->last[0] == stage && c->last[1] == done && c->last[2] == total;
    c->last[0] = stage;
    c->last[1] = done;
    c->last[2] = total;
    if (!repeat) ++c->calls;
    return c->calls - 1 == c->cancel_at ? 1 : 0;
}

}  // namespace

TEST_CASE("bad input: cancelling at each single progress call returns nothing and leaves the model usable",
          "[unit][bad_input]") {
    ModelPtr model = f12_model();
    // 16 x 16 x 8 voxels of 3 mm: a 32 x 32 x 12 network grid, one 32^3 window.
    SmallCt ct(16, 16, 8, 3.0);
    swu_infer_params p;
    swu_infer_params_init(&p);
    p.roi = 32;
    CancelAtCall count{-1};
    p.progress = cancel_at_call;
    p.progress_user_data = &count;
    swu_volume* reference = nullptr;
    REQUIRE(swu_infer(model.get(), ct.volume.get(), &p, &reference) == SWU_OK);
    VolumePtr expected(reference);
    REQUIRE(count.calls >= 4);
    for (int n = 0; n < count.calls; ++n) {
        INFO("cancel at progress call " << n << " of " << count.calls);
        CancelAtCall cancel{n};
        p.progress_user_data = &cancel;
        swu_volume* labels = reinterpret_cast<swu_volume*>(0x1);
        REQUIRE_STATUS(swu_infer(model.get(), ct.volume.get(), &p, &labels), SWU_ERR_CANCELLED, "cancelled");
        CHECK(labels == nullptr);
    }
    p.progress = nullptr;
    swu_volume* again = nullptr;
    REQUIRE(swu_infer(model.get(), ct.volume.get(), &p, &again) == SWU_OK);
    VolumePtr after(again);
    swu_volume_info a{}, b{};
    a.struct_size = b.struct_size = sizeof a;
    REQUIRE(swu_volume_get_info(expected.get(), &a) == SWU_OK);
    REQUIRE(swu_volume_get_info(after.get(), &b) == SWU_OK);
    CHECK(std::memcmp(a.data, b.data, 16 * 16 * 8) == 0);
}
