#include "train/evaluate.hpp"

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "common/log.hpp"
#include "image/image_io.hpp"
#include "io/json.hpp"
#include "model/labels.hpp"
#include "train/dice.hpp"

namespace swu {
namespace {

std::string dice_text(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6f", v);
    return buf;
}

// Dice per organ under the organ's name; NaN (organ absent) is written as null.
json::Document organ_object(const std::vector<double>& dice) {
    json::Document o = json::Document::object();
    for (size_t c = 0; c < dice.size(); ++c) {
        const char* name = label_name(static_cast<int>(c + 1));
        o[name ? name : "class " + std::to_string(c + 1)] = dice[c];
    }
    return o;
}

// Label map of a volume as class indices (C order over i, j, k as stored: i fastest).
std::vector<uint8_t> label_values(const Volume& v) {
    const Geometry& g = v.geometry();
    std::vector<uint8_t> out(static_cast<size_t>(g.voxels()));
    size_t n = 0;
    for (int64_t k = 0; k < g.size[2]; ++k)
        for (int64_t j = 0; j < g.size[1]; ++j)
            for (int64_t i = 0; i < g.size[0]; ++i) {
                const double x = v.value(v.offset(i, j, k));
                if (!(x >= 0 && x <= 255 && x == std::floor(x)))
                    fail(SWU_ERR_FORMAT, "label value " + std::to_string(x) + " is not a class index");
                out[n++] = static_cast<uint8_t>(x);
            }
    return out;
}

}  // namespace

std::string EvaluationReport::to_json() const {
    json::Document r;
    r["metric"] = "Dice per organ in the image's geometry; null = organ absent from the ground truth";
    r["sliding_window"] = {{"roi", window.roi}, {"overlap", window.overlap}, {"sw_batch", window.sw_batch},
                           {"blend", window.blend == Blend::Gaussian ? "gaussian" : "constant"}};
    r["mean_dice"] = mean;
    r["organ_mean_dice"] = organ_object(organ_mean);
    json::Document list = json::Document::array();
    for (const CaseScore& c : cases)
        list.push_back({{"image", c.paths.image}, {"label", c.paths.label}, {"mean_dice", c.mean},
                        {"organ_dice", organ_object(c.organ_dice)}});
    r["cases"] = std::move(list);
    return r.dump(2) + "\n";
}

EvaluationReport evaluate(Model& model, const std::vector<CasePaths>& cases, const SegmentOptions& options,
                          const ProgressFn& progress) {
    if (cases.empty()) fail(SWU_ERR_INVALID_ARGUMENT, "the datalist has no cases to evaluate");
    EvaluationReport report;
    report.window = options.window;
    std::vector<std::vector<double>> raw;
    const int classes = model.config().out_channels;
    for (const CasePaths& paths : cases) {
        try {
            const Volume image = read_volume(paths.image);
            const Volume truth = read_volume(paths.label);
            if (truth.geometry().size != image.geometry().size)
                fail(SWU_ERR_INVALID_ARGUMENT, "the label map's size differs from the image's");
            const Volume labels = segment(model, image, options, progress).labels;
            const std::vector<uint8_t> p = label_values(labels), t = label_values(truth);
            CaseScore score;
            score.paths = paths;
            score.organ_dice = dice_per_class(p.data(), t.data(), static_cast<int64_t>(p.size()), classes);
            score.mean = mean_dice({score.organ_dice});
            raw.push_back(score.organ_dice);
            log_info("evaluated " + paths.image + ": mean Dice " + dice_text(score.mean));
            report.cases.push_back(std::move(score));
        } catch (const Error& e) {
            if (e.status() == SWU_ERR_CANCELLED) throw;
            fail(e.status(), paths.image + " / " + paths.label + ": " + e.what());
        }
    }
    report.organ_mean = mean_dice_per_class(raw);
    report.mean = mean_dice(raw);
    return report;
}

}  // namespace swu
