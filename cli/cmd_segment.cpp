// `swinunetr segment`: a CT in (file or DICOM folder), its organ label map out, in
// the source geometry; or many CTs into a folder with the model loaded once (batch).
// Ctrl-C or SIGTERM at any stage ends with exit 130 and no output file of the case in
// progress (outputs already written by that case are removed); a second Ctrl-C exits at once.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "commands.hpp"
#include "interrupt.hpp"
#include "bundle.hpp"
#include "organ_report.hpp"
#include "preview.hpp"
#include "swinunetr/swinunetr.hpp"

namespace swu_cli {

namespace {

using swinunetr::VolumePtr;

const char* kFooter =
    "INPUT:  a CT volume (.nii, .nii.gz, .nrrd, .mha, .mhd) or a DICOM series folder (the CT series with\n"
    "        the most slices, or the one --series names by SeriesInstanceUID)\n"
    "OUTPUT: the label map (.nii.gz, .nii, .nrrd, .mha), classes 0..13, in INPUT's geometry; or, with\n"
    "        --format dicom-seg or a .dcm name, a DICOM Segmentation over INPUT's DICOM series; or, with\n"
    "        --format rtstruct or a .rtstruct.dcm name, a DICOM RT Structure Set (contours) over it\n"
    "Ctrl-C or SIGTERM at any stage: exit 130 and no output file.";

struct Options {
    std::vector<std::string> files;  // INPUT OUTPUT, or (with --output-dir) INPUT...
    std::string weights, blend = "constant", label_type = "uint8", series, format, probabilities_path, report_path, preview_path;
    std::string output_dir, input_list, shard, bundle;
    CLI::Option *roi_option = nullptr, *overlap_option = nullptr, *sw_batch_option = nullptr, *blend_option = nullptr;
    bool skip_existing = false;
    BundleSettings network;  // with --bundle: the network the weights must match
    bool has_network = false;
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

// One CT at a time with one model, loaded at the first case (single mode: after the
// input was read, so a bad input fails fast) or up front (batch).
class Segmenter {
public:
    explicit Segmenter(const Options& o) : o_(o) {
        swu_infer_params_init(&ip_);
        ip_.overlap = o.overlap;
        ip_.sw_batch = o.sw_batch;
        ip_.roi = o.roi;
        if (o.blend == "gaussian") ip_.blend = SWU_BLEND_GAUSSIAN;
        if (o.label_type == "float32") ip_.label_type = SWU_VOXEL_FLOAT32;
        progress_.tty = isatty(STDERR_FILENO) != 0;
        ip_.progress = on_progress;
        ip_.progress_user_data = &progress_;
    }

    // 0, 1 (the library's error, printed) or 130 (interrupted).
    int load_model() {
        if (model_) return 0;
        swu_model_params mp;
        swu_model_params_init(&mp);
        o_.model.apply(mp);
        if (o_.has_network) {  // the bundle's network_def: the weights must be that network
            mp.in_channels = o_.network.in_channels;
            mp.out_channels = o_.network.out_channels;
            mp.feature_size = o_.network.feature_size;
            for (int i = 0; i < 4; ++i) mp.depths[i] = o_.network.depths[i], mp.num_heads[i] = o_.network.num_heads[i];
            mp.merging = o_.network.merging;
        }
        swu_model* m = nullptr;
        swu_status st;
        if (stop_at("model")) return interrupted_exit();
        if ((st = swu_model_create(&mp, &m)) != SWU_OK) return report_failure("creating the model", st);
        model_.reset(m);
        if (stop_at("weights")) return interrupted_exit();
        if ((st = swu_model_load_weights(model_.get(), o_.weights.c_str())) != SWU_OK) {
            model_.reset();
            return report_failure("loading weights", st);
        }
        return 0;
    }

    // One case: `format` is image, dicom-seg or rtstruct (checked against the input by the caller).
    // Every output of the case, or none. 0, 1 (printed), 130 (interrupted).
    int run(const std::string& input, const std::string& out, const std::string& format, bool dicom_input,
            const std::string& probabilities_path, const std::string& report_path, const std::string& preview_path) {
        swu_status st;
        swu_volume* raw = nullptr;
        std::string series = o_.series;
        if (stop_at("read")) return interrupted_exit();
        if (dicom_input) {
            swu_dicom_series_info si{};
            si.struct_size = sizeof si;
            if ((st = swu_volume_read_dicom(input.c_str(), series.empty() ? nullptr : series.c_str(), &raw, &si)) != SWU_OK)
                return report_failure("reading " + input, st);
            // Say which series: the folder may hold several.
            std::fprintf(stderr, "swinunetr segment: DICOM series %s (%s, %d slices; %d series in the folder)\n",
                         si.series_uid, si.modality, si.slice_count, si.series_in_folder);
            series = si.series_uid;
        } else if ((st = swu_volume_read(input.c_str(), &raw)) != SWU_OK) {
            return report_failure("reading " + input, st);
        }
        VolumePtr image(raw);
        if (const int rc = load_model()) return rc;

        if (stop_at("infer")) return interrupted_exit();
        const auto t0 = std::chrono::steady_clock::now();
        raw = nullptr;
        swu_volume* raw_probabilities = nullptr;
        const bool need_probabilities = !probabilities_path.empty() || !report_path.empty();
        st = swu_infer_with_probabilities(model_.get(), image.get(), &ip_, &raw, need_probabilities ? &raw_probabilities : nullptr);
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
        if (report_path.empty()) probabilities.reset();  // the report needs them below
        if (stop_at("write")) {
            written.remove_all();
            return interrupted_exit();
        }
        if (format == "dicom-seg")
            st = swu_volume_write_dicom_seg(labels.get(), input.c_str(), series.c_str(), out.c_str(), nullptr);
        else if (format == "rtstruct")
            st = swu_volume_write_dicom_rtstruct(labels.get(), input.c_str(), series.c_str(), out.c_str(), nullptr);
        else
            st = swu_volume_write(labels.get(), out.c_str());
        if (st != SWU_OK) {
            written.remove_all();
            return report_failure("writing " + out, st);
        }
        written.add(out);
        if (!report_path.empty()) {
            ReportContext context;
            context.input = input;
            if (dicom_input) context.series_uid = series;
            context.weights = o_.weights;
            context.model.struct_size = sizeof context.model;
            swu_model_get_info(model_.get(), &context.model);
            context.params = ip_;
            try {
                write_organ_report(report_path, image.get(), labels.get(), probabilities.get(), context);
            } catch (const std::exception& e) {
                written.remove_all();
                std::fprintf(stderr, "swinunetr segment: %s\n", e.what());
                return 1;
            }
            written.add(report_path);
            probabilities.reset();
        }
        if (!preview_path.empty()) {
            try {
                write_preview(preview_path, image.get(), labels.get());
            } catch (const std::exception& e) {
                written.remove_all();
                std::fprintf(stderr, "swinunetr segment: %s\n", e.what());
                return 1;
            }
            written.add(preview_path);
        }
        if (stop_at("written")) {  // a signal that came while the outputs were being written
            written.remove_all();
            return interrupted_exit();
        }
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        swu_volume_info info{};
        info.struct_size = sizeof info;
        swu_volume_get_info(labels.get(), &info);
        std::fprintf(stderr, "swinunetr segment: %s -> %s (%lld x %lld x %lld) in %.1f s\n", input.c_str(), out.c_str(),
                     static_cast<long long>(info.size[0]), static_cast<long long>(info.size[1]),
                     static_cast<long long>(info.size[2]), s);
        print_summary(info);
        return 0;
    }

private:
    const Options& o_;
    swu_infer_params ip_;
    Progress progress_;
    swinunetr::ModelPtr model_;
};

bool ends_with(const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// What a DICOM output needs as input, or "" for an image output.
std::string dicom_output_name(const std::string& format) {
    return format == "dicom-seg" ? "a DICOM SEG output" : format == "rtstruct" ? "an RTSTRUCT output" : "";
}

int one_case(const Options& o) {
    if (o.files.size() != 2) {
        std::fprintf(stderr, "swinunetr segment: give INPUT and OUTPUT, or inputs with --output-dir or --input-list\n");
        return 2;
    }
    const std::string &input = o.files[0], &out = o.files[1];
    std::error_code ec;
    const bool dicom_input = std::filesystem::is_directory(input, ec);
    const std::string format = !o.format.empty()              ? o.format
                               : ends_with(out, ".rtstruct.dcm") ? "rtstruct"
                               : ends_with(out, ".dcm")          ? "dicom-seg"
                                                                 : "image";
    const std::string dicom_output = dicom_output_name(format);
    if (!dicom_input && (!dicom_output.empty() || !o.series.empty())) {
        std::fprintf(stderr, "swinunetr segment: %s needs a DICOM series folder as INPUT\n",
                     !dicom_output.empty() ? dicom_output.c_str() : "--series");
        return 2;
    }
    catch_interrupts();  // from here on Ctrl-C only asks the command to stop
    Segmenter segmenter(o);
    return segmenter.run(input, out, format, dicom_input, o.probabilities_path, o.report_path, o.preview_path);
}

// The name of a case's outputs in --output-dir: the input's file or folder name without
// its image extension.
std::string case_name(const std::string& input) {
    std::string name = std::filesystem::path(input).filename().string();
    if (name.empty()) name = std::filesystem::path(input).parent_path().filename().string();  // "dir/"
    for (const char* ext : {".nii.gz", ".nii", ".nrrd", ".nhdr", ".mha", ".mhd"})
        if (ends_with(name, ext)) return name.substr(0, name.size() - std::strlen(ext));
    return name;
}

int batch(const Options& o) {
    if (!o.probabilities_path.empty() || !o.series.empty()) {
        std::fprintf(stderr, "swinunetr segment: --probabilities and --series name one case; not with --output-dir\n");
        return 2;
    }
    std::vector<std::string> inputs = o.files;
    if (!o.input_list.empty()) {
        std::ifstream list(o.input_list);
        if (!list) {
            std::fprintf(stderr, "swinunetr segment: cannot read --input-list %s\n", o.input_list.c_str());
            return 2;
        }
        for (std::string line; std::getline(list, line);) {
            while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
            if (!line.empty() && line[0] != '#') inputs.push_back(line);
        }
    }
    if (inputs.empty()) {
        std::fprintf(stderr, "swinunetr segment: no inputs (give them after the options, or --input-list)\n");
        return 2;
    }
    size_t shard = 0, shards = 1;
    if (!o.shard.empty()) {
        unsigned long i = 0, n = 0;
        char end = 0;
        if (std::sscanf(o.shard.c_str(), "%lu/%lu%c", &i, &n, &end) != 2 || n == 0 || i >= n) {
            std::fprintf(stderr, "swinunetr segment: --shard wants i/n with 0 <= i < n, got '%s'\n", o.shard.c_str());
            return 2;
        }
        shard = i, shards = n;
    }
    // A deterministic share: the cases at positions shard, shard + n, ... of the list.
    std::vector<std::string> mine;
    for (size_t k = shard; k < inputs.size(); k += shards) mine.push_back(inputs[k]);
    std::error_code ec;
    std::filesystem::create_directories(o.output_dir, ec);
    if (!std::filesystem::is_directory(o.output_dir)) {
        std::fprintf(stderr, "swinunetr segment: cannot create --output-dir %s\n", o.output_dir.c_str());
        return 1;
    }
    catch_interrupts();
    Segmenter segmenter(o);
    if (const int rc = segmenter.load_model()) return rc;
    const std::string report_ext = ends_with(o.report_path, ".csv") ? ".csv" : ".json";
    size_t done = 0, skipped = 0;
    std::vector<std::string> failed;
    double seconds = 0;
    int rc = 0;
    for (size_t k = 0; k < mine.size(); ++k) {
        const std::string& input = mine[k];
        const bool dicom_input = std::filesystem::is_directory(input, ec);
        const std::string format = !o.format.empty() ? o.format : "image";
        const std::string base = (std::filesystem::path(o.output_dir) / case_name(input)).string();
        const std::string out = base + (format == "dicom-seg" ? ".seg.dcm" : format == "rtstruct" ? ".rtstruct.dcm" : ".nii.gz");
        const std::string report = o.report_path.empty() ? "" : base + ".report" + report_ext;
        const std::string preview = o.preview_path.empty() ? "" : base + ".preview.png";
        std::fprintf(stderr, "swinunetr segment: case %zu/%zu: %s\n", k + 1, mine.size(), input.c_str());
        if (o.skip_existing && std::filesystem::exists(out) && (report.empty() || std::filesystem::exists(report)) &&
            (preview.empty() || std::filesystem::exists(preview))) {
            ++skipped;
            std::fprintf(stderr, "swinunetr segment: %s exists, skipped\n", out.c_str());
            continue;
        }
        if (!dicom_output_name(format).empty() && !dicom_input) {
            failed.push_back(input + ": " + dicom_output_name(format) + " needs a DICOM series folder as input");
            std::fprintf(stderr, "swinunetr segment: FAILED %s\n", failed.back().c_str());
            continue;
        }
        const auto t0 = std::chrono::steady_clock::now();
        rc = segmenter.run(input, out, format, dicom_input, "", report, preview);
        if (rc == 130) break;
        if (rc != 0) {
            failed.push_back(input + ": " + swu_last_error());
            std::fprintf(stderr, "swinunetr segment: FAILED case %zu/%zu: %s\n", k + 1, mine.size(), input.c_str());
            continue;
        }
        seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        ++done;
    }
    std::fprintf(stderr, "swinunetr segment: %zu done, %zu skipped, %zu failed%s", done, skipped, failed.size(),
                 rc == 130 ? ", interrupted" : "");
    if (done) std::fprintf(stderr, "; %.1f s per case", seconds / static_cast<double>(done));
    std::fprintf(stderr, "\n");
    for (const std::string& f : failed) std::fprintf(stderr, "  failed: %s\n", f.c_str());
    if (rc == 130) return 130;
    return failed.empty() ? 0 : 1;
}

// --bundle: the bundle's weights and settings, where the command line gave none.
int apply_bundle(Options& o) {
    BundleSettings b;
    try {
        b = read_bundle(o.bundle);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "swinunetr segment: --bundle: %s\n", e.what());
        return 2;
    }
    if (o.weights.empty()) o.weights = b.weights;
    if (!o.roi_option->count()) o.roi = b.roi;
    if (!o.overlap_option->count()) o.overlap = b.overlap;
    if (!o.sw_batch_option->count()) o.sw_batch = b.sw_batch;
    if (!o.blend_option->count()) o.blend = b.blend == SWU_BLEND_GAUSSIAN ? "gaussian" : "constant";
    o.network = b;
    o.has_network = true;
    for (const std::string& r : b.renamed) std::fprintf(stderr, "swinunetr segment: --bundle: %s\n", r.c_str());
    std::fprintf(stderr, "swinunetr segment: bundle %s: feature size %d, roi %d, overlap %g, sw_batch %d, blend %s\n",
                 o.bundle.c_str(), b.feature_size, o.roi, o.overlap, o.sw_batch, o.blend.c_str());
    return 0;
}

int run_segment(Options& o) {
    if (o.max_voxels > 0 && swu_set_max_voxels(o.max_voxels) != SWU_OK)
        return report_failure("--max-voxels", SWU_ERR_INVALID_ARGUMENT);
    if (!o.bundle.empty())
        if (const int rc = apply_bundle(o)) return rc;
    if (o.weights.empty()) {
        std::fprintf(stderr, "swinunetr segment: --weights is required (or --bundle)\nRun 'swinunetr segment --help' for the options.\n");
        return 2;
    }
    return o.output_dir.empty() ? one_case(o) : batch(o);
}

}  // namespace

Run add_segment(CLI::App& app) {
    auto o = std::make_shared<Options>();
    CLI::App* cmd = app.add_subcommand("segment", "segment a CT (file or DICOM folder) into 13 organs, or many into a folder");
    cmd->footer(kFooter);
    cmd->add_option("FILES", o->files, "INPUT OUTPUT; with --output-dir: INPUT... (CT files or DICOM series folders)");
    cmd->add_option("--weights", o->weights, "model.pt (MONAI bundle format) or .safetensors (required without --bundle)");
    cmd->add_option("--bundle", o->bundle,
                    "a MONAI bundle folder: its models/model.pt and configs/inference.json's network and sliding "
                    "window (options given here win); anything it asks that this library does not reproduce is "
                    "refused by name")
        ->check(CLI::ExistingDirectory);
    o->model.add(*cmd);
    o->roi_option = cmd->add_option("--roi", o->roi, "sliding-window size per axis")->check(CLI::PositiveNumber)->capture_default_str()->group("Sliding window");
    o->overlap_option = cmd->add_option("--overlap", o->overlap, "window overlap, 0 <= F < 1")->capture_default_str()->group("Sliding window");
    o->sw_batch_option = cmd->add_option("--sw-batch", o->sw_batch, "windows per network call")->check(CLI::PositiveNumber)->capture_default_str()->group("Sliding window");
    o->blend_option = cmd->add_option("--blend", o->blend, "how overlapping windows are combined")
        ->check(CLI::IsMember({"constant", "gaussian"}))->capture_default_str()->group("Sliding window");
    cmd->add_option("--series", o->series, "SeriesInstanceUID of the series to read from a DICOM folder")->group("Input and output");
    cmd->add_option("--format", o->format,
                    "image, dicom-seg or rtstruct (default: rtstruct for an OUTPUT ending in .rtstruct.dcm, "
                    "dicom-seg for another .dcm)")
        ->check(CLI::IsMember({"image", "dicom-seg", "rtstruct"}))->group("Input and output");
    cmd->add_option("--label-type", o->label_type, "voxel type of an image OUTPUT")
        ->check(CLI::IsMember({"uint8", "float32"}))->capture_default_str()->group("Input and output");
    cmd->add_option("--report", o->report_path,
                    "an organ report: per organ voxels, mL, HU mean and std, bounding box (LPS mm), connected "
                    "components, confidence; the input and the model (JSON, or CSV for a .csv name). Needs the "
                    "probabilities in memory (56 bytes per voxel). Batch: NAME.report.json|.csv per case")
        ->group("Input and output");
    cmd->add_option("--preview", o->preview_path,
                    "a PNG to check the result at a glance: axial, coronal and sagittal slices through the organs' "
                    "centre, CT in W400/L40, organs filled in their colours and outlined, a legend with their "
                    "volumes. Batch: NAME.preview.png per case (any name given)")
        ->group("Input and output");
    cmd->add_option("--probabilities", o->probabilities_path,
                    "also write the per-class probabilities (float32, 4D with the class as 4th axis, "
                    "INPUT's geometry; 56 bytes per voxel)")->group("Input and output");
    cmd->add_option("--max-voxels", o->max_voxels, "largest volume read, in voxels (default: the library's)")
        ->check(CLI::PositiveNumber)->envname("SWU_MAX_VOXELS")->group("Input and output");
    cmd->add_option("--output-dir", o->output_dir,
                    "many cases, the model loaded once: NAME.nii.gz (NAME.seg.dcm with --format dicom-seg, "
                    "NAME.rtstruct.dcm with --format rtstruct) per "
                    "input, a failed case named and skipped; a summary at the end, exit 1 if any failed")
        ->group("Batch");
    cmd->add_option("--input-list", o->input_list, "a file with one input per line (# comments), besides any given")
        ->check(CLI::ExistingFile)->group("Batch");
    cmd->add_option("--shard", o->shard, "i/n: only the inputs at positions i, i+n, i+2n, ... of the list")->group("Batch");
    cmd->add_flag("--skip-existing", o->skip_existing, "skip a case whose outputs exist")->group("Batch");
    return [o] { return run_segment(*o); };
}

}  // namespace swu_cli
