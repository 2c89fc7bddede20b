// The C handle behind swu_model, shared by the model and inference entry points.
#pragma once

#include "model/model.hpp"
#include "swinunetr/swinunetr.h"

struct swu_model {
    explicit swu_model(const swu::ModelOptions& options) : impl(options) {}
    swu::Model impl;
};
