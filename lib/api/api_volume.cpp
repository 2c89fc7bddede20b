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

SWU_API swu_status swu_volume_desc_init_size(swu_volume_desc* desc, uint32_t struct_size) {
    return swu::api_call(__func__, [&] {
        swu::init_struct(desc, struct_size, "desc", [](swu_volume_desc& v) {
            v.type = SWU_VOXEL_INT16;
            for (int a = 0; a < 3; ++a) {
                v.spacing[a] = 1.0;
                v.direction[a * 4] = 1.0;
            }
        });
    });
}

// The symbol hosts built against 0.1.0's header call (its swu_volume_desc_init is no macro):
// the layout of that release.
SWU_API swu_status(swu_volume_desc_init)(swu_volume_desc* desc) {
    return swu_volume_desc_init_size(desc, static_cast<uint32_t>(swu::first_released_size<swu_volume_desc>()));
}

SWU_API swu_status swu_volume_wrap(const swu_volume_desc* desc, swu_volume** volume) {
    return swu::api_call(__func__, [&] {
        swu::require(desc, "desc");
        swu::require(volume, "volume");
        *volume = nullptr;
        const swu_volume_desc dc = swu::read_struct(desc, swu_volume_desc_init_size, "swu_volume_desc");
        swu::Geometry g;
        for (int a = 0; a < 3; ++a) {
            g.size[a] = dc.size[a];
            g.spacing[a] = dc.spacing[a];
            g.origin[a] = dc.origin[a];
        }
        std::memcpy(g.direction.data(), dc.direction, sizeof dc.direction);
        swu::check_geometry(g);  // before the sizes are multiplied below
        std::array<int64_t, 3> strides = {dc.strides[0], dc.strides[1], dc.strides[2]};
        if (strides[0] == 0 && strides[1] == 0 && strides[2] == 0) strides = {1, g.size[0], g.size[0] * g.size[1]};
        *volume = new swu_volume{swu::Volume::wrap(dc.data, voxel_type(dc.type), g, strides)};
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
        swu_volume_info r = swu::output_struct(info, "swu_volume_info");
        const swu::Volume& v = volume->volume;
        const swu::Geometry& g = v.geometry();
        r.type = c_voxel_type(v.type());
        for (int a = 0; a < 3; ++a) {
            r.size[a] = g.size[a];
            r.spacing[a] = g.spacing[a];
            r.origin[a] = g.origin[a];
            r.strides[a] = v.strides()[a];
        }
        std::memcpy(r.direction, g.direction.data(), sizeof r.direction);
        r.data = v.data();
        swu::write_struct(info, r);
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
