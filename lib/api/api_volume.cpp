// Volumes: read, wrap, query, write, free.
#include <cstring>

#include "api/boundary.hpp"
#include "api/volume_handle.hpp"
#include "image/image_io.hpp"

namespace {

swu::VoxelType voxel_type(swu_voxel_type type) {
    const int32_t t = swu::raw_enum(type);
    switch (t) {
        case SWU_VOXEL_INT16: return swu::VoxelType::Int16;
        case SWU_VOXEL_UINT16: return swu::VoxelType::UInt16;
        case SWU_VOXEL_FLOAT32: return swu::VoxelType::Float32;
        case SWU_VOXEL_UINT8: return swu::VoxelType::UInt8;
        default: swu::fail(SWU_ERR_INVALID_ARGUMENT, "unknown voxel type " + std::to_string(t));
    }
}

swu_voxel_type c_voxel_type(swu::VoxelType t) {
    switch (t) {
        case swu::VoxelType::Int16: return SWU_VOXEL_INT16;
        case swu::VoxelType::UInt16: return SWU_VOXEL_UINT16;
        case swu::VoxelType::Float32: return SWU_VOXEL_FLOAT32;
        case swu::VoxelType::UInt8: return SWU_VOXEL_UINT8;
    }
    return SWU_VOXEL_FLOAT32;
}

}  // namespace

namespace swu {
swu_voxel_type to_c_voxel_type(VoxelType t) { return c_voxel_type(t); }
VoxelType from_c_voxel_type(swu_voxel_type t) { return voxel_type(t); }
}  // namespace swu

extern "C" {

SWU_API swu_status swu_volume_read(const char* path, swu_volume** volume) {
    return swu::api_call(__func__, [&] {
        swu::require(path, "path");
        swu::require(volume, "volume");
        *volume = nullptr;
        *volume = new swu_volume{swu::read_volume(path)};
    });
}

SWU_API swu_status swu_volume_desc_init(swu_volume_desc* desc) {
    return swu::api_call(__func__, [&] {
        swu::require(desc, "desc");
        std::memset(desc, 0, sizeof *desc);
        desc->struct_size = sizeof *desc;
        desc->type = SWU_VOXEL_INT16;
        for (int a = 0; a < 3; ++a) {
            desc->spacing[a] = 1.0;
            desc->direction[a * 4] = 1.0;
        }
    });
}

SWU_API swu_status swu_volume_wrap(const swu_volume_desc* desc, swu_volume** volume) {
    return swu::api_call(__func__, [&] {
        swu::require(desc, "desc");
        swu::require(volume, "volume");
        *volume = nullptr;
        swu::require_struct(desc->struct_size, sizeof(swu_volume_desc), "swu_volume_desc");
        swu::Geometry g;
        for (int a = 0; a < 3; ++a) {
            g.size[a] = desc->size[a];
            g.spacing[a] = desc->spacing[a];
            g.origin[a] = desc->origin[a];
        }
        std::memcpy(g.direction.data(), desc->direction, sizeof desc->direction);
        swu::check_geometry(g);  // before the sizes are multiplied below
        std::array<int64_t, 3> strides = {desc->strides[0], desc->strides[1], desc->strides[2]};
        if (strides[0] == 0 && strides[1] == 0 && strides[2] == 0) strides = {1, g.size[0], g.size[0] * g.size[1]};
        *volume = new swu_volume{swu::Volume::wrap(desc->data, voxel_type(desc->type), g, strides)};
    });
}

SWU_API swu_status swu_volume_get_channels(const swu_volume* volume, int64_t* channels, int64_t* channel_stride) {
    return swu::api_call(__func__, [&] {
        swu::require(volume, "volume");
        if (channels) *channels = volume->volume.channels();
        if (channel_stride) *channel_stride = volume->volume.channel_stride();
    });
}

SWU_API swu_status swu_volume_get_info(const swu_volume* volume, swu_volume_info* info) {
    return swu::api_call(__func__, [&] {
        swu::require(volume, "volume");
        swu::require(info, "info");
        swu::require_struct(info->struct_size, sizeof(swu_volume_info), "swu_volume_info");
        const swu::Volume& v = volume->volume;
        const swu::Geometry& g = v.geometry();
        info->type = c_voxel_type(v.type());
        for (int a = 0; a < 3; ++a) {
            info->size[a] = g.size[a];
            info->spacing[a] = g.spacing[a];
            info->origin[a] = g.origin[a];
            info->strides[a] = v.strides()[a];
        }
        std::memcpy(info->direction, g.direction.data(), sizeof info->direction);
        info->data = v.data();
    });
}

SWU_API swu_status swu_volume_write(const swu_volume* volume, const char* path) {
    return swu::api_call(__func__, [&] {
        swu::require(volume, "volume");
        swu::require(path, "path");
        swu::write_volume(volume->volume, path);
    });
}

SWU_API void swu_volume_free(swu_volume* volume) { delete volume; }

}  // extern "C"
