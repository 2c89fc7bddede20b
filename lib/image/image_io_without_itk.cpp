// Built with SWU_WITH_ITK=OFF: image files cannot be read or written; wrapped
// in-memory volumes still segment.
#include "common/error.hpp"
#include "image/image_io.hpp"

namespace swu {

Volume read_volume(const std::string& path, const std::string&) {
    fail(SWU_ERR_UNSUPPORTED, "cannot read '" + path + "': this libswinunetr was built without ITK (SWU_WITH_ITK=OFF); "
                              "wrap the voxels with swu_volume_wrap instead");
}

Volume read_dicom_volume(const std::string& folder, const std::string&, DicomSeries*) {
    fail(SWU_ERR_UNSUPPORTED, "cannot read '" + folder + "': this libswinunetr was built without ITK (SWU_WITH_ITK=OFF)");
}

DicomSeries scan_dicom_series(const std::string& folder, const std::string&) {
    fail(SWU_ERR_UNSUPPORTED, "cannot read '" + folder + "': this libswinunetr was built without ITK (SWU_WITH_ITK=OFF)");
}

void write_volume(const Volume&, const std::string& path) {
    fail(SWU_ERR_UNSUPPORTED, "cannot write '" + path + "': this libswinunetr was built without ITK (SWU_WITH_ITK=OFF)");
}

}  // namespace swu
