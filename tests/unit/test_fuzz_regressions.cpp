// Replays every input saved under tests/data/regress/<fuzz target>/ through the reader
// that target exercises: each must end in a result or a swu::Error, never a crash, a
// sanitizer report or another exception type (see tests/data/regress/README.md).
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>

#include "checkpoint/byte_source.hpp"
#include "checkpoint/checkpoint.hpp"
#include "checkpoint/pickle_state_dict.hpp"
#include "common/error.hpp"
#include "common/limits.hpp"
#include "dicom/dicom_series.hpp"
#include "image/image_io.hpp"
#include "io/npy.hpp"

namespace fs = std::filesystem;

namespace {

std::string read_bytes(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_bytes(const fs::path& p, const std::string& bytes) { std::ofstream(p, std::ios::binary) << bytes; }

// Runs `read`, which may throw swu::Error and nothing else.
void expect_status(const std::string& how, const std::function<void()>& read) {
    INFO("through " << how);
    try {
        read();
    } catch (const swu::Error& e) {
        CHECK(std::string(e.what()).size() > 0);
    }
}

// Runs one input the way fuzz/<target>.cpp does, then through the library's other entry
// points for the same bytes.
void replay(const std::string& target, const fs::path& input, const fs::path& scratch) {
    const std::string bytes = read_bytes(input);
    const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
    if (target == "fuzz_checkpoint") {
        swu::MemorySource src(data, bytes.size());
        (void)swu::read_checkpoint(src);
    } else if (target == "fuzz_pickle") {
        (void)swu::read_state_dict_pickle(data, bytes.size());
    } else if (target == "fuzz_npy") {
        write_bytes(scratch / "input.npy", bytes);
        (void)swu::read_npy((scratch / "input.npy").string());
    } else if (target == "fuzz_volume_dicom") {
        fs::create_directories(scratch / "dicom");
        write_bytes(scratch / "dicom" / "a.dcm", bytes);
        write_bytes(scratch / "dicom" / "b.dcm", bytes);
        // The DICOM SEG writer scans the source folder the same way.
        expect_status("the SEG writer's series scan", [&] { (void)swu::scan_dicom_series((scratch / "dicom").string(), ""); });
        expect_status("a single file", [&] { (void)swu::read_volume((scratch / "dicom" / "a.dcm").string()); });
        expect_status("a single file without extension", [&] {
            write_bytes(scratch / "slice", bytes);
            (void)swu::read_volume((scratch / "slice").string());
        });
        (void)swu::read_volume((scratch / "dicom").string());
    } else {
        const std::string ext = target == "fuzz_volume_nifti" ? ".nii" : target == "fuzz_volume_nrrd" ? ".nrrd" : ".mha";
        write_bytes(scratch / ("volume" + ext), bytes);
        if (target == "fuzz_volume_nifti" && bytes.size() >= 348) {
            // The same header as an Analyze-style pair: x.hdr ("ni1") beside x.img.
            std::string hdr = bytes.substr(0, 348);
            hdr.replace(344, 4, std::string("ni1\0", 4));
            write_bytes(scratch / "pair.hdr", hdr);
            write_bytes(scratch / "pair.img", bytes.size() > 352 ? bytes.substr(352) : std::string());
            expect_status("a .hdr/.img pair, by its .img", [&] { (void)swu::read_volume((scratch / "pair.img").string()); });
            expect_status("a .hdr/.img pair, by its .hdr", [&] { (void)swu::read_volume((scratch / "pair.hdr").string()); });
            expect_status("an upper-case extension", [&] {
                write_bytes(scratch / "VOLUME.NII", bytes);
                (void)swu::read_volume((scratch / "VOLUME.NII").string());
            });
        }
        (void)swu::read_volume((scratch / ("volume" + ext)).string());
    }
}

}  // namespace

TEST_CASE("fuzz regressions: every saved input ends in a status", "[unit][fuzz]") {
    const fs::path root = fs::path(SWU_TEST_DATA_DIR) / "regress";
    const fs::path scratch = fs::temp_directory_path() / ("swu_regress_" + std::to_string(::getpid()));
    fs::create_directories(scratch);
    swu::set_max_voxels(int64_t(1) << 24);  // as in the fuzz targets
    int replayed = 0;
    for (const auto& dir : fs::directory_iterator(root)) {
        if (!dir.is_directory()) continue;
        const std::string target = dir.path().filename().string();
        for (const auto& file : fs::directory_iterator(dir.path())) {
            INFO(target << ": " << file.path().filename().string());
            try {
                replay(target, file.path(), scratch);
            } catch (const swu::Error& e) {
                CHECK(std::string(e.what()).size() > 0);
            }
            ++replayed;
        }
    }
    swu::set_max_voxels(0);
    fs::remove_all(scratch);
    WARN(replayed << " fuzzer regression inputs replayed");
}
