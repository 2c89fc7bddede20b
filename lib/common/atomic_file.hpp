// Writing a file so that its path holds either the old content or the whole new one:
// the bytes go to a temporary beside it (a fresh name, O_EXCL, mode 0600, in the target's
// own folder), which is fsynced and renamed over the path, and the folder is fsynced. The
// file ends with the permissions of the file it replaced, or 0666 less the umask (as
// open(2) would create it), set only once it is complete. A failure anywhere (a full
// disk, a short write) leaves the path as it was and no temporary behind: the write
// throws SWU_ERR_IO.
#pragma once

#include <cstddef>
#include <string>

namespace swu {

class AtomicFile {
public:
    // Reserves the temporary for `target`; its name ends like target's (writers that
    // choose a format by the extension see the same one). Errors say "cannot write
    // <kind> '<target>': ..." (kind may be empty).
    explicit AtomicFile(const std::string& target, const std::string& kind = "");
    ~AtomicFile();  // removes the temporary unless committed
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;

    // Where to write the content.
    const std::string& temp_path() const { return temp_; }
    // Writes all of data to the temporary (retrying short writes; ENOSPC is an error).
    void write(const void* data, size_t size);
    // fsync, rename over the target, fsync the folder.
    void commit();

private:
    std::string target_, temp_, what_;  // what_: "<kind> '<target>'"
    int fd_ = -1;
    bool committed_ = false;
};

// For formats that write several files named after one (a .mhd header and its .zraw, a
// .nhdr and its data file): the writer writes `temp_path()` inside a fresh private
// folder beside the target (mkdtemp, mode 0700); commit() gives every file there the
// permissions AtomicFile gives its file, fsyncs it and renames each into the target's folder, the named file (the header readers open) last,
// then fsyncs the folder. A failure before commit leaves the target folder as it was; a
// crash between the renames can leave new data beside an old header, never a partial file.
class AtomicFileGroup {
public:
    explicit AtomicFileGroup(const std::string& target);
    ~AtomicFileGroup();  // removes the staging folder and what is in it
    AtomicFileGroup(const AtomicFileGroup&) = delete;
    AtomicFileGroup& operator=(const AtomicFileGroup&) = delete;

    const std::string& temp_path() const { return temp_; }
    void commit();

private:
    std::string target_, staging_, temp_;
};

// The whole of data into path, atomically (above).
void write_file_atomically(const std::string& path, const void* data, size_t size);
inline void write_file_atomically(const std::string& path, const std::string& text) {
    write_file_atomically(path, text.data(), text.size());
}

}  // namespace swu
