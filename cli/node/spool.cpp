#include "node/spool.hpp"

#include "common/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace fs = std::filesystem;

namespace swu_node {

bool is_uid(const std::string& s) {
    if (s.empty() || s.size() > 64) return false;
    size_t start = 0;
    while (true) {
        const size_t dot = s.find('.', start);
        const size_t end = dot == std::string::npos ? s.size() : dot;
        if (end == start) return false;  // empty component
        for (size_t i = start; i < end; ++i)
            if (s[i] < '0' || s[i] > '9') return false;
        if (end - start > 1 && s[start] == '0') return false;
        if (dot == std::string::npos) return true;
        start = dot + 1;
    }
}

std::string series_of_job(const std::string& job) { return job.substr(0, job.find('~')); }

bool sync_path(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    const bool ok = ::fsync(fd) == 0;
    ::close(fd);
    return ok;
}

namespace {

// A temporary of an interrupted write: the library's (".swu-partial-...") or the node's
// SEG staging name ("<job>.seg.dcm.partial").
bool is_partial(const std::string& name) {
    return name.rfind(".swu-partial-", 0) == 0 || name.find(".partial") != std::string::npos;
}

constexpr const char* kParts[] = {"tmp", "incoming", "queue", "work", "done", "rejected", "outbox", "sent"};

void move_dir(const fs::path& from, const fs::path& to) {
    fs::create_directories(to.parent_path());
    fs::rename(from, to);
    sync_path(to.parent_path().string());
    sync_path(from.parent_path().string());
    std::error_code ec;
    fs::remove(from.parent_path(), ec);  // the study folder, once empty
}

// study/job folders below `dir`, oldest first (by the job folder's time).
std::vector<fs::path> jobs_in(const fs::path& dir) {
    std::vector<std::pair<fs::file_time_type, fs::path>> found;
    std::error_code ec;
    for (const auto& study : fs::directory_iterator(dir, ec))
        if (study.is_directory())
            for (const auto& job : fs::directory_iterator(study.path(), ec))
                if (job.is_directory()) found.emplace_back(fs::last_write_time(job.path(), ec), job.path());
    std::sort(found.begin(), found.end());
    std::vector<fs::path> out;
    for (auto& f : found) out.push_back(f.second);
    return out;
}

}  // namespace

Spool::Spool(std::string root) : root_(std::move(root)) {
    std::error_code ec;
    for (const char* part : kParts) {
        fs::create_directories(dir(part), ec);
        if (!fs::is_directory(dir(part))) throw std::runtime_error("spool: cannot create " + dir(part));
    }
}

std::vector<std::string> Spool::recover() {
    std::vector<std::string> lines;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir("tmp"), ec)) fs::remove_all(e.path(), ec);
    for (const auto& e : fs::directory_iterator(dir("outbox"), ec))
        if (is_partial(e.path().filename().string())) fs::remove(e.path(), ec);
    for (const fs::path& job : jobs_in(dir("work"))) {
        const std::string name = job.filename().string();
        const bool has_result = fs::exists(dir("outbox") + "/" + name + ".seg.dcm") || fs::exists(dir("sent") + "/" + name + ".seg.dcm");
        const char* to = has_result ? "done" : "queue";
        move_dir(job, fs::path(dir(to)) / job.parent_path().filename() / name);
        lines.push_back("job " + name + ": interrupted by a stop or crash; " +
                        (has_result ? "its result was already written (done)" : "segmented again (back in the queue)"));
    }
    return lines;
}

std::string Spool::temporary_file() {
    std::lock_guard<std::mutex> hold(mutex_);
    return dir("tmp") + "/" + std::to_string(::getpid()) + "-" + std::to_string(++counter_) + ".dcm";
}

void Spool::add_instance(const std::string& tmp, const std::string& study, const std::string& series, const std::string& sop,
                         const std::string& caller) {
    std::lock_guard<std::mutex> hold(mutex_);
    const fs::path folder = fs::path(dir("incoming")) / study / series;
    const bool fresh = !fs::exists(folder / "caller");
    fs::create_directories(folder / "instances");
    if (fresh) swu::write_file_atomically((folder / "caller").string(), caller);
    const fs::path target = folder / "instances" / (sop + ".dcm");
    if (std::rename(tmp.c_str(), target.c_str()) != 0)
        throw std::runtime_error("spool: cannot move " + tmp + " to " + target.string() + ": " + std::strerror(errno));
    sync_path((folder / "instances").string());
}

std::vector<Spool::Series> Spool::incoming() const {
    std::vector<Series> out;
    std::error_code ec;
    const auto now = fs::file_time_type::clock::now();
    for (const auto& study : fs::directory_iterator(dir("incoming"), ec)) {
        if (!study.is_directory()) continue;
        for (const auto& series : fs::directory_iterator(study.path(), ec)) {
            if (!series.is_directory()) continue;
            Series s{study.path().filename().string(), series.path().filename().string(), series.path().string()};
            fs::file_time_type newest = fs::last_write_time(series.path(), ec);
            for (const auto& f : fs::directory_iterator(series.path() / "instances", ec)) {
                newest = std::max(newest, fs::last_write_time(f.path(), ec));
                s.instances += f.path().extension() == ".dcm";
            }
            s.idle_s = std::chrono::duration<double>(now - newest).count();
            out.push_back(s);
        }
    }
    return out;
}

std::string Spool::move_series(const Series& s, const char* to) {
    std::lock_guard<std::mutex> hold(mutex_);
    std::string job = s.series;
    auto taken = [&](const std::string& name) {
        for (const char* part : {"queue", "work", "done", "rejected"})
            if (fs::exists(fs::path(dir(part)) / s.study / name)) return true;
        return fs::exists(dir("outbox") + "/" + name + ".seg.dcm") || fs::exists(dir("sent") + "/" + name + ".seg.dcm");
    };
    for (int n = 2; taken(job); ++n) job = s.series + "~" + std::to_string(n);
    const fs::path target = fs::path(dir(to)) / s.study / job;
    move_dir(s.path, target);
    return target.string();
}

size_t Spool::queued() const { return jobs_in(dir("queue")).size(); }

std::string Spool::take_job() {
    std::lock_guard<std::mutex> hold(mutex_);
    const std::vector<fs::path> jobs = jobs_in(dir("queue"));
    if (jobs.empty()) return {};
    const fs::path target = fs::path(dir("work")) / jobs[0].parent_path().filename() / jobs[0].filename();
    move_dir(jobs[0], target);
    return target.string();
}

std::string Spool::finish_job(const std::string& work_path, const char* to) {
    std::lock_guard<std::mutex> hold(mutex_);
    const fs::path from(work_path);
    const fs::path target = fs::path(dir(to)) / from.parent_path().filename() / from.filename();
    move_dir(from, target);
    return target.string();
}

}  // namespace swu_node
