// Random-access bytes a checkpoint reader pulls from: a file (read on demand, so a
// multi-GB checkpoint is never held twice) or a caller's buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace swu {

class ByteSource {
public:
    virtual ~ByteSource() = default;
    virtual uint64_t size() const = 0;
    // Copies bytes [offset, offset + n); throws swu::Error(SWU_ERR_FORMAT, "... truncated ...")
    // when that range is not inside the source, SWU_ERR_IO when the device fails.
    // Safe to call from several threads at once.
    virtual void read(uint64_t offset, void* dst, size_t n) const = 0;
    // What to name in messages: the path, or "memory buffer".
    virtual std::string describe() const = 0;

protected:
    void check_range(uint64_t offset, size_t n) const;
};

class FileSource final : public ByteSource {
public:
    // Throws SWU_ERR_IO naming the path and the OS reason.
    explicit FileSource(const std::string& path);
    ~FileSource() override;
    FileSource(const FileSource&) = delete;
    FileSource& operator=(const FileSource&) = delete;

    uint64_t size() const override { return size_; }
    void read(uint64_t offset, void* dst, size_t n) const override;
    std::string describe() const override { return path_; }

private:
    std::string path_;
    int fd_ = -1;
    uint64_t size_ = 0;
};

// Does not own the bytes; they must outlive the source.
class MemorySource final : public ByteSource {
public:
    MemorySource(const void* data, size_t size) : data_(static_cast<const uint8_t*>(data)), size_(size) {}
    uint64_t size() const override { return size_; }
    void read(uint64_t offset, void* dst, size_t n) const override;
    std::string describe() const override { return "memory buffer"; }

private:
    const uint8_t* data_;
    size_t size_;
};

}  // namespace swu
