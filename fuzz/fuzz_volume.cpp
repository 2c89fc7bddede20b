// Fuzz target: any bytes as a volume file read through the public C API. Built once
// per format (SWU_FUZZ_FORMAT_*), which picks the extension ITK dispatches on.
// Every call must end in a status; the voxel cap is lowered so a header that claims a
// large image is refused before allocation, as it would be with the default cap in a
// host with more memory than the fuzzer allows.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "swinunetr/swinunetr.h"

namespace {

std::string g_dir;

bool write_file(const std::string& path, const uint8_t* data, size_t size) {
    FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) return false;
    const bool ok = std::fwrite(data, 1, size, f) == size;
    return std::fclose(f) == 0 && ok;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    g_dir = "/tmp/swu_fuzz_volume_" + std::to_string(::getpid());
    ::mkdir(g_dir.c_str(), 0700);
    swu_set_max_voxels(int64_t(1) << 24);  // 64 MiB of float32
    swu_set_log_callback(nullptr, nullptr, SWU_LOG_NONE);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
#if defined(SWU_FUZZ_FORMAT_DICOM)
    // Two copies of the file: GDCM groups them into one series of two slices.
    const std::string target = g_dir;
    if (!write_file(g_dir + "/a.dcm", data, size) || !write_file(g_dir + "/b.dcm", data, size)) return 0;
#else
#  if defined(SWU_FUZZ_FORMAT_NIFTI)
    const char* ext = ".nii";
#  elif defined(SWU_FUZZ_FORMAT_NRRD)
    const char* ext = ".nrrd";
#  else
    const char* ext = ".mha";
#  endif
    const std::string target = g_dir + "/volume" + ext;
    if (!write_file(target, data, size)) return 0;
#endif
    swu_volume* v = nullptr;
    const swu_status st = swu_volume_read(target.c_str(), &v);
    if (st == SWU_OK) {
        swu_volume_info info;
        info.struct_size = sizeof info;
        if (swu_volume_get_info(v, &info) != SWU_OK) std::abort();
        // Touch every voxel: the reader must have delivered all it claims.
        const size_t bytes = info.type == SWU_VOXEL_FLOAT32 ? 4 : info.type == SWU_VOXEL_UINT8 ? 1 : 2;
        const unsigned char* p = static_cast<const unsigned char*>(info.data);
        volatile unsigned sum = 0;
        for (int64_t i = 0; i < info.size[0] * info.size[1] * info.size[2] * static_cast<int64_t>(bytes); ++i) sum = sum + p[i];
        swu_volume_free(v);
    } else if (v != nullptr || swu_last_error()[0] == 0) {
        std::abort();  // a failure must leave no volume and explain itself
    }
    return 0;
}
