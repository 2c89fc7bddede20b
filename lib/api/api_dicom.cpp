// DICOM: reading a chosen series, writing a Segmentation or an RT Structure Set over it.
#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>

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

// swu_dicom_seg_params, read and checked once for both writers; unset strings stay empty.
struct OutputParams {
    std::optional<std::string> series_description, label, description, creator;
    int32_t series_number = 0;
};

OutputParams read_params(const swu_dicom_seg_params* params) {
    OutputParams r;
    if (!params) return r;
    const swu_dicom_seg_params p = swu::read_struct(params, swu_dicom_seg_params_init_size, "swu_dicom_seg_params");
    if (p.series_description) r.series_description = p.series_description;
    if (p.series_number < 0)
        swu::fail(SWU_ERR_INVALID_ARGUMENT, "series_number must be >= 0, got " + std::to_string(p.series_number));
    r.series_number = p.series_number;
    if (p.content_label) {
        const std::string label = p.content_label;
        if (label.empty() || label.size() > 16 ||
            label.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_ ") != std::string::npos)
            swu::fail(SWU_ERR_INVALID_ARGUMENT, "content_label '" + label + "' must be 1 to 16 of A-Z, 0-9, '_' and space");
        r.label = label;
    }
    if (p.content_description) r.description = p.content_description;
    if (p.content_creator) r.creator = p.content_creator;
    return r;
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
    return swu::api_call(__func__, [&] {
        swu::require(labels, "labels");
        swu::require(source_folder, "source_folder");
        swu::require(out_path, "out_path");
        const OutputParams p = read_params(params);
        swu::DicomSegOptions options;
        if (p.series_description) options.series_description = *p.series_description;
        options.series_number = p.series_number;
        if (p.label) options.content_label = *p.label;
        if (p.description) options.content_description = *p.description;
        if (p.creator) options.content_creator = *p.creator;
        const swu::DicomSeries series = swu::scan_dicom_series(source_folder, optional_string(series_uid));
        swu::write_dicom_seg(labels->volume, series, out_path, options);
    });
}

SWU_API swu_status swu_volume_write_dicom_rtstruct(const swu_volume* labels, const char* source_folder, const char* series_uid,
                                                   const char* out_path, const swu_dicom_seg_params* params) {
    return swu::api_call(__func__, [&] {
        swu::require(labels, "labels");
        swu::require(source_folder, "source_folder");
        swu::require(out_path, "out_path");
        const OutputParams p = read_params(params);
        swu::DicomRtstructOptions options;
        if (p.series_description) options.series_description = *p.series_description;
        options.series_number = p.series_number;
        if (p.label) options.label = *p.label;
        if (p.description) options.description = *p.description;
        if (p.creator) options.operator_name = *p.creator;
        const swu::DicomSeries series = swu::scan_dicom_series(source_folder, optional_string(series_uid));
        swu::write_dicom_rtstruct(labels->volume, series, out_path, options);
    });
}

}  // extern "C"
