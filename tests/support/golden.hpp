// Shared helpers for tests that compare against ../shared/golden (MONAI's output):
// file access, tolerance checks, and the README's RNG-free "formula" weights and input.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/tensor.hpp"
#include "swinunetr/swinunetr.h"

namespace swu_test {

std::string golden_dir();
std::string golden_path(const std::string& relative);
bool golden_available();
swu::Tensor load_golden(const std::string& relative);

// Element-wise |a - g| <= atol + rtol * |g|, with the figures a note reports.
struct Comparison {
    double max_abs = 0, max_rel = 0;  // max |a-g| and max |a-g| / max(|g|, 1e-12)
    int64_t count = 0, violations = 0, first_violation = -1;
    bool ok() const { return count > 0 && violations == 0; }
    std::string text() const;
};
Comparison compare(const float* actual, const float* golden, int64_t n, double atol, double rtol);
// Prints "name: n values, max abs .., max rel .." (the figures the issue notes quote).
void print_comparison(const std::string& name, const Comparison& c);

uint32_t crc32(const void* data, size_t size);

// golden/README.md section 5.
uint64_t splitmix64(uint64_t x);
double formula_r(uint64_t seed, uint64_t k, uint64_t i);

struct KeyRow {
    std::string name;
    std::vector<int64_t> shape;
    std::string dtype;        // "float32" / "int64"
    int formula_k = -1;       // -1 for integer entries
    std::string category;     // weight / norm_weight / bias ("" if the file has no formula columns)
};
std::vector<KeyRow> read_keys(const std::string& path);

// Formula weights for every float entry of keys.txt; MONAI's relative_position_index
// for the int64 entries.
std::vector<swu::NamedTensor> formula_weights(const std::vector<KeyRow>& keys, uint64_t seed);
// The formula input {batch, 1, d, h, w} with the given offset.
std::vector<float> formula_input(int batch, int offset, int d = 96, int h = 96, int w = 96);

// Views of swu::NamedTensor as the C API's swu_named_tensor (pointing into `weights`).
struct NamedTensorViews {
    std::vector<swu_named_tensor> views;
};
NamedTensorViews as_c_tensors(const std::vector<swu::NamedTensor>& weights);

// golden_training.cpp (calls the C API):
// Every float32 tensor of a set (swu_model_export_tensors), by key.
using TensorMap = std::map<std::string, std::vector<float>>;
swu_status export_float_tensors(swu_model* model, swu_tensor_set set, TensorMap& out);

// Step-1 gradients against golden train_step/grad_checksums_step1.json: the relative
// error of every parameter's L2 norm (q / k / v parts, which have no "l2", are skipped).
struct GradientNorms {
    size_t compared = 0, within = 0, missing = 0;  // missing: golden keys without a gradient
    double worst = 0;
    std::string worst_key;
    bool ok(size_t expected) const { return missing == 0 && compared == expected && within == compared; }
};
GradientNorms compare_gradient_norms(const TensorMap& gradients, double rtol);

}  // namespace swu_test
