// MONAI's DiceMetric(include_background=False, ignore_empty=True) on label maps and its
// MeanDice aggregation: an organ absent from the ground truth gives NaN (predicted or
// not) and is left out of every mean.
#pragma once

#include <cstdint>
#include <vector>

namespace swu {

// Dice of classes 1..classes-1 between two label maps of n voxels (NaN where the ground
// truth lacks the class; with ignore_empty false such a class scores 1 if the prediction
// lacks it too, else 0).
std::vector<double> dice_per_class(const uint8_t* prediction, const uint8_t* truth, int64_t n, int classes,
                                   bool ignore_empty = true);

// MetricReduction.MEAN over raw[case][class]: each case's mean over its non-NaN classes,
// then the mean over cases that have any (NaN when none).
double mean_dice(const std::vector<std::vector<double>>& raw);
// Per class: the mean over cases where it is not NaN (NaN when it never is).
std::vector<double> mean_dice_per_class(const std::vector<std::vector<double>>& raw);

// The same two means from sums that add up over shards of the cases (distributed
// validation): dice_sums gives {sum of case means, cases with a non-NaN class, then per
// organ its sum and count}, 2 + 2 * organs values; element-wise sums of several shards'
// vectors give the means of the union.
std::vector<double> dice_sums(const std::vector<std::vector<double>>& raw, int organs);
struct DiceMeans {
    double mean;
    std::vector<double> per_class;
};
DiceMeans dice_means(const std::vector<double>& sums);

}  // namespace swu
