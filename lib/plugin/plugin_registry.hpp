// Discovery and loading of backend plugins (libswinunetr_<name>.so), process-wide.
// Plugins are never unloaded: engines such as LibTorch do not survive dlclose.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "swinunetr/backend.h"
#include "swinunetr/swinunetr.h"

namespace swu {

struct BackendDevice {
    std::string name;
    std::string description;
    uint64_t memory_bytes = 0;
};

struct Backend {
    std::string name;
    std::string path;
    std::string error;    // why it is not usable; empty when loaded
    std::string version;
    const swu_backend_vtable* vtable = nullptr;
    std::vector<BackendDevice> devices;

    bool loaded() const { return vtable != nullptr; }
    // The table has the training entry points and the plugin says it can train.
    bool can_train() const {
        return vtable && vtable->struct_size >= SWU_BACKEND_VTABLE_TRAIN_SIZE && (vtable->capabilities & SWU_CAP_TRAIN) &&
               vtable->train_configure && vtable->train_step && vtable->export_tensors && vtable->import_optimizer;
    }
    // It trains and its table has the distributed entries (which also read micro_batches).
    bool can_distribute() const {
        return can_train() && vtable->struct_size >= SWU_BACKEND_VTABLE_DIST_SIZE && vtable->dist_init &&
               vtable->all_reduce_sum;
    }
    // The optional set_interrupt entry (cancelling inside a forward).
    bool can_interrupt() const {
        return vtable && vtable->struct_size >= SWU_BACKEND_VTABLE_INTERRUPT_SIZE && vtable->set_interrupt;
    }
    // The optional sliding_window entry (stitching on the backend's device).
    bool can_stitch() const {
        return vtable && vtable->struct_size >= SWU_BACKEND_VTABLE_WINDOW_SIZE && vtable->sliding_window;
    }
};

class PluginRegistry {
public:
    static PluginRegistry& instance();

    // Returns the number of plugins newly loaded. load_folder throws SWU_ERR_IO for a
    // folder that does not exist; load_default skips missing folders.
    size_t load_folder(const std::string& folder);
    size_t load_default();
    // Runs load_default() once unless it ran already or a usable backend is loaded.
    void ensure_loaded();

    size_t count();
    // Entries never move or change once listed (std::deque, append-only).
    const Backend& at(size_t index);
    // Resolves "auto" or a name for device + precision; throws SWU_ERR_BACKEND /
    // SWU_ERR_UNSUPPORTED with the reason. "auto" takes the highest score among the
    // backends that can do `job`: inference (any), or training (can_train()).
    enum class Job { infer, train };
    const Backend& choose(const std::string& name, const std::string& device, int32_t precision, Job job = Job::infer);
    // What "auto" would take, or null when no loaded backend can (no reasons gathered).
    const Backend* best(const std::string& device, int32_t precision, Job job);

private:
    PluginRegistry() = default;
    const Backend* best_unlocked(const std::string& device, int32_t precision, Job job) const;
    // Both run under mutex_; their log lines wait in pending_log_ until it is released
    // (flush_log), so that a host's log callback may call back into the registry.
    size_t scan(const std::string& folder);
    bool load_file(const std::string& path);
    void flush_log();
    std::string searched_text() const;

    std::mutex mutex_;
    std::vector<std::pair<swu_log_level, std::string>> pending_log_;  // under mutex_
    std::deque<Backend> backends_;
    std::vector<std::string> searched_;
    bool searched_default_ = false;
};

}  // namespace swu
