// Byte encoding for kv snapshots: LEB128 varints (signed values zig-zag encoded) and
// length-prefixed byte strings. Reader never reads past its input: a short or malformed input sets
// ok() to false and every later read returns zero/empty, so callers check once at the end.
//
// Thread-safety: plain values; one object per thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace kv {

class Writer {
 public:
  void u64(uint64_t v);
  void i64(int64_t v) { u64((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63)); }
  void bytes(std::string_view s);
  void raw(std::string_view s) { out_.append(s); }
  std::string& out() { return out_; }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  uint64_t u64();
  int64_t i64() {
    uint64_t v = u64();
    return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
  }
  std::string bytes();
  std::string_view raw(std::size_t n);
  bool ok() const { return ok_; }
  bool at_end() const { return pos_ == in_.size(); }
  std::size_t remaining() const { return in_.size() - pos_; }

 private:
  std::string_view in_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

// FNV-1a, 32 bit: the stable hash used by HashKV.
uint32_t fnv1a(uint32_t h, std::string_view data);
inline constexpr uint32_t kFnvSeed = 2166136261u;

}  // namespace kv
