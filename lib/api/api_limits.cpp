// Process-wide limits (see "Limits and robustness" in swinunetr.h).
#include "api/boundary.hpp"
#include "common/limits.hpp"

extern "C" {

SWU_API swu_status swu_set_max_voxels(int64_t max_voxels) {
    return swu::api_call(__func__, [&] { swu::set_max_voxels(max_voxels); });
}

SWU_API swu_status swu_get_max_voxels(int64_t* max_voxels) {
    return swu::api_call(__func__, [&] {
        swu::require(max_voxels, "max_voxels");
        *max_voxels = swu::max_voxels();
    });
}

}  // extern "C"
