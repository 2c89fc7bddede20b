#include "plugin/plugin_registry.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "common/error.hpp"
#include "common/log.hpp"

namespace fs = std::filesystem;

namespace swu {
namespace {

const std::string kPrefix = "libswinunetr_";
constexpr int32_t kMaxDevices = 256;
const std::string kSuffix = ".so";

bool is_plugin_file(const fs::path& p) {
    const std::string f = p.filename().string();
    return f.size() > kPrefix.size() + kSuffix.size() && f.compare(0, kPrefix.size(), kPrefix) == 0 &&
           f.compare(f.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0;
}

std::string plugin_name(const fs::path& p) {
    const std::string f = p.filename().string();
    return f.substr(kPrefix.size(), f.size() - kPrefix.size() - kSuffix.size());
}

// The folder holding libswinunetr.so (the library this function is linked into), as an
// absolute path. The loader records the name the library was opened by, which can be
// relative ("./libswinunetr.so", a relative LD_LIBRARY_PATH entry): it is resolved once,
// while the library is being loaded, never against the working directory of a later
// call (the host may have changed it; a relative plugin folder would then be searched
// wherever the host happens to be).
fs::path resolve_own_folder() {
    Dl_info info{};
    if (dladdr(reinterpret_cast<void*>(&resolve_own_folder), &info) == 0 || !info.dli_fname) return {};
    std::error_code ec;
    const fs::path real = fs::canonical(info.dli_fname, ec);
    return ec ? fs::path() : real.parent_path();
}
const fs::path g_own_folder = resolve_own_folder();  // at load time: static initialisation

fs::path own_folder() { return g_own_folder; }

const char* precision_name(int32_t p) {
    switch (p) {
        case SWU_PRECISION_FP32: return "fp32";
        case SWU_PRECISION_BF16: return "bf16";
        case SWU_PRECISION_FP16: return "fp16";
        default: return "unknown";
    }
}

}  // namespace

PluginRegistry& PluginRegistry::instance() {
    static PluginRegistry* registry = new PluginRegistry();  // intentionally never destroyed
    return *registry;
}

size_t PluginRegistry::load_folder(const std::string& folder) {
    if (folder.empty()) fail(SWU_ERR_INVALID_ARGUMENT, "backend folder is an empty string");
    std::error_code ec;
    if (!fs::is_directory(folder, ec)) fail(SWU_ERR_IO, "backend folder '" + folder + "' does not exist");
    size_t n;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        n = scan(fs::absolute(folder).lexically_normal().string());
    }
    flush_log();
    return n;
}

void PluginRegistry::flush_log() {
    std::vector<std::pair<swu_log_level, std::string>> lines;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        lines.swap(pending_log_);
    }
    for (const auto& [level, text] : lines) log(level, text);
}

size_t PluginRegistry::load_default() {
    std::vector<std::string> folders;
    if (const char* env = std::getenv("SWU_BACKEND_PATH")) {
        std::stringstream ss(env);
        std::string item;
        while (std::getline(ss, item, ':')) {
            if (item.empty()) continue;
            if (fs::path(item).is_relative()) {
                log_warning("SWU_BACKEND_PATH entry '" + item + "' ignored: only absolute folders are searched");
                continue;
            }
            folders.push_back(item);
        }
    }
    folders.push_back(SWU_INSTALL_BACKEND_DIR);
    // The folder of libswinunetr.so itself (the build tree mirrors the install tree).
    const fs::path own = own_folder();
    if (!own.empty()) folders.push_back((own / "swinunetr" / "backends").string());

    size_t n = 0;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        searched_default_ = true;
        for (const std::string& f : folders) {
            std::error_code ec;
            if (fs::is_directory(f, ec)) n += scan(fs::path(f).lexically_normal().string());
            else if (std::find(searched_.begin(), searched_.end(), f) == searched_.end()) searched_.push_back(f);
        }
    }
    flush_log();
    return n;
}

void PluginRegistry::ensure_loaded() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (searched_default_) return;
        for (const Backend& b : backends_)
            if (b.loaded()) return;
    }
    load_default();
}

size_t PluginRegistry::scan(const std::string& folder) {
    if (std::find(searched_.begin(), searched_.end(), folder) == searched_.end()) searched_.push_back(folder);
    std::vector<fs::path> files;
    std::error_code ec;
    for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec))
        if (is_plugin_file(it->path())) files.push_back(it->path());
    std::sort(files.begin(), files.end());
    size_t n = 0;
    for (const fs::path& f : files) n += load_file(f.string()) ? 1 : 0;
    return n;
}

bool PluginRegistry::load_file(const std::string& file) {
    std::error_code ec;
    const std::string path = fs::weakly_canonical(file, ec).string();
    for (const Backend& b : backends_)
        if (b.path == path) return false;

    Backend b;
    b.name = plugin_name(path);
    b.path = path;
    // RTLD_LOCAL keeps the engine's symbols private; RTLD_NOW reports a missing
    // dependency here rather than at the first call. Handles are never closed.
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char* why = dlerror();
        b.error = std::string("cannot load: ") + (why ? why : "unknown dlopen error");
    } else if (void* entry = dlsym(handle, SWU_BACKEND_ENTRY_SYMBOL); !entry) {
        b.error = "not a swinunetr backend: no '" SWU_BACKEND_ENTRY_SYMBOL "' symbol";
    } else {
        const swu_backend_vtable* vt = reinterpret_cast<swu_backend_entry_fn>(entry)();
        if (!vt) {
            b.error = "entry point returned no backend table";
        } else if (vt->abi_version != SWU_BACKEND_ABI_VERSION) {
            b.error = "plugin ABI version " + std::to_string(vt->abi_version) + ", but this libswinunetr " +
                      SWU_VERSION_STRING " expects plugin ABI version " + std::to_string(SWU_BACKEND_ABI_VERSION) +
                      " (rebuild the plugin against this swinunetr)";
        } else if (vt->struct_size < SWU_BACKEND_VTABLE_INFER_SIZE || !vt->name || !vt->create || !vt->forward ||
                   !vt->load_weights || !vt->destroy || !vt->score || !vt->device_count || !vt->device_info) {
            b.error = "incomplete backend table";
        } else {
            for (const Backend& other : backends_)
                if (other.loaded() && other.name == vt->name)
                    b.error = "duplicate backend '" + other.name + "', already loaded from " + other.path;
            if (b.error.empty()) {
                b.name = vt->name;
                b.version = vt->version ? vt->version : "";
                char err[512] = {0};
                int32_t count = 0;
                const int32_t st = static_cast<int32_t>(vt->device_count(&count, err, sizeof err));
                err[sizeof err - 1] = 0;  // the plugin may have filled the buffer without a NUL
                if (st != SWU_OK) {
                    b.error = std::string("device enumeration failed: ") + err;
                } else if (count < 1 || count > kMaxDevices) {
                    b.error = "device enumeration returned " + std::to_string(count) + " devices (1.." +
                              std::to_string(kMaxDevices) + " expected)";
                } else {
                    for (int32_t i = 0; i < count; ++i) {
                        swu_backend_device d{};
                        if (vt->device_info(i, &d, err, sizeof err) != SWU_OK) continue;
                        d.name[sizeof d.name - 1] = 0;
                        d.description[sizeof d.description - 1] = 0;
                        b.devices.push_back({d.name, d.description, d.memory_bytes});
                    }
                    b.vtable = vt;
                }
            }
        }
    }
    if (b.loaded())
        pending_log_.emplace_back(SWU_LOG_INFO, "loaded backend '" + b.name + "' (" + b.version + ") from " + b.path);
    else
        pending_log_.emplace_back(SWU_LOG_WARNING, "backend plugin " + b.path + " not usable: " + b.error);
    backends_.push_back(std::move(b));
    return backends_.back().loaded();
}

size_t PluginRegistry::count() {
    std::lock_guard<std::mutex> lock(mutex_);
    return backends_.size();
}

const Backend& PluginRegistry::at(size_t index) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (index >= backends_.size())
        fail(SWU_ERR_INVALID_ARGUMENT, "backend index " + std::to_string(index) + " out of range (" +
                                           std::to_string(backends_.size()) + " listed)");
    return backends_[index];
}

std::string PluginRegistry::searched_text() const {
    std::string s;
    for (const std::string& f : searched_) s += (s.empty() ? "" : ", ") + f;
    return s.empty() ? "nothing" : s;
}

namespace {

// Why a loaded backend scores 0 for device + precision, in its own words: its create()
// refuses with the reason (an instance it makes after all is dropped at once).
std::string refusal(const Backend& b, const std::string& device, int32_t precision) {
    swu_backend_create_params p{};
    p.struct_size = sizeof p;
    p.device = device.c_str();
    p.threads = 1;
    p.precision = precision;
    char err[512] = {0};
    void* instance = nullptr;
    if (b.vtable->create(&p, &instance, err, sizeof err) == SWU_OK) {
        if (instance) b.vtable->destroy(instance);
        return "";
    }
    err[sizeof err - 1] = 0;
    return err;
}

// A backend "auto" may consider for `job`.
bool serves(const Backend& b, PluginRegistry::Job job) {
    return b.loaded() && (job != PluginRegistry::Job::train || b.can_train());
}

}  // namespace

const Backend* PluginRegistry::best_unlocked(const std::string& device, int32_t precision, Job job) const {
    const Backend* best = nullptr;
    int32_t best_score = 0;
    for (const Backend& b : backends_) {
        if (!serves(b, job)) continue;
        const int32_t s = b.vtable->score(device.c_str(), precision);
        if (s > best_score) { best = &b; best_score = s; }
    }
    return best;
}

const Backend* PluginRegistry::best(const std::string& device, int32_t precision, Job job) {
    std::lock_guard<std::mutex> lock(mutex_);
    return best_unlocked(device, precision, job);
}

const Backend& PluginRegistry::choose(const std::string& name, const std::string& device, int32_t precision, Job job) {
    std::lock_guard<std::mutex> lock(mutex_);
    const std::string want = std::string(job == Job::train ? "training on " : "") + "device '" + device +
                             "' with precision " + precision_name(precision);
    std::string available;
    for (const Backend& b : backends_)
        available += (available.empty() ? "" : ", ") + b.name + (b.loaded() ? "" : " (failed: " + b.error + ")");
    if (backends_.empty())
        fail(SWU_ERR_BACKEND, "no backend plugin found (searched: " + searched_text() +
                                  "; set SWU_BACKEND_PATH or call swu_backends_load)");
    if (name == "auto") {
        const Backend* best = best_unlocked(device, precision, job);
        if (!best) {
            std::string why;
            for (const Backend& b : backends_)
                if (serves(b, job)) {
                    const std::string r = refusal(b, device, precision);
                    if (!r.empty()) why += "; " + b.name + ": " + r;
                }
            fail(SWU_ERR_UNSUPPORTED, "no loaded backend supports " + want + " (backends: " + available + ")" + why);
        }
        return *best;
    }
    const Backend* failed = nullptr;
    for (const Backend& b : backends_) {
        if (b.name != name) continue;
        if (!b.loaded()) { failed = &b; continue; }
        if (b.vtable->score(device.c_str(), precision) <= 0) {
            const std::string why = refusal(b, device, precision);
            fail(SWU_ERR_UNSUPPORTED, "backend '" + name + "' does not support " + want + (why.empty() ? "" : ": " + why));
        }
        return b;
    }
    if (failed) fail(SWU_ERR_BACKEND, "backend '" + name + "' (" + failed->path + ") failed to load: " + failed->error);
    fail(SWU_ERR_BACKEND, "no backend named '" + name + "' (backends: " + available + "; searched: " + searched_text() + ")");
}

}  // namespace swu
