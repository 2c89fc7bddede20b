#include "checkpoint/zip_archive.hpp"

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstring>
#include <zlib.h>

#include "common/error.hpp"

namespace swu {

namespace {

constexpr uint32_t kEocdSig = 0x06054b50;
constexpr uint32_t kZip64LocatorSig = 0x07064b50;
constexpr uint32_t kZip64EocdSig = 0x06064b50;
constexpr uint32_t kCentralSig = 0x02014b50;
constexpr uint32_t kLocalSig = 0x04034b50;
constexpr size_t kEocdSize = 22;
constexpr size_t kZip64LocatorSize = 20;
constexpr size_t kZip64EocdSize = 56;
constexpr size_t kCentralSize = 46;
constexpr size_t kLocalSize = 30;
constexpr uint64_t kMaxCentralDirectory = uint64_t(1) << 30;
// Deflate cannot expand a byte by more than 1032x; a header claiming more is lying and
// would only make us allocate.
constexpr uint64_t kMaxDeflateRatio = 1032;
constexpr size_t kInflateChunk = size_t(1) << 20;

uint16_t le16(const uint8_t* p) { return uint16_t(p[0] | (p[1] << 8)); }
uint32_t le32(const uint8_t* p) { return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24); }
uint64_t le64(const uint8_t* p) { return uint64_t(le32(p)) | (uint64_t(le32(p + 4)) << 32); }

uint32_t crc32_of(const uint8_t* data, size_t n, uint32_t crc = 0) {
    uLong c = crc;
    while (n > 0) {
        const size_t part = std::min<size_t>(n, UINT_MAX);
        c = ::crc32(c, data, static_cast<uInt>(part));
        data += part;
        n -= part;
    }
    return static_cast<uint32_t>(c);
}

std::string hex32(uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%08x", v);
    return buf;
}

}  // namespace

ZipArchive::ZipArchive(const ByteSource& src) : src_(src) {
    const uint64_t size = src_.size();
    if (size < kEocdSize) error("too small to be a ZIP archive (" + std::to_string(size) + " bytes)");

    // The end-of-central-directory record is followed only by a comment of at most 64 KiB.
    const uint64_t tail_len = std::min<uint64_t>(size, kEocdSize + 0xffff);
    std::vector<uint8_t> tail(static_cast<size_t>(tail_len));
    src_.read(size - tail_len, tail.data(), tail.size());
    size_t eocd = SIZE_MAX;
    for (size_t i = tail.size() - kEocdSize + 1; i-- > 0;) {
        if (le32(&tail[i]) == kEocdSig && i + kEocdSize + le16(&tail[i + 20]) <= tail.size()) {
            eocd = i;
            break;
        }
    }
    if (eocd == SIZE_MAX) error("no end-of-central-directory record (not a ZIP archive, or truncated)");
    const uint8_t* e = &tail[eocd];
    const uint64_t eocd_pos = size - tail_len + eocd;

    uint64_t disk = le16(e + 4), cd_disk = le16(e + 6);
    uint64_t count_disk = le16(e + 8), count = le16(e + 10);
    uint64_t cd_size = le32(e + 12), cd_offset = le32(e + 16);
    uint64_t cd_end = eocd_pos;

    uint8_t loc[kZip64LocatorSize];
    bool zip64 = false;
    if (eocd_pos >= kZip64LocatorSize) {
        src_.read(eocd_pos - kZip64LocatorSize, loc, sizeof loc);
        zip64 = le32(loc) == kZip64LocatorSig;
    }
    if (zip64) {
        const uint64_t rec_pos = le64(loc + 8);
        if (le32(loc + 4) != 0 || le32(loc + 16) > 1) error("multi-disk ZIP64 archives are not supported");
        if (rec_pos > eocd_pos - kZip64LocatorSize || eocd_pos - kZip64LocatorSize - rec_pos < kZip64EocdSize)
            error("ZIP64 end-of-central-directory offset " + std::to_string(rec_pos) + " out of range");
        uint8_t r[kZip64EocdSize];
        src_.read(rec_pos, r, sizeof r);
        if (le32(r) != kZip64EocdSig) error("bad ZIP64 end-of-central-directory signature");
        disk = le32(r + 16);
        cd_disk = le32(r + 20);
        count_disk = le64(r + 24);
        count = le64(r + 32);
        cd_size = le64(r + 40);
        cd_offset = le64(r + 48);
        cd_end = rec_pos;
    } else if (count == 0xffff || cd_size == 0xffffffff || cd_offset == 0xffffffff) {
        error("ZIP64 sizes without a ZIP64 locator");
    }
    if (disk != 0 || cd_disk != 0 || count_disk != count) error("multi-disk ZIP archives are not supported");
    parse_central_directory(cd_offset, cd_size, count, cd_end);
}

void ZipArchive::error(const std::string& what) const { fail(SWU_ERR_FORMAT, src_.describe() + ": ZIP: " + what); }

void ZipArchive::parse_central_directory(uint64_t cd_offset, uint64_t cd_size, uint64_t count, uint64_t cd_end) {
    if (cd_offset > cd_end || cd_size > cd_end - cd_offset)
        error("central directory (offset " + std::to_string(cd_offset) + ", " + std::to_string(cd_size) +
              " bytes) lies outside the archive");
    if (cd_size > kMaxCentralDirectory) error("central directory of " + std::to_string(cd_size) + " bytes is too large");
    if (count > cd_size / kCentralSize)
        error(std::to_string(count) + " entries cannot fit in a central directory of " + std::to_string(cd_size) + " bytes");

    std::vector<uint8_t> cd(static_cast<size_t>(cd_size));
    src_.read(cd_offset, cd.data(), cd.size());
    entries_.reserve(static_cast<size_t>(count));
    size_t pos = 0;
    for (uint64_t i = 0; i < count; ++i) {
        const std::string where = "central directory entry " + std::to_string(i);
        if (cd.size() - pos < kCentralSize) error(where + " is truncated");
        const uint8_t* h = &cd[pos];
        if (le32(h) != kCentralSig) error(where + " has a bad signature");
        ZipEntry ent;
        ent.flags = le16(h + 8);
        ent.method = le16(h + 10);
        ent.crc32 = le32(h + 16);
        ent.compressed_size = le32(h + 20);
        ent.uncompressed_size = le32(h + 24);
        const size_t name_len = le16(h + 28), extra_len = le16(h + 30), comment_len = le16(h + 32);
        const uint16_t disk_start = le16(h + 34);
        ent.local_header_offset = le32(h + 42);
        if (cd.size() - pos - kCentralSize < name_len + extra_len + comment_len) error(where + " is truncated");
        ent.name.assign(reinterpret_cast<const char*>(h + kCentralSize), name_len);

        // ZIP64 extended information: present fields are exactly those whose 32-bit
        // (or 16-bit) counterpart holds the all-ones marker, in this order.
        const uint8_t* x = h + kCentralSize + name_len;
        const uint8_t* x_end = x + extra_len;
        bool need_usize = ent.uncompressed_size == 0xffffffff, need_csize = ent.compressed_size == 0xffffffff;
        bool need_offset = ent.local_header_offset == 0xffffffff, need_disk = disk_start == 0xffff;
        while (x_end - x >= 4) {
            const uint16_t id = le16(x), len = le16(x + 2);
            const uint8_t* body = x + 4;
            if (size_t(x_end - body) < len) error(where + " ('" + ent.name + "') has a truncated extra field");
            if (id == 0x0001) {
                const uint8_t* f = body;
                auto take64 = [&](uint64_t& dst) {
                    if (body + len - f < 8) error(where + " ('" + ent.name + "') has a short ZIP64 extra field");
                    dst = le64(f);
                    f += 8;
                };
                if (need_usize) { take64(ent.uncompressed_size); need_usize = false; }
                if (need_csize) { take64(ent.compressed_size); need_csize = false; }
                if (need_offset) { take64(ent.local_header_offset); need_offset = false; }
                if (need_disk) {
                    if (body + len - f < 4) error(where + " ('" + ent.name + "') has a short ZIP64 extra field");
                    if (le32(f) != 0) error("multi-disk ZIP archives are not supported");
                    need_disk = false;
                }
            }
            x = body + len;
        }
        if (need_usize || need_csize || need_offset || need_disk)
            error(where + " ('" + ent.name + "') lacks its ZIP64 extra field");
        if (disk_start != 0 && disk_start != 0xffff) error("multi-disk ZIP archives are not supported");
        if (ent.local_header_offset > cd_offset || cd_offset - ent.local_header_offset < kLocalSize)
            error("entry '" + ent.name + "' has a local header offset outside the archive");
        if (ent.compressed_size > cd_offset - ent.local_header_offset)
            error("entry '" + ent.name + "' claims " + std::to_string(ent.compressed_size) +
                  " compressed bytes, more than the archive holds");
        entries_.push_back(std::move(ent));
        pos += kCentralSize + name_len + extra_len + comment_len;
    }
}

const ZipEntry* ZipArchive::find(const std::string& name) const {
    for (const auto& e : entries_)
        if (e.name == name) return &e;
    return nullptr;
}

uint64_t ZipArchive::data_offset(const ZipEntry& e) const {
    uint8_t h[kLocalSize];
    src_.read(e.local_header_offset, h, sizeof h);
    if (le32(h) != kLocalSig) error("entry '" + e.name + "' has a bad local header signature");
    const size_t name_len = le16(h + 26), extra_len = le16(h + 28);
    if (name_len != e.name.size()) error("entry '" + e.name + "': local and central names differ");
    std::string local_name(name_len, '\0');
    src_.read(e.local_header_offset + kLocalSize, local_name.data(), name_len);
    if (local_name != e.name) error("entry '" + e.name + "': local and central names differ");
    const uint64_t off = e.local_header_offset + kLocalSize + name_len + extra_len;
    if (off > src_.size() || e.compressed_size > src_.size() - off)
        error("entry '" + e.name + "' extends past the end of the archive (truncated file?)");
    return off;
}

std::vector<uint8_t> ZipArchive::read(const ZipEntry& e) const {
    if (e.flags & 0x1) error("entry '" + e.name + "' is encrypted");
    if (e.method != 0 && e.method != 8)
        error("entry '" + e.name + "' uses compression method " + std::to_string(e.method) + " (only stored and deflate are supported)");
    const uint64_t off = data_offset(e);
    std::vector<uint8_t> out;
    if (e.method == 0) {
        if (e.compressed_size != e.uncompressed_size)
            error("stored entry '" + e.name + "' has different compressed and uncompressed sizes");
        out.resize(static_cast<size_t>(e.uncompressed_size));
        src_.read(off, out.data(), out.size());
    } else {
        out = inflate_entry(e, off);
    }
    const uint32_t crc = crc32_of(out.data(), out.size());
    if (crc != e.crc32)
        error("entry '" + e.name + "' fails its CRC-32 check (stored " + hex32(e.crc32) + ", computed " + hex32(crc) +
              "): the file is corrupt");
    return out;
}

std::vector<uint8_t> ZipArchive::inflate_entry(const ZipEntry& e, uint64_t offset) const {
    if (e.uncompressed_size > kMaxInflatedSize)
        error("entry '" + e.name + "' claims " + std::to_string(e.uncompressed_size) + " uncompressed bytes (limit " +
              std::to_string(kMaxInflatedSize) + ")");
    if (e.uncompressed_size > e.compressed_size * kMaxDeflateRatio + 64)
        error("entry '" + e.name + "' claims an impossible compression ratio");
    std::vector<uint8_t> out(static_cast<size_t>(e.uncompressed_size));

    z_stream zs;
    std::memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) fail(SWU_ERR_OUT_OF_MEMORY, "zlib inflateInit2 failed");
    struct Guard { z_stream* z; ~Guard() { inflateEnd(z); } } guard{&zs};

    std::vector<uint8_t> in(static_cast<size_t>(std::min<uint64_t>(e.compressed_size, kInflateChunk)));
    uint64_t consumed = 0;  // compressed bytes handed to zlib
    uint64_t produced = 0;
    int rc = Z_OK;
    while (rc != Z_STREAM_END) {
        if (zs.avail_in == 0) {
            if (consumed == e.compressed_size) error("entry '" + e.name + "': deflate stream is truncated");
            const size_t n = static_cast<size_t>(std::min<uint64_t>(in.size(), e.compressed_size - consumed));
            src_.read(offset + consumed, in.data(), n);
            consumed += n;
            zs.next_in = in.data();
            zs.avail_in = static_cast<uInt>(n);
        }
        const uint64_t room = out.size() - produced;
        // A final empty window lets zlib report the end of a stream that fills `out` exactly;
        // any byte it would put there means the stream is longer than declared.
        uint8_t overflow_probe = 0;
        if (room == 0) {
            zs.next_out = &overflow_probe;
            zs.avail_out = 1;
        } else {
            zs.next_out = out.data() + produced;
            zs.avail_out = static_cast<uInt>(std::min<uint64_t>(room, UINT_MAX));
        }
        const uInt before = zs.avail_out;
        rc = ::inflate(&zs, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END)
            error("entry '" + e.name + "': corrupt deflate data (" + (zs.msg ? zs.msg : "zlib error") + ")");
        const uInt wrote = before - zs.avail_out;
        if (room == 0 && wrote > 0) error("entry '" + e.name + "' inflates to more than its declared size");
        if (room != 0) produced += wrote;
    }
    if (produced != e.uncompressed_size)
        error("entry '" + e.name + "' inflates to " + std::to_string(produced) + " bytes, header says " +
              std::to_string(e.uncompressed_size));
    if (zs.avail_in != 0 || consumed != e.compressed_size)
        error("entry '" + e.name + "' has data after the end of its deflate stream");
    return out;
}

}  // namespace swu
