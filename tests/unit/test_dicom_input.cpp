// DICOM input in the compressed transfer syntaxes a PACS sends: pydicom's real CT
// series re-encoded by GDCM (RLE, JPEG lossless, JPEG 2000 lossless) reads back with
// exactly the voxels and geometry of the uncompressed original.
#include <catch2/catch.hpp>

#include <gdcmImageChangeTransferSyntax.h>
#include <gdcmImageReader.h>
#include <gdcmImageWriter.h>

#include <cstring>
#include <filesystem>

#include "image/image_io.hpp"

namespace fs = std::filesystem;

namespace {

const char* kPydicomCt = "/usr/lib/python3/dist-packages/pydicom/data/test_files/dicomdirtests/98892001/CT5N";

void recompress(const std::string& from, const std::string& to, const gdcm::TransferSyntax& syntax) {
    fs::remove_all(to);
    fs::create_directories(to);
    for (const auto& entry : fs::directory_iterator(from)) {
        gdcm::ImageReader reader;
        reader.SetFileName(entry.path().c_str());
        REQUIRE(reader.Read());
        gdcm::ImageChangeTransferSyntax change;
        change.SetTransferSyntax(syntax);
        change.SetInput(reader.GetImage());
        REQUIRE(change.Change());
        gdcm::ImageWriter writer;
        writer.SetFileName((fs::path(to) / entry.path().filename()).c_str());
        writer.SetFile(reader.GetFile());
        writer.SetImage(change.GetOutput());
        REQUIRE(writer.Write());
    }
}

}  // namespace

TEST_CASE("dicom input: RLE, JPEG lossless and JPEG 2000 series read like the uncompressed one", "[unit]") {
    swu::DicomSeries plain_series;
    const swu::Volume plain = swu::read_dicom_volume(kPydicomCt, "", &plain_series);
    struct Case {
        const char* name;
        gdcm::TransferSyntax::TSType syntax;
    };
    for (const Case& c : {Case{"rle", gdcm::TransferSyntax::RLELossless},
                          Case{"jpeg-lossless", gdcm::TransferSyntax::JPEGLosslessProcess14_1},
                          Case{"jpeg2000-lossless", gdcm::TransferSyntax::JPEG2000Lossless}}) {
        SECTION(c.name) {
            const std::string folder = std::string("/tmp/swu_dicom_") + c.name;
            recompress(kPydicomCt, folder, c.syntax);
            swu::DicomSeries series;
            const swu::Volume v = swu::read_dicom_volume(folder, "", &series);
            CHECK(series.series_uid == plain_series.series_uid);
            const swu::Geometry& a = v.geometry();
            const swu::Geometry& b = plain.geometry();
            REQUIRE(a.size == b.size);
            CHECK(a.spacing == b.spacing);
            CHECK(a.origin == b.origin);
            CHECK(a.direction == b.direction);
            CHECK(std::memcmp(v.data(), plain.data(), static_cast<size_t>(a.voxels()) * sizeof(float)) == 0);
        }
    }
}
