#include "train/run_files.hpp"

#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "checkpoint/checkpoint.hpp"
#include "checkpoint/checkpoint_writer.hpp"
#include "common/error.hpp"

namespace swu {
namespace {

constexpr const char* kOptimizerPrefix = "optimizer.";

// The counters travel inside resume.pt as 0-d tensors under "resume.", so that one
// atomic write holds weights, optimizer state and counters together: a crash between
// resume.pt and resume.json (a copy for people and scripts) cannot pair new weights
// with old counters.
constexpr const char* kCounterPrefix = "resume.";

NamedTensor scalar(const std::string& name, double v) {
    NamedTensor t{kCounterPrefix + name, {}};
    t.tensor.dtype = DType::Float64;
    t.tensor.data.resize(8);
    std::memcpy(t.tensor.data.data(), &v, 8);
    return t;
}

}  // namespace

void append_metrics(const std::string& path, const json::Document& record) {
    std::ofstream out(path, std::ios::app);
    out << record.dump() << "\n";
    if (!out) fail(SWU_ERR_IO, path + ": cannot append (disk full?)");
}

void save_resume(Model& model, const std::string& dir, const ResumeState& s) {
    std::vector<NamedTensor> all = model.export_tensors(SWU_BACKEND_TENSORS_WEIGHTS);
    for (NamedTensor& t : model.export_tensors(SWU_BACKEND_TENSORS_OPTIMIZER)) {
        t.name = kOptimizerPrefix + t.name;
        all.push_back(std::move(t));
    }
    all.push_back(scalar("epoch", double(s.epoch)));
    all.push_back(scalar("iteration", double(s.iteration)));
    all.push_back(scalar("best_mean_dice", s.best));
    all.push_back(scalar("best_epoch", double(s.best_epoch)));
    write_state_dict_file(dir + "/resume.pt", all);
    const json::Document meta{{"epoch", s.epoch},
                              {"iteration", s.iteration},
                              {"best_mean_dice", s.best},
                              {"best_epoch", s.best_epoch}};
    write_file_atomically(dir + "/resume.json", meta.dump() + "\n");
}

ResumeState load_resume(Model& model, const std::string& dir, const TrainConfig& config) {
    ResumeState s;
    std::vector<NamedTensor> weights, optimizer;
    const std::string prefix = kOptimizerPrefix;
    // Before any data is read: the weights must fit the network, and the optimizer state
    // (Adam's two moments per parameter and a step count) be no larger than twice them.
    const std::string counters = kCounterPrefix;
    auto screen = [&](const std::vector<NamedTensor>& headers) {
        std::vector<NamedTensor> w;
        uint64_t weight_elems = 0, state_elems = 0;
        for (const NamedTensor& h : headers) {
            if (h.name.compare(0, counters.size(), counters) == 0) {
                if (!h.tensor.shape.empty()) fail(SWU_ERR_FORMAT, "resume.pt: '" + h.name + "' is not a scalar");
            } else if (h.name.compare(0, prefix.size(), prefix) == 0) {
                if (__builtin_add_overflow(state_elems, uint64_t(h.tensor.numel()), &state_elems)) state_elems = UINT64_MAX;
            } else {
                weight_elems += uint64_t(h.tensor.numel());
                w.push_back(h);
            }
        }
        model.check_weight_headers(w);
        if (state_elems > 2 * weight_elems + 1024)
            fail(SWU_ERR_FORMAT, "resume.pt holds " + std::to_string(state_elems) + " elements of optimizer state for " +
                                     std::to_string(weight_elems) + " weights; Adam keeps two per weight");
    };
    std::map<std::string, double> counted;
    for (NamedTensor& t : read_checkpoint_file(dir + "/resume.pt", screen)) {
        if (t.name.compare(0, counters.size(), counters) == 0) {
            double v = 0;
            if (t.tensor.dtype == DType::Float64) std::memcpy(&v, t.tensor.data.data(), 8);
            else v = double(to_float32(t.tensor).as<float>()[0]);
            counted[t.name.substr(counters.size())] = v;
        } else if (t.name.compare(0, prefix.size(), prefix) == 0) {
            t.name = t.name.substr(prefix.size());
            optimizer.push_back(std::move(t));
        } else {
            weights.push_back(std::move(t));
        }
    }
    // Counters from resume.pt itself; resume.json only for files written before they
    // moved there.
    if (counted.empty()) {
        const json::Value meta = json::parse_file(dir + "/resume.json");
        s.epoch = static_cast<int64_t>(meta.at("epoch").as_number());
        s.iteration = static_cast<int64_t>(meta.at("iteration").as_number());
        s.best = meta.at("best_mean_dice").is_null() ? -1 : meta.at("best_mean_dice").as_number();
        s.best_epoch = static_cast<int64_t>(meta.at("best_epoch").as_number());
    } else {
        for (const char* key : {"epoch", "iteration", "best_mean_dice", "best_epoch"})
            if (!counted.count(key)) fail(SWU_ERR_FORMAT, dir + "/resume.pt: counter 'resume." + key + "' is missing");
        s.epoch = static_cast<int64_t>(counted["epoch"]);
        s.iteration = static_cast<int64_t>(counted["iteration"]);
        s.best = counted["best_mean_dice"];
        s.best_epoch = static_cast<int64_t>(counted["best_epoch"]);
    }
    model.load_weights(std::move(weights));
    model.train_configure(config);
    model.import_optimizer(optimizer);
    return s;
}

}  // namespace swu
