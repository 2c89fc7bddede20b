// DICOM: reading a chosen series, writing a Segmentation or an RT Structure Set over it.
#include <algorithm>
#include <cstring>
#include <memory>

#include "api/boundary.hpp"
#include "api/volume_handle.hpp"
#include "dicom/dicom_rtstruct.hpp"
#include "dicom/dicom_seg.hpp"
#include "image/image_io.hpp"

namespace {

void copy_string(char* out, size_t capacity, const std::string& s) {
    const size_t n = std::min(s.size(), capacity - 1);
    std::memcpy(out, s.data(), n);
    out[n] = '\0';
}

std::string optional_string(const char* s) { return s ? s : ""; }

// The options of either writer (DicomSegOptions, DicomRtstructOptions: the same fields,
// their own defaults) from the caller's swu_dicom_seg_params; NULL fields keep the defaults.
template <class Options>
Options options_from(const swu_dicom_seg_params* params) {
    Options o;
    if (!params) return o;
    const swu_dicom_seg_params p = swu::read_struct(params, swu_dicom_seg_params_init_size, "swu_dicom_seg_params");
    if (p.series_description) o.series_description = p.series_description;
    if (p.series_number < 0)
        swu::fail(SWU_ERR_INVALID_ARGUMENT, "series_number must be >= 0, got " + std::to_string(p.series_number));
    o.series_number = p.series_number;
    if (p.content_label) {
        const std::string label = p.content_label;
        if (label.empty() || label.size() > 16 ||
            label.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_ ") != std::string::npos)
            swu::fail(SWU_ERR_INVALID_ARGUMENT, "content_label '" + label + "' must be 1 to 16 of A-Z, 0-9, '_' and space");
        o.content_label = label;
    }
    if (p.content_description) o.content_description = p.content_description;
    if (p.content_creator) o.content_creator = p.content_creator;
    return o;
}

// A writer over the series `series_uid` (or the folder's largest CT series) names.
template <class Options, class Write>
swu_status write_over_series(const char* function, const swu_volume* labels, const char* source_folder, const char* series_uid,
                             const char* out_path, const swu_dicom_seg_params* params, Write write) {
    return swu::api_call(function, [&] {
        swu::require(labels, "labels");
        swu::require(source_folder, "source_folder");
        swu::require(out_path, "out_path");
        const Options options = options_from<Options>(params);
        write(labels->volume, swu::scan_dicom_series(source_folder, optional_string(series_uid)), out_path, options);
    });
}

}  // namespace

extern "C" {

SWU_API swu_status swu_volume_read_dicom(const char* folder, const char* series_uid, swu_volume** volume,
                                         swu_dicom_series_info* info) {
    return swu::api_call(__func__, [&] {
        swu::require(folder, "folder");
        swu::require(volume, "volume");
        *volume = nullptr;
        swu_dicom_series_info r{};
        if (info) r = swu::output_struct(info, "swu_dicom_series_info");
        swu::DicomSeries series;
        auto handle = std::make_unique<swu_volume>(swu_volume{swu::read_dicom_volume(folder, optional_string(series_uid), &series)});
        if (info) {
            copy_string(r.series_uid, sizeof r.series_uid, series.series_uid);
            copy_string(r.modality, sizeof r.modality, series.modality);
            r.slice_count = static_cast<int32_t>(series.slices.size());
            r.series_in_folder = static_cast<int32_t>(series.series_in_folder);
            swu::write_struct(info, r);
        }
        *volume = handle.release();
    });
}

SWU_API swu_status swu_dicom_seg_params_init_size(swu_dicom_seg_params* params, uint32_t struct_size) {
    return swu::api_call(__func__, [&] {
        swu::init_struct(params, struct_size, "params", [](swu_dicom_seg_params&) {});  // all zero
    });
}

// The symbol hosts built against 0.1.0's header call (its swu_dicom_seg_params_init is no macro):
// the layout of that release.
SWU_API swu_status(swu_dicom_seg_params_init)(swu_dicom_seg_params* params) {
    return swu_dicom_seg_params_init_size(params, static_cast<uint32_t>(swu::first_released_size<swu_dicom_seg_params>()));
}

SWU_API swu_status swu_volume_write_dicom_seg(const swu_volume* labels, const char* source_folder, const char* series_uid,
                                              const char* out_path, const swu_dicom_seg_params* params) {
    return write_over_series<swu::DicomSegOptions>(__func__, labels, source_folder, series_uid, out_path, params, swu::write_dicom_seg);
}

SWU_API swu_status swu_volume_write_dicom_rtstruct(const swu_volume* labels, const char* source_folder, const char* series_uid,
                                                   const char* out_path, const swu_dicom_seg_params* params) {
    return write_over_series<swu::DicomRtstructOptions>(__func__, labels, source_folder, series_uid, out_path, params,
                                                        swu::write_dicom_rtstruct);
}

}  // extern "C"
