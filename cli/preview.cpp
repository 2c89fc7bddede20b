#include "preview.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <vector>

#include "volume_access.hpp"

namespace swu_cli {
namespace {

constexpr int kClasses = 14;
constexpr double kWindowLevel = 40, kWindowWidth = 400;  // the abdominal CT window, HU
constexpr double kFillAlpha = 0.45;
constexpr int kText = 2;  // font scale
constexpr int kMargin = 12;
const Rgb kBackground{24, 24, 24}, kTextColour{235, 235, 235}, kShadow{0, 0, 0}, kOutside{40, 40, 48};

using Vec = std::array<double, 3>;

double dot(const Vec& a, const Vec& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }

// One view: its picture axes in patient coordinates (LPS) and the letters of its edges.
struct View {
    const char* name;
    Vec right, down;  // the patient direction of +x and +y on the picture
    const char *left_letter, *right_letter, *top_letter, *bottom_letter;
    int plane_axis;   // the LPS axis the view is perpendicular to
};

const View kViews[3] = {
    {"axial", {1, 0, 0}, {0, 1, 0}, "R", "L", "A", "P", 2},      // from the feet, anterior up
    {"coronal", {1, 0, 0}, {0, 0, -1}, "R", "L", "S", "I", 1},   // from the front, head up
    {"sagittal", {0, 1, 0}, {0, 0, -1}, "A", "P", "S", "I", 0},  // from the patient's left
};

// Voxel lookups by patient position: the inverse of index -> LPS.
class Grid {
public:
    explicit Grid(const swu_volume_info& g) : g_(g) {
        double m[3][3];
        for (int r = 0; r < 3; ++r)
            for (int a = 0; a < 3; ++a) m[r][a] = g.direction[r * 3 + a] * g.spacing[a];
        const double det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
                           m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
        if (!(std::abs(det) > 1e-12)) throw std::runtime_error("preview: the volume's direction matrix is singular");
        for (int r = 0; r < 3; ++r)
            for (int c = 0; c < 3; ++c) {
                const int r1 = (c + 1) % 3, r2 = (c + 2) % 3, c1 = (r + 1) % 3, c2 = (r + 2) % 3;
                inverse_[r][c] = (m[r1][c1] * m[r2][c2] - m[r1][c2] * m[r2][c1]) / det;
            }
    }

    // The nearest voxel's element offset, or -1 outside the volume.
    int64_t offset(const Vec& p) const {
        int64_t idx[3];
        for (int a = 0; a < 3; ++a) {
            double v = 0;
            for (int c = 0; c < 3; ++c) v += inverse_[a][c] * (p[c] - g_.origin[c]);
            idx[a] = std::llround(v);
            if (idx[a] < 0 || idx[a] >= g_.size[a]) return -1;
        }
        return idx[0] * g_.strides[0] + idx[1] * g_.strides[1] + idx[2] * g_.strides[2];
    }

private:
    const swu_volume_info& g_;
    double inverse_[3][3];
};

uint8_t window(double hu) {
    const double v = (hu - (kWindowLevel - kWindowWidth / 2)) / kWindowWidth * 255.0;
    return static_cast<uint8_t>(std::lround(std::clamp(v, 0.0, 255.0)));
}

void text_with_shadow(Picture& picture, int x, int y, const std::string& text, int scale = kText) {
    draw_text(picture, x + 1, y + 1, text, kShadow, scale);
    draw_text(picture, x, y, text, kTextColour, scale);
}

std::string format(const char* fmt, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, fmt, v);
    return buf;
}

}  // namespace

Picture render_preview(const swu_volume_info& image, const swu_volume_info& labels, std::array<PanelBox, 3>* panels) {
    for (int a = 0; a < 3; ++a)
        if (image.size[a] != labels.size[a] || image.size[a] < 1)
            throw std::runtime_error("preview: the label map is not on the image's grid");

    // The organs present, their volumes, and the centre of all their voxels.
    std::vector<int64_t> count(kClasses, 0);
    double sum[3] = {0, 0, 0};
    int64_t organ_voxels = 0;
    for (int64_t k = 0; k < labels.size[2]; ++k)
        for (int64_t j = 0; j < labels.size[1]; ++j)
            for (int64_t i = 0; i < labels.size[0]; ++i) {
                const double l = voxel(labels, i * labels.strides[0] + j * labels.strides[1] + k * labels.strides[2]);
                if (!(l >= 1 && l < kClasses)) continue;
                ++count[static_cast<size_t>(l)];
                sum[0] += static_cast<double>(i), sum[1] += static_cast<double>(j), sum[2] += static_cast<double>(k);
                ++organ_voxels;
            }
    const Vec centre = organ_voxels ? world(labels, sum[0] / organ_voxels, sum[1] / organ_voxels, sum[2] / organ_voxels)
                                    : world(labels, (labels.size[0] - 1) / 2.0, (labels.size[1] - 1) / 2.0,
                                            (labels.size[2] - 1) / 2.0);
    std::vector<Rgb> colour(kClasses);
    for (int l = 0; l < kClasses; ++l) swu_label_color(l, colour[static_cast<size_t>(l)].data());

    // Each view's extent (the volume's corners projected onto its axes) and one scale for all.
    std::array<std::array<double, 4>, 3> extent{};  // x0, x1, y0, y1 in mm from the centre
    double largest = 0;
    for (int v = 0; v < 3; ++v) {
        double lo[2] = {1e300, 1e300}, hi[2] = {-1e300, -1e300};
        for (int corner = 0; corner < 8; ++corner) {
            Vec p = world(labels, (corner & 1) ? labels.size[0] - 0.5 : -0.5, (corner & 2) ? labels.size[1] - 0.5 : -0.5,
                          (corner & 4) ? labels.size[2] - 0.5 : -0.5);
            for (int c = 0; c < 3; ++c) p[c] -= centre[c];
            const double u = dot(p, kViews[v].right), w = dot(p, kViews[v].down);
            lo[0] = std::min(lo[0], u), hi[0] = std::max(hi[0], u);
            lo[1] = std::min(lo[1], w), hi[1] = std::max(hi[1], w);
        }
        extent[static_cast<size_t>(v)] = {lo[0], hi[0], lo[1], hi[1]};
        largest = std::max({largest, hi[0] - lo[0], hi[1] - lo[1]});
    }
    const double mm = largest / kPreviewPanelPixels;

    // The legend's lines, to size the picture.
    std::vector<std::string> legend;
    std::vector<int> legend_label;
    const double ml = labels.spacing[0] * labels.spacing[1] * labels.spacing[2] / 1000.0;
    for (int l = 1; l < kClasses; ++l)
        if (count[static_cast<size_t>(l)]) {
            char line[96];
            const double volume = static_cast<double>(count[static_cast<size_t>(l)]) * ml;
            std::snprintf(line, sizeof line, volume >= 1 ? "%2d %-24s %8.1f mL" : "%2d %-24s %8.3f mL", l, swu_label_name(l), volume);
            legend.push_back(line);
            legend_label.push_back(l);
        }
    if (legend.empty()) legend.push_back("no organ found");
    const int line_height = text_height(kText) + 8, swatch = text_height(kText);
    int legend_width = text_width("organs (volume)", kText);
    for (const std::string& s : legend) legend_width = std::max(legend_width, swatch + 8 + text_width(s, kText));

    int panel_w[3], panel_h[3], width = kMargin, height = 0;
    for (int v = 0; v < 3; ++v) {
        const auto& e = extent[static_cast<size_t>(v)];
        panel_w[v] = std::max(1, static_cast<int>(std::ceil((e[1] - e[0]) / mm - 1e-9)));
        panel_h[v] = std::max(1, static_cast<int>(std::ceil((e[3] - e[2]) / mm - 1e-9)));
        width += panel_w[v] + kMargin;
        height = std::max(height, panel_h[v]);
    }
    const int top = kMargin + 2 * line_height;  // title and captions above the panels
    const int legend_x = width + kMargin;
    width = legend_x + legend_width + kMargin;
    height = top + std::max(height, static_cast<int>(legend.size() + 1) * line_height) + kMargin;
    Picture picture(width, height, kBackground);
    draw_text(picture, kMargin, kMargin,
              std::string("swinunetr ") + swu_version_string() + " segmentation preview - CT window W400/L40 - not for diagnosis",
              kTextColour, kText);

    // The panels: CT in the window, organs filled and outlined.
    const Grid image_grid(image), label_grid(labels);
    int x0 = kMargin;
    for (int v = 0; v < 3; ++v) {
        const View& view = kViews[v];
        const auto& e = extent[static_cast<size_t>(v)];
        const int w = panel_w[v], h = panel_h[v];
        if (panels) (*panels)[static_cast<size_t>(v)] = {x0, top, w, h};
        std::vector<int> label_at(static_cast<size_t>(w * h), -1);  // -1: outside the volume
        for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x) {
                const double u = e[0] + (x + 0.5) * mm, d = e[2] + (y + 0.5) * mm;
                Vec p;
                for (int c = 0; c < 3; ++c) p[c] = centre[c] + u * view.right[c] + d * view.down[c];
                const int64_t lo = label_grid.offset(p), io = image_grid.offset(p);
                if (lo < 0 || io < 0) {
                    picture.set(x0 + x, top + y, kOutside);
                    continue;
                }
                const double lv = voxel(labels, lo);
                const int l = lv >= 1 && lv < kClasses ? static_cast<int>(lv) : 0;
                label_at[static_cast<size_t>(x + w * y)] = l;
                const uint8_t g = window(voxel(image, io));
                Rgb c{g, g, g};
                if (l)
                    for (int ch = 0; ch < 3; ++ch)
                        c[static_cast<size_t>(ch)] = static_cast<uint8_t>(
                            std::lround((1 - kFillAlpha) * g + kFillAlpha * colour[static_cast<size_t>(l)][static_cast<size_t>(ch)]));
                picture.set(x0 + x, top + y, c);
            }
        // An organ's outline: its pixels next to (4-neighbours) anything else.
        for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x) {
                const int l = label_at[static_cast<size_t>(x + w * y)];
                if (l <= 0) continue;
                auto other = [&](int xx, int yy) {
                    return xx < 0 || yy < 0 || xx >= w || yy >= h || label_at[static_cast<size_t>(xx + w * yy)] != l;
                };
                if (other(x - 1, y) || other(x + 1, y) || other(x, y - 1) || other(x, y + 1))
                    picture.set(x0 + x, top + y, colour[static_cast<size_t>(l)]);
            }
        // Each organ's number on it (colours of neighbouring organs can be alike): at its
        // pixel nearest to the centre of its pixels in this panel.
        std::vector<double> sx(kClasses, 0), sy(kClasses, 0);
        std::vector<int> n(kClasses, 0);
        for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x)
                if (const int l = label_at[static_cast<size_t>(x + w * y)]; l > 0) sx[l] += x, sy[l] += y, ++n[l];
        for (int l = 1; l < kClasses; ++l) {
            if (n[l] < 40) continue;  // too small to carry a number
            const double cx = sx[l] / n[l], cy = sy[l] / n[l];
            int bx = 0, by = 0;
            double best = 1e300;
            for (int y = 0; y < h; ++y)
                for (int x = 0; x < w; ++x)
                    if (label_at[static_cast<size_t>(x + w * y)] == l) {
                        const double d = (x - cx) * (x - cx) + (y - cy) * (y - cy);
                        if (d < best) best = d, bx = x, by = y;
                    }
            const std::string number = std::to_string(l);
            const int scale = n[l] >= 400 ? kText : 1;
            text_with_shadow(picture, x0 + bx - text_width(number, scale) / 2, top + by - 7 * scale / 2, number, scale);
        }
        const char* axis_name[3] = {"x", "y", "z"};
        text_with_shadow(picture, x0, top - line_height,
                         std::string(view.name) + " " + axis_name[view.plane_axis] + format("=%.1f mm", centre[static_cast<size_t>(view.plane_axis)]));
        const int th = text_height(kText);
        text_with_shadow(picture, x0 + 4, top + h / 2 - th / 2, view.left_letter);
        text_with_shadow(picture, x0 + w - 4 - text_width(view.right_letter, kText), top + h / 2 - th / 2, view.right_letter);
        text_with_shadow(picture, x0 + w / 2 - text_width(view.top_letter, kText) / 2, top + 4, view.top_letter);
        text_with_shadow(picture, x0 + w / 2 - text_width(view.bottom_letter, kText) / 2, top + h - 4 - th, view.bottom_letter);
        x0 += w + kMargin;
    }

    // The legend.
    draw_text(picture, legend_x, top, "organs (volume)", kTextColour, kText);
    for (size_t n = 0; n < legend.size(); ++n) {
        const int y = top + static_cast<int>(n + 1) * line_height;
        int x = legend_x;
        if (n < legend_label.size()) {
            picture.fill(x, y, swatch, swatch, colour[static_cast<size_t>(legend_label[n])]);
            x += swatch + 8;
        }
        draw_text(picture, x, y, legend[n], kTextColour, kText);
    }
    return picture;
}

void write_preview(const std::string& path, const swu_volume* image, const swu_volume* labels) {
    write_png(path, render_preview(info_of(image), info_of(labels)), std::string("swinunetr ") + swu_version_string());
}

}  // namespace swu_cli
