// swu_evaluate: segment every case of a datalist with the whole pipeline and score it
// against its label file in the image's own geometry (Dice per organ, MONAI's rules).
#pragma once

#include <string>
#include <vector>

#include "pipeline/segmentation.hpp"
#include "train/datalist.hpp"

namespace swu {

struct CaseScore {
    CasePaths paths;
    std::vector<double> organ_dice;  // classes 1.., NaN where the ground truth lacks the organ
    double mean = 0;                 // over its non-NaN organs (NaN when none)
};

struct EvaluationReport {
    std::vector<CaseScore> cases;
    std::vector<double> organ_mean;  // per organ over cases (NaN when absent everywhere)
    double mean = 0;                 // MeanDice: mean over cases of their means
    SlidingWindowOptions window;     // how the cases were segmented (written to the report)
    std::string to_json() const;
};

// The caller holds the model. Throws swu::Error (SWU_ERR_CANCELLED from progress).
EvaluationReport evaluate(Model& model, const std::vector<CasePaths>& cases, const SegmentOptions& options,
                          const ProgressFn& progress);

}  // namespace swu
