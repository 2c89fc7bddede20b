// Built with SWU_WITH_DCMTK=OFF (or without ITK): no DICOM Segmentation writer.
#include "common/error.hpp"
#include "dicom/dicom_seg.hpp"

namespace swu {

void write_dicom_seg(const Volume&, const DicomSeries&, const std::string& out_path, const DicomSegOptions&) {
    fail(SWU_ERR_UNSUPPORTED, "cannot write DICOM SEG '" + out_path +
                                  "': this libswinunetr was built without DCMTK or without ITK (SWU_WITH_DCMTK=OFF or SWU_WITH_ITK=OFF)");
}

}  // namespace swu
