// Writes small valid inputs for the fuzz targets: fuzz_make_seeds <folder>
// creates <folder>/{nifti,nrrd,mha,npy}/ (scripts/fuzz.sh adds checkpoints and DICOM).
#include <sys/stat.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "io/npy.hpp"
#include "swinunetr/swinunetr.h"

namespace {

const int64_t kSize[3] = {6, 5, 4};

std::vector<int16_t> voxels() {
    std::vector<int16_t> v(static_cast<size_t>(kSize[0] * kSize[1] * kSize[2]));
    for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<int16_t>(int(i * 37 % 400) - 100);
    return v;
}

bool write_with_library(const std::string& path) {
    const std::vector<int16_t> v = voxels();
    swu_volume_desc d;
    swu_volume_desc_init(&d);
    d.data = v.data();
    for (int a = 0; a < 3; ++a) d.size[a] = kSize[a];
    d.spacing[0] = 0.75;
    d.spacing[2] = 2.5;
    d.origin[0] = -10;
    swu_volume* vol = nullptr;
    bool ok = swu_volume_wrap(&d, &vol) == SWU_OK && swu_volume_write(vol, path.c_str()) == SWU_OK;
    if (!ok) std::fprintf(stderr, "%s: %s\n", path.c_str(), swu_last_error());
    swu_volume_free(vol);
    return ok;
}

// Uncompressed files with a text header, which the library itself never writes.
bool write_text_header(const std::string& path, const std::string& header) {
    const std::vector<int16_t> v = voxels();
    std::ofstream out(path, std::ios::binary);
    out << header;
    out.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(int16_t)));
    return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s <seed folder>\n", argv[0]);
        return 2;
    }
    const std::string root = argv[1];
    for (const char* sub : {"", "/nifti", "/nrrd", "/mha", "/npy"}) ::mkdir((root + sub).c_str(), 0755);
    bool ok = write_with_library(root + "/nifti/volume.nii") && write_with_library(root + "/nifti/volume.nii.gz") &&
              write_with_library(root + "/nrrd/volume_gzip.nrrd") && write_with_library(root + "/mha/volume_zlib.mha");
    ok = ok && write_text_header(root + "/nrrd/volume_raw.nrrd",
                                 "NRRD0004\ntype: short\ndimension: 3\nspace: left-posterior-superior\nsizes: 6 5 4\n"
                                 "space directions: (0.75,0,0) (0,1,0) (0,0,2.5)\nkind: domain domain domain\n"
                                 "endian: little\nencoding: raw\nspace origin: (-10,0,0)\n\n");
    ok = ok && write_text_header(root + "/mha/volume_raw.mha",
                                 "ObjectType = Image\nNDims = 3\nBinaryData = True\nBinaryDataByteOrderMSB = False\n"
                                 "Offset = -10 0 0\nTransformMatrix = 1 0 0 0 1 0 0 0 1\nElementSpacing = 0.75 1 2.5\n"
                                 "DimSize = 6 5 4\nElementType = MET_SHORT\nElementDataFile = LOCAL\n");
    try {
        swu::Tensor f;
        f.dtype = swu::DType::Float32;
        f.shape = {1, 1, 2, 3, 4};
        f.data.assign(24 * sizeof(float), 0x3f);
        swu::write_npy(root + "/npy/float32.npy", f);
        swu::Tensor i;
        i.dtype = swu::DType::Int64;
        i.shape = {5};
        i.data.assign(5 * sizeof(int64_t), 1);
        swu::write_npy(root + "/npy/int64.npy", i);
        swu::Tensor s;
        s.dtype = swu::DType::UInt8;
        s.shape = {};
        s.data.assign(1, 7);
        swu::write_npy(root + "/npy/scalar.npy", s);
    } catch (const swu::Error& e) {
        std::fprintf(stderr, "npy: %s\n", e.what());
        ok = false;
    }
    return ok ? 0 : 1;
}
