// Read-only ZIP (incl. ZIP64) access for PyTorch checkpoints. Only what torch.save and
// common zip tools write is accepted: stored or deflated, unencrypted, single disk.
// Every size in the file is checked against the source before anything is allocated.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "checkpoint/byte_source.hpp"

namespace swu {

struct ZipEntry {
    std::string name;
    uint16_t flags = 0;
    uint16_t method = 0;  // 0 stored, 8 deflate
    uint32_t crc32 = 0;
    uint64_t compressed_size = 0;
    uint64_t uncompressed_size = 0;
    uint64_t local_header_offset = 0;
};

class ZipArchive {
public:
    // Parses the central directory; throws swu::Error(SWU_ERR_FORMAT) when the source is
    // not a well-formed ZIP. The source must outlive the archive.
    explicit ZipArchive(const ByteSource& src);

    const std::vector<ZipEntry>& entries() const { return entries_; }
    // First entry with exactly this name, or nullptr.
    const ZipEntry* find(const std::string& name) const;

    // Offset of the entry's (possibly compressed) bytes, from its local header.
    uint64_t data_offset(const ZipEntry& e) const;
    // The entry's uncompressed bytes, CRC-32 and sizes verified.
    std::vector<uint8_t> read(const ZipEntry& e) const;

    // Refused before inflating: larger outputs are treated as hostile.
    static constexpr uint64_t kMaxInflatedSize = uint64_t(16) << 30;

private:
    const ByteSource& src_;
    std::vector<ZipEntry> entries_;

    [[noreturn]] void error(const std::string& what) const;
    void parse_central_directory(uint64_t cd_offset, uint64_t cd_size, uint64_t count, uint64_t cd_end);
    std::vector<uint8_t> inflate_entry(const ZipEntry& e, uint64_t offset) const;
};

}  // namespace swu
