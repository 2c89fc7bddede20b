// A 3D image with its patient geometry. Voxels may live in the volume's own storage
// or in a caller's buffer (wrapped without a copy), in any strided layout.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "image/affine.hpp"

namespace swu {

enum class VoxelType { Int16, UInt16, Float32, UInt8 };
size_t voxel_size(VoxelType t);
const char* voxel_type_name(VoxelType t);

// ITK / DICOM convention: world (LPS mm) = origin + direction * diag(spacing) * index,
// direction row-major with column j the unit direction of voxel axis j (i, j, k).
struct Geometry {
    std::array<int64_t, 3> size{};
    std::array<double, 3> spacing{1.0, 1.0, 1.0};
    std::array<double, 3> origin{};
    std::array<double, 9> direction{1, 0, 0, 0, 1, 0, 0, 0, 1};

    int64_t voxels() const { return size[0] * size[1] * size[2]; }
};

// The same geometry as MONAI / nibabel see it: index -> RAS mm.
Affine ras_affine(const Geometry& g);
// Throws SWU_ERR_INVALID_ARGUMENT for non-positive sizes/spacings, a singular or
// non-finite direction, or more voxels than the configured cap.
void check_geometry(const Geometry& g);

class Volume {
public:
    Volume() = default;
    // Dense storage, i fastest (ITK / NIfTI memory order), zero-filled. A volume of
    // several channels (per-class probabilities) stores them one after another, each a
    // dense 3D volume: the memory order of a 4D NIfTI with the channel as 4th axis.
    static Volume allocate(VoxelType type, const Geometry& geometry, int64_t channels = 1);
    // A view of caller memory; strides in elements per axis (i, j, k).
    static Volume wrap(const void* data, VoxelType type, const Geometry& geometry, const std::array<int64_t, 3>& strides);

    VoxelType type() const { return type_; }
    const Geometry& geometry() const { return geometry_; }
    const std::array<int64_t, 3>& strides() const { return strides_; }
    int64_t channels() const { return channels_; }
    // Elements from one channel's first voxel to the next one's (dense volumes).
    int64_t channel_stride() const { return geometry_.voxels(); }
    const void* data() const { return data_; }
    void* mutable_data() { return storage_.empty() ? nullptr : storage_.data(); }
    bool owns_data() const { return !storage_.empty(); }

    int64_t offset(int64_t i, int64_t j, int64_t k) const { return i * strides_[0] + j * strides_[1] + k * strides_[2]; }
    double value(int64_t offset) const;

private:
    VoxelType type_ = VoxelType::Float32;
    Geometry geometry_;
    std::array<int64_t, 3> strides_{};
    int64_t channels_ = 1;
    const void* data_ = nullptr;
    std::vector<uint8_t> storage_;
};

}  // namespace swu
