#include "dicom/dicom_seg.hpp"

#include <dcmtk/config/osconfig.h>  // must come first

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmfg/fgderimg.h>
#include <dcmtk/dcmfg/fgfracon.h>
#include <dcmtk/dcmfg/fgpixmsr.h>
#include <dcmtk/dcmfg/fgplanor.h>
#include <dcmtk/dcmfg/fgplanpo.h>
#include <dcmtk/dcmiod/cielabutil.h>
#include <dcmtk/dcmiod/iodreferences.h>
#include <dcmtk/dcmseg/segdoc.h>
#include <dcmtk/dcmseg/segment.h>


#include <cmath>
#include <memory>
#include <vector>

#include "common/atomic_file.hpp"
#include "common/error.hpp"
#include "common/log.hpp"
#include "dicom/dicom_output.hpp"
#include "dicom/organ_codes.hpp"


namespace swu {
namespace {

const std::string kWhat = "DICOM SEG";

void check(const OFCondition& cond, const std::string& what, swu_status status = SWU_ERR_INTERNAL) {
    check_dcmtk(cond, kWhat + ": " + what, status);
}

CodeSequenceMacro code(const Code& c) { return CodeSequenceMacro(c.value, c.scheme, c.meaning); }

struct SegDeleter {
    void operator()(DcmSegmentation* s) const { delete s; }
};

}  // namespace

void write_dicom_seg(const Volume& labels, const DicomSeries& source, const std::string& out_path,
                     const DicomSegOptions& options) {
    const LabelSlices found = label_slices(labels, source, kWhat);
    const std::vector<std::vector<char>>& present = found.touches;
    const std::vector<int>& organs = found.organs;
    if (organs.empty())
        fail(SWU_ERR_INVALID_ARGUMENT, "DICOM SEG: the label volume holds no organ; a Segmentation needs at least one segment");
    if (source.rows > 65535 || source.columns > 65535) fail(SWU_ERR_UNSUPPORTED, "DICOM SEG: slices over 65535 pixels wide");

    const InputCorrection correction;
    DcmFileFormat first;
    check(first.loadFile(source.slices.front().file.c_str()), "reading " + source.slices.front().file, SWU_ERR_FORMAT);
    DcmDataset& src = *first.getDataset();

    const IODGeneralEquipmentModule::EquipmentInfo equipment("swinunetr", "Swin UNETR BTCV", "0", SWU_VERSION_STRING);
    const ContentIdentificationMacro content("1", options.content_label.c_str(), options.content_description.c_str(),
                                             options.content_creator.c_str());
    DcmSegmentation* raw = nullptr;
    check(DcmSegmentation::createBinarySegmentation(raw, static_cast<Uint16>(source.rows), static_cast<Uint16>(source.columns),
                                                    equipment, content),
          "creating the object", SWU_ERR_INVALID_ARGUMENT);
    std::unique_ptr<DcmSegmentation, SegDeleter> seg(raw);
    // DCMTK 3.6.7 looks for per-frame groups before it has written them, finds none and
    // only warns on stderr; the tests validate the dimensions with dciodvfy instead.
    seg->setCheckDimensionsOnWrite(OFFalse);
    check(seg->importFromSourceImage(src, OFTrue), "taking patient, study and frame of reference from " + source.slices.front().file,
          SWU_ERR_FORMAT);

    const int32_t series_number = options.series_number ? options.series_number : series_number_after(src, 1000);
    check(seg->getSeries().setSeriesNumber(std::to_string(series_number).c_str()), "SeriesNumber", SWU_ERR_INVALID_ARGUMENT);
    check(seg->getSeries().setSeriesDescription(options.series_description.c_str()), "SeriesDescription",
          SWU_ERR_INVALID_ARGUMENT);
    if (element_string(src, DCM_LossyImageCompression) == "01")
        check(seg->setLossyImageCompressionFlag(element_string(src, DCM_LossyImageCompressionRatio),
                                                element_string(src, DCM_LossyImageCompressionMethod), OFFalse),
              "LossyImageCompression");

    // Frames are indexed by segment, then by position along the normal.
    char uid[100];
    dcmGenerateUniqueIdentifier(uid, SITE_INSTANCE_UID_ROOT);
    check(seg->getDimensions().addDimensionIndex(DCM_ReferencedSegmentNumber, uid, DCM_SegmentIdentificationSequence,
                                                 "ReferencedSegmentNumber"),
          "dimension index");
    check(seg->getDimensions().addDimensionIndex(DCM_ImagePositionPatient, uid, DCM_PlanePositionSequence,
                                                 "ImagePositionPatient"),
          "dimension index");

    FGPixelMeasures measures;
    check(measures.setPixelSpacing((decimal_string(source.pixel_spacing[0]) + "\\" + decimal_string(source.pixel_spacing[1])).c_str()), "PixelSpacing");
    check(measures.setSliceThickness(decimal_string(source.slice_spacing).c_str()), "SliceThickness");
    check(measures.setSpacingBetweenSlices(decimal_string(source.slice_spacing).c_str()), "SpacingBetweenSlices");
    check(seg->addForAllFrames(measures), "pixel measures");
    const auto& o = source.orientation;
    std::unique_ptr<FGPlaneOrientationPatient> orientation(
        FGPlaneOrientationPatient::createMinimal(decimal_string(o[0]).c_str(), decimal_string(o[1]).c_str(), decimal_string(o[2]).c_str(), decimal_string(o[3]).c_str(),
                                                 decimal_string(o[4]).c_str(), decimal_string(o[5]).c_str()));
    if (!orientation) fail(SWU_ERR_INTERNAL, "DICOM SEG: cannot create the plane orientation");
    check(seg->addForAllFrames(*orientation), "plane orientation");

    const Geometry& g = labels.geometry();
    std::vector<Uint8> frame(static_cast<size_t>(source.rows * source.columns));
    size_t frames = 0;
    for (int label : organs) {
        const OrganCode& organ = organ_codes()[static_cast<size_t>(label - 1)];
        DcmSegment* segment = nullptr;
        check(DcmSegment::create(segment, organ.segment_label, code(kAnatomicalStructure), code(organ.type),
                                 DcmSegTypes::SAT_AUTOMATIC, "swinunetr"),
              std::string("segment ") + organ.segment_label);
        std::unique_ptr<DcmSegment> owned(segment);
        if (organ.laterality) segment->getSegmentedPropertyTypeModifierCode().push_back(new CodeSequenceMacro(code(*organ.laterality)));
        double L = 0, a = 0, b = 0;
        IODCIELabUtil::rgb2DicomLab(L, a, b, organ.rgb[0] / 255.0, organ.rgb[1] / 255.0, organ.rgb[2] / 255.0);
        check(segment->setRecommendedDisplayCIELabValue(static_cast<Uint16>(std::lround(L)), static_cast<Uint16>(std::lround(a)),
                                                        static_cast<Uint16>(std::lround(b))),
              "display colour");
        AlgorithmIdentificationMacro& algorithm = segment->getSegmentationAlgorithmIdentification();
        check(algorithm.getAlgorithmFamilyCode().set("123110", "DCM", "Artificial Intelligence"), "algorithm family");
        check(algorithm.setAlgorithmName("swinunetr"), "algorithm name");
        check(algorithm.setAlgorithmVersion(SWU_VERSION_STRING), "algorithm version");
        check(algorithm.setAlgorithmParameters("MONAI bundle swin_unetr_btcv_segmentation, label " + OFString(std::to_string(label).c_str())),
              "algorithm parameters");
        Uint16 number = 0;
        check(seg->addSegment(segment, number), std::string("adding segment ") + organ.segment_label);
        owned.release();  // the segmentation owns it now

        for (int64_t k = 0; k < g.size[2]; ++k) {
            if (!present[static_cast<size_t>(label)][static_cast<size_t>(k)]) continue;
            size_t n = 0;
            for (int64_t j = 0; j < g.size[1]; ++j)
                for (int64_t i = 0; i < g.size[0]; ++i) frame[n++] = labels.value(labels.offset(i, j, k)) == label ? 1 : 0;
            const DicomSlice& slice = source.slices[static_cast<size_t>(k)];
            std::unique_ptr<FGPlanePosPatient> position(FGPlanePosPatient::createMinimal(
                decimal_string(slice.position[0]).c_str(), decimal_string(slice.position[1]).c_str(), decimal_string(slice.position[2]).c_str()));
            FGFrameContent content_fg;
            check(content_fg.setDimensionIndexValues(number, 0), "dimension index value");
            check(content_fg.setDimensionIndexValues(static_cast<Uint32>(k + 1), 1), "dimension index value");
            OFVector<ImageSOPInstanceReferenceMacro> derived_from(1);
            check(derived_from[0].setReferencedSOPClassUID(slice.sop_class_uid.c_str()), slice.file + ": SOPClassUID", SWU_ERR_FORMAT);
            check(derived_from[0].setReferencedSOPInstanceUID(slice.sop_instance_uid.c_str()), slice.file + ": SOPInstanceUID",
                  SWU_ERR_FORMAT);
            std::unique_ptr<FGDerivationImage> derivation(
                DcmSegmentation::createDerivationImageFG(derived_from, "Segmented by swinunetr (Swin UNETR)"));
            if (!position || !derivation) fail(SWU_ERR_INTERNAL, "DICOM SEG: cannot create the functional groups of a frame");
            OFVector<FGBase*> groups;
            groups.push_back(position.get());
            groups.push_back(&content_fg);
            groups.push_back(derivation.get());
            check(seg->addFrame(frame.data(), number, groups), "adding a frame");
            ++frames;
        }
    }

    // The whole source series, so a PACS links the segmentation to it.
    IODReferences references;
    const OFString patient_id = element_string(src, DCM_PatientID), study_uid = element_string(src, DCM_StudyInstanceUID);
    for (const DicomSlice& slice : source.slices)
        references.add(new IODImageReference(patient_id, study_uid, source.series_uid.c_str(), slice.sop_instance_uid.c_str(),
                                             slice.sop_class_uid.c_str()));
    if (seg->getCommonInstanceReference().addReferences(references, study_uid) != source.slices.size())
        fail(SWU_ERR_FORMAT, "DICOM SEG: the source slices lack the UIDs a reference needs (patient, study, series, SOP)");

    AtomicFile file(out_path, "DICOM SEG");
    const OFCondition saved = seg->saveFile(file.temp_path().c_str(), EXS_LittleEndianExplicit);
    if (saved.bad()) fail(SWU_ERR_IO, "cannot write DICOM SEG '" + out_path + "': " + saved.text());
    file.commit();
    log_info("DICOM SEG " + out_path + ": " + std::to_string(organs.size()) + " segments, " + std::to_string(frames) +
             " frames");  // no UID in the log (SECURITY.md)
}

}  // namespace swu
