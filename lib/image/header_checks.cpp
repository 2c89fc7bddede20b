#include "image/header_checks.hpp"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "common/error.hpp"

#if SWU_HAVE_DCMTK
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcxfer.h>
#endif

namespace fs = std::filesystem;

namespace swu {
namespace {


float float_at(const unsigned char* h, size_t offset, bool swap) {
    unsigned char b[4];
    std::memcpy(b, h + offset, 4);
    if (swap) {
        std::swap(b[0], b[3]);
        std::swap(b[1], b[2]);
    }
    float f;
    std::memcpy(&f, b, 4);
    return f;
}

// A MetaImage header line "Key = value" split and trimmed; false for other lines.
bool metaimage_field(const std::string& line, std::string& key, std::string& value) {
    const size_t eq = line.find('=');
    if (eq == std::string::npos) return false;
    key = line.substr(0, eq);
    value = line.substr(eq + 1);
    key.erase(key.find_last_not_of(" \t\r") + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    value.erase(value.find_last_not_of(" \t\r") + 1);
    return true;
}

// Byte order of a NIfTI-1 / Analyze header the way nifti1_io decides it: from dim[0]
// (1..7 as stored, or byte-swapped). A header that fits neither is refused: ITK's
// reader would go on with garbage geometry (and abort inside vnl on some).
bool nifti_swapped(const unsigned char* h, const std::string& path) {
    const int16_t as_stored = static_cast<int16_t>(h[40] | (h[41] << 8));
    const int16_t swapped = static_cast<int16_t>((h[40] << 8) | h[41]);
    if (as_stored >= 1 && as_stored <= 7) return false;
    if (swapped >= 1 && swapped <= 7) return true;
    fail(SWU_ERR_FORMAT, path + ": not a NIfTI-1 header (dim[0] is not 1..7 in either byte order)");
}

}  // namespace

bool ends_with_nocase(const std::string& s, const char* suffix) {
    const size_t n = std::strlen(suffix);
    if (s.size() < n) return false;
    for (size_t i = 0; i < n; ++i)
        if (std::tolower(static_cast<unsigned char>(s[s.size() - n + i])) != std::tolower(static_cast<unsigned char>(suffix[i])))
            return false;
    return true;
}

std::string nifti_header_of(const std::string& path) {
    for (const char* img : {".img", ".img.gz"}) {
        if (!ends_with_nocase(path, img)) continue;
        const std::string stem = path.substr(0, path.size() - std::strlen(img));
        std::error_code ec;
        for (const char* hdr : {".hdr", ".hdr.gz"})
            if (fs::exists(stem + hdr, ec)) return stem + hdr;
        return "";
    }
    return path;
}

void check_nifti_header(const std::string& image_path) {
    if (ends_with_nocase(image_path, ".nia"))
        fail(SWU_ERR_UNSUPPORTED, image_path + ": ASCII NIfTI (.nia) is not read; save the volume as .nii or .nii.gz");
    const std::string path = nifti_header_of(image_path);
    if (!ends_with_nocase(path, ".nii") && !ends_with_nocase(path, ".nii.gz") && !ends_with_nocase(path, ".hdr") && !ends_with_nocase(path, ".hdr.gz"))
        return;
    // gzread reads plain files too.
    gzFile f = gzopen(path.c_str(), "rb");
    if (!f) return;  // ITK reports it
    unsigned char h[348];
    const int got = gzread(f, h, sizeof h);
    gzclose(f);
    if (got != static_cast<int>(sizeof h)) return;
    const bool swap = nifti_swapped(h, path);
    struct Field {
        size_t offset;
        int count;
        const char* name;
    };
    // pixdim[1..3], quatern_b..d, qoffset_x..z, srow_x..z
    for (const Field& field : {Field{80, 3, "pixdim"}, Field{256, 6, "quatern/qoffset"}, Field{280, 12, "srow"}}) {
        for (int i = 0; i < field.count; ++i) {
            const float v = float_at(h, field.offset + 4 * size_t(i), swap);
            if (!std::isfinite(v) || std::fabs(v) > 1e6f)
                fail(SWU_ERR_FORMAT, path + ": NIfTI header " + field.name + " value " + std::to_string(v) +
                                         " is not a plausible geometry (finite, below 10^6 mm)");
        }
    }
}

void check_nifti_payload(const std::string& path) {
    if (!ends_with_nocase(path, ".nii") && !ends_with_nocase(path, ".nii.gz")) return;
    gzFile f = gzopen(path.c_str(), "rb");
    if (!f) return;
    struct Close {
        gzFile f;
        ~Close() { gzclose(f); }
    } close{f};
    unsigned char h[348];
    if (gzread(f, h, sizeof h) != static_cast<int>(sizeof h)) fail(SWU_ERR_FORMAT, path + ": truncated NIfTI header");
    const bool swap = nifti_swapped(h, path);
    auto i16 = [&](size_t offset) {
        uint16_t v = uint16_t(h[offset] | (h[offset + 1] << 8));
        if (swap) v = uint16_t((v >> 8) | (v << 8));
        return static_cast<int16_t>(v);
    };
    const int ndim = i16(40);
    if (ndim < 1 || ndim > 7) return;  // ITK has refused it already
    double voxels = 1;
    for (int d = 1; d <= ndim; ++d) voxels *= std::max<int16_t>(1, i16(40 + 2 * size_t(d)));
    const int bitpix = i16(72);
    const float vox_offset = float_at(h, 108, swap);
    if (bitpix <= 0 || !(vox_offset >= 0) || vox_offset > 1e9f) return;
    const double needed = std::max<double>(vox_offset, 348) + voxels * bitpix / 8.0;
    // Inflate (or read) to the end: the byte count, and zlib's verdict on the stream.
    std::vector<unsigned char> chunk(size_t(1) << 20);
    double total = 348;
    int got;
    while ((got = gzread(f, chunk.data(), static_cast<unsigned>(chunk.size()))) > 0) total += got;
    int err = Z_OK;
    const char* what = gzerror(f, &err);
    if (got < 0 || (err != Z_OK && err != Z_STREAM_END))
        fail(SWU_ERR_FORMAT, path + ": corrupt or truncated compressed data (" + (what ? what : "zlib error") + ")");
    if (total < needed)
        fail(SWU_ERR_FORMAT, path + ": truncated: the header promises " + std::to_string(int64_t(needed)) +
                                 " bytes of NIfTI data, the file holds " + std::to_string(int64_t(total)));
}

void check_metaimage_header(const std::string& path) {
    if (!ends_with_nocase(path, ".mha") && !ends_with_nocase(path, ".mhd")) return;
    std::ifstream in(path, std::ios::binary);
    std::string line;
    for (int lines = 0; lines < 256 && std::getline(in, line); ++lines) {
        std::string key, value;
        if (!metaimage_field(line, key, value)) continue;
        // MetaIO sizes every array field by NDims; a huge or malformed count makes it
        // read for minutes (found by fuzzing).
        if (key == "NDims" && (value.size() != 1 || value[0] < '1' || value[0] > '4'))
            fail(SWU_ERR_FORMAT, path + ": MetaImage NDims must be 1..4");
        if (key == "ElementDataFile") break;
    }
}

void check_metaimage_payload(const std::string& path) {
    if (!ends_with_nocase(path, ".mha")) return;
    std::ifstream in(path, std::ios::binary);
    if (!in) return;
    double voxels = 1, element = 0, compressed_size = -1;
    bool compressed = false, local = false;
    std::string line;
    while (std::getline(in, line)) {
        std::string key, value;
        if (!metaimage_field(line, key, value)) continue;
        if (key == "DimSize") {
            std::istringstream ss(value);
            double n;
            while (ss >> n) voxels *= n;
        } else if (key == "CompressedData") {
            compressed = value == "True" || value == "true";
        } else if (key == "CompressedDataSize") {
            compressed_size = std::strtod(value.c_str(), nullptr);
        } else if (key == "ElementType") {
            static const std::pair<const char*, double> sizes[] = {
                {"MET_CHAR", 1}, {"MET_UCHAR", 1}, {"MET_SHORT", 2}, {"MET_USHORT", 2}, {"MET_INT", 4}, {"MET_UINT", 4},
                {"MET_FLOAT", 4}, {"MET_LONG", 4}, {"MET_ULONG", 4}, {"MET_DOUBLE", 8}, {"MET_LONG_LONG", 8},
                {"MET_ULONG_LONG", 8}};
            for (const auto& [name, bytes] : sizes)
                if (value == name) element = bytes;
        } else if (key == "ElementNumberOfChannels") {
            voxels *= std::max(1.0, std::strtod(value.c_str(), nullptr));
        } else if (key == "ElementDataFile") {
            local = value == "LOCAL";
            break;
        }
    }
    // An .mha holds its own voxels. File lists and name patterns are for .mhd headers, and
    // MetaIO 5.2 overflows a heap buffer on some malformed ones.
    if (!local)
        fail(SWU_ERR_FORMAT, path + ": a .mha file must hold its voxels (ElementDataFile = LOCAL)");
    if (!in) return;
    const std::streamoff data_start = in.tellg();
    in.seekg(0, std::ios::end);
    const double available = static_cast<double>(in.tellg() - data_start);
    const double needed = compressed ? compressed_size : voxels * element;
    if (needed > 0 && available < needed)
        fail(SWU_ERR_FORMAT, path + ": truncated: the header promises " + std::to_string(int64_t(needed)) +
                                 " bytes of MetaImage data, the file holds " + std::to_string(int64_t(available)));
}

#if SWU_HAVE_DCMTK
// Bytes of native pixel data the header describes; 0 when encapsulated or not an image.
static uint64_t native_pixel_bytes(DcmDataset& d) {
    if (DcmXfer(d.getOriginalXfer()).isEncapsulated()) return 0;
    Uint16 rows = 0, columns = 0, samples = 1, bits = 0;
    if (d.findAndGetUint16(DCM_Rows, rows).bad() || d.findAndGetUint16(DCM_Columns, columns).bad() ||
        d.findAndGetUint16(DCM_BitsAllocated, bits).bad())
        return 0;
    d.findAndGetUint16(DCM_SamplesPerPixel, samples);
    Sint32 frames = 1;
    if (d.findAndGetSint32(DCM_NumberOfFrames, frames).bad() || frames < 1) frames = 1;
    return uint64_t(rows) * columns * std::max<Uint16>(samples, 1) * uint64_t(frames) * ((bits + 7u) / 8u);
}
#endif

void check_dicom_file(const std::string& path) {
    char magic[4] = {0, 0, 0, 0};
    std::ifstream in(path, std::ios::binary);
    in.seekg(128);
    in.read(magic, 4);
    if (!in || std::memcmp(magic, "DICM", 4) != 0)
        fail(SWU_ERR_FORMAT, path + ": not a DICOM Part 10 file (no 'DICM' after the 128-byte preamble)");
#if SWU_HAVE_DCMTK
    // GDCM asserts (aborting the process) on some malformed Part 10 files; DCMTK's
    // parser reports them. Values over 4 KB (pixel data) are not loaded here.
    DcmFileFormat file;
    const OFCondition parsed = file.loadFile(path.c_str(), EXS_Unknown, EGL_noChange, 4096);
    if (parsed.bad()) fail(SWU_ERR_FORMAT, path + ": not a readable DICOM file (" + parsed.text() + ")");
    // Native (not encapsulated) pixel data shorter than the image it describes: GDCM
    // would only warn and pad the slice.
    const uint64_t needed = native_pixel_bytes(*file.getDataset());
    DcmElement* pixels = nullptr;
    if (needed && file.getDataset()->findAndGetElement(DCM_PixelData, pixels).good() && pixels &&
        pixels->getLength() < needed)
        fail(SWU_ERR_FORMAT, path + ": truncated: the header promises " + std::to_string(needed) + " bytes of pixel data, "
                                 "the file holds " + std::to_string(pixels->getLength()));
#endif
}

std::vector<std::string> list_dicom_folder(const std::string& folder) {
    std::error_code ec;
    if (!fs::is_directory(folder, ec)) fail(SWU_ERR_IO, "'" + folder + "' is not a folder");
    std::vector<std::string> files;
    for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec))
        if (it->is_regular_file(ec)) files.push_back(it->path().string());
    if (ec) fail(SWU_ERR_IO, "cannot list '" + folder + "': " + ec.message());
    std::sort(files.begin(), files.end());
    for (const std::string& f : files) {
        try {
            check_dicom_file(f);
        } catch (const Error& e) {
            throw Error(e.status(), std::string(e.what()) + "; a series folder may hold only DICOM files");
        }
    }
    return files;
}

}  // namespace swu
