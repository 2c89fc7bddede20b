#include "image/volume.hpp"

#include <cmath>
#include <cstring>

#include "common/error.hpp"
#include "common/limits.hpp"

namespace swu {

size_t voxel_size(VoxelType t) {
    switch (t) {
        case VoxelType::Int16: case VoxelType::UInt16: return 2;
        case VoxelType::Float32: return 4;
        case VoxelType::UInt8: return 1;
    }
    return 1;
}

const char* voxel_type_name(VoxelType t) {
    switch (t) {
        case VoxelType::Int16: return "int16";
        case VoxelType::UInt16: return "uint16";
        case VoxelType::Float32: return "float32";
        case VoxelType::UInt8: return "uint8";
    }
    return "?";
}

Affine ras_affine(const Geometry& g) {
    // LPS -> RAS flips the first two world axes.
    const double flip[3] = {-1.0, -1.0, 1.0};
    Affine a = identity_affine();
    for (int r = 0; r < 3; ++r) {
        for (int c = 0; c < 3; ++c) a[r][c] = flip[r] * g.direction[r * 3 + c] * g.spacing[c];
        a[r][3] = flip[r] * g.origin[r];
    }
    return a;
}

void check_geometry(const Geometry& g) {
    for (int a = 0; a < 3; ++a) {
        if (g.size[a] < 1 || g.size[a] > 65536)
            fail(SWU_ERR_INVALID_ARGUMENT, "image size " + std::to_string(g.size[a]) + " on axis " + std::to_string(a) +
                                               " is outside 1..65536 (a 3D image is required)");
        if (!(g.spacing[a] > 0) || !std::isfinite(g.spacing[a]))
            fail(SWU_ERR_INVALID_ARGUMENT, "spacing must be positive and finite");
        if (!std::isfinite(g.origin[a])) fail(SWU_ERR_INVALID_ARGUMENT, "origin must be finite");
    }
    for (double d : g.direction)
        if (!std::isfinite(d)) fail(SWU_ERR_INVALID_ARGUMENT, "direction must be finite");
    const double* m = g.direction.data();
    const double det = m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6]);
    if (std::fabs(det) < 1e-6) fail(SWU_ERR_INVALID_ARGUMENT, "direction matrix is singular");
    // Beyond the cap a request is refused before anything is allocated.
    check_voxel_limit(double(g.size[0]), double(g.size[1]), double(g.size[2]), "image");
}

Volume Volume::allocate(VoxelType type, const Geometry& geometry, int64_t channels) {
    check_geometry(geometry);
    if (channels < 1 || channels > 1024) fail(SWU_ERR_INVALID_ARGUMENT, "a volume has 1..1024 channels");
    Volume v;
    v.type_ = type;
    v.geometry_ = geometry;
    v.channels_ = channels;
    v.strides_ = {1, geometry.size[0], geometry.size[0] * geometry.size[1]};
    v.storage_.assign(static_cast<size_t>(geometry.voxels() * channels) * voxel_size(type), 0);
    v.data_ = v.storage_.data();
    return v;
}

Volume Volume::wrap(const void* data, VoxelType type, const Geometry& geometry, const std::array<int64_t, 3>& strides) {
    check_geometry(geometry);
    if (!data) fail(SWU_ERR_INVALID_ARGUMENT, "voxel data is NULL");
    int64_t last = 0;  // offset of the last voxel, in elements
    for (int a = 0; a < 3; ++a) {
        if (strides[a] < 0 || (strides[a] == 0 && geometry.size[a] > 1))
            fail(SWU_ERR_INVALID_ARGUMENT, "strides must be positive (negative strides are not supported)");
        int64_t reach;
        if (__builtin_mul_overflow(geometry.size[a] - 1, strides[a], &reach) || __builtin_add_overflow(last, reach, &last) ||
            last > (int64_t(1) << 48))
            fail(SWU_ERR_INVALID_ARGUMENT, "strides " + std::to_string(strides[0]) + ", " + std::to_string(strides[1]) + ", " +
                                               std::to_string(strides[2]) + " reach beyond 2^48 elements");
    }
    Volume v;
    v.type_ = type;
    v.geometry_ = geometry;
    v.strides_ = strides;
    v.data_ = data;
    return v;
}

double Volume::value(int64_t offset) const {
    switch (type_) {
        case VoxelType::Int16: return static_cast<const int16_t*>(data_)[offset];
        case VoxelType::UInt16: return static_cast<const uint16_t*>(data_)[offset];
        case VoxelType::Float32: return static_cast<const float*>(data_)[offset];
        case VoxelType::UInt8: return static_cast<const uint8_t*>(data_)[offset];
    }
    return 0;
}

}  // namespace swu
