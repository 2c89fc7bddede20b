#include "train/augment.hpp"

#include <algorithm>
#include <array>

#include "common/error.hpp"

namespace swu {
namespace {

double uniform01(Rng& rng) { return std::uniform_real_distribution<double>(0.0, 1.0)(rng); }

// In place on a cube of side n: flip along axis a.
template <class T> void flip(std::vector<T>& v, int64_t n, int a) {
    std::vector<T> out(v.size());
    for (int64_t x = 0; x < n; ++x)
        for (int64_t y = 0; y < n; ++y)
            for (int64_t z = 0; z < n; ++z) {
                int64_t s[3] = {x, y, z};
                s[a] = n - 1 - s[a];
                out[(x * n + y) * n + z] = v[(s[0] * n + s[1]) * n + s[2]];
            }
    v.swap(out);
}

// numpy.rot90(v, k, axes=(0, 1)) on a cube of side n: one turn maps out[i][j] = in[j][n-1-i].
template <class T> void rot90(std::vector<T>& v, int64_t n, int k) {
    for (int t = 0; t < k; ++t) {
        std::vector<T> out(v.size());
        for (int64_t i = 0; i < n; ++i)
            for (int64_t j = 0; j < n; ++j)
                for (int64_t z = 0; z < n; ++z) out[(i * n + j) * n + z] = v[(j * n + (n - 1 - i)) * n + z];
        v.swap(out);
    }
}

}  // namespace

std::vector<Patch> random_patches(const Case& c, const AugmentOptions& o, Rng& rng) {
    const int64_t roi = o.roi;
    // Padded extent (zeros at the far end of a short axis).
    std::array<int64_t, 3> size;
    for (int a = 0; a < 3; ++a) size[a] = std::max<int64_t>(c.size[a], roi);
    auto in_case = [&](int64_t x, int64_t y, int64_t z) { return x < c.size[0] && y < c.size[1] && z < c.size[2]; };
    auto case_index = [&](int64_t x, int64_t y, int64_t z) { return (x * c.size[1] + y) * c.size[2] + z; };

    std::vector<int64_t> fg, bg;  // flat indices in the case's own grid
    const int64_t n = c.size[0] * c.size[1] * c.size[2];
    for (int64_t i = 0; i < n; ++i) {
        if (c.label[static_cast<size_t>(i)] > 0) fg.push_back(i);
        else if (c.image[static_cast<size_t>(i)] > o.image_threshold) bg.push_back(i);
    }
    if (fg.empty() && bg.empty())
        fail(SWU_ERR_INVALID_ARGUMENT, "a training case has no foreground and no background above the image threshold");
    const double pos_ratio = o.pos / (o.pos + o.neg);

    std::vector<Patch> patches;
    for (int s = 0; s < o.num_samples; ++s) {
        const bool use_fg = bg.empty() || (!fg.empty() && uniform01(rng) < pos_ratio);
        const std::vector<int64_t>& pool = use_fg ? fg : bg;
        const int64_t flat = pool[std::uniform_int_distribution<size_t>(0, pool.size() - 1)(rng)];
        int64_t centre[3] = {flat / (c.size[1] * c.size[2]), (flat / c.size[2]) % c.size[1], flat % c.size[2]};
        int64_t start[3];
        for (int a = 0; a < 3; ++a) {
            // correct_crop_centers: the centre lies in [roi/2, size - roi + roi/2].
            const int64_t half = roi / 2;
            centre[a] = std::min(std::max(centre[a], half), size[a] - roi + half);
            start[a] = centre[a] - half;
        }
        Patch p;
        p.image.assign(static_cast<size_t>(roi * roi * roi), 0.0f);
        p.label.assign(static_cast<size_t>(roi * roi * roi), 0);
        for (int64_t x = 0; x < roi; ++x)
            for (int64_t y = 0; y < roi; ++y)
                for (int64_t z = 0; z < roi; ++z) {
                    const int64_t sx = start[0] + x, sy = start[1] + y, sz = start[2] + z;
                    if (!in_case(sx, sy, sz)) continue;
                    const size_t dst = static_cast<size_t>((x * roi + y) * roi + z);
                    p.image[dst] = c.image[static_cast<size_t>(case_index(sx, sy, sz))];
                    p.label[dst] = c.label[static_cast<size_t>(case_index(sx, sy, sz))];
                }
        for (int a = 0; a < 3; ++a)
            if (uniform01(rng) < o.flip_prob) {
                flip(p.image, roi, a);
                flip(p.label, roi, a);
            }
        if (uniform01(rng) < o.rotate_prob) {
            const int k = std::uniform_int_distribution<int>(1, 3)(rng);
            rot90(p.image, roi, k);
            rot90(p.label, roi, k);
        }
        if (uniform01(rng) < o.shift_prob) {
            const float offset = static_cast<float>(std::uniform_real_distribution<double>(-o.shift_offset, o.shift_offset)(rng));
            for (float& v : p.image) v += offset;
        }
        patches.push_back(std::move(p));
    }
    return patches;
}

}  // namespace swu
