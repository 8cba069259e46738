#include "kvserver/kv/codec.h"

namespace kv {

void Writer::u64(uint64_t v) {
  while (v >= 0x80) {
    out_.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out_.push_back(static_cast<char>(v));
}

void Writer::bytes(std::string_view s) {
  u64(s.size());
  out_.append(s);
}

uint64_t Reader::u64() {
  uint64_t v = 0;
  for (int shift = 0; ok_ && shift < 64; shift += 7) {
    if (pos_ >= in_.size()) break;
    auto b = static_cast<unsigned char>(in_[pos_++]);
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return v;
  }
  ok_ = false;
  return 0;
}

std::string Reader::bytes() {
  uint64_t n = u64();
  return std::string(raw(n));
}

std::string_view Reader::raw(std::size_t n) {
  if (!ok_ || n > in_.size() - pos_) {
    ok_ = false;
    return {};
  }
  std::string_view s = in_.substr(pos_, n);
  pos_ += n;
  return s;
}

uint32_t fnv1a(uint32_t h, std::string_view data) {
  for (char c : data) {
    h ^= static_cast<unsigned char>(c);
    h *= 16777619u;
  }
  return h;
}

}  // namespace kv
