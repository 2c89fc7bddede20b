#include "dicom/dicom_output.hpp"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcobject.h>

#include <cmath>
#include <cstdio>
#include <cstring>

namespace swu {

std::string decimal_string(double v) {
    char buf[64];
    for (int precision = 12; precision > 1; --precision) {
        std::snprintf(buf, sizeof buf, "%.*g", precision, v);
        if (std::strlen(buf) <= 16) break;
    }
    return buf;
}

LabelSlices label_slices(const Volume& labels, const DicomSeries& source, const std::string& what) {
    if (source.slices.empty()) fail(SWU_ERR_INVALID_ARGUMENT, what + ": the source series has no slices");
    if (labels.channels() != 1)
        fail(SWU_ERR_INVALID_ARGUMENT, what + ": a label map has one channel, this volume has " + std::to_string(labels.channels()));
    const Geometry& g = labels.geometry();
    const Geometry s = source.geometry();
    const auto ds = decimal_string;
    std::string why;
    if (g.size != s.size)
        why = "size " + std::to_string(g.size[0]) + " x " + std::to_string(g.size[1]) + " x " + std::to_string(g.size[2]) +
              ", the series has " + std::to_string(s.size[0]) + " x " + std::to_string(s.size[1]) + " x " +
              std::to_string(s.size[2]);
    for (int a = 0; a < 3 && why.empty(); ++a) {
        if (std::abs(g.spacing[a] - s.spacing[a]) > 1e-4 * s.spacing[a] + 1e-5)
            why = "spacing " + ds(g.spacing[a]) + " mm along axis " + std::to_string(a) + ", the series has " + ds(s.spacing[a]);
        else if (std::abs(g.origin[a] - s.origin[a]) > 0.01)
            why = "origin " + ds(g.origin[0]) + ", " + ds(g.origin[1]) + ", " + ds(g.origin[2]) + " mm, the series starts at " +
                  ds(s.origin[0]) + ", " + ds(s.origin[1]) + ", " + ds(s.origin[2]);
    }
    for (int e = 0; e < 9 && why.empty(); ++e)
        if (std::abs(g.direction[e] - s.direction[e]) > 1e-4) why = "another orientation (direction matrix)";
    if (!why.empty())
        fail(SWU_ERR_INVALID_ARGUMENT, "the label volume is not on the grid of DICOM series " + source.series_uid + ": " + why +
                                           " (segment the volume read from that series; labels keep its geometry)");

    LabelSlices r;
    r.touches.assign(kOrganLabels + 1, std::vector<char>(static_cast<size_t>(g.size[2]), 0));
    for (int64_t k = 0; k < g.size[2]; ++k)
        for (int64_t j = 0; j < g.size[1]; ++j)
            for (int64_t i = 0; i < g.size[0]; ++i) {
                const double v = labels.value(labels.offset(i, j, k));
                if (v == 0) continue;
                if (!(v >= 0 && v <= kOrganLabels) || v != std::floor(v))
                    fail(SWU_ERR_INVALID_ARGUMENT, what + ": label value " + ds(v) + " at voxel (" + std::to_string(i) + ", " +
                                                       std::to_string(j) + ", " + std::to_string(k) +
                                                       ") is not one of the classes 0..13");
                r.touches[static_cast<size_t>(v)][static_cast<size_t>(k)] = 1;
            }
    for (int l = 1; l <= kOrganLabels; ++l)
        for (char t : r.touches[static_cast<size_t>(l)])
            if (t) {
                r.organs.push_back(l);
                break;
            }
    return r;
}

OFString element_string(DcmItem& item, const DcmTagKey& tag) {
    OFString v;
    item.findAndGetOFStringArray(tag, v);
    return v;
}

int32_t series_number_after(DcmItem& source, int32_t offset) {
    long number = 0;
    source.findAndGetLongInt(DCM_SeriesNumber, number);
    return static_cast<int32_t>(number + offset);
}

void check_dcmtk(const OFCondition& cond, const std::string& what, swu_status status) {
    if (cond.bad()) fail(status, what + ": " + cond.text());
}

InputCorrection::InputCorrection() : host_setting_(dcmEnableAutomaticInputDataCorrection.get()) {
    dcmEnableAutomaticInputDataCorrection.set(OFTrue);
}

InputCorrection::~InputCorrection() { dcmEnableAutomaticInputDataCorrection.set(host_setting_); }

}  // namespace swu
