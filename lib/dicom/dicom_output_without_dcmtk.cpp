// Built with SWU_WITH_DCMTK=OFF (or without ITK): no DICOM SEG or RT Structure Set writer.
#include "common/error.hpp"
#include "dicom/dicom_rtstruct.hpp"
#include "dicom/dicom_seg.hpp"

namespace swu {
namespace {

[[noreturn]] void no_dcmtk(const std::string& what, const std::string& out_path) {
    fail(SWU_ERR_UNSUPPORTED, "cannot write " + what + " '" + out_path +
                                  "': this libswinunetr was built without DCMTK or without ITK (SWU_WITH_DCMTK=OFF or SWU_WITH_ITK=OFF)");
}

}  // namespace

void write_dicom_seg(const Volume&, const DicomSeries&, const std::string& out_path, const DicomSegOptions&) {
    no_dcmtk("DICOM SEG", out_path);
}

void write_dicom_rtstruct(const Volume&, const DicomSeries&, const std::string& out_path, const DicomRtstructOptions&) {
    no_dcmtk("RTSTRUCT", out_path);
}

}  // namespace swu
