#include "node/node.hpp"

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/oflog/oflog.h>

#include "common/atomic_file.hpp"
#include "interrupt.hpp"
#include "io/json.hpp"
#include "node/log.hpp"
#include "node/receiver.hpp"
#include "node/sender.hpp"
#include "node/spool.hpp"
#include "swinunetr/swinunetr.hpp"

namespace fs = std::filesystem;

namespace swu_node {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// Modality, and patient identity for a debug log, of one instance of a series folder.
struct SeriesHeader {
    std::string modality, patient;
};
SeriesHeader header_of(const std::string& folder) {
    SeriesHeader h;
    std::error_code ec;
    for (const auto& f : fs::directory_iterator(folder + "/instances", ec)) {
        if (f.path().extension() != ".dcm") continue;
        DcmFileFormat file;
        if (file.loadFileUntilTag(f.path().c_str(), EXS_Unknown, EGL_noChange, DCM_MaxReadLength, ERM_autoDetect,
                                  DCM_PixelData).bad())
            continue;
        OFString modality, name, id;
        file.getDataset()->findAndGetOFString(DCM_Modality, modality);
        file.getDataset()->findAndGetOFString(DCM_PatientName, name);
        file.getDataset()->findAndGetOFString(DCM_PatientID, id);
        h.modality = modality.c_str();
        h.patient = std::string(name.c_str()) + " (" + id.c_str() + ")";
        return h;
    }
    return h;
}

// Where a job's result goes: the configured destination, else the caller that sent it.
bool destination_for(const Config& c, const std::string& caller, Peer& out) {
    if (c.has_destination) {
        out = c.destination;
        return true;
    }
    for (const Peer& p : c.allowed_callers)
        if (p.ae_title == caller && !p.host.empty() && p.port) {
            out = p;
            return true;
        }
    return false;
}

class Worker {
public:
    Worker(const Config& c, Spool& spool, Log& log, std::atomic<bool>& stop) : c_(c), spool_(spool), log_(log), stop_(stop) {}

    bool load_model(std::string& error) {
        swu_model_params mp;
        swu_model_params_init(&mp);
        mp.backend = c_.backend.c_str();
        mp.threads = c_.threads;
        swu_model* m = nullptr;
        if (swu_model_create(&mp, &m) != SWU_OK || swu_model_load_weights(m, c_.weights.c_str()) != SWU_OK) {
            error = swu_last_error();
            swu_model_free(m);
            return false;
        }
        model_.reset(m);
        return true;
    }

    // Complete series: into queue/ (CT) or rejected/ (anything else).
    void collect() {
        for (const Spool::Series& s : spool_.incoming()) {
            if (s.idle_s < c_.series_timeout_s || s.instances == 0) continue;
            const SeriesHeader h = header_of(s.path);
            const std::string who = c_.log_patient_data ? ", patient " + h.patient : "";
            if (h.modality != "CT") {
                const std::string job = spool_.move_series(s, "rejected");
                swu::write_file_atomically(job + "/reason.txt", "modality '" + h.modality + "': only CT series are segmented\n");
                log_.line("series " + s.series + ": complete, " + std::to_string(s.instances) + " instance(s), modality '" +
                          h.modality + "'" + who + ": not CT, kept aside in " + job);
                continue;
            }
            const std::string job = spool_.move_series(s, "queue");
            log_.line("series " + s.series + ": complete, " + std::to_string(s.instances) + " CT instance(s)" + who +
                      ": queued as job " + fs::path(job).filename().string());
        }
    }

    // One job from queue/, if any; false when there was none.
    bool run_one() {
        const std::string work = spool_.take_job();
        if (work.empty()) return false;
        const std::string job = fs::path(work).filename().string(), series = series_of_job(job);
        const auto t0 = std::chrono::steady_clock::now();
        std::string why;
        swu_status st;
        try {
            st = segment(work, series, job, why);
        } catch (const std::exception& e) {  // the spool (disk full, permissions): this job fails, the node goes on
            st = SWU_ERR_IO;
            why = e.what();
        }
        const double s = seconds_since(t0);
        char took[32];
        std::snprintf(took, sizeof took, "%.1f s", s);
        if (st == SWU_OK) {
            spool_.finish_job(work, "done");
            log_.line("job " + job + ": segmented in " + took + "; DICOM SEG in outbox/" + job + ".seg.dcm");
        } else if (st == SWU_ERR_CANCELLED) {
            spool_.finish_job(work, "queue");
            log_.line("job " + job + ": stopped after " + took + "; back in the queue for the next start");
        } else {
            try {
                swu::write_file_atomically(work + "/reason.txt", why + "\n");
            } catch (const std::exception&) {  // the log says it anyway
            }
            const std::string kept = spool_.finish_job(work, "rejected");
            log_.line("job " + job + ": failed after " + std::string(took) + " (" + swu_status_string(st) + "): " + why +
                      "; kept aside in " + kept);
        }
        return true;
    }

private:
    static int on_progress(swu_stage, int64_t, int64_t, void* user) {
        return static_cast<Worker*>(user)->stop_.load() || swu_cli::interrupted() ? 1 : 0;
    }

    swu_status segment(const std::string& folder, const std::string& series, const std::string& job, std::string& why) {
        swu_volume* raw = nullptr;
        swu_dicom_series_info info{};
        info.struct_size = sizeof info;
        const std::string instances = folder + "/instances";
        swu_status st = swu_volume_read_dicom(instances.c_str(), series.c_str(), &raw, &info);
        swinunetr::VolumePtr image(raw);
        if (st != SWU_OK) return why = swu_last_error(), st;
        swu_infer_params ip;
        swu_infer_params_init(&ip);
        ip.overlap = c_.overlap;
        ip.sw_batch = c_.sw_batch;
        ip.progress = on_progress;
        ip.progress_user_data = this;
        raw = nullptr;
        st = swu_infer(model_.get(), image.get(), &ip, &raw);
        swinunetr::VolumePtr labels(raw);
        if (st != SWU_OK) return why = swu_last_error(), st;
        Peer to;
        const std::string caller = read_text(folder + "/caller");
        if (!destination_for(c_, caller, to)) return why = "no destination for caller '" + caller + "'", SWU_ERR_INVALID_ARGUMENT;
        // The destination first, then the SEG under its final name: the sender never sees
        // a SEG without one, and a crash before the rename leaves nothing to send.
        const std::string out = spool_.dir("outbox") + "/" + job + ".seg.dcm";
        const swu::json::Document dest{{"ae_title", to.ae_title}, {"host", to.host}, {"port", to.port}};
        swu::write_file_atomically(spool_.dir("outbox") + "/" + job + ".seg.json", dest.dump() + "\n");
        const std::string partial = out + ".partial";
        st = swu_volume_write_dicom_seg(labels.get(), instances.c_str(), series.c_str(), partial.c_str(), nullptr);
        if (st != SWU_OK) {
            std::remove(partial.c_str());
            return why = swu_last_error(), st;
        }
        if (!sync_path(partial) || std::rename(partial.c_str(), out.c_str()) != 0) {
            std::remove(partial.c_str());
            return why = "cannot move the SEG into outbox/", SWU_ERR_IO;
        }
        sync_path(spool_.dir("outbox"));
        return SWU_OK;
    }

    const Config& c_;
    Spool& spool_;
    Log& log_;
    std::atomic<bool>& stop_;
    swinunetr::ModelPtr model_;
};

// outbox/ to the destinations, retried with doubling back-off per file while they fail.
class Outbox {
public:
    Outbox(const Config& c, Spool& spool, Log& log) : c_(c), spool_(spool), log_(log) {}

    void send_due() {
        std::error_code ec;
        const auto now = std::chrono::steady_clock::now();
        for (const auto& f : fs::directory_iterator(spool_.dir("outbox"), ec)) {
            const std::string name = f.path().filename().string();
            const size_t dot = name.rfind(".seg.dcm");
            if (dot == std::string::npos || dot + 8 != name.size()) continue;
            const std::string job = name.substr(0, dot);
            Retry& r = retries_[job];
            if (now < r.next) continue;
            Peer to;
            try {
                const swu::json::Value d = swu::json::parse_file(spool_.dir("outbox") + "/" + job + ".seg.json");
                to.ae_title = d.at("ae_title").as_string();
                to.host = d.at("host").as_string();
                to.port = static_cast<int>(d.at("port").as_number());
            } catch (const std::exception& e) {
                log_.line("send " + name + ": no readable destination (" + e.what() + "); left in outbox/");
                r.next = now + std::chrono::hours(24 * 365);
                continue;
            }
            const auto t0 = std::chrono::steady_clock::now();
            std::string error;
            const std::string where = to.ae_title + " at " + to.host + ":" + std::to_string(to.port);
            if (send_file(c_.ae_title, to, c_.tls, f.path().string(), error)) {
                fs::rename(f.path(), fs::path(spool_.dir("sent")) / name, ec);
                fs::remove(spool_.dir("outbox") + "/" + job + ".seg.json", ec);
                sync_path(spool_.dir("outbox"));
                char took[32];
                std::snprintf(took, sizeof took, "%.1f s", seconds_since(t0));
                log_.line("send " + name + " to " + where + ": ok in " + took + (r.attempts ? " (attempt " + std::to_string(r.attempts + 1) + ")" : ""));
                retries_.erase(job);
            } else {
                const double wait = std::min(c_.retry_max_s, c_.retry_initial_s * std::pow(2.0, r.attempts++));
                r.next = now + std::chrono::milliseconds(static_cast<int64_t>(wait * 1000));
                char again[48];
                std::snprintf(again, sizeof again, "; again in %.0f s", wait);
                log_.line("send " + name + " to " + where + ": failed (" + error + ")" + again);
            }
        }
    }

private:
    struct Retry {
        int attempts = 0;
        std::chrono::steady_clock::time_point next{};
    };
    const Config& c_;
    Spool& spool_;
    Log& log_;
    std::map<std::string, Retry> retries_;
};

}  // namespace

int serve(const Config& config) {
    // DCMTK's own messages only when something went wrong: the node logs its own lines.
    OFLog::configure(OFLogger::ERROR_LOG_LEVEL);
    Log log;
    std::unique_ptr<Spool> spool;
    try {
        spool = std::make_unique<Spool>(config.spool);
        for (const std::string& line : spool->recover()) log.line(line);
    } catch (const std::exception& e) {
        log.line(std::string("cannot use the spool: ") + e.what());
        return 1;
    }
    std::atomic<bool> stop{false};
    Worker worker(config, *spool, log, stop);
    std::string error;
    if (!worker.load_model(error)) {
        log.line("cannot load " + config.weights + ": " + error);
        return 1;
    }
    swu_cli::catch_interrupts();
    std::unique_ptr<Receiver> made;
    try {
        made = std::make_unique<Receiver>(config, *spool, log);
    } catch (const std::exception& e) {
        log.line(std::string("cannot start: ") + e.what());
        return 1;
    }
    Receiver& receiver = *made;
    std::atomic<bool> receiver_failed{false};
    std::thread listening([&] {
        std::string why;
        if (!receiver.run(why)) {
            log.line("cannot listen on port " + std::to_string(config.port) + ": " + why);
            receiver_failed = true;
        }
    });
    Outbox outbox(config, *spool, log);
    std::thread sending([&] {
        while (!stop.load()) {
            try {
                outbox.send_due();
            } catch (const std::exception& e) {
                log.line(std::string("outbox: ") + e.what());
            }
            for (int i = 0; i < 10 && !stop.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    });
    log.line("listening as " + config.ae_title + " on port " + std::to_string(config.port) +
             (config.tls.enabled ? " (TLS only)" : "") + ", spool " + config.spool +
             ", series complete after " + std::to_string(config.series_timeout_s) + " s without a new instance");
    while (!swu_cli::interrupted() && !receiver_failed.load()) {
        try {
            worker.collect();
            if (!worker.run_one()) std::this_thread::sleep_for(std::chrono::milliseconds(250));
        } catch (const std::exception& e) {  // a spool error: say it, go on
            log.line(std::string("spool: ") + e.what());
            std::this_thread::sleep_for(std::chrono::seconds(1));
        }
        if (swu_cli::interrupted()) stop = true;
    }
    stop = true;
    receiver.stop();
    listening.join();
    sending.join();
    log.line(receiver_failed.load() ? "stopped: the port could not be opened" : "stopped");
    return receiver_failed.load() ? 1 : 0;
}

}  // namespace swu_node
