// The C handle behind swu_volume, shared by the volume and inference entry points.
#pragma once

#include "image/volume.hpp"
#include "swinunetr/swinunetr.h"

struct swu_volume {
    swu::Volume volume;
};

namespace swu {
swu_voxel_type to_c_voxel_type(VoxelType t);
VoxelType from_c_voxel_type(swu_voxel_type t);  // throws SWU_ERR_INVALID_ARGUMENT
}  // namespace swu
