/*
 * swinunetr.hpp — optional header-only C++ conveniences over the C API: owning
 * handles (ModelPtr, VolumePtr) and an exception carrying the status. Nothing here changes the ABI; a C++
 * host may equally call the C functions directly.
 *
 *     swu_model_params p;
 *     swu_model_params_init(&p);
 *     swinunetr::ModelPtr model = swinunetr::create_model(p);
 *     swinunetr::check(swu_model_load_weights(model.get(), "model.pt"));
 */
#ifndef SWINUNETR_HPP
#define SWINUNETR_HPP

#include <memory>
#include <stdexcept>
#include <string>

#include "swinunetr/swinunetr.h"

namespace swinunetr {

struct ModelDeleter {
    void operator()(swu_model* m) const noexcept { swu_model_free(m); }
};
/** Owns a swu_model; frees it when destroyed. */
using ModelPtr = std::unique_ptr<swu_model, ModelDeleter>;

struct VolumeDeleter {
    void operator()(swu_volume* v) const noexcept { swu_volume_free(v); }
};
/** Owns a swu_volume (read, wrapped or a segmentation's result); frees it when destroyed. */
using VolumePtr = std::unique_ptr<swu_volume, VolumeDeleter>;

/** A failed call: the status and swu_last_error()'s message at the time. */
class Error : public std::runtime_error {
public:
    Error(swu_status status, const std::string& message) : std::runtime_error(message), status_(status) {}
    swu_status status() const noexcept { return status_; }

private:
    swu_status status_;
};

/** Throws swinunetr::Error unless status is SWU_OK. */
inline void check(swu_status status) {
    if (status != SWU_OK) throw Error(status, swu_last_error());
}

/** swu_model_create as an owning pointer; throws swinunetr::Error on failure. */
inline ModelPtr create_model(const swu_model_params& params) {
    swu_model* model = nullptr;
    check(swu_model_create(&params, &model));
    return ModelPtr(model);
}

}  // namespace swinunetr

#endif /* SWINUNETR_HPP */
