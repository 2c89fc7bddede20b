// Checks of file headers made before ITK / GDCM parse a file, for inputs that are
// known to hang or abort those libraries (found by fuzz/fuzz_volume; reproducers in
// tests/data/regress/fuzz_volume_*). Each throws swu::Error(SWU_ERR_FORMAT) naming
// the file; anything they do not recognise is left to ITK.
#pragma once

#include <string>
#include <vector>

namespace swu {

// Whether `s` ends with `suffix`, ignoring ASCII case ("CT.NII.GZ" is a NIfTI file to
// ITK as well): the extension tests of the checks below and of the reader's choice.
bool ends_with_nocase(const std::string& s, const char* suffix);

// NIfTI-1 / Analyze (.nii, .nii.gz, .hdr): pixdim, quatern and srow values must be
// finite and below 10^6 mm. ITK 5.2 runs an SVD on them that never ends for extreme
// values.
void check_nifti_header(const std::string& path);

// After ITK read the header (and the voxel cap was checked): the file must hold all
// the voxels its header promises. ITK 5.2 fills a truncated NIfTI (.nii, .nii.gz) or
// MetaImage (.mha) with whatever it got and reports success; these find the shortfall
// (a gzip stream is inflated once to its end, so a cut trailer counts too).
void check_nifti_payload(const std::string& path);
// Before ITK reads a MetaImage header: NDims must be 1..4 (MetaIO reads for minutes on
// a huge count).
void check_metaimage_header(const std::string& path);
// Also refuses an .mha whose ElementDataFile is not LOCAL (MetaIO 5.2 overflows a heap
// buffer on some malformed file patterns).
void check_metaimage_payload(const std::string& path);

// NIfTI-1 pairs: the header of x.img (.img.gz) is x.hdr (.hdr.gz); the one that
// exists, or "" when neither does.
std::string nifti_header_of(const std::string& path);

// One file GDCM is about to parse: it must be a DICOM Part 10 file (128-byte preamble,
// then "DICM"). GDCM 3.0 as built by Debian aborts the process on an assertion for some
// short or malformed files, so in builds with DCMTK the file must also parse with DCMTK
// first, and native pixel data must be as long as Rows x Columns x samples x frames x
// bytes per sample (GDCM pads a short slice with a warning).
void check_dicom_file(const std::string& path);

// The regular files in a DICOM folder (not its subfolders), sorted, each passed by
// check_dicom_file. Callers parse exactly this list: a file dropped into the folder
// after the check is not seen.
std::vector<std::string> list_dicom_folder(const std::string& folder);

}  // namespace swu
