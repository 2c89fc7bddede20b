// The files a training run keeps in its output folder, besides model.pt: the resume
// checkpoint (resume.pt with weights, Adam state and counters; resume.json, a copy of the
// counters for people and scripts) and metrics.jsonl (one JSON object per iteration and
// per validation).
#pragma once

#include <cstdint>
#include <string>

#include "io/json.hpp"
#include "model/model.hpp"

namespace swu {

// Where a run stands after a completed epoch (or a stop inside one).
struct ResumeState {
    int64_t epoch = 0;  // completed epochs
    int64_t iteration = 0;
    double best = -1;
    int64_t best_epoch = 0;
};

// Writes resume.pt (atomically) and resume.json into `dir`.
void save_resume(Model& model, const std::string& dir, const ResumeState& state);

// Loads resume.pt's weights and optimizer state into `model` (configured for training
// with `config`) and returns its counters; checks the file before reading its data.
ResumeState load_resume(Model& model, const std::string& dir, const TrainConfig& config);

// Appends one JSON object as a line to metrics.jsonl; NaN is written as null.
void append_metrics(const std::string& path, const json::Document& record);

}  // namespace swu
