// `swinunetr segment`: a CT in (file or DICOM folder), its organ label map out, in
// the source geometry. Ctrl-C or SIGTERM at any stage ends with exit 130 and no output
// file (outputs already written by the run are removed); a second Ctrl-C exits at once.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "commands.hpp"
#include "interrupt.hpp"
#include "organ_report.hpp"
#include "swinunetr/swinunetr.hpp"

namespace swu_cli {

namespace {

using swinunetr::VolumePtr;

const char* kFooter =
    "INPUT:  a CT volume (.nii, .nii.gz, .nrrd, .mha, .mhd) or a DICOM series folder (the CT series with\n"
    "        the most slices, or the one --series names by SeriesInstanceUID)\n"
    "OUTPUT: the label map (.nii.gz, .nii, .nrrd, .mha), classes 0..13, in INPUT's geometry; or, with\n"
    "        --format dicom-seg or a .dcm name, a DICOM Segmentation over INPUT's DICOM series\n"
    "Ctrl-C or SIGTERM at any stage: exit 130 and no output file.";

struct Options {
    std::string input, output, weights, blend = "constant", label_type = "uint8", series, format, probabilities_path,
        report_path;
    ModelOptions model;
    int sw_batch = 4, roi = 96;
    double overlap = 0.5;
    int64_t max_voxels = 0;
};

// Voxel count and volume (mL) of each label present.
void print_summary(const swu_volume_info& info) {
    std::vector<int64_t> count(256, 0);
    for (int64_t k = 0; k < info.size[2]; ++k)
        for (int64_t j = 0; j < info.size[1]; ++j)
            for (int64_t i = 0; i < info.size[0]; ++i) {
                const int64_t o = i * info.strides[0] + j * info.strides[1] + k * info.strides[2];
                const int label = info.type == SWU_VOXEL_UINT8 ? static_cast<const uint8_t*>(info.data)[o]
                                                               : static_cast<int>(static_cast<const float*>(info.data)[o]);
                ++count[static_cast<size_t>(label & 255)];
            }
    const double ml = info.spacing[0] * info.spacing[1] * info.spacing[2] / 1000.0;
    for (size_t l = 1; l < count.size(); ++l)
        if (count[l])
            std::fprintf(stderr, "  %2zu %-26s %10lld voxels %9.1f mL\n", l, swu_label_name(static_cast<int32_t>(l)) ? swu_label_name(static_cast<int32_t>(l)) : "?",
                         static_cast<long long>(count[l]), count[l] * ml);
}

struct Progress {
    bool tty = false;
    int last_percent = -1;
};

int on_progress(swu_stage stage, int64_t done, int64_t total, void* user) {
    auto* p = static_cast<Progress*>(user);
    if (p->tty && total > 0) {
        static const char* names[] = {"preprocessing", "network", "writing labels"};
        const int percent = static_cast<int>(100 * done / total);
        if (percent != p->last_percent || done == total) {
            std::fprintf(stderr, "\r%-15s [%-40.*s] %3d%%", names[stage], percent * 40 / 100,
                         "########################################", percent);
            if (done == total) std::fprintf(stderr, "\n");
            p->last_percent = done == total ? -1 : percent;
        }
    }
    return interrupted() ? 1 : 0;
}

int interrupted_exit() {
    std::fprintf(stderr, "\nswinunetr segment: interrupted; nothing written\n");
    return 130;
}

int run_segment(Options& o);

}  // namespace

Run add_segment(CLI::App& app) {
    auto o = std::make_shared<Options>();
    CLI::App* cmd = app.add_subcommand("segment", "segment a CT (file or DICOM folder) into 13 organs");
    cmd->footer(kFooter);
    cmd->add_option("INPUT", o->input, "CT volume file or DICOM series folder")->required();
    cmd->add_option("OUTPUT", o->output, "label map (.nii.gz, .nrrd, .mha, ...) or DICOM SEG (.dcm)")->required();
    cmd->add_option("--weights", o->weights, "model.pt (MONAI bundle format) or .safetensors")->required();
    o->model.add(*cmd);
    cmd->add_option("--roi", o->roi, "sliding-window size per axis")->check(CLI::PositiveNumber)->capture_default_str()->group("Sliding window");
    cmd->add_option("--overlap", o->overlap, "window overlap, 0 <= F < 1")->capture_default_str()->group("Sliding window");
    cmd->add_option("--sw-batch", o->sw_batch, "windows per network call")->check(CLI::PositiveNumber)->capture_default_str()->group("Sliding window");
    cmd->add_option("--blend", o->blend, "how overlapping windows are combined")
        ->check(CLI::IsMember({"constant", "gaussian"}))->capture_default_str()->group("Sliding window");
    cmd->add_option("--series", o->series, "SeriesInstanceUID of the series to read from a DICOM folder")->group("Input and output");
    cmd->add_option("--format", o->format, "image or dicom-seg (default: dicom-seg for an OUTPUT ending in .dcm)")
        ->check(CLI::IsMember({"image", "dicom-seg"}))->group("Input and output");
    cmd->add_option("--label-type", o->label_type, "voxel type of an image OUTPUT")
        ->check(CLI::IsMember({"uint8", "float32"}))->capture_default_str()->group("Input and output");
    cmd->add_option("--report", o->report_path,
                    "an organ report: per organ voxels, mL, HU mean and std, bounding box (LPS mm), connected "
                    "components, confidence; the input and the model (JSON, or CSV for a .csv name). Needs the "
                    "probabilities in memory (56 bytes per voxel)")
        ->group("Input and output");
    cmd->add_option("--probabilities", o->probabilities_path,
                    "also write the per-class probabilities (float32, 4D with the class as 4th axis, "
                    "INPUT's geometry; 56 bytes per voxel)")->group("Input and output");
    cmd->add_option("--max-voxels", o->max_voxels, "largest volume read, in voxels (default: the library's)")
        ->check(CLI::PositiveNumber)->envname("SWU_MAX_VOXELS")->group("Input and output");
    return [o] { return run_segment(*o); };
}

namespace {

int run_segment(Options& o) {
    std::string format = o.format, series = o.series;
    const std::string& weights = o.weights;
    const std::string& probabilities_path = o.probabilities_path;
    const std::vector<std::string> files = {o.input, o.output};
    std::error_code ec;
    const bool dicom_input = std::filesystem::is_directory(files[0], ec);
    const std::string& out = files[1];
    if (format.empty())
        format = out.size() >= 4 && out.compare(out.size() - 4, 4, ".dcm") == 0 ? "dicom-seg" : "image";
    if (!dicom_input && (format == "dicom-seg" || !series.empty())) {
        std::fprintf(stderr, "swinunetr segment: %s needs a DICOM series folder as INPUT\n",
                     format == "dicom-seg" ? "a DICOM SEG output" : "--series");
        return 2;
    }
    swu_infer_params ip;
    swu_infer_params_init(&ip);
    ip.overlap = o.overlap;
    ip.sw_batch = o.sw_batch;
    ip.roi = o.roi;
    if (o.blend == "gaussian") ip.blend = SWU_BLEND_GAUSSIAN;
    if (o.label_type == "float32") ip.label_type = SWU_VOXEL_FLOAT32;
    if (o.max_voxels > 0 && swu_set_max_voxels(o.max_voxels) != SWU_OK)
        return report_failure("--max-voxels", SWU_ERR_INVALID_ARGUMENT);
    Progress progress;
    progress.tty = isatty(STDERR_FILENO) != 0;
    ip.progress = on_progress;
    ip.progress_user_data = &progress;

    swu_model_params mp;
    swu_model_params_init(&mp);
    o.model.apply(mp);

    // From here on Ctrl-C only asks the command to stop: at the next stage or progress
    // report, with nothing written.
    catch_interrupts();
    swu_status st;
    swu_volume* raw = nullptr;
    if (stop_at("read")) return interrupted_exit();
    if (dicom_input) {
        swu_dicom_series_info si{};
        si.struct_size = sizeof si;
        if ((st = swu_volume_read_dicom(files[0].c_str(), series.empty() ? nullptr : series.c_str(), &raw, &si)) != SWU_OK)
            return report_failure("reading " + files[0], st);
        // Say which series: the folder may hold several.
        std::fprintf(stderr, "swinunetr segment: DICOM series %s (%s, %d slices; %d series in the folder)\n", si.series_uid,
                     si.modality, si.slice_count, si.series_in_folder);
        series = si.series_uid;
    } else if ((st = swu_volume_read(files[0].c_str(), &raw)) != SWU_OK) {
        return report_failure("reading " + files[0], st);
    }
    VolumePtr image(raw);
    swu_model* m = nullptr;
    if (stop_at("model")) return interrupted_exit();
    if ((st = swu_model_create(&mp, &m)) != SWU_OK) return report_failure("creating the model", st);
    swinunetr::ModelPtr model(m);
    if (stop_at("weights")) return interrupted_exit();
    if ((st = swu_model_load_weights(model.get(), weights.c_str())) != SWU_OK) return report_failure("loading weights", st);

    if (stop_at("infer")) return interrupted_exit();
    const auto t0 = std::chrono::steady_clock::now();
    raw = nullptr;
    swu_volume* raw_probabilities = nullptr;
    const bool need_probabilities = !probabilities_path.empty() || !o.report_path.empty();
    st = swu_infer_with_probabilities(model.get(), image.get(), &ip, &raw, need_probabilities ? &raw_probabilities : nullptr);
    if (st == SWU_ERR_CANCELLED) return interrupted_exit();
    if (st != SWU_OK) return report_failure("segmentation", st);
    VolumePtr labels(raw), probabilities(raw_probabilities);
    // Outputs: all of them or, when interrupted, none (a file already written is removed).
    Outputs written;
    if (!probabilities_path.empty()) {
        if (stop_at("write-probabilities")) return interrupted_exit();
        if ((st = swu_volume_write(probabilities.get(), probabilities_path.c_str())) != SWU_OK)
            return report_failure("writing " + probabilities_path, st);
        written.add(probabilities_path);
    }
    if (o.report_path.empty()) probabilities.reset();  // the report needs them below
    if (stop_at("write")) {
        written.remove_all();
        return interrupted_exit();
    }
    if (format == "dicom-seg") {
        if ((st = swu_volume_write_dicom_seg(labels.get(), files[0].c_str(), series.c_str(), out.c_str(), nullptr)) != SWU_OK) {
            written.remove_all();
            return report_failure("writing " + out, st);
        }
    } else if ((st = swu_volume_write(labels.get(), out.c_str())) != SWU_OK) {
        written.remove_all();
        return report_failure("writing " + out, st);
    }
    written.add(out);
    if (!o.report_path.empty()) {
        ReportContext context;
        context.input = files[0];
        if (dicom_input) context.series_uid = series;
        context.weights = weights;
        context.model.struct_size = sizeof context.model;
        swu_model_get_info(model.get(), &context.model);
        context.params = ip;
        try {
            write_organ_report(o.report_path, image.get(), labels.get(), probabilities.get(), context);
        } catch (const std::exception& e) {
            written.remove_all();
            std::fprintf(stderr, "swinunetr segment: %s\n", e.what());
            return 1;
        }
        written.add(o.report_path);
        probabilities.reset();
    }
    if (stop_at("written")) {  // a signal that came while the label map was being written
        written.remove_all();
        return interrupted_exit();
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    swu_volume_info info{};
    info.struct_size = sizeof info;
    swu_volume_get_info(labels.get(), &info);
    std::fprintf(stderr, "swinunetr segment: %s -> %s (%lld x %lld x %lld) in %.1f s\n", files[0].c_str(), files[1].c_str(),
                 static_cast<long long>(info.size[0]), static_cast<long long>(info.size[1]),
                 static_cast<long long>(info.size[2]), s);
    print_summary(info);
    return 0;
}

}  // namespace
}  // namespace swu_cli
