// Finding one CT series in a folder of DICOM files and checking that it forms a
// regular 3D grid, before any pixel is read. Both the volume reader and the DICOM SEG
// writer use it, so a SEG's frames reference exactly the slices the volume was built from.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "image/volume.hpp"

namespace swu {

struct DicomSlice {
    std::string file;
    std::string sop_class_uid;
    std::string sop_instance_uid;
    std::array<double, 3> position{};  // ImagePositionPatient, LPS mm
};

struct DicomSeries {
    std::string folder;
    std::string series_uid;
    std::string modality;
    size_t series_in_folder = 0;        // distinct SeriesInstanceUIDs among the files
    int64_t rows = 0, columns = 0;
    std::array<double, 6> orientation{};  // ImageOrientationPatient: row direction, column direction
    std::array<double, 2> pixel_spacing{};  // PixelSpacing: between rows, between columns (mm)
    double slice_spacing = 0;             // mm between neighbouring slices along the normal
    std::vector<DicomSlice> slices;       // ascending along row x column (the normal)

    // The grid the slices form, as the volume reader returns it: i along a row,
    // j down the columns, k along the normal; origin at the first slice.
    Geometry geometry() const;
};

// Scans every file in `folder` (not its subfolders; each must be DICOM, see
// list_dicom_folder) and picks the series whose
// SeriesInstanceUID is `series_uid` exactly, or, when it is empty, the CT series with
// the most slices. Refuses, with a message that says why: no DICOM files or no such
// series (SWU_ERR_INVALID_ARGUMENT for a missing UID), a modality other than CT, a
// multi-frame object, fewer than 2 slices, differing rows/columns/pixel spacing,
// slices not stacked along their normal (gantry tilt), duplicated slice positions,
// missing slices and otherwise non-uniform slice spacing (SWU_ERR_FORMAT /
// SWU_ERR_UNSUPPORTED). Slices with an orientation that differs from the majority's
// (localizers filed in the series) are skipped with a warning.
DicomSeries scan_dicom_series(const std::string& folder, const std::string& series_uid);

}  // namespace swu
