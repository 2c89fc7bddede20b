#include "train/dice.hpp"

#include <cmath>
#include <limits>

namespace swu {

std::vector<double> dice_per_class(const uint8_t* prediction, const uint8_t* truth, int64_t n, int classes,
                                   bool ignore_empty) {
    std::vector<int64_t> inter(static_cast<size_t>(classes), 0), pred(static_cast<size_t>(classes), 0),
        gt(static_cast<size_t>(classes), 0);
    for (int64_t i = 0; i < n; ++i) {
        const uint8_t p = prediction[i], t = truth[i];
        if (p < classes) ++pred[p];
        if (t < classes) ++gt[t];
        if (p == t && p < classes) ++inter[p];
    }
    std::vector<double> out;
    for (int c = 1; c < classes; ++c) {
        if (gt[static_cast<size_t>(c)] == 0) {
            out.push_back(ignore_empty ? std::numeric_limits<double>::quiet_NaN() : pred[static_cast<size_t>(c)] == 0 ? 1.0 : 0.0);
            continue;
        }
        out.push_back(2.0 * static_cast<double>(inter[static_cast<size_t>(c)]) /
                      static_cast<double>(gt[static_cast<size_t>(c)] + pred[static_cast<size_t>(c)]));
    }
    return out;
}

double mean_dice(const std::vector<std::vector<double>>& raw) {
    double sum = 0;
    int64_t cases = 0;
    for (const auto& row : raw) {
        double s = 0;
        int64_t k = 0;
        for (double v : row)
            if (!std::isnan(v)) s += v, ++k;
        if (k) sum += s / static_cast<double>(k), ++cases;
    }
    return cases ? sum / static_cast<double>(cases) : std::numeric_limits<double>::quiet_NaN();
}

std::vector<double> mean_dice_per_class(const std::vector<std::vector<double>>& raw) {
    std::vector<double> out;
    const size_t classes = raw.empty() ? 0 : raw[0].size();
    for (size_t c = 0; c < classes; ++c) {
        double s = 0;
        int64_t k = 0;
        for (const auto& row : raw)
            if (c < row.size() && !std::isnan(row[c])) s += row[c], ++k;
        out.push_back(k ? s / static_cast<double>(k) : std::numeric_limits<double>::quiet_NaN());
    }
    return out;
}

std::vector<double> dice_sums(const std::vector<std::vector<double>>& raw, int organs) {
    std::vector<double> sums(2 + 2 * static_cast<size_t>(organs), 0.0);
    for (const auto& row : raw) {
        double s = 0;
        int64_t k = 0;
        for (double v : row)
            if (!std::isnan(v)) s += v, ++k;
        if (k) sums[0] += s / static_cast<double>(k), sums[1] += 1;
        for (size_t c = 0; c < row.size() && c < static_cast<size_t>(organs); ++c)
            if (!std::isnan(row[c])) sums[2 + 2 * c] += row[c], sums[3 + 2 * c] += 1;
    }
    return sums;
}

DiceMeans dice_means(const std::vector<double>& sums) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    DiceMeans m;
    m.mean = sums.size() >= 2 && sums[1] > 0 ? sums[0] / sums[1] : nan;
    for (size_t c = 2; c + 1 < sums.size(); c += 2) m.per_class.push_back(sums[c + 1] > 0 ? sums[c] / sums[c + 1] : nan);
    return m;
}

}  // namespace swu
