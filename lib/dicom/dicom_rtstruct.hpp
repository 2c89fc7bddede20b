// Writing an organ label map as a DICOM RT Structure Set over the CT series it was
// computed from: one ROI per organ, closed planar contours on the source slices, for
// treatment planning systems and viewers that read contours rather than SEG.
#pragma once

#include <cstdint>
#include <string>

#include "dicom/dicom_series.hpp"
#include "image/volume.hpp"

namespace swu {

struct DicomRtstructOptions {
    std::string series_description = "swinunetr organ contours";
    int32_t series_number = 0;  // 0: the source's SeriesNumber + 1001 (a SEG of the same run takes + 1000)
    // Named as DicomSegOptions' (the C API fills both from one struct):
    std::string content_label = "ORGANS";  // StructureSetLabel (up to 16 characters)
    std::string content_description = "13 abdominal organs (Swin UNETR, BTCV)";  // StructureSetDescription
    std::string content_creator;  // OperatorsName of the RT Series (PN), may stay empty
};

// Writes `labels` (classes 0..13 of the bundle; integral values, on the grid of
// `source` as read_dicom_volume returns it) as an RT Structure Set to `out_path`.
// Patient and study are those of the source; the structure set references the source's
// Frame of Reference, study, series and every slice. Each organ present is one ROI (ROI
// number = its label, the name and display colour of organ_codes(), its SNOMED CT code
// in the RT ROI Identification Code Sequence, interpreted type ORGAN, generated
// AUTOMATIC). On each slice it touches it has CLOSED_PLANAR contours along the borders
// of its pixels (trace_contours): holes and separate islands are contours of their own,
// to be combined by the even-odd rule, and each contour references its slice.
// The file appears only when complete (temporary name in the same folder, then renamed).
// Throws SWU_ERR_INVALID_ARGUMENT (grid or label values do not fit, no organ present),
// SWU_ERR_IO, SWU_ERR_FORMAT (source headers unreadable), SWU_ERR_UNSUPPORTED (built
// without DCMTK).
void write_dicom_rtstruct(const Volume& labels, const DicomSeries& source, const std::string& out_path,
                          const DicomRtstructOptions& options);

}  // namespace swu
