#include "dicom/dicom_series.hpp"

#include <gdcmScanner.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>

#include "common/error.hpp"
#include "common/log.hpp"
#include "image/header_checks.hpp"

namespace fs = std::filesystem;

namespace swu {
namespace {

const gdcm::Tag kSeriesUid(0x0020, 0x000e), kModality(0x0008, 0x0060), kSopClass(0x0008, 0x0016),
    kSopInstance(0x0008, 0x0018), kPosition(0x0020, 0x0032), kOrientation(0x0020, 0x0037), kRows(0x0028, 0x0010),
    kColumns(0x0028, 0x0011), kPixelSpacing(0x0028, 0x0030), kFrames(0x0028, 0x0008);

std::string trimmed(const char* s) {
    if (!s) return "";
    std::string v(s);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\0')) v.pop_back();
    while (!v.empty() && v.front() == ' ') v.erase(v.begin());
    return v;
}

// A backslash-separated decimal string with exactly `n` numbers, or an empty vector.
std::vector<double> numbers(const std::string& s, size_t n) {
    std::vector<double> out;
    std::stringstream in(s);
    std::string item;
    while (std::getline(in, item, '\\')) {
        char* end = nullptr;
        const double v = std::strtod(item.c_str(), &end);
        if (end == item.c_str() || !std::isfinite(v)) return {};
        out.push_back(v);
    }
    if (out.size() != n) return {};
    return out;
}

std::array<double, 3> normal_of(const std::array<double, 6>& o) {
    return {o[1] * o[5] - o[2] * o[4], o[2] * o[3] - o[0] * o[5], o[0] * o[4] - o[1] * o[3]};
}

double dot(const std::array<double, 3>& a, const std::array<double, 3>& b) {
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

std::string mm(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", v);
    return buf;
}

struct Candidate {
    std::string modality;
    std::vector<std::string> files;
};

}  // namespace

Geometry DicomSeries::geometry() const {
    Geometry g;
    g.size = {columns, rows, static_cast<int64_t>(slices.size())};
    g.spacing = {pixel_spacing[1], pixel_spacing[0], slice_spacing};
    g.origin = slices.front().position;
    const std::array<double, 3> n = normal_of(orientation);
    for (int r = 0; r < 3; ++r) {
        g.direction[r * 3 + 0] = orientation[r];
        g.direction[r * 3 + 1] = orientation[3 + r];
        g.direction[r * 3 + 2] = n[r];
    }
    return g;
}

DicomSeries scan_dicom_series(const std::string& folder, const std::string& series_uid) {
    const std::vector<std::string> files = list_dicom_folder(folder);  // GDCM aborts on some non-DICOM files

    gdcm::Scanner scanner;
    for (const gdcm::Tag& t :
         {kSeriesUid, kModality, kSopClass, kSopInstance, kPosition, kOrientation, kRows, kColumns, kPixelSpacing, kFrames})
        scanner.AddTag(t);
    if (!scanner.Scan(files)) fail(SWU_ERR_IO, "cannot scan the files in '" + folder + "'");

    std::map<std::string, Candidate> series;
    for (const std::string& f : files) {
        if (!scanner.IsKey(f.c_str())) continue;  // not DICOM
        const std::string uid = trimmed(scanner.GetValue(f.c_str(), kSeriesUid));
        if (uid.empty()) continue;
        Candidate& c = series[uid];
        c.modality = trimmed(scanner.GetValue(f.c_str(), kModality));
        c.files.push_back(f);
    }
    if (series.empty()) fail(SWU_ERR_FORMAT, folder + ": no DICOM series found in the folder");

    std::string chosen;
    if (!series_uid.empty()) {
        if (!series.count(series_uid)) {
            std::string known;
            for (const auto& [uid, c] : series) known += "\n  " + uid + " (" + c.modality + ", " + std::to_string(c.files.size()) + " files)";
            fail(SWU_ERR_INVALID_ARGUMENT, folder + ": no series with SeriesInstanceUID " + series_uid + "; the folder holds:" + known);
        }
        chosen = series_uid;
    } else {
        size_t most = 0;
        std::string modalities;
        for (const auto& [uid, c] : series) {
            modalities += (modalities.empty() ? "" : ", ") + (c.modality.empty() ? std::string("no modality") : c.modality);
            if (c.modality == "CT" && c.files.size() > most) {
                chosen = uid;
                most = c.files.size();
            }
        }
        if (chosen.empty())
            fail(SWU_ERR_UNSUPPORTED, folder + ": no CT series in the folder (found " + modalities + "); only CT is supported");
    }
    const Candidate& c = series[chosen];
    if (c.modality != "CT")
        fail(SWU_ERR_UNSUPPORTED, folder + ": series " + chosen + " has modality '" + c.modality +
                                      "'; only CT series are supported (the network was trained on CT)");

    DicomSeries s;
    s.folder = folder;
    s.series_uid = chosen;
    s.modality = c.modality;
    s.series_in_folder = series.size();

    // Group by orientation: localizers filed in the series lie in another plane.
    std::map<std::string, std::vector<std::string>> by_orientation;
    for (const std::string& f : c.files) {
        const int frames = std::atoi(trimmed(scanner.GetValue(f.c_str(), kFrames)).c_str());
        if (frames > 1)
            fail(SWU_ERR_UNSUPPORTED, f + ": a multi-frame image (" + std::to_string(frames) +
                                          " frames); only series of single-slice CT images are supported");
        by_orientation[trimmed(scanner.GetValue(f.c_str(), kOrientation))].push_back(f);
    }
    auto majority = std::max_element(by_orientation.begin(), by_orientation.end(),
                                     [](const auto& a, const auto& b) { return a.second.size() < b.second.size(); });
    if (by_orientation.size() > 1)
        log_warning(folder + ": skipped " + std::to_string(c.files.size() - majority->second.size()) +
                    " image(s) whose orientation differs from the other " + std::to_string(majority->second.size()) +
                    " (localizers?)");
    const std::vector<double> o = numbers(majority->first, 6);
    if (o.empty()) fail(SWU_ERR_FORMAT, folder + ": series " + chosen + " lacks a valid ImageOrientationPatient");
    std::copy(o.begin(), o.end(), s.orientation.begin());
    const std::array<double, 3> normal = normal_of(s.orientation);
    if (std::abs(dot(normal, normal) - 1.0) > 1e-3)
        fail(SWU_ERR_FORMAT, folder + ": ImageOrientationPatient '" + majority->first + "' is not two orthonormal vectors");

    const std::string& first = majority->second.front();
    const std::string rows = trimmed(scanner.GetValue(first.c_str(), kRows));
    const std::string columns = trimmed(scanner.GetValue(first.c_str(), kColumns));
    const std::string spacing = trimmed(scanner.GetValue(first.c_str(), kPixelSpacing));
    const std::vector<double> ps = numbers(spacing, 2);
    if (ps.empty() || ps[0] <= 0 || ps[1] <= 0) fail(SWU_ERR_FORMAT, first + ": no valid PixelSpacing");
    s.pixel_spacing = {ps[0], ps[1]};
    s.rows = std::atoll(rows.c_str());
    s.columns = std::atoll(columns.c_str());
    if (s.rows < 1 || s.columns < 1) fail(SWU_ERR_FORMAT, first + ": no valid Rows / Columns");

    for (const std::string& f : majority->second) {
        if (trimmed(scanner.GetValue(f.c_str(), kRows)) != rows || trimmed(scanner.GetValue(f.c_str(), kColumns)) != columns)
            fail(SWU_ERR_UNSUPPORTED, folder + ": the slices of series " + chosen + " differ in size (" + f + " vs " + first + ")");
        if (trimmed(scanner.GetValue(f.c_str(), kPixelSpacing)) != spacing) {
            const std::vector<double> other = numbers(trimmed(scanner.GetValue(f.c_str(), kPixelSpacing)), 2);
            if (other.empty() || std::abs(other[0] - ps[0]) > 1e-4 || std::abs(other[1] - ps[1]) > 1e-4)
                fail(SWU_ERR_UNSUPPORTED, folder + ": the slices of series " + chosen + " differ in PixelSpacing (" + f + " vs " + first + ")");
        }
        const std::vector<double> p = numbers(trimmed(scanner.GetValue(f.c_str(), kPosition)), 3);
        if (p.empty()) fail(SWU_ERR_FORMAT, f + ": no valid ImagePositionPatient");
        DicomSlice slice;
        slice.file = f;
        slice.sop_class_uid = trimmed(scanner.GetValue(f.c_str(), kSopClass));
        slice.sop_instance_uid = trimmed(scanner.GetValue(f.c_str(), kSopInstance));
        slice.position = {p[0], p[1], p[2]};
        s.slices.push_back(slice);
    }
    if (s.slices.size() < 2)
        fail(SWU_ERR_FORMAT, folder + ": series " + chosen + " has a single slice; a 3D volume is required");

    std::stable_sort(s.slices.begin(), s.slices.end(), [&](const DicomSlice& a, const DicomSlice& b) {
        return dot(a.position, normal) < dot(b.position, normal);
    });

    // Every slice must sit on the line through the first along the normal (else the
    // gantry was tilted and the voxels would be sheared), at one regular step.
    const size_t n = s.slices.size();
    std::vector<double> steps;
    for (size_t k = 1; k < n; ++k) {
        const auto& a = s.slices[k - 1].position;
        const auto& b = s.slices[k].position;
        const std::array<double, 3> d = {b[0] - a[0], b[1] - a[1], b[2] - a[2]};
        const double along = dot(d, normal);
        const double across = std::sqrt(std::max(0.0, dot(d, d) - along * along));
        if (along < 1e-3)
            fail(SWU_ERR_FORMAT, folder + ": series " + chosen + " has duplicated slices at position " + mm(dot(a, normal)) +
                                     " mm along the normal (" + s.slices[k - 1].file + " and " + s.slices[k].file + ")");
        if (across > 0.01 + 0.01 * along)
            fail(SWU_ERR_UNSUPPORTED, folder + ": series " + chosen + ": slices are not stacked along their normal (offset " +
                                          mm(across) + " mm between " + s.slices[k - 1].file + " and " + s.slices[k].file +
                                          "; gantry tilt?); such series must be resampled first");
        steps.push_back(along);
    }
    std::vector<double> sorted = steps;
    std::nth_element(sorted.begin(), sorted.begin() + static_cast<long>(sorted.size() / 2), sorted.end());
    const double step = sorted[sorted.size() / 2];
    const double tolerance = std::max(0.01, 0.01 * step);
    for (size_t k = 0; k < steps.size(); ++k) {
        if (std::abs(steps[k] - step) <= tolerance) continue;
        const double ratio = steps[k] / step;
        const std::string where = " between positions " + mm(dot(s.slices[k].position, normal)) + " and " +
                                  mm(dot(s.slices[k + 1].position, normal)) + " mm (" + s.slices[k].file + ", " +
                                  s.slices[k + 1].file + ")";
        if (ratio > 1.5 && std::abs(ratio - std::round(ratio)) * step <= tolerance)
            fail(SWU_ERR_FORMAT, folder + ": series " + chosen + ": " + std::to_string(std::lround(ratio) - 1) +
                                     " slice(s) missing" + where + "; the slice step is " + mm(step) + " mm");
        fail(SWU_ERR_UNSUPPORTED, folder + ": series " + chosen + " has non-uniform slice spacing: " + mm(steps[k]) +
                                      " mm" + where + " where the others are " + mm(step) +
                                      " mm; resample the series to a regular grid first");
    }
    // The mean step, so that the last slice lands where the file says.
    s.slice_spacing = (dot(s.slices.back().position, normal) - dot(s.slices.front().position, normal)) / static_cast<double>(n - 1);
    // No UID in the log (SECURITY.md): swu_dicom_series_info hands it to the caller.
    log_info("DICOM series (" + s.modality + ", " + std::to_string(n) + " slices of " +
             std::to_string(s.columns) + " x " + std::to_string(s.rows) + ") chosen from " +
             std::to_string(series.size()) + " series in " + folder);
    return s;
}

}  // namespace swu
