#include "common/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <vector>

#include "common/error.hpp"

namespace swu {

namespace fs = std::filesystem;

namespace {

std::string why(const std::string& file, const std::string& what) {
    return "cannot write " + file + ": " + what + ": " + std::strerror(errno);
}

// Makes the renames into `folder` durable; a folder that cannot be synced is no error.
void sync_folder(const fs::path& folder) {
    const int dir = ::open(folder.empty() ? "." : folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
        ::fsync(dir);
        ::close(dir);
    }
}

// The process's umask, read without changing it (umask(2) can only be read by setting
// it, which races with other threads creating files); 022 where /proc does not say.
mode_t current_umask() {
    std::FILE* status = std::fopen("/proc/self/status", "re");
    unsigned mask = 022;
    if (status) {
        char line[256];
        while (std::fgets(line, sizeof line, status))
            if (std::sscanf(line, "Umask: %o", &mask) == 1) break;
        std::fclose(status);
    }
    return static_cast<mode_t>(mask & 0777);
}

// What the file will be created with: the permissions of the file it replaces, or those
// a plain open(O_CREAT, 0666) would give (mkstemp's 0600 would hide the output from the
// group a PACS importer or a colleague reads it as).
mode_t final_mode(const std::string& target) {
    struct stat st;
    if (::stat(target.c_str(), &st) == 0 && S_ISREG(st.st_mode)) return st.st_mode & 07777;
    return 0666 & ~current_umask();
}

}  // namespace

AtomicFile::AtomicFile(const std::string& target, const std::string& kind)
    : target_(target), what_((kind.empty() ? "" : kind + " ") + "'" + target + "'") {
    const fs::path t(target);
    const std::string suffix = "-" + t.filename().string();
    std::string pattern = (t.parent_path() / (".swu-partial-XXXXXX" + suffix)).string();
    std::vector<char> name(pattern.begin(), pattern.end());
    name.push_back('\0');
    // mkstemps: a fresh name, O_CREAT | O_EXCL, mode 0600.
    fd_ = ::mkstemps(name.data(), static_cast<int>(suffix.size()));
    if (fd_ < 0) fail(SWU_ERR_IO, why(what_, "cannot create a temporary file in its folder"));
    temp_ = name.data();
}

AtomicFile::~AtomicFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(temp_.c_str());
}

void AtomicFile::write(const void* data, size_t size) {
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
        const ssize_t n = ::write(fd_, p, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            if (n == 0) errno = ENOSPC;
            fail(SWU_ERR_IO, why(what_, "write failed"));
        }
        p += n;
        size -= static_cast<size_t>(n);
    }
}

void AtomicFile::commit() {
    // The content may have been written through temp_path() by another writer: sync
    // what the file holds now. Permissions are opened up only now, complete.
    if (::fchmod(fd_, final_mode(target_)) != 0) fail(SWU_ERR_IO, why(what_, "chmod failed"));
    if (::fsync(fd_) != 0) fail(SWU_ERR_IO, why(what_, "fsync failed"));
    if (::close(fd_) != 0) {
        fd_ = -1;
        fail(SWU_ERR_IO, why(what_, "close failed"));
    }
    fd_ = -1;
    if (::rename(temp_.c_str(), target_.c_str()) != 0) fail(SWU_ERR_IO, why(what_, "rename failed"));
    committed_ = true;
    sync_folder(fs::path(target_).parent_path());
}

AtomicFileGroup::AtomicFileGroup(const std::string& target) : target_(target) {
    const fs::path t(target);
    std::string pattern = (t.parent_path() / ".swu-partial-XXXXXX").string();
    std::vector<char> name(pattern.begin(), pattern.end());
    name.push_back('\0');
    if (!::mkdtemp(name.data())) fail(SWU_ERR_IO, why("'" + target + "'", "cannot create a temporary folder beside it"));
    staging_ = name.data();
    temp_ = (fs::path(staging_) / t.filename()).string();
}

AtomicFileGroup::~AtomicFileGroup() {
    std::error_code ec;
    fs::remove_all(staging_, ec);
}

void AtomicFileGroup::commit() {
    const std::string what = "'" + target_ + "'";
    const fs::path folder = fs::path(target_).parent_path();
    std::vector<fs::path> files;
    std::error_code ec;
    for (fs::directory_iterator it(staging_, ec), end; !ec && it != end; it.increment(ec))
        if (it->path() != fs::path(temp_)) files.push_back(it->path());
    if (ec) fail(SWU_ERR_IO, "cannot write " + what + ": cannot list its temporary folder: " + ec.message());
    files.push_back(temp_);  // the header last
    for (const fs::path& f : files) {
        const int fd = ::open(f.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd >= 0 && ::fchmod(fd, final_mode((folder / f.filename()).string())) != 0) {
            ::close(fd);
            fail(SWU_ERR_IO, why(what, "chmod of " + f.filename().string() + " failed"));
        }
        if (fd < 0 || ::fsync(fd) != 0) {
            if (fd >= 0) ::close(fd);
            fail(SWU_ERR_IO, why(what, "fsync of " + f.filename().string() + " failed"));
        }
        ::close(fd);
    }
    for (const fs::path& f : files)
        if (::rename(f.c_str(), (folder / f.filename()).c_str()) != 0)
            fail(SWU_ERR_IO, why(what, "rename of " + f.filename().string() + " failed"));
    sync_folder(folder);
}

void write_file_atomically(const std::string& path, const void* data, size_t size) {
    AtomicFile file(path);
    file.write(data, size);
    file.commit();
}

}  // namespace swu
