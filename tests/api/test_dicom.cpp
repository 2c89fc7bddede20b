// DICOM through the C API: choosing and checking a series, and DICOM SEG and RT Structure
// Set output that dciodvfy (dicom3tools) accepts and pydicom reads back to the label map
// written.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#include "api_helpers.hpp"
#include "cli_run.hpp"
#include "golden.hpp"

using namespace swu_test;
namespace fs = std::filesystem;

namespace {

const std::string kPython = "/usr/bin/python3";
const std::string kScripts = SWU_TEST_DICOM_SCRIPTS;
// pydicom's test data (Debian python3-pydicom): a real CT series of 5 slices of 16 x 16.
const std::string kPydicomCt = "/usr/lib/python3/dist-packages/pydicom/data/test_files/dicomdirtests/98892001/CT5N";

// Writes a synthetic series with tests/dicom/make_series.py; returns the UIDs it printed.
std::vector<std::string> make_series(const std::string& folder, const std::string& which) {
    fs::remove_all(folder);
    const CliRun r = run_command(kPython + " " + kScripts + "/make_series.py " + folder + " " + which);
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    std::vector<std::string> uids;
    std::istringstream in(r.output);
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) uids.push_back(line);
    return uids;
}

swu_volume_info info_of(const swu_volume* v) {
    swu_volume_info i{};
    i.struct_size = sizeof i;
    REQUIRE(swu_volume_get_info(v, &i) == SWU_OK);
    return i;
}

VolumePtr read_dicom(const std::string& folder, const char* uid, swu_dicom_series_info* si = nullptr) {
    swu_volume* v = nullptr;
    const swu_status st = swu_volume_read_dicom(folder.c_str(), uid, &v, si);
    INFO(swu_last_error());
    REQUIRE(st == SWU_OK);
    return VolumePtr(v);
}

// Labels in the geometry of `image`: the caller's buffer, wrapped.
VolumePtr wrap_labels(const swu_volume_info& image, const std::vector<uint8_t>& labels) {
    swu_volume_desc d;
    swu_volume_desc_init(&d);
    d.type = SWU_VOXEL_UINT8;
    d.data = labels.data();
    for (int a = 0; a < 3; ++a) {
        d.size[a] = image.size[a];
        d.spacing[a] = image.spacing[a];
        d.origin[a] = image.origin[a];
    }
    std::copy(image.direction, image.direction + 9, d.direction);
    swu_volume* v = nullptr;
    REQUIRE(swu_volume_wrap(&d, &v) == SWU_OK);
    return VolumePtr(v);
}

// dciodvfy's report on a file; its errors are lines that start with "Error".
std::string dciodvfy_errors(const std::string& path, std::string* report = nullptr) {
    const CliRun r = run_command("dciodvfy " + path);
    if (report) *report = r.output;
    REQUIRE(r.exit_code != 127);  // dicom3tools is in scripts/install-deps.sh
    std::string errors;
    std::istringstream in(r.output);
    for (std::string line; std::getline(in, line);)
        if (line.rfind("Error", 0) == 0) errors += line + "\n";
    return errors;
}

// Verifies `seg` with tests/dicom/check_seg.py against the label map written.
void check_with_pydicom(const std::string& seg, const std::string& folder, const std::string& uid,
                        const std::vector<uint8_t>& labels, const swu_volume_info& g) {
    const std::string raw = seg + ".labels.raw";
    std::ofstream(raw, std::ios::binary).write(reinterpret_cast<const char*>(labels.data()), static_cast<long>(labels.size()));
    const CliRun r = run_command(kPython + " " + kScripts + "/check_seg.py " + seg + " " + folder + " " + uid + " " + raw + " " +
                                 std::to_string(g.size[0]) + " " + std::to_string(g.size[1]) + " " + std::to_string(g.size[2]));
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(contains(r.output, "OK "));
}

// The oblique series' axes, as make_series.py builds them: Rx(20 deg) * Rz(30 deg).
std::array<double, 9> oblique_direction() {
    const double a = 30 * M_PI / 180, b = 20 * M_PI / 180;
    const double rz[3][3] = {{std::cos(a), -std::sin(a), 0}, {std::sin(a), std::cos(a), 0}, {0, 0, 1}};
    const double rx[3][3] = {{1, 0, 0}, {0, std::cos(b), -std::sin(b)}, {0, std::sin(b), std::cos(b)}};
    std::array<double, 9> r{};
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j)
            for (int k = 0; k < 3; ++k) r[i * 3 + j] += rx[i][k] * rz[k][j];
    return r;  // columns: row direction, column direction, normal
}

}  // namespace

TEST_CASE("dicom: the largest CT series of a folder is read, with its oblique geometry", "[unit]") {
    const std::string folder = "/tmp/swu_dicom_oblique";
    const std::vector<std::string> uids = make_series(folder, "oblique");
    REQUIRE(uids.size() == 3);  // main CT (6 slices), small CT (3), MR (9)

    swu_dicom_series_info si{};
    si.struct_size = sizeof si;
    // Log lines at info and above carry no UID (SECURITY.md, "Logging").
    std::vector<std::string> lines;
    swu_set_log_callback([](swu_log_level, const char* m, void* u) { static_cast<std::vector<std::string>*>(u)->push_back(m); },
                         &lines, SWU_LOG_INFO);
    VolumePtr v = read_dicom(folder, nullptr, &si);
    swu_set_log_callback(nullptr, nullptr, SWU_LOG_WARNING);
    CHECK_FALSE(lines.empty());
    for (const std::string& line : lines)
        for (const std::string& uid : uids) {
            INFO(line);
            CHECK_FALSE(contains(line, uid));
        }
    CHECK(std::string(si.series_uid) == uids[0]);
    CHECK(std::string(si.modality) == "CT");
    CHECK(si.slice_count == 6);
    CHECK(si.series_in_folder == 3);
    const swu_volume_info i = info_of(v.get());
    CHECK(i.size[0] == 20);
    CHECK(i.size[1] == 16);
    CHECK(i.size[2] == 6);
    CHECK(i.spacing[0] == Approx(0.7));
    CHECK(i.spacing[1] == Approx(0.8));
    CHECK(i.spacing[2] == Approx(2.5).margin(1e-5));
    CHECK(i.origin[0] == Approx(-40.0));
    CHECK(i.origin[1] == Approx(-30.0));
    CHECK(i.origin[2] == Approx(12.5));
    const std::array<double, 9> r = oblique_direction();
    for (int e = 0; e < 9; ++e) CHECK(i.direction[e] == Approx(r[e]).margin(1e-6));
    // Stored value 10 k + j + 100 i (mod 1000), rescaled by -1024; files were named out of order.
    const float* hu = static_cast<const float*>(i.data);
    for (int64_t k = 0; k < 6; ++k)
        for (int64_t j = 0; j < 16; j += 5)
            for (int64_t ii = 0; ii < 20; ii += 3)
                CHECK(hu[ii + 20 * (j + 16 * k)] == static_cast<float>((10 * k + j + 100 * ii) % 1000 - 1024));

    // By SeriesInstanceUID: exactly, never by prefix; an MR series is refused.
    VolumePtr small = read_dicom(folder, uids[1].c_str());
    CHECK(info_of(small.get()).size[2] == 3);
    swu_volume* none = nullptr;
    REQUIRE_STATUS(swu_volume_read_dicom(folder.c_str(), uids[0].substr(0, 20).c_str(), &none, nullptr),
                   SWU_ERR_INVALID_ARGUMENT, "no series with SeriesInstanceUID");
    CHECK(contains(swu_last_error(), uids[2]));  // the message lists what the folder holds
    REQUIRE_STATUS(swu_volume_read_dicom(folder.c_str(), uids[2].c_str(), &none, nullptr), SWU_ERR_UNSUPPORTED,
                   "has modality 'MR'");
    CHECK(none == nullptr);
    REQUIRE_STATUS(swu_volume_read_dicom("/nonexistent", nullptr, &none, nullptr), SWU_ERR_IO, "not a folder");
}

TEST_CASE("dicom: irregular series are refused with a message that says why", "[unit]") {
    struct Case {
        const char* name;
        swu_status status;
        const char* needle;
    };
    for (const Case& c : {Case{"duplicate", SWU_ERR_FORMAT, "duplicated slices at position"},
                          Case{"missing", SWU_ERR_FORMAT, "1 slice(s) missing between positions 15.000 and 20.000 mm"},
                          Case{"uneven", SWU_ERR_UNSUPPORTED, "non-uniform slice spacing"},
                          Case{"tilt", SWU_ERR_UNSUPPORTED, "not stacked along their normal"},
                          Case{"mr", SWU_ERR_UNSUPPORTED, "no CT series in the folder (found MR)"}}) {
        SECTION(c.name) {
            const std::string folder = std::string("/tmp/swu_dicom_") + c.name;
            make_series(folder, c.name);
            swu_volume* v = nullptr;
            REQUIRE_STATUS(swu_volume_read_dicom(folder.c_str(), nullptr, &v, nullptr), c.status, c.needle);
            CHECK(v == nullptr);
            // swu_volume_read on the folder applies the same checks.
            REQUIRE_STATUS(swu_volume_read(folder.c_str(), &v), c.status, c.needle);
        }
    }
}

#if SWU_TEST_DICOM_SEG  // built with DCMTK

TEST_CASE("dicom seg: an oblique series' labels round-trip through pydicom, and dciodvfy finds no error", "[unit]") {
    const std::string folder = "/tmp/swu_dicom_seg_source";
    const std::vector<std::string> uids = make_series(folder, "oblique");
    VolumePtr image = read_dicom(folder, nullptr);
    const swu_volume_info g = info_of(image.get());
    // Slice 0 empty; 1: liver; 2-4: both kidneys, left adrenal, portal vein; 5: spleen.
    std::vector<uint8_t> labels(static_cast<size_t>(g.size[0] * g.size[1] * g.size[2]), 0);
    auto at = [&](int64_t i, int64_t j, int64_t k) -> uint8_t& { return labels[static_cast<size_t>(i + g.size[0] * (j + g.size[1] * k))]; };
    for (int64_t j = 2; j < 12; ++j)
        for (int64_t i = 3; i < 15; ++i) at(i, j, 1) = 6;
    for (int64_t k = 2; k <= 4; ++k)
        for (int64_t j = 4; j < 9; ++j) {
            for (int64_t i = 1; i < 6; ++i) at(i, j, k) = 2;
            for (int64_t i = 13; i < 18; ++i) at(i, j, k) = 3;
            at(9, j, k) = 10;
        }
    at(16, 12, 3) = 13;
    at(0, 0, 5) = 1;
    at(19, 15, 5) = 1;
    VolumePtr l = wrap_labels(g, labels);

    const std::string out_dir = "/tmp/swu_dicom_seg_out";
    fs::remove_all(out_dir);
    fs::create_directories(out_dir);
    const std::string seg = out_dir + "/seg.dcm";
    swu_dicom_seg_params p;
    REQUIRE(swu_dicom_seg_params_init(&p) == SWU_OK);
    p.series_description = "organs (test)";
    p.series_number = 77;
    {
        INFO(swu_last_error());
        REQUIRE(swu_volume_write_dicom_seg(l.get(), folder.c_str(), nullptr, seg.c_str(), &p) == SWU_OK);
    }
    std::string report;
    const std::string errors = dciodvfy_errors(seg, &report);
    INFO("dciodvfy:\n" << report);
    CHECK(errors.empty());
    check_with_pydicom(seg, folder, uids[0], labels, g);

    // Failures leave nothing behind.
    const std::string never = out_dir + "/never.dcm";
    std::vector<uint8_t> empty(labels.size(), 0);
    VolumePtr e = wrap_labels(g, empty);
    REQUIRE_STATUS(swu_volume_write_dicom_seg(e.get(), folder.c_str(), nullptr, never.c_str(), nullptr), SWU_ERR_INVALID_ARGUMENT,
                   "holds no organ");
    std::vector<uint8_t> bad = labels;
    bad[5] = 14;
    VolumePtr b = wrap_labels(g, bad);
    REQUIRE_STATUS(swu_volume_write_dicom_seg(b.get(), folder.c_str(), nullptr, never.c_str(), nullptr), SWU_ERR_INVALID_ARGUMENT,
                   "label value 14");
    swu_volume_info moved = g;
    moved.origin[2] += 1.0;
    VolumePtr m = wrap_labels(moved, labels);
    REQUIRE_STATUS(swu_volume_write_dicom_seg(m.get(), folder.c_str(), nullptr, never.c_str(), nullptr), SWU_ERR_INVALID_ARGUMENT,
                   "not on the grid of DICOM series");
    REQUIRE_STATUS(swu_volume_write_dicom_seg(l.get(), folder.c_str(), uids[1].c_str(), never.c_str(), nullptr),
                   SWU_ERR_INVALID_ARGUMENT, "not on the grid");
    p.content_label = "lower case";
    REQUIRE_STATUS(swu_volume_write_dicom_seg(l.get(), folder.c_str(), nullptr, never.c_str(), &p), SWU_ERR_INVALID_ARGUMENT,
                   "content_label");
    REQUIRE_STATUS(swu_volume_write_dicom_seg(l.get(), folder.c_str(), nullptr, "/nonexistent/seg.dcm", nullptr), SWU_ERR_IO,
                   "cannot write DICOM SEG");
    // Neither never.dcm nor a temporary (.swu-partial-*) file was left.
    size_t left = 0;
    for (const auto& entry : fs::directory_iterator(out_dir))
        left += entry.path().extension() == ".dcm" || entry.path().filename().string()[0] == '.';
    CHECK(left == 1);  // seg.dcm

    // A file GDCM would abort on, dropped into the folder after it was read (a receiver
    // still writing, say): the SEG writer's scan refuses it, and so does a read of the
    // file alone. Both aborted the process before.
    const std::string bad_file = std::string(SWU_TEST_DATA_DIR) + "/regress/fuzz_volume_dicom/gdcm_assert_truncated_meta.dcm";
    fs::copy_file(bad_file, folder + "/zz_late.dcm");
    REQUIRE_STATUS(swu_volume_write_dicom_seg(l.get(), folder.c_str(), nullptr, never.c_str(), nullptr), SWU_ERR_FORMAT,
                   "zz_late.dcm");
    CHECK(!fs::exists(never));
    swu_volume* single = nullptr;
    REQUIRE_STATUS(swu_volume_read(bad_file.c_str(), &single), SWU_ERR_FORMAT, "not a readable image");
    CHECK(single == nullptr);
}

namespace {

// Verifies `rtstruct` with tests/dicom/check_rtstruct.py against the label map written:
// references, ROIs and codes, and the contours filled again cover each organ's voxels.
void check_rtstruct_with_pydicom(const std::string& rtstruct, const std::string& folder, const std::string& uid,
                                 const std::vector<uint8_t>& labels, const swu_volume_info& g) {
    const std::string raw = rtstruct + ".labels.raw";
    std::ofstream(raw, std::ios::binary).write(reinterpret_cast<const char*>(labels.data()), static_cast<long>(labels.size()));
    const CliRun r = run_command(kPython + " " + kScripts + "/check_rtstruct.py " + rtstruct + " " + folder + " " + uid + " " + raw +
                                 " " + std::to_string(g.size[0]) + " " + std::to_string(g.size[1]) + " " + std::to_string(g.size[2]));
    INFO(r.output);
    CHECK(r.exit_code == 0);
    // The contours run along pixel borders: filled again, they are the label map itself.
    CHECK(contains(r.output, "the label map exactly"));
}

}  // namespace

TEST_CASE("dicom rtstruct: holes, islands and corner-touching pixels on an oblique series, checked by pydicom and dciodvfy",
          "[unit]") {
    const std::string folder = "/tmp/swu_dicom_rtstruct_source";
    const std::vector<std::string> uids = make_series(folder, "contours");
    VolumePtr image = read_dicom(folder, nullptr);
    const swu_volume_info g = info_of(image.get());
    REQUIRE(g.size[0] == 64);
    REQUIRE(g.size[1] == 48);
    std::vector<uint8_t> labels(static_cast<size_t>(g.size[0] * g.size[1] * g.size[2]), 0);
    auto at = [&](int64_t i, int64_t j, int64_t k) -> uint8_t& { return labels[static_cast<size_t>(i + g.size[0] * (j + g.size[1] * k))]; };
    for (int64_t k = 0; k < g.size[2]; ++k)
        for (int64_t j = 0; j < g.size[1]; ++j)
            for (int64_t i = 0; i < g.size[0]; ++i) {
                const double r = std::hypot(i - 20.0, j - 22.0);
                // Liver: a disc with a hole (slices 1-3), and in the hole an island of liver
                // (slice 2) around a smaller hole holding the stomach.
                if (r < 14 && (k == 0 || k == 4 || r >= 8)) at(i, j, k) = 6;
                if (k == 2 && r < 5) at(i, j, k) = r < 2 ? 7 : 6;
                // Spleen: three islands per slice, one on the image's edge.
                if ((i >= 40 && i < 44 && j >= 5 && j < 9) || (i >= 47 && i < 50 && j >= 12 && j < 20) ||
                    (i >= 58 && j >= 30 && j < 36))
                    at(i, j, k) = 1;
                // Pancreas: a checkerboard, pixels touching only at corners.
                if (i >= 40 && i < 52 && j >= 38 && j < 46 && (i + j + k) % 2 == 0) at(i, j, k) = 11;
            }
    // Aorta: one shape whose ends touch at a corner (its border pinches there).
    for (int64_t i = 2; i < 6; ++i) at(i, 40, 1) = at(i, 44, 1) = 8;
    for (int64_t j = 40; j < 45; ++j) at(2, j, 1) = 8;
    at(5, 41, 1) = at(5, 42, 1) = 8;
    at(6, 43, 1) = 8;
    at(6, 44, 1) = 8;
    at(63, 47, 4) = 13;  // a single voxel in the last corner
    VolumePtr l = wrap_labels(g, labels);

    const std::string out_dir = "/tmp/swu_dicom_rtstruct_out";
    fs::remove_all(out_dir);
    fs::create_directories(out_dir);
    const std::string rtstruct = out_dir + "/organs.rtstruct.dcm";
    swu_dicom_seg_params p;
    REQUIRE(swu_dicom_seg_params_init(&p) == SWU_OK);
    p.series_description = "contours (test)";
    p.content_creator = "Test^Operator";
    {
        INFO(swu_last_error());
        REQUIRE(swu_volume_write_dicom_rtstruct(l.get(), folder.c_str(), nullptr, rtstruct.c_str(), &p) == SWU_OK);
    }
    std::string report;
    const std::string errors = dciodvfy_errors(rtstruct, &report);
    INFO("dciodvfy:\n" << report);
    CHECK(errors.empty());
    check_rtstruct_with_pydicom(rtstruct, folder, uids[0], labels, g);

    // Refused as the SEG is, and nothing is left behind.
    const std::string never = out_dir + "/never.dcm";
    std::vector<uint8_t> empty(labels.size(), 0);
    VolumePtr e = wrap_labels(g, empty);
    REQUIRE_STATUS(swu_volume_write_dicom_rtstruct(e.get(), folder.c_str(), nullptr, never.c_str(), nullptr),
                   SWU_ERR_INVALID_ARGUMENT, "holds no organ");
    std::vector<uint8_t> bad = labels;
    bad[7] = 200;
    VolumePtr b = wrap_labels(g, bad);
    REQUIRE_STATUS(swu_volume_write_dicom_rtstruct(b.get(), folder.c_str(), nullptr, never.c_str(), nullptr),
                   SWU_ERR_INVALID_ARGUMENT, "RTSTRUCT: label value 200");
    swu_volume_info moved = g;
    moved.spacing[0] *= 2;
    VolumePtr m = wrap_labels(moved, labels);
    REQUIRE_STATUS(swu_volume_write_dicom_rtstruct(m.get(), folder.c_str(), nullptr, never.c_str(), nullptr),
                   SWU_ERR_INVALID_ARGUMENT, "not on the grid of DICOM series");
    p.content_label = "lower case";
    REQUIRE_STATUS(swu_volume_write_dicom_rtstruct(l.get(), folder.c_str(), nullptr, never.c_str(), &p),
                   SWU_ERR_INVALID_ARGUMENT, "content_label");
    REQUIRE_STATUS(swu_volume_write_dicom_rtstruct(l.get(), folder.c_str(), nullptr, "/nonexistent/x.rtstruct.dcm", nullptr),
                   SWU_ERR_IO, "cannot write RTSTRUCT");
    REQUIRE_STATUS(swu_volume_write_dicom_rtstruct(nullptr, folder.c_str(), nullptr, never.c_str(), nullptr),
                   SWU_ERR_INVALID_ARGUMENT, "labels");
    size_t left = 0;
    for (const auto& entry : fs::directory_iterator(out_dir)) left += entry.path().extension() == ".dcm" || entry.path().filename().string()[0] == '.';
    CHECK(left == 1);  // organs.rtstruct.dcm
}

TEST_CASE("dicom seg and rtstruct: over pydicom's real CT series", "[unit]") {
    swu_dicom_series_info si{};
    si.struct_size = sizeof si;
    VolumePtr image = read_dicom(kPydicomCt, nullptr, &si);
    const swu_volume_info g = info_of(image.get());
    // Liver where the CT is denser than -100 HU (ragged, with holes), a right kidney block
    // on slices 1..3.
    std::vector<uint8_t> labels(static_cast<size_t>(g.size[0] * g.size[1] * g.size[2]), 0);
    const float* hu = static_cast<const float*>(g.data);
    for (size_t n = 0; n < labels.size(); ++n) labels[n] = hu[n] > -100 ? 6 : 0;
    for (int64_t k = 1; k <= 3; ++k)
        for (int64_t j = 2; j < 6; ++j)
            for (int64_t i = 2; i < 6; ++i) labels[static_cast<size_t>(i + 16 * (j + 16 * k))] = 2;
    VolumePtr l = wrap_labels(g, labels);
    const std::string seg = "/tmp/swu_dicom_ct5n_seg.dcm", rtstruct = "/tmp/swu_dicom_ct5n.rtstruct.dcm";
    fs::remove(seg);
    fs::remove(rtstruct);
    {
        INFO(swu_last_error());
        REQUIRE(swu_volume_write_dicom_seg(l.get(), kPydicomCt.c_str(), si.series_uid, seg.c_str(), nullptr) == SWU_OK);
        REQUIRE(swu_volume_write_dicom_rtstruct(l.get(), kPydicomCt.c_str(), si.series_uid, rtstruct.c_str(), nullptr) == SWU_OK);
    }
    for (const std::string& file : {seg, rtstruct}) {
        std::string report;
        const std::string errors = dciodvfy_errors(file, &report);
        INFO(file << ": dciodvfy:\n" << report);
        CHECK(errors.empty());
    }
    check_with_pydicom(seg, kPydicomCt, si.series_uid, labels, g);
    check_rtstruct_with_pydicom(rtstruct, kPydicomCt, si.series_uid, labels, g);
}

TEST_CASE("cli segment: a DICOM folder in, a DICOM SEG or an RTSTRUCT out", "[unit]") {
    const std::string dir = "/tmp/swu_cli_dicom_seg";
    fs::remove_all(dir);
    fs::create_directories(dir);
    const std::string cli = SWU_CLI_PATH;
    // 64^3 windows: one window covers the small series, and the test stays quick under ASan.
    const std::string weights = " --weights " + golden_path("net_f12/model.pt") + " --threads 2 --roi 64 --overlap 0";
    // The same run writes the label map (reference) and the SEG (labels are deterministic).
    CliRun r = run_command(cli + " segment " + kPydicomCt + " " + dir + "/labels.nii.gz" + weights);
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(contains(r.output, "DICOM series 1.3.6.1.4.1.5962.1.1.0.0.0.1194734704.16302.0.6 (CT, 5 slices; 1 series in the folder)"));
    r = run_command(cli + " segment " + kPydicomCt + " " + dir + "/seg.dcm" + weights);
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    REQUIRE(fs::exists(dir + "/seg.dcm"));
    std::string report;
    const std::string errors = dciodvfy_errors(dir + "/seg.dcm", &report);
    INFO("dciodvfy:\n" << report);
    CHECK(errors.empty());
    VolumePtr labels = [&] {
        swu_volume* v = nullptr;
        REQUIRE(swu_volume_read((dir + "/labels.nii.gz").c_str(), &v) == SWU_OK);
        return VolumePtr(v);
    }();
    const swu_volume_info g = info_of(labels.get());
    std::vector<uint8_t> map(static_cast<size_t>(g.size[0] * g.size[1] * g.size[2]));
    REQUIRE(g.type == SWU_VOXEL_UINT8);  // a uint8 file stays uint8
    std::copy_n(static_cast<const uint8_t*>(g.data), map.size(), map.begin());
    check_with_pydicom(dir + "/seg.dcm", kPydicomCt, "1.3.6.1.4.1.5962.1.1.0.0.0.1194734704.16302.0.6", map, g);

    // An RT Structure Set by its name, of the same labels.
    r = run_command(cli + " segment " + kPydicomCt + " " + dir + "/organs.rtstruct.dcm" + weights);
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(dciodvfy_errors(dir + "/organs.rtstruct.dcm", &report).empty());
    INFO("dciodvfy:\n" << report);
    check_rtstruct_with_pydicom(dir + "/organs.rtstruct.dcm", kPydicomCt, "1.3.6.1.4.1.5962.1.1.0.0.0.1194734704.16302.0.6", map, g);

    // --format and --series are checked; a file input cannot give a SEG or an RTSTRUCT.
    r = run_command(cli + " segment " + golden_path("pipeline/image.nii.gz") + " " + dir + "/x.dcm" + weights);
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, "a DICOM SEG output needs a DICOM series folder as INPUT"));
    r = run_command(cli + " segment " + golden_path("pipeline/image.nii.gz") + " " + dir + "/x.nii.gz --format rtstruct" + weights);
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, "an RTSTRUCT output needs a DICOM series folder as INPUT"));
    r = run_command(cli + " segment " + kPydicomCt + " " + dir + "/x.nii.gz --format nifti" + weights);
    CHECK(r.exit_code == 2);
    r = run_command(cli + " segment " + kPydicomCt + " " + dir + "/x.dcm --series 1.2.3" + weights);
    CHECK(r.exit_code == 1);
    CHECK(contains(r.output, "no series with SeriesInstanceUID 1.2.3"));
    CHECK_FALSE(fs::exists(dir + "/x.dcm"));
}

#endif  // SWU_TEST_DICOM_SEG
