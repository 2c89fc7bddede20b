// A full disk (RLIMIT_FSIZE standing in for it): every file the library writes fails with
// SWU_ERR_IO and leaves its path as it was, with no partial or temporary file beside it.
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

#include "api_helpers.hpp"
#include "golden.hpp"

using namespace swu_test;
namespace fs = std::filesystem;

namespace {

std::string content(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Files in `dir` other than `keep`.
int strays(const fs::path& dir, const fs::path& keep) {
    int n = 0;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.path() != keep) ++n;
    return n;
}

// In the (forked) child: 0 when every write failed cleanly, else the number of the check
// that did not hold.
int child(const fs::path& dir) {
    std::signal(SIGXFSZ, SIG_IGN);  // writes past the limit then fail with EFBIG
    const rlimit limit{64 * 1024, 64 * 1024};
    if (setrlimit(RLIMIT_FSIZE, &limit) != 0) return 1;

    // 1 MB of noise: no compression brings it under the limit.
    std::vector<uint8_t> voxels(128 * 128 * 64);
    std::mt19937 rng(7);
    for (uint8_t& v : voxels) v = static_cast<uint8_t>(rng() % 14);
    swu_volume_desc d;
    swu_volume_desc_init(&d);
    d.type = SWU_VOXEL_UINT8;
    d.data = voxels.data();
    d.size[0] = 128;
    d.size[1] = 128;
    d.size[2] = 64;
    swu_volume* v = nullptr;
    if (swu_volume_wrap(&d, &v) != SWU_OK) return 2;
    const fs::path old = dir / "labels.nii.gz";
    std::ofstream(old) << "the segmentation of yesterday";
    int check = 10;
    for (const char* name : {"labels.nii.gz", "labels.nii", "labels.nrrd", "labels.mhd", "labels.nhdr"}) {
        const fs::path target = dir / name;
        if (swu_volume_write(v, target.c_str()) != SWU_ERR_IO) return check + 1;
        if (target != old && fs::exists(target)) return check + 2;
        if (strays(dir, old) != 0) return check + 3;
        check += 10;
    }
    swu_volume_free(v);
    if (content(old) != "the segmentation of yesterday") return 40;

    // A checkpoint (16 MB of f12 weights), where a backend that can save them is built.
    const std::vector<std::string> built = built_backends();
    if (std::find(built.begin(), built.end(), "torch") == built.end()) return 0;
    swu_model_params p = default_params();
    p.backend = "torch";
    swu_model* m = nullptr;
    if (swu_model_create(&p, &m) != SWU_OK) return 50;
    if (swu_model_load_weights(m, golden_path("net_f12/model.pt").c_str()) != SWU_OK) return 51;
    const fs::path pt = dir / "model.pt";
    const swu_status st = swu_model_save_weights(m, pt.c_str());
    swu_model_free(m);
    if (st != SWU_ERR_IO) return 52;
    if (fs::exists(pt) || strays(dir, old) != 0) return 53;
    return 0;
}

}  // namespace

TEST_CASE("a full disk: every write fails with SWU_ERR_IO and leaves nothing behind", "[unit]") {
    REQUIRE(golden_available());
    const fs::path dir = fs::absolute("swu_disk_full");
    fs::remove_all(dir);
    fs::create_directories(dir);
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) _exit(child(dir));
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    INFO("child status " << status << ": the check that failed is its exit code (test_disk_full.cpp)");
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    fs::remove_all(dir);
}

// The control for the detached-header formats above: with room on the disk, the header
// and its data file are both in place (and nothing else), and read back exactly.
TEST_CASE("detached-header formats (.mhd, .nhdr) are written as a pair and read back", "[unit]") {
    const fs::path dir = fs::absolute("swu_detached");
    fs::remove_all(dir);
    fs::create_directories(dir);
    std::vector<int16_t> voxels(6 * 5 * 4);
    for (size_t i = 0; i < voxels.size(); ++i) voxels[i] = static_cast<int16_t>(i * 37 - 500);
    swu_volume_desc d;
    swu_volume_desc_init(&d);
    d.type = SWU_VOXEL_INT16;
    d.data = voxels.data();
    d.size[0] = 6;
    d.size[1] = 5;
    d.size[2] = 4;
    swu_volume* v = nullptr;
    REQUIRE(swu_volume_wrap(&d, &v) == SWU_OK);
    for (const char* name : {"ct.mhd", "ct.nhdr"}) {
        INFO(name);
        const fs::path target = dir / name;
        REQUIRE(swu_volume_write(v, target.c_str()) == SWU_OK);
        REQUIRE(swu_volume_write(v, target.c_str()) == SWU_OK);  // over an existing pair
        swu_volume* back = nullptr;
        REQUIRE(swu_volume_read(target.c_str(), &back) == SWU_OK);
        swu_volume_info info{};
        info.struct_size = sizeof info;
        REQUIRE(swu_volume_get_info(back, &info) == SWU_OK);
        REQUIRE(info.type == SWU_VOXEL_INT16);
        CHECK(std::memcmp(info.data, voxels.data(), voxels.size() * 2) == 0);
        swu_volume_free(back);
        int files = 0;
        for (const auto& e : fs::directory_iterator(dir)) files += e.path().filename().string()[0] != '.';
        CHECK(files == 2);  // the header and its data file; no hidden temporary either
        CHECK(strays(dir, target) == 1);
        fs::remove_all(dir);
        fs::create_directories(dir);
    }
    swu_volume_free(v);
    fs::remove_all(dir);
}

// Outputs are readable as any file the user creates: 0666 less the umask, or the
// permissions of the file they replace (not the 0600 of the temporary they start as).
TEST_CASE("written files get the umask's permissions, or those of the file they replace", "[unit]") {
    const fs::path dir = "/tmp/swu_file_modes";
    fs::remove_all(dir);
    fs::create_directories(dir);
    std::vector<uint8_t> voxels(8 * 8 * 8, 3);
    swu_volume_desc d;
    swu_volume_desc_init(&d);
    d.type = SWU_VOXEL_UINT8;
    d.data = voxels.data();
    d.size[0] = d.size[1] = d.size[2] = 8;
    swu_volume* raw = nullptr;
    REQUIRE(swu_volume_wrap(&d, &raw) == SWU_OK);
    VolumePtr v(raw);
    auto mode = [](const fs::path& p) { return static_cast<int>(fs::status(p).permissions() & fs::perms::mask); };
    const mode_t before = ::umask(027);
    const swu_status new_file = swu_volume_write(v.get(), (dir / "new.nii.gz").c_str());
    const swu_status pair = swu_volume_write(v.get(), (dir / "pair.mhd").c_str());
    std::ofstream(dir / "old.nii.gz") << "yesterday";
    fs::permissions(dir / "old.nii.gz", fs::perms::owner_read | fs::perms::owner_write | fs::perms::others_read);
    const swu_status replaced = swu_volume_write(v.get(), (dir / "old.nii.gz").c_str());
    REQUIRE(pair == SWU_OK);
    const int pair_new = mode(dir / "pair.mhd");
    fs::permissions(dir / "pair.mhd", fs::perms::owner_read | fs::perms::owner_write | fs::perms::others_read);
    const swu_status pair_replaced = swu_volume_write(v.get(), (dir / "pair.mhd").c_str());
    ::umask(before);
    REQUIRE(new_file == SWU_OK);
    REQUIRE(replaced == SWU_OK);
    REQUIRE(pair_replaced == SWU_OK);
    CHECK(mode(dir / "new.nii.gz") == 0640);
    CHECK(pair_new == 0640);
    CHECK(mode(dir / "pair.zraw") == 0640);  // the data file, new
    CHECK(mode(dir / "pair.mhd") == 0604);   // the header, replaced
    CHECK(mode(dir / "old.nii.gz") == 0604);
}
