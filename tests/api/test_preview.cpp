// swinunetr segment --preview: the picture of a hand-made grid (patient orientation in
// each view whatever the volume's axes, the window, fills, outlines, the legend), its PNG
// read back with libpng, and the PNG the CLI writes for a real segmentation (batch mode
// writes one per case: tested with the batch, tests/api/test_cli_segment.cpp).
#include <catch2/catch.hpp>

#include <png.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "api_helpers.hpp"
#include "cli_run.hpp"
#include "golden.hpp"
#include "preview.hpp"

using namespace swu_test;
using swu_cli::PanelBox;
using swu_cli::Picture;
using swu_cli::Rgb;

namespace {

constexpr int64_t kI = 40, kJ = 30, kK = 20;
constexpr double kSpacingZ = 2.02;

// Organs as bars through the middle, so each central plane cuts the ones it is checked on:
// liver (6) at the patient's right and spleen (1) at the left, both along z; stomach (7)
// anterior and aorta (8) posterior, both along x; gallbladder (4) superior and pancreas
// (11) inferior. LPS axes. HU: -1000 for i < 2, 300 for j >= 29, else 40.
struct Phantom {
    std::vector<int16_t> hu = std::vector<int16_t>(static_cast<size_t>(kI * kJ * kK), 40);
    std::vector<uint8_t> labels = std::vector<uint8_t>(static_cast<size_t>(kI * kJ * kK), 0);
    Phantom() {
        for (int64_t k = 0; k < kK; ++k)
            for (int64_t j = 0; j < kJ; ++j)
                for (int64_t i = 0; i < kI; ++i) {
                    const size_t n = static_cast<size_t>(i + kI * (j + kJ * k));
                    if (i < 2) hu[n] = -1000;
                    if (j >= 29) hu[n] = 300;
                    uint8_t& l = labels[n];
                    if (j >= 13 && j <= 16 && i >= 5 && i <= 9) l = 6;
                    if (j >= 13 && j <= 16 && i >= 30 && i <= 34) l = 1;
                    if (k >= 9 && k <= 10 && j >= 2 && j <= 5) l = 7;
                    if (k >= 9 && k <= 10 && j >= 25 && j <= 28) l = 8;
                    if (i >= 15 && i <= 24 && j >= 13 && j <= 16 && k >= 16) l = 4;
                    if (i >= 15 && i <= 24 && j >= 13 && j <= 16 && k <= 3) l = 11;
                }
    }
};

swu_volume_info grid(swu_voxel_type type, const void* data) {
    swu_volume_info g{};
    g.struct_size = sizeof g;
    g.type = type;
    g.size[0] = kI, g.size[1] = kJ, g.size[2] = kK;
    // 1 x 1 x 2.02 mm: the z extent (40.4 mm) sets the scale, and with it no panel pixel's
    // centre falls exactly halfway between two voxels (where float rounding, which differs
    // with the axes' order, would pick the voxel).
    g.spacing[0] = 1, g.spacing[1] = 1, g.spacing[2] = kSpacingZ;
    g.direction[0] = g.direction[4] = g.direction[8] = 1;
    g.data = data;
    g.strides[0] = 1, g.strides[1] = kI, g.strides[2] = kI * kJ;
    return g;
}

Rgb colour_of(int label) {
    Rgb c{};
    REQUIRE(swu_label_color(label, c.data()) == SWU_OK);
    return c;
}

Rgb fill_over(uint8_t grey, int label) {  // an organ's fill over CT of that grey
    const Rgb c = colour_of(label);
    Rgb r{};
    for (int ch = 0; ch < 3; ++ch) r[static_cast<size_t>(ch)] = static_cast<uint8_t>(std::lround(0.55 * grey + 0.45 * c[static_cast<size_t>(ch)]));
    return r;
}

struct Where {
    double x = 0, y = 0;
    int count = 0;
};

// The mean position (panel pixels) of the pixels of colour `c` in a panel.
Where find(const Picture& p, const PanelBox& box, Rgb c) {
    Where w;
    for (int y = 0; y < box.height; ++y)
        for (int x = 0; x < box.width; ++x)
            if (p.at(box.x + x, box.y + y) == c) w.x += x, w.y += y, ++w.count;
    if (w.count) w.x /= w.count, w.y /= w.count;
    return w;
}

std::vector<uint8_t> decode_png(const std::string& path, int* width, int* height) {
    png_image image;
    std::memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    REQUIRE(png_image_begin_read_from_file(&image, path.c_str()) != 0);
    image.format = PNG_FORMAT_RGB;
    std::vector<uint8_t> rgb(PNG_IMAGE_SIZE(image));
    REQUIRE(png_image_finish_read(&image, nullptr, rgb.data(), 0, nullptr) != 0);
    *width = static_cast<int>(image.width), *height = static_cast<int>(image.height);
    return rgb;
}

// Bytes that differ (a count, not a dump of two pictures).
size_t differing(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
    if (a.size() != b.size()) return std::max(a.size(), b.size());
    size_t n = 0;
    for (size_t i = 0; i < a.size(); ++i) n += a[i] != b[i];
    return n;
}

}  // namespace

TEST_CASE("preview: views in patient orientation, the abdominal window, fills, outlines and the legend", "[unit]") {
    const Phantom ph;
    const swu_volume_info image = grid(SWU_VOXEL_INT16, ph.hu.data()), labels = grid(SWU_VOXEL_UINT8, ph.labels.data());
    std::array<PanelBox, 3> box;
    const Picture p = swu_cli::render_preview(image, labels, &box);
    const PanelBox &axial = box[0], &coronal = box[1], &sagittal = box[2];
    // One scale for all: the largest extent (z: 40.4 mm) is the largest panel side.
    const double px_per_mm = swu_cli::kPreviewPanelPixels / (kK * kSpacingZ);
    CHECK(coronal.height == swu_cli::kPreviewPanelPixels);
    CHECK(axial.width == static_cast<int>(std::ceil(kI * px_per_mm)));
    CHECK(axial.height == static_cast<int>(std::ceil(kJ * px_per_mm)));
    CHECK(sagittal.width == static_cast<int>(std::ceil(kJ * px_per_mm)));

    // Axial (from the feet): the patient's right (liver) on the left, anterior (stomach) up.
    const Where liver = find(p, axial, fill_over(128, 6)), spleen = find(p, axial, fill_over(128, 1));
    const Where stomach = find(p, axial, fill_over(128, 7)), aorta = find(p, axial, fill_over(128, 8));
    REQUIRE(liver.count > 0);
    REQUIRE(spleen.count > 0);
    REQUIRE(stomach.count > 0);
    REQUIRE(aorta.count > 0);
    CHECK(liver.x < axial.width / 2.0);
    CHECK(spleen.x > axial.width / 2.0);
    CHECK(stomach.y < aorta.y);
    // Coronal (from the front): right on the left, superior (gallbladder) up.
    const Where gall = find(p, coronal, fill_over(128, 4)), pancreas = find(p, coronal, fill_over(128, 11));
    REQUIRE(gall.count > 0);
    REQUIRE(pancreas.count > 0);
    CHECK(gall.y < coronal.height / 2.0);
    CHECK(pancreas.y > coronal.height / 2.0);
    CHECK(find(p, coronal, fill_over(128, 6)).x < find(p, coronal, fill_over(128, 1)).x);
    // Sagittal (from the patient's left): anterior on the left, superior up.
    const Where s_stomach = find(p, sagittal, fill_over(128, 7)), s_aorta = find(p, sagittal, fill_over(128, 8));
    REQUIRE(s_stomach.count > 0);
    CHECK(s_stomach.x < s_aorta.x);
    CHECK(find(p, sagittal, fill_over(128, 4)).y < find(p, sagittal, fill_over(128, 11)).y);

    // W400/L40: 40 HU mid-grey, -1000 black, 300 white; outlines in the organ's own colour.
    CHECK(find(p, axial, {128, 128, 128}).count > 0);
    CHECK(find(p, axial, {0, 0, 0}).count > 0);
    CHECK(find(p, axial, {255, 255, 255}).count > 0);
    CHECK(find(p, axial, colour_of(6)).count > 0);
    // The legend: a swatch per organ present, nothing of an organ absent.
    const PanelBox legend{sagittal.x + sagittal.width, 0, p.width - sagittal.x - sagittal.width, p.height};
    for (int l : {1, 4, 6, 7, 8, 11}) {
        INFO("label " << l);
        CHECK(find(p, legend, colour_of(l)).count >= 18 * 18);
    }
    CHECK(find(p, PanelBox{0, 0, p.width, p.height}, colour_of(9)).count == 0);

    // The same patient stored with other axes (i reversed, i and j swapped) gives the same picture.
    std::vector<int16_t> hu2(ph.hu.size());
    std::vector<uint8_t> labels2(ph.labels.size());
    for (int64_t k = 0; k < kK; ++k)
        for (int64_t j = 0; j < kJ; ++j)
            for (int64_t i = 0; i < kI; ++i) {
                const size_t from = static_cast<size_t>(i + kI * (j + kJ * k));
                const size_t to = static_cast<size_t>(j + kJ * ((kI - 1 - i) + kI * k));  // new i = j, new j = 39 - i
                hu2[to] = ph.hu[from], labels2[to] = ph.labels[from];
            }
    swu_volume_info image2 = grid(SWU_VOXEL_INT16, hu2.data()), labels2_info = grid(SWU_VOXEL_UINT8, labels2.data());
    for (swu_volume_info* g : {&image2, &labels2_info}) {
        g->size[0] = kJ, g->size[1] = kI;
        g->strides[1] = kJ, g->strides[2] = kI * kJ;
        // New i runs along +y (P), new j along -x: origin at x = 39.
        const double d[9] = {0, -1, 0, 1, 0, 0, 0, 0, 1};
        std::copy(d, d + 9, g->direction);
        g->origin[0] = kI - 1;
    }
    const Picture p2 = swu_cli::render_preview(image2, labels2_info);
    CHECK(p2.width == p.width);
    CHECK(p2.height == p.height);
    CHECK(differing(p2.rgb, p.rgb) == 0);

    // Written as PNG, read back by libpng: the same pixels.
    const std::string png = "/tmp/swu_preview_test.png";
    swu_cli::write_png(png, p, "swinunetr test");
    int w = 0, h = 0;
    CHECK(differing(decode_png(png, &w, &h), p.rgb) == 0);
    CHECK(w == p.width);
    CHECK(h == p.height);
    CHECK_THROWS_WITH(swu_cli::write_png("/nonexistent/x.png", p, "t"), Catch::Contains("/nonexistent/x.png"));
}

TEST_CASE("preview: the CLI's PNG is the picture of the CT and the labels it wrote", "[unit]") {
    // pydicom's small real CT (16 x 16 x 5) and one 64^3 window: quick, under ASan too.
    const std::string cli = SWU_CLI_PATH, weights = golden_path("net_f12/model.pt"), dir = "/tmp/swu_preview_cli";
    const std::string ct = "/usr/lib/python3/dist-packages/pydicom/data/test_files/dicomdirtests/98892001/CT5N";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    CliRun r = run_command(cli + " segment " + ct + " " + dir + "/labels.nii.gz --weights " + weights +
                           " --roi 64 --overlap 0 --threads 2 --preview " + dir + "/preview.png");
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    auto read = [](const std::string& path) {
        swu_volume* v = nullptr;
        REQUIRE(swu_volume_read(path.c_str(), &v) == SWU_OK);
        return VolumePtr(v);
    };
    VolumePtr image = read(ct), labels = read(dir + "/labels.nii.gz");
    swu_volume_info ci{}, li{};
    ci.struct_size = li.struct_size = sizeof ci;
    REQUIRE(swu_volume_get_info(image.get(), &ci) == SWU_OK);
    REQUIRE(swu_volume_get_info(labels.get(), &li) == SWU_OK);
    // The labels lie on the CT's grid; their NIfTI header holds it in float32, so they are
    // drawn with the CT's own (double) geometry, as the CLI drew them.
    for (int a = 0; a < 3; ++a) {
        CHECK(li.size[a] == ci.size[a]);
        CHECK(li.spacing[a] == Approx(ci.spacing[a]).margin(1e-4));
        CHECK(li.origin[a] == Approx(ci.origin[a]).margin(1e-3));
        li.spacing[a] = ci.spacing[a], li.origin[a] = ci.origin[a];
    }
    std::copy(ci.direction, ci.direction + 9, li.direction);
    const Picture expected = swu_cli::render_preview(ci, li);
    int w = 0, h = 0;
    CHECK(differing(decode_png(dir + "/preview.png", &w, &h), expected.rgb) == 0);
    CHECK(w == expected.width);
    CHECK(h == expected.height);
}
