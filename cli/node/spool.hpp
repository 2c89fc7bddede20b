// The node's spool folder: everything it has received and produced, so that a crash or
// restart loses nothing and repeats nothing (README, "Run as a DICOM node").
//
//   tmp/                               instances being received (removed at start)
//   incoming/<study>/<series>/instances/<sop>.dcm  received; the series is complete when
//                                      no instance arrived for series_timeout_s (file times)
//   incoming/<study>/<series>/caller   the AE title that sent the series
//   queue/<study>/<job>/               complete series waiting for the worker
//   work/<study>/<job>/                the series being segmented
//   done/<study>/<job>/                segmented (the source instances are kept)
//   rejected/<study>/<job>/reason.txt  kept aside: not CT, or refused by the reader
//   outbox/<job>.seg.dcm (+ .json)     results to send, with their destination
//   sent/<job>.seg.dcm                 results the destination accepted
//
// A job folder keeps that layout (instances/, caller; reason.txt when rejected).
// <job> is the SeriesInstanceUID, or "<uid>~N" when the same series came again. Every
// file is written under a temporary name, fsynced and renamed (swu::write_file_atomically,
// whose temporaries start ".swu-partial-"); folders move by rename.
// At start, a job found in work/ goes back to queue/ unless its result is already in
// outbox/ or sent/ (then it goes to done/): each complete series is segmented once.
#pragma once

#include <mutex>
#include <string>
#include <vector>

namespace swu_node {

// UIDs become folder and file names only if they are UIDs: 1 to 64 characters, digits
// in dot-separated components, no empty component, no leading zero in a longer one.
bool is_uid(const std::string& s);

// The SeriesInstanceUID of a job name ("<uid>" or "<uid>~N").
std::string series_of_job(const std::string& job);

// fsyncs a file or folder; false on failure.
bool sync_path(const std::string& path);

class Spool {
public:
    explicit Spool(std::string root);  // creates the folders; throws std::runtime_error
    const std::string& root() const { return root_; }
    std::string dir(const char* part) const { return root_ + "/" + part; }

    // Crash recovery, before anything else runs: clears tmp/ and half-written outbox
    // files, settles jobs left in work/. Returns a line per job it moved.
    std::vector<std::string> recover();

    // A fresh name in tmp/ for an instance being received.
    std::string temporary_file();
    // Moves a received, fsynced instance from tmp/ into incoming/<study>/<series>/.
    void add_instance(const std::string& tmp, const std::string& study, const std::string& series, const std::string& sop,
                      const std::string& caller);

    struct Series {
        std::string study, series, path;
        double idle_s = 0;  // since the newest file arrived
        size_t instances = 0;
    };
    std::vector<Series> incoming() const;
    // Moves a complete series from incoming/ to `to` (queue or rejected) under a job
    // name that is free there and in done/; returns the job's folder.
    std::string move_series(const Series& s, const char* to);
    size_t queued() const;
    // The oldest job in queue/, moved to work/; empty when none.
    std::string take_job();
    // From work/ to `to` (done, rejected or back to queue).
    std::string finish_job(const std::string& work_path, const char* to);

    // Serialises adding instances with moving series (a series never moves while an
    // instance is being renamed into it).
    std::mutex& lock() { return mutex_; }

private:
    std::string root_;
    mutable std::mutex mutex_;
    unsigned long counter_ = 0;
};

}  // namespace swu_node
