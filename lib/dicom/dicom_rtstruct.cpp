#include "dicom/dicom_rtstruct.hpp"

#include <dcmtk/config/osconfig.h>  // must come first

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcvrda.h>
#include <dcmtk/dcmdata/dcvrtm.h>
#include <dcmtk/dcmrt/drtstrct.h>

#include <array>
#include <string>
#include <vector>

#include "common/atomic_file.hpp"
#include "common/log.hpp"
#include "dicom/contours.hpp"
#include "dicom/dicom_output.hpp"
#include "dicom/organ_codes.hpp"

namespace swu {
namespace {

const std::string kWhat = "RTSTRUCT";
// The SOP class an RT Referenced Study item names the study with (the retired Detached
// Study Management class: what PS3.3 C.8.8.5 and every reader expect there).
const char* const kStudySopClass = "1.2.840.10008.3.1.2.3.1";

void check(const OFCondition& cond, const std::string& what, swu_status status = SWU_ERR_INTERNAL) {
    check_dcmtk(cond, kWhat + ": " + what, status);
}

template <class Sequence>
typename Sequence::Item& add_item(Sequence& sequence, const std::string& what) {
    typename Sequence::Item* item = nullptr;
    check(sequence.addItem(item), "adding an item to " + what);
    return *item;
}

template <class CodeItem>
void set_code(CodeItem& item, const Code& c, const std::string& what) {
    check(item.setCodeValue(c.value), what + ": CodeValue");
    check(item.setCodingSchemeDesignator(c.scheme), what + ": CodingSchemeDesignator");
    check(item.setCodeMeaning(c.meaning), what + ": CodeMeaning");
}

std::string uid() {
    char buf[100];
    return dcmGenerateUniqueIdentifier(buf, SITE_INSTANCE_UID_ROOT);
}

// Patient coordinates (LPS mm) of a pixel corner on `slice`: pixel (i, j) is centred at
// position + i * column spacing * row direction + j * row spacing * column direction.
std::array<double, 3> corner_position(const DicomSeries& source, const DicomSlice& slice, const ContourPoint& p) {
    const double u = (p.x - 0.5) * source.pixel_spacing[1], v = (p.y - 0.5) * source.pixel_spacing[0];
    const auto& o = source.orientation;
    return {slice.position[0] + u * o[0] + v * o[3], slice.position[1] + u * o[1] + v * o[4],
            slice.position[2] + u * o[2] + v * o[5]};
}

}  // namespace

void write_dicom_rtstruct(const Volume& labels, const DicomSeries& source, const std::string& out_path,
                          const DicomRtstructOptions& options) {
    const LabelSlices found = label_slices(labels, source, kWhat);
    if (found.organs.empty())
        fail(SWU_ERR_INVALID_ARGUMENT, kWhat + ": the label volume holds no organ; a structure set needs at least one ROI");

    const InputCorrection correction;
    DcmFileFormat first;
    check(first.loadFile(source.slices.front().file.c_str()), "reading " + source.slices.front().file, SWU_ERR_FORMAT);
    DcmDataset& src = *first.getDataset();
    const OFString study_uid = element_string(src, DCM_StudyInstanceUID);
    const OFString frame_of_reference = element_string(src, DCM_FrameOfReferenceUID);
    if (study_uid.empty() || frame_of_reference.empty())
        fail(SWU_ERR_FORMAT, kWhat + ": " + source.slices.front().file + " has no " +
                                 (study_uid.empty() ? "StudyInstanceUID" : "FrameOfReferenceUID") +
                                 ": contours need the study and the frame of reference they lie in");

    DRTStructureSetIOD rt;
    check(rt.readPatientData(src), "taking the patient from " + source.slices.front().file, SWU_ERR_FORMAT);
    check(rt.readStudyData(src), "taking the study from " + source.slices.front().file, SWU_ERR_FORMAT);
    const OFString charset = element_string(src, DCM_SpecificCharacterSet);
    if (!charset.empty()) check(rt.setSpecificCharacterSet(charset), "SpecificCharacterSet", SWU_ERR_FORMAT);

    OFString date, time;
    check(DcmDate::getCurrentDate(date), "the date");
    check(DcmTime::getCurrentTime(time), "the time");
    check(rt.setSOPClassUID(UID_RTStructureSetStorage), "SOPClassUID");
    check(rt.setSOPInstanceUID(uid().c_str()), "SOPInstanceUID");
    check(rt.setInstanceCreationDate(date), "InstanceCreationDate");
    check(rt.setInstanceCreationTime(time), "InstanceCreationTime");

    const int32_t series_number = options.series_number ? options.series_number : series_number_after(src, 1001);
    check(rt.setModality("RTSTRUCT"), "Modality");
    check(rt.setSeriesInstanceUID(uid().c_str()), "SeriesInstanceUID");
    check(rt.setSeriesNumber(std::to_string(series_number).c_str()), "SeriesNumber", SWU_ERR_INVALID_ARGUMENT);
    check(rt.setSeriesDescription(options.series_description.c_str()), "SeriesDescription", SWU_ERR_INVALID_ARGUMENT);
    check(rt.setSeriesDate(date), "SeriesDate");
    check(rt.setSeriesTime(time), "SeriesTime");
    check(rt.setOperatorsName(options.content_creator.c_str()), "OperatorsName", SWU_ERR_INVALID_ARGUMENT);
    check(rt.setManufacturer("swinunetr"), "Manufacturer");
    check(rt.setManufacturerModelName("Swin UNETR BTCV"), "ManufacturerModelName");
    check(rt.setSoftwareVersions(SWU_VERSION_STRING), "SoftwareVersions");

    check(rt.setStructureSetLabel(options.content_label.c_str()), "StructureSetLabel", SWU_ERR_INVALID_ARGUMENT);
    check(rt.setStructureSetDescription(options.content_description.c_str()), "StructureSetDescription", SWU_ERR_INVALID_ARGUMENT);
    check(rt.setInstanceNumber("1"), "InstanceNumber");
    check(rt.setStructureSetDate(date), "StructureSetDate");
    check(rt.setStructureSetTime(time), "StructureSetTime");

    check(rt.setFrameOfReferenceUID(frame_of_reference), "FrameOfReferenceUID", SWU_ERR_FORMAT);
    check(rt.setPositionReferenceIndicator(element_string(src, DCM_PositionReferenceIndicator)), "PositionReferenceIndicator",
          SWU_ERR_FORMAT);

    // The frame of reference, and in it the study, the series and every slice.
    auto& frame = add_item(rt.getReferencedFrameOfReferenceSequence(), "ReferencedFrameOfReferenceSequence");
    check(frame.setFrameOfReferenceUID(frame_of_reference), "FrameOfReferenceUID", SWU_ERR_FORMAT);
    auto& study = add_item(frame.getRTReferencedStudySequence(), "RTReferencedStudySequence");
    check(study.setReferencedSOPClassUID(kStudySopClass), "RTReferencedStudySequence");
    check(study.setReferencedSOPInstanceUID(study_uid), "StudyInstanceUID", SWU_ERR_FORMAT);
    auto& series = add_item(study.getRTReferencedSeriesSequence(), "RTReferencedSeriesSequence");
    check(series.setSeriesInstanceUID(source.series_uid.c_str()), "SeriesInstanceUID", SWU_ERR_FORMAT);
    for (const DicomSlice& slice : source.slices) {
        auto& image = add_item(series.getContourImageSequence(), "ContourImageSequence");
        check(image.setReferencedSOPClassUID(slice.sop_class_uid.c_str()), slice.file + ": SOPClassUID", SWU_ERR_FORMAT);
        check(image.setReferencedSOPInstanceUID(slice.sop_instance_uid.c_str()), slice.file + ": SOPInstanceUID", SWU_ERR_FORMAT);
    }

    // One ROI per organ: its definition, its observation (what it is) and its contours.
    std::vector<DRTContourSequence*> contours_of(kOrganLabels + 1, nullptr);
    for (int label : found.organs) {
        const OrganCode& organ = organ_codes()[static_cast<size_t>(label - 1)];
        const std::string name = organ.segment_label, number = std::to_string(label);
        auto& roi = add_item(rt.getStructureSetROISequence(), "StructureSetROISequence");
        check(roi.setROINumber(number.c_str()), name + ": ROINumber");
        check(roi.setReferencedFrameOfReferenceUID(frame_of_reference), name + ": ReferencedFrameOfReferenceUID");
        check(roi.setROIName(name.c_str()), name + ": ROIName");
        check(roi.setROIGenerationAlgorithm("AUTOMATIC"), name + ": ROIGenerationAlgorithm");
        check(roi.setROIGenerationDescription(("swinunetr " SWU_VERSION_STRING ", Swin UNETR BTCV label " + number).c_str()),
              name + ": ROIGenerationDescription");

        auto& observation = add_item(rt.getRTROIObservationsSequence(), "RTROIObservationsSequence");
        check(observation.setObservationNumber(number.c_str()), name + ": ObservationNumber");
        check(observation.setReferencedROINumber(number.c_str()), name + ": ReferencedROINumber");
        check(observation.setRTROIInterpretedType("ORGAN"), name + ": RTROIInterpretedType");
        check(observation.setROIInterpreter(""), name + ": ROIInterpreter");
        auto& identification = add_item(observation.getRTROIIdentificationCodeSequence(), name + ": RTROIIdentificationCodeSequence");
        set_code(identification, organ.type, name);
        if (organ.laterality)
            set_code(add_item(identification.getSegmentedPropertyTypeModifierCodeSequence(), name + ": laterality"),
                     *organ.laterality, name + ": laterality");

        auto& contour = add_item(rt.getROIContourSequence(), "ROIContourSequence");
        check(contour.setReferencedROINumber(number.c_str()), name + ": ReferencedROINumber");
        check(contour.setROIDisplayColor((std::to_string(organ.rgb[0]) + "\\" + std::to_string(organ.rgb[1]) + "\\" +
                                          std::to_string(organ.rgb[2]))
                                             .c_str()),
              name + ": ROIDisplayColor");
        contours_of[static_cast<size_t>(label)] = &contour.getContourSequence();
    }

    // The contours, slice by slice.
    const Geometry& g = labels.geometry();
    std::vector<uint8_t> slice_labels(static_cast<size_t>(g.size[0] * g.size[1])), mask(slice_labels.size());
    size_t contour_count = 0, point_count = 0;
    std::vector<size_t> numbers(kOrganLabels + 1, 0);
    for (int64_t k = 0; k < g.size[2]; ++k) {
        bool any = false;
        for (int label : found.organs) any = any || found.touches[static_cast<size_t>(label)][static_cast<size_t>(k)];
        if (!any) continue;
        for (int64_t j = 0, n = 0; j < g.size[1]; ++j)
            for (int64_t i = 0; i < g.size[0]; ++i, ++n)
                slice_labels[static_cast<size_t>(n)] = static_cast<uint8_t>(labels.value(labels.offset(i, j, k)));
        const DicomSlice& slice = source.slices[static_cast<size_t>(k)];
        for (int label : found.organs) {
            if (!found.touches[static_cast<size_t>(label)][static_cast<size_t>(k)]) continue;
            for (size_t n = 0; n < mask.size(); ++n) mask[n] = slice_labels[n] == label;
            for (const Contour& polygon : trace_contours(mask.data(), g.size[0], g.size[1])) {
                std::string data;
                data.reserve(polygon.size() * 3 * 12);
                for (const ContourPoint& p : polygon)
                    for (double v : corner_position(source, slice, p)) {
                        if (!data.empty()) data += '\\';
                        data += decimal_string(v);
                    }
                const std::string what = std::string(organ_codes()[static_cast<size_t>(label - 1)].segment_label) + ": a contour";
                auto& item = add_item(*contours_of[static_cast<size_t>(label)], what);
                auto& image = add_item(item.getContourImageSequence(), what + ": ContourImageSequence");
                check(image.setReferencedSOPClassUID(slice.sop_class_uid.c_str()), what + ": ReferencedSOPClassUID");
                check(image.setReferencedSOPInstanceUID(slice.sop_instance_uid.c_str()), what + ": ReferencedSOPInstanceUID");
                check(item.setContourNumber(std::to_string(++numbers[static_cast<size_t>(label)]).c_str()), what + ": ContourNumber");
                check(item.setContourGeometricType("CLOSED_PLANAR"), what + ": ContourGeometricType");
                check(item.setNumberOfContourPoints(std::to_string(polygon.size()).c_str()), what + ": NumberOfContourPoints");
                check(item.setContourData(data.c_str(), OFFalse), what + ": ContourData");
                ++contour_count;
                point_count += polygon.size();
            }
        }
    }

    DcmFileFormat out;
    check(rt.write(*out.getDataset()), "assembling the dataset");
    AtomicFile file(out_path, kWhat);
    const OFCondition saved = out.saveFile(file.temp_path().c_str(), EXS_LittleEndianExplicit);
    if (saved.bad()) fail(SWU_ERR_IO, "cannot write RTSTRUCT '" + out_path + "': " + saved.text());
    file.commit();
    log_info("RTSTRUCT " + out_path + ": " + std::to_string(found.organs.size()) + " ROIs, " + std::to_string(contour_count) +
             " contours, " + std::to_string(point_count) + " points");  // no UID in the log (SECURITY.md)
}

}  // namespace swu
