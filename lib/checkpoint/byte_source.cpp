#include "checkpoint/byte_source.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.hpp"

namespace swu {

void ByteSource::check_range(uint64_t offset, size_t n) const {
    if (offset > size() || n > size() - offset)
        fail(SWU_ERR_FORMAT, describe() + ": truncated: needs bytes up to " + std::to_string(offset) + " + " +
                                 std::to_string(n) + " but has " + std::to_string(size()));
}

FileSource::FileSource(const std::string& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) fail(SWU_ERR_IO, path + ": cannot open: " + std::strerror(errno));
    struct stat st;
    if (::fstat(fd_, &st) != 0) {
        const int err = errno;
        ::close(fd_);
        fail(SWU_ERR_IO, path + ": cannot stat: " + std::strerror(err));
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd_);
        fail(SWU_ERR_IO, path + ": not a regular file");
    }
    size_ = static_cast<uint64_t>(st.st_size);
}

FileSource::~FileSource() {
    if (fd_ >= 0) ::close(fd_);
}

void FileSource::read(uint64_t offset, void* dst, size_t n) const {
    check_range(offset, n);
    auto* out = static_cast<uint8_t*>(dst);
    while (n > 0) {
        const ssize_t got = ::pread(fd_, out, n, static_cast<off_t>(offset));
        if (got < 0) {
            if (errno == EINTR) continue;
            fail(SWU_ERR_IO, path_ + ": read failed: " + std::strerror(errno));
        }
        // The file shrank after we measured it.
        if (got == 0) fail(SWU_ERR_IO, path_ + ": unexpected end of file at offset " + std::to_string(offset));
        out += got;
        offset += static_cast<uint64_t>(got);
        n -= static_cast<size_t>(got);
    }
}

void MemorySource::read(uint64_t offset, void* dst, size_t n) const {
    check_range(offset, n);
    if (n) std::memcpy(dst, data_ + offset, n);
}

}  // namespace swu
