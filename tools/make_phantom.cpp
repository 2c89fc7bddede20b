// swu_make_phantom OUT.nii.gz [--labels LABELS.nii.gz] [--seed N]
// Writes a synthetic abdomen-like CT (int16 HU, see phantom.h) through the public C API
// and, with --labels, its label map (uint8, the bundle's classes).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "phantom.h"

namespace {

bool write_volume(swu_voxel_type type, void* data, const std::string& path) {
    swu_volume* volume = swu_phantom_wrap(type, data);
    const bool ok = volume && swu_volume_write(volume, path.c_str()) == SWU_OK;
    if (!ok) std::fprintf(stderr, "swu_make_phantom: %s: %s\n", path.c_str(), swu_last_error());
    swu_volume_free(volume);
    return ok;
}

}  // namespace

int main(int argc, char** argv) {
    std::string out, label_path;
    unsigned long long seed = 0;
    CLI::App app("A synthetic abdomen-like CT (int16 HU) and its label map, through the C API", "swu_make_phantom");
    app.add_option("OUT", out, "the CT (.nii.gz, .nrrd, .mha)")->required();
    app.add_option("--labels", label_path, "also write the label map (uint8, the bundle's 14 classes)");
    app.add_option("--seed", seed, "phantom seed (shapes, positions, noise)")->capture_default_str();
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 2;  // help: 0; a bad command line: 2, as swinunetr
    }

    std::vector<int16_t> ct(SWU_PHANTOM_VOXELS);
    std::vector<uint8_t> labels(SWU_PHANTOM_VOXELS);
    swu_phantom_generate(seed, ct.data(), labels.data());
    if (!write_volume(SWU_VOXEL_INT16, ct.data(), out)) return 1;
    if (!label_path.empty() && !write_volume(SWU_VOXEL_UINT8, labels.data(), label_path)) return 1;
    std::printf("wrote %s (%d x %d x %d voxels, int16 HU, seed %llu)%s%s\n", out.c_str(), SWU_PHANTOM_NI, SWU_PHANTOM_NJ,
                SWU_PHANTOM_NK, seed, label_path.empty() ? "" : " and ", label_path.c_str());
    return 0;
}
