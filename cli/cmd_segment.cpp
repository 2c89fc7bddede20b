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
#include "swinunetr/swinunetr.hpp"

namespace swu_cli {

namespace {

using swinunetr::VolumePtr;

const char* kUsage =
    "usage: swinunetr segment INPUT OUTPUT --weights W.pt [--backend auto|torch|onednn] [--device cpu|cuda:N]\n"
    "         [--precision fp32|bf16|fp16] [--threads N] [--roi N] [--overlap F] [--sw-batch N] [--blend constant|gaussian] [--label-type uint8|float32]\n"
    "         [--series UID] [--format image|dicom-seg] [--probabilities FILE]\n"
    "  INPUT:  a CT volume (.nii, .nii.gz, .nrrd, .mha, .mhd) or a DICOM series folder (the CT series with\n"
    "          the most slices, or the one --series names by SeriesInstanceUID)\n"
    "  OUTPUT: the label map (.nii.gz, .nii, .nrrd, .mha), classes 0..13, in INPUT's geometry; or, with\n"
    "          --format dicom-seg or a .dcm name, a DICOM Segmentation over INPUT's DICOM series\n"
    "  --probabilities FILE: also write the per-class probabilities (float32, a 4D image with the\n"
    "          class as 4th axis, INPUT's geometry; 56 bytes per voxel for the bundle's 14 classes)\n";

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

}  // namespace

int cmd_segment(const Args& args) {
    std::vector<std::string> files;
    std::string weights, backend = "auto", device = "cpu", blend = "constant", label_type = "uint8", precision = "fp32";
    std::string series, format, probabilities_path;
    int threads = 0, sw_batch = 4, roi = 96;
    double overlap = 0.5;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--help" || a == "-h") {
            std::printf("%s", kUsage);
            return 0;
        }
        if (a.compare(0, 2, "--") != 0) {
            files.push_back(a);
            continue;
        }
        if (i + 1 >= args.size()) {
            std::fprintf(stderr, "swinunetr segment: '%s' needs a value\n%s", a.c_str(), kUsage);
            return 2;
        }
        const std::string& v = args[++i];
        char* end = nullptr;
        if (a == "--weights") weights = v;
        else if (a == "--backend") backend = v;
        else if (a == "--device") device = v;
        else if (a == "--precision") precision = v;
        else if (a == "--blend") blend = v;
        else if (a == "--label-type") label_type = v;
        else if (a == "--series") series = v;
        else if (a == "--format") format = v;
        else if (a == "--probabilities") probabilities_path = v;
        else if (a == "--threads") threads = static_cast<int>(std::strtol(v.c_str(), &end, 10));
        else if (a == "--roi") roi = static_cast<int>(std::strtol(v.c_str(), &end, 10));
        else if (a == "--sw-batch") sw_batch = static_cast<int>(std::strtol(v.c_str(), &end, 10));
        else if (a == "--overlap") overlap = std::strtod(v.c_str(), &end);
        else {
            std::fprintf(stderr, "swinunetr segment: unknown option '%s'\n%s", a.c_str(), kUsage);
            return 2;
        }
        if (end && *end) {
            std::fprintf(stderr, "swinunetr segment: %s needs a number, got '%s'\n", a.c_str(), v.c_str());
            return 2;
        }
    }
    if (files.size() != 2 || weights.empty()) {
        std::fprintf(stderr, "swinunetr segment: INPUT, OUTPUT and --weights are required\n%s", kUsage);
        return 2;
    }
    std::error_code ec;
    const bool dicom_input = std::filesystem::is_directory(files[0], ec);
    const std::string& out = files[1];
    if (format.empty())
        format = out.size() >= 4 && out.compare(out.size() - 4, 4, ".dcm") == 0 ? "dicom-seg" : "image";
    if (format != "image" && format != "dicom-seg") {
        std::fprintf(stderr, "swinunetr segment: --format must be image or dicom-seg\n");
        return 2;
    }
    if (!dicom_input && (format == "dicom-seg" || !series.empty())) {
        std::fprintf(stderr, "swinunetr segment: %s needs a DICOM series folder as INPUT\n",
                     format == "dicom-seg" ? "a DICOM SEG output" : "--series");
        return 2;
    }
    swu_infer_params ip;
    swu_infer_params_init(&ip);
    ip.overlap = overlap;
    ip.sw_batch = sw_batch;
    ip.roi = roi;
    if (blend == "gaussian") ip.blend = SWU_BLEND_GAUSSIAN;
    else if (blend != "constant") {
        std::fprintf(stderr, "swinunetr segment: --blend must be constant or gaussian\n");
        return 2;
    }
    if (label_type == "float32") ip.label_type = SWU_VOXEL_FLOAT32;
    else if (label_type != "uint8") {
        std::fprintf(stderr, "swinunetr segment: --label-type must be uint8 or float32\n");
        return 2;
    }
    Progress progress;
    progress.tty = isatty(STDERR_FILENO) != 0;
    ip.progress = on_progress;
    ip.progress_user_data = &progress;

    swu_model_params mp;
    swu_model_params_init(&mp);
    mp.backend = backend.c_str();
    mp.device = device.c_str();
    mp.threads = threads;
    if (precision == "bf16") mp.precision = SWU_PRECISION_BF16;
    else if (precision == "fp16") mp.precision = SWU_PRECISION_FP16;
    else if (precision != "fp32") {
        std::fprintf(stderr, "swinunetr segment: --precision must be fp32, bf16 or fp16\n");
        return 2;
    }

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
    st = swu_infer_with_probabilities(model.get(), image.get(), &ip, &raw,
                                      probabilities_path.empty() ? nullptr : &raw_probabilities);
    if (st == SWU_ERR_CANCELLED) return interrupted_exit();
    if (st != SWU_OK) return report_failure("segmentation", st);
    VolumePtr labels(raw), probabilities(raw_probabilities);
    // Outputs: all of them or, when interrupted, none (a file already written is removed).
    Outputs written;
    if (probabilities) {
        if (stop_at("write-probabilities")) return interrupted_exit();
        if ((st = swu_volume_write(probabilities.get(), probabilities_path.c_str())) != SWU_OK)
            return report_failure("writing " + probabilities_path, st);
        written.add(probabilities_path);
    }
    probabilities.reset();
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

}  // namespace swu_cli
