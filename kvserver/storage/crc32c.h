// CRC32C (Castagnoli, polynomial 0x1EDC6F41, reflected 0x82F63B78): the checksum of every WAL
// record and snapshot file.
//
// Why Castagnoli and not zlib's CRC32: it has better error detection for the record sizes we write
// and x86-64 computes it in hardware (SSE4.2 `crc32` instruction), which keeps checksumming far
// below the cost of the fsync it protects. Where SSE4.2 is absent a slice-by-8 table version gives
// the same values (checked at runtime once, not per call).
//
// Known vector: crc32c("123456789") == 0xE3069283.
//
// Thread-safety: pure functions; the tables are built at static initialisation and only read after.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace storage::crc32c {

// Extends `crc` (the value returned for the bytes before) over `data[0, n)`. Start with 0.
std::uint32_t extend(std::uint32_t crc, const void* data, std::size_t n);

inline std::uint32_t value(const void* data, std::size_t n) {
  return extend(0, data, n);
}
inline std::uint32_t value(std::string_view s) {
  return extend(0, s.data(), s.size());
}

// The portable table version, exposed so tests can check both paths give the same answers.
std::uint32_t extend_portable(std::uint32_t crc, const void* data, std::size_t n);

// True when extend() uses the SSE4.2 instruction on this machine.
bool hardware_accelerated();

}  // namespace storage::crc32c
