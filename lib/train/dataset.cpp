#include "train/dataset.hpp"

#include "common/error.hpp"
#include "image/image_io.hpp"
#include "pipeline/preprocess.hpp"

namespace swu {

std::string CaseSource::describe() const {
    return image ? std::string("an in-memory volume pair") : image_path + " / " + label_path;
}

Dataset::Dataset(std::vector<CaseSource> sources, int classes, int threads)
    : sources_(std::move(sources)), classes_(classes), threads_(threads), cache_(sources_.size()) {}

std::shared_ptr<const Case> Dataset::load(size_t i) const {
    const CaseSource& s = sources_[i];
    try {
        Volume image_file, label_file;
        const Volume* image = s.image;
        const Volume* label = s.label;
        if (!image) {
            image_file = read_volume(s.image_path);
            label_file = read_volume(s.label_path);
            image = &image_file;
            label = &label_file;
        }
        PreprocessOptions options;
        options.threads = threads_;
        Preprocessed pre = preprocess(*image, options);
        auto c = std::make_shared<Case>();
        c->size = pre.size;
        c->label = resample_labels(*label, image->geometry(), pre, threads_);
        c->image = std::move(pre.image);
        for (uint8_t v : c->label)
            if (v >= classes_)
                fail(SWU_ERR_INVALID_ARGUMENT, "label " + std::to_string(v) + " is not a class of this network (0.." +
                                                   std::to_string(classes_ - 1) + ")");
        return c;
    } catch (const Error& e) {
        fail(e.status(), "case " + std::to_string(i) + " (" + s.describe() + "): " + e.what());
    }
}

void Dataset::warm_cache(int64_t cap_bytes, const std::function<bool(size_t, size_t)>& progress) {
    int64_t used = 0;
    for (size_t i = 0; i < sources_.size(); ++i) {
        std::shared_ptr<const Case> c = load(i);
        used += static_cast<int64_t>(c->bytes());
        if (used <= cap_bytes) {
            std::lock_guard<std::mutex> lock(mutex_);
            cache_[i] = std::move(c);
        }
        if (progress && !progress(i + 1, sources_.size())) fail(SWU_ERR_CANCELLED, "cancelled by the callback");
    }
}

std::shared_ptr<const Case> Dataset::get(size_t i) const {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (cache_[i]) return cache_[i];
    }
    return load(i);
}

}  // namespace swu
