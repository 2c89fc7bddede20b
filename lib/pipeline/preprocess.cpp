#include "pipeline/preprocess.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "common/error.hpp"
#include "pipeline/parallel.hpp"
#include "pipeline/trilinear.hpp"

namespace swu {

namespace {

// Everything but the image.
Preprocessed plan(const Volume& volume, const PreprocessOptions& options) {
    Preprocessed p;
    p.orientation = orient_to_ras(ras_affine(volume.geometry()), volume.geometry().size);
    const SpacingResult spacing = plan_spacing(p.orientation.affine, p.orientation.size, options.pixdim);
    p.resampling = spacing.resampling;
    // When MONAI skips an identity resampling the grid keeps the oriented affine.
    p.affine = p.resampling.identity ? p.orientation.affine : spacing.affine;
    p.size = p.resampling.identity ? p.orientation.size : p.resampling.out_size;
    return p;
}

}  // namespace

std::array<int64_t, 3> network_grid(const Volume& volume, const PreprocessOptions& options) { return plan(volume, options).size; }

Preprocessed preprocess(const Volume& volume, const PreprocessOptions& options) {
    Preprocessed p = plan(volume, options);
    p.image.resize(static_cast<size_t>(p.size[0] * p.size[1] * p.size[2]));

    const Orientation& o = p.orientation;
    const std::array<int64_t, 3>& st = volume.strides();
    // Memory offset of an oriented index, per axis (orientation = flips + permutation).
    auto oriented_offset = [&](int a, int64_t index) { return st[o.source_axis[a]] * o.source_index(a, index); };
    const float a_min = options.a_min, range = options.a_max - options.a_min;

    parallel_for(p.size[0], options.threads, [&](int64_t x_begin, int64_t x_end) {
        for (int64_t x = x_begin; x < x_end; ++x)
            for (int64_t y = 0; y < p.size[1]; ++y)
                for (int64_t z = 0; z < p.size[2]; ++z) {
                    double v;
                    if (p.resampling.identity) {
                        v = volume.value(oriented_offset(0, x) + oriented_offset(1, y) + oriented_offset(2, z));
                    } else {
                        double c[3];
                        map_index(p.resampling.xform, x, y, z, c);
                        const TrilinearStencil s = trilinear_stencil(c, o.size);
                        v = 0.0;
                        for (int n = 0; n < 8; ++n)
                            if (s.inside[n])
                                v += volume.value(oriented_offset(0, s.index[n][0]) + oriented_offset(1, s.index[n][1]) +
                                                  oriented_offset(2, s.index[n][2])) *
                                     s.weight[n];
                    }
                    // ScaleIntensityRanged in float32: (x - a_min) / (a_max - a_min), clip to [0, 1].
                    const float scaled = (static_cast<float>(v) - a_min) / range;
                    p.image[static_cast<size_t>((x * p.size[1] + y) * p.size[2] + z)] = std::min(1.0f, std::max(0.0f, scaled));
                }
    });
    return p;
}

namespace {

bool same_geometry(const Geometry& a, const Geometry& b) {
    if (a.size != b.size) return false;
    for (int i = 0; i < 3; ++i)
        if (std::fabs(a.spacing[i] - b.spacing[i]) > 1e-4 * std::max(1.0, std::fabs(a.spacing[i])) ||
            std::fabs(a.origin[i] - b.origin[i]) > 1e-3)
            return false;
    for (int i = 0; i < 9; ++i)
        if (std::fabs(a.direction[i] - b.direction[i]) > 1e-4) return false;
    return true;
}

}  // namespace

std::vector<uint8_t> resample_labels(const Volume& labels, const Geometry& image_geometry, const Preprocessed& pre,
                                     int threads) {
    if (!same_geometry(labels.geometry(), image_geometry))
        fail(SWU_ERR_INVALID_ARGUMENT, "the label map's geometry (size, spacing, origin, direction) differs from the image's");
    std::vector<uint8_t> out(static_cast<size_t>(pre.size[0] * pre.size[1] * pre.size[2]));
    const Orientation& o = pre.orientation;
    const std::array<int64_t, 3>& st = labels.strides();
    auto oriented_offset = [&](int a, int64_t index) { return st[o.source_axis[a]] * o.source_index(a, index); };
    parallel_for(pre.size[0], threads, [&](int64_t x_begin, int64_t x_end) {
        for (int64_t x = x_begin; x < x_end; ++x)
            for (int64_t y = 0; y < pre.size[1]; ++y)
                for (int64_t z = 0; z < pre.size[2]; ++z) {
                    int64_t idx[3] = {x, y, z};
                    if (!pre.resampling.identity) {
                        double c[3];
                        map_index(pre.resampling.xform, x, y, z, c);
                        for (int a = 0; a < 3; ++a)
                            idx[a] = std::min<int64_t>(o.size[a] - 1, std::max<int64_t>(0, static_cast<int64_t>(std::nearbyint(c[a]))));
                    }
                    const double v = labels.value(oriented_offset(0, idx[0]) + oriented_offset(1, idx[1]) + oriented_offset(2, idx[2]));
                    if (!(v >= 0 && v <= 255 && v == std::floor(v)))
                        fail(SWU_ERR_FORMAT, "label value " + std::to_string(v) + " is not a class index 0..255");
                    out[static_cast<size_t>((x * pre.size[1] + y) * pre.size[2] + z)] = static_cast<uint8_t>(v);
                }
    });
    return out;
}

}  // namespace swu
