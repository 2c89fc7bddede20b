// What the DICOM writers over a source series (SEG, RT Structure Set) share: checking
// that a label map lies on the series' grid, the organs it holds and the slices each
// touches, DICOM decimal strings, and DCMTK's input correction held on while they run.
#pragma once

#include <dcmtk/config/osconfig.h>  // must come first
#include <dcmtk/dcmdata/dcitem.h>

#include <string>
#include <vector>

#include "common/error.hpp"
#include "dicom/dicom_series.hpp"
#include "image/volume.hpp"

namespace swu {

constexpr int kOrganLabels = 13;  // classes 1..13 of the bundle; 0 is background

// Which slices each organ touches, for a label map on the grid of `source`.
struct LabelSlices {
    std::vector<std::vector<char>> touches;  // [label 0..13][slice]: 1 where the label appears
    std::vector<int> organs;                 // labels 1..13 present, ascending
};

// Checks that `labels` has one channel, lies exactly on the grid of `source` (as
// read_dicom_volume returns it) and holds only the classes 0..13, then finds the organs
// present. `what` ("DICOM SEG", "RTSTRUCT") starts each message. Throws
// SWU_ERR_INVALID_ARGUMENT naming the mismatch or the first bad voxel.
LabelSlices label_slices(const Volume& labels, const DicomSeries& source, const std::string& what);

// A DICOM decimal string (DS, at most 16 characters) as close to `v` as fits.
std::string decimal_string(double v);

// The value of `tag` in `item` (all its values, backslash-separated), or "".
OFString element_string(DcmItem& item, const DcmTagKey& tag);

// The default SeriesNumber of an object derived from `source`: its SeriesNumber (0 when
// it has none) + `offset` (SEG 1000, RTSTRUCT 1001, so the two sit side by side).
int32_t series_number_after(DcmItem& source, int32_t offset);

// Throws `status` with "<what>: <DCMTK's text>" when `cond` is bad.
void check_dcmtk(const OFCondition& cond, const std::string& what, swu_status status = SWU_ERR_INTERNAL);

// A host may run DCMTK with input correction off (DcmSCP::listen() and storescp switch
// it off, process-wide): the source's values would keep their 0-byte padding and fail
// DCMTK's checks ("StudyInstanceUID violates VR definition"). DCMTK corrects a value
// when it is first used, not when the file is read, so a writer runs with it on from
// start to end; the host's setting comes back after.
class InputCorrection {
public:
    InputCorrection();
    ~InputCorrection();
    InputCorrection(const InputCorrection&) = delete;
    InputCorrection& operator=(const InputCorrection&) = delete;

private:
    const OFBool host_setting_;
};

}  // namespace swu
