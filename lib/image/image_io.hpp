// Reading and writing volumes with ITK: NIfTI (.nii, .nii.gz), NRRD (.nrrd, .nhdr),
// MetaImage (.mha, .mhd) and DICOM series folders.
#pragma once

#include <string>

#include "dicom/dicom_series.hpp"
#include "image/volume.hpp"

namespace swu {

// A file, or a folder holding a DICOM series (see read_dicom_volume). A file's int16 / uint16 /
// uint8 voxels keep their type; other types, and values a header rescales, become float32. Throws SWU_ERR_IO / SWU_ERR_FORMAT / SWU_ERR_UNSUPPORTED.
Volume read_volume(const std::string& path, const std::string& series_uid = "");

// The series scan_dicom_series() picks in `folder` (the CT series with the most slices,
// or the one whose SeriesInstanceUID is `series_uid`), its voxels in HU as float32 and
// its geometry exactly as the scan computed it. `chosen` (may be null) receives the scan.
Volume read_dicom_volume(const std::string& folder, const std::string& series_uid, DicomSeries* chosen);

// Writes by extension; the file appears only when complete (written to a temporary
// name in the same folder, then renamed). Throws SWU_ERR_IO / SWU_ERR_INVALID_ARGUMENT.
void write_volume(const Volume& volume, const std::string& path);

}  // namespace swu
