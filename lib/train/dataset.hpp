// Training and validation cases after the bundle's deterministic preprocessing (image
// bilinear, label nearest, on the 1.5 x 1.5 x 2.0 mm RAS grid), cached up to a byte cap
// (CacheDataset); cases past the cap are preprocessed again whenever they are drawn.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "image/volume.hpp"

namespace swu {

struct Case {
    std::array<int64_t, 3> size{};  // network grid (X, Y, Z)
    std::vector<float> image;       // C order, 0..1
    std::vector<uint8_t> label;     // C order, class indices
    size_t bytes() const { return image.size() * sizeof(float) + label.size(); }
};

// One image / label pair, from files or from caller volumes.
struct CaseSource {
    std::string image_path, label_path;               // files, or
    const Volume* image = nullptr, *label = nullptr;  // volumes in memory (not owned)
    std::string describe() const;
};

class Dataset {
public:
    // classes: labels must lie below it (SWU_ERR_INVALID_ARGUMENT naming the case otherwise).
    Dataset(std::vector<CaseSource> sources, int classes, int threads);
    size_t size() const { return sources_.size(); }
    const CaseSource& source(size_t i) const { return sources_[i]; }

    // Preprocesses and caches cases in order while the total stays under cap_bytes;
    // progress(i, n) after each case, returning false cancels (SWU_ERR_CANCELLED).
    void warm_cache(int64_t cap_bytes, const std::function<bool(size_t, size_t)>& progress);
    // The case, cached or freshly preprocessed. Thread-safe.
    std::shared_ptr<const Case> get(size_t i) const;

private:
    std::shared_ptr<const Case> load(size_t i) const;
    std::vector<CaseSource> sources_;
    int classes_;
    int threads_;
    mutable std::mutex mutex_;
    std::vector<std::shared_ptr<const Case>> cache_;
};

}  // namespace swu
