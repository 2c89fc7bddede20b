// Writing an organ label map as a DICOM Segmentation (binary SEG) over the CT series it
// was computed from, so a PACS can store it with the study and display it on the series.
#pragma once

#include <cstdint>
#include <string>

#include "dicom/dicom_series.hpp"
#include "image/volume.hpp"

namespace swu {

struct DicomSegOptions {
    std::string series_description = "swinunetr organ segmentation";
    int32_t series_number = 0;  // 0: the source's SeriesNumber + 1000 (1000 without one)
    std::string content_label = "ORGANS";  // CS: up to 16 of A-Z 0-9 _ and space
    std::string content_description = "13 abdominal organs (Swin UNETR, BTCV)";
    std::string content_creator;  // PN, may stay empty
};

// Writes `labels` (classes 0..13 of the bundle; integral values) as a binary DICOM
// Segmentation to `out_path`. `labels` must lie exactly on the grid of `source` (as
// read_dicom_volume returns it). Patient, study and frame of reference are those of the
// source; every frame references its source slice (Derivation Image, Source Image
// Sequence) and the series is referenced as a whole (Common Instance Reference). Only
// organs present get a segment, and each segment only frames on slices it touches.
// The file appears only when complete (temporary name in the same folder, then renamed).
// Throws SWU_ERR_INVALID_ARGUMENT (grid or label values do not fit, no organ present),
// SWU_ERR_IO, SWU_ERR_FORMAT (source headers unreadable), SWU_ERR_UNSUPPORTED (built
// without DCMTK).
void write_dicom_seg(const Volume& labels, const DicomSeries& source, const std::string& out_path,
                     const DicomSegOptions& options);

}  // namespace swu
