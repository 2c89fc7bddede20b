// A DICOM SEG written by the library, read back with DCMTK's own reader: segments,
// codes, and the label map rebuilt from the frames and their functional groups.
#include <catch2/catch.hpp>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmfg/fgderimg.h>
#include <dcmtk/dcmrt/drtstrct.h>
#include <dcmtk/dcmfg/fgplanpo.h>
#include <dcmtk/dcmfg/fgseg.h>
#include <dcmtk/dcmseg/segdoc.h>
#include <dcmtk/dcmseg/segment.h>
#include <dcmtk/dcmseg/segutils.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>

#include "common/error.hpp"
#include "dicom/dicom_rtstruct.hpp"
#include "dicom/dicom_seg.hpp"
#include "dicom/organ_codes.hpp"
#include "image/image_io.hpp"

namespace {
const char* kPydicomCt = "/usr/lib/python3/dist-packages/pydicom/data/test_files/dicomdirtests/98892001/CT5N";
}

TEST_CASE("dicom seg: DCMTK reads back the segments and the label map written", "[unit]") {
    swu::DicomSeries series;
    swu::read_dicom_volume(kPydicomCt, "", &series);
    const swu::Geometry g = series.geometry();
    swu::Volume labels = swu::Volume::allocate(swu::VoxelType::UInt8, g);
    auto* l = static_cast<uint8_t*>(labels.mutable_data());
    // Left adrenal (13) on slice 0, aorta (8) on slices 2..4, right kidney (2) on slice 4.
    l[3 + 16 * 4] = 13;
    for (int64_t k = 2; k < 5; ++k)
        for (int64_t j = 6; j < 10; ++j) l[7 + 16 * (j + 16 * k)] = 8;
    for (int64_t i = 0; i < 16; ++i) l[i + 16 * (15 + 16 * 4)] = 2;
    const std::string path = "/tmp/swu_dicom_seg_dcmtk.dcm";
    std::filesystem::remove(path);
    swu::write_dicom_seg(labels, series, path, swu::DicomSegOptions{});

    DcmSegmentation* raw = nullptr;
    REQUIRE(DcmSegmentation::loadFile(path.c_str(), raw).good());
    std::unique_ptr<DcmSegmentation> seg(raw);
    REQUIRE(seg->getNumberOfSegments() == 3);
    REQUIRE(seg->getNumberOfFrames() == 1 + 3 + 1);
    std::map<Uint16, int> label_of;
    const int expected_order[] = {2, 8, 13};
    for (size_t n = 1; n <= 3; ++n) {
        DcmSegment* s = seg->getSegment(n);
        REQUIRE(s);
        const swu::OrganCode& organ = swu::organ_codes()[static_cast<size_t>(expected_order[n - 1] - 1)];
        OFString value, label, algorithm;
        s->getSegmentedPropertyTypeCode().getCodeValue(value);
        s->getSegmentLabel(label);
        s->getSegmentAlgorithmName(algorithm);
        CHECK(value == organ.type.value);
        CHECK(label == organ.segment_label);
        CHECK(algorithm == "swinunetr");
        CHECK(s->getSegmentAlgorithmType() == DcmSegTypes::SAT_AUTOMATIC);
        CHECK(s->getSegmentedPropertyTypeModifierCode().size() == (organ.laterality ? 1u : 0u));
        label_of[static_cast<Uint16>(n)] = organ.label;
    }
    std::map<std::string, size_t> slice_of;
    for (size_t k = 0; k < series.slices.size(); ++k) slice_of[series.slices[k].sop_instance_uid] = k;

    std::vector<uint8_t> rebuilt(static_cast<size_t>(g.voxels()), 0);
    FGInterface& fg = seg->getFunctionalGroups();
    for (Uint32 f = 0; f < seg->getNumberOfFrames(); ++f) {
        auto* segmentation = dynamic_cast<FGSegmentation*>(fg.get(f, DcmFGTypes::EFG_SEGMENTATION));
        auto* position = dynamic_cast<FGPlanePosPatient*>(fg.get(f, DcmFGTypes::EFG_PLANEPOSPATIENT));
        auto* derivation = dynamic_cast<FGDerivationImage*>(fg.get(f, DcmFGTypes::EFG_DERIVATIONIMAGE));
        REQUIRE(segmentation);
        REQUIRE(position);
        REQUIRE(derivation);
        Uint16 number = 0;
        REQUIRE(segmentation->getReferencedSegmentNumber(number).good());
        OFString uid;
        derivation->getDerivationImageItems().at(0)->getSourceImageItems().at(0)->getImageSOPInstanceReference()
            .getReferencedSOPInstanceUID(uid);
        REQUIRE(slice_of.count(uid.c_str()));
        const size_t k = slice_of[uid.c_str()];
        Float64 x = 0, y = 0, z = 0;
        REQUIRE(position->getImagePositionPatient(x, y, z).good());
        CHECK(x == Approx(series.slices[k].position[0]).margin(1e-4));
        CHECK(y == Approx(series.slices[k].position[1]).margin(1e-4));
        CHECK(z == Approx(series.slices[k].position[2]).margin(1e-4));
        const DcmIODTypes::Frame* packed = seg->getFrame(f);
        REQUIRE(packed);
        std::unique_ptr<DcmIODTypes::Frame> frame;
        const DcmIODTypes::Frame* pixels = packed;
        if (packed->length != 256) {
            frame.reset(DcmSegUtils::unpackBinaryFrame(packed, 16, 16));
            pixels = frame.get();
        }
        REQUIRE(pixels);
        REQUIRE(pixels->length == 256);
        for (size_t p = 0; p < 256; ++p)
            if (pixels->pixData[p]) rebuilt[p + 256 * k] = static_cast<uint8_t>(label_of.at(number));
    }
    CHECK(std::memcmp(rebuilt.data(), l, rebuilt.size()) == 0);
}

// A host that runs a DCMTK network service has input correction off process-wide
// (DcmSCP::listen() switches it off, as storescp does); pydicom's CT pads its UIDs with a
// 0 byte, which then stays in the values read. The SEG must still be written, and the
// host's setting left as it was.
TEST_CASE("dicom seg and rtstruct: written while the host runs DCMTK with input correction off", "[unit]") {
    swu::DicomSeries series;
    swu::read_dicom_volume(kPydicomCt, "", &series);
    swu::Volume labels = swu::Volume::allocate(swu::VoxelType::UInt8, series.geometry());
    static_cast<uint8_t*>(labels.mutable_data())[3 + 16 * 4] = 6;  // liver, one voxel
    const std::string path = "/tmp/swu_dicom_seg_no_correction.dcm", rt_path = "/tmp/swu_dicom_rtstruct_no_correction.dcm";
    std::filesystem::remove(path);
    std::filesystem::remove(rt_path);
    const OFBool before = dcmEnableAutomaticInputDataCorrection.get();
    dcmEnableAutomaticInputDataCorrection.set(OFFalse);
    try {
        swu::write_dicom_seg(labels, series, path, swu::DicomSegOptions{});
        swu::write_dicom_rtstruct(labels, series, rt_path, swu::DicomRtstructOptions{});
    } catch (const std::exception& e) {
        dcmEnableAutomaticInputDataCorrection.set(before);
        FAIL(e.what());
    }
    CHECK(dcmEnableAutomaticInputDataCorrection.get() == OFFalse);
    dcmEnableAutomaticInputDataCorrection.set(before);
    DcmSegmentation* raw = nullptr;
    REQUIRE(DcmSegmentation::loadFile(path.c_str(), raw).good());
    delete raw;
    DcmFileFormat file;
    REQUIRE(file.loadFile(rt_path.c_str()).good());
    DRTStructureSetIOD rt;
    REQUIRE(rt.read(*file.getDataset()).good());
    OFString study;
    CHECK(rt.getStudyInstanceUID(study).good());
    REQUIRE(!study.empty());
    CHECK(study[study.size() - 1] != '\0');  // the source's padding byte corrected away
    CHECK(rt.getStructureSetROISequence().getNumberOfItems() == 1);
}

// A slice whose native pixel data is shorter than Rows x Columns x bytes: refused with a
// message, not padded by GDCM with a warning (found by the DICOM node's bad-input test).
TEST_CASE("dicom input: native pixel data shorter than the image is refused", "[unit]") {
    const std::string dir = "/tmp/swu_short_pixels";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    std::vector<std::string> files;
    for (const auto& f : std::filesystem::directory_iterator(kPydicomCt)) files.push_back(f.path().string());
    std::sort(files.begin(), files.end());
    REQUIRE(files.size() == 5);
    for (const std::string& f : files) std::filesystem::copy_file(f, dir + "/" + std::filesystem::path(f).filename().string());
    const std::string victim = dir + "/" + std::filesystem::path(files[2]).filename().string();
    {
        DcmFileFormat file;
        REQUIRE(file.loadFile(victim.c_str()).good());
        const Uint16* pixels = nullptr;
        unsigned long count = 0;
        REQUIRE(file.getDataset()->findAndGetUint16Array(DCM_PixelData, pixels, &count).good());
        const std::vector<Uint16> half(pixels, pixels + count / 2);
        REQUIRE(file.getDataset()->putAndInsertUint16Array(DCM_PixelData, half.data(), half.size()).good());
        REQUIRE(file.saveFile(victim.c_str(), file.getDataset()->getOriginalXfer()).good());
    }
    try {
        swu::DicomSeries series;
        swu::read_dicom_volume(dir, "", &series);
        FAIL("a slice with half its pixel data was read");
    } catch (const swu::Error& e) {
        CHECK(e.status() == SWU_ERR_FORMAT);
        CHECK(std::string(e.what()).find("truncated: the header promises 512 bytes of pixel data, the file holds 256") !=
              std::string::npos);
    }
    std::filesystem::remove_all(dir);
}
