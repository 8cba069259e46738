// frame_snapshot / unframe_snapshot (contract in services.h). OpenSSL's SHA-256 is used rather than
// a home-made one; its symbols come from the binary's gRPC flavour (etcd_api_static bundles
// libcrypto.a, tests link OpenSSL::Crypto).
#include <openssl/evp.h>

#include <cstring>
#include <string>

#include "kvserver/server/services/services.h"

namespace kvserver::services {

namespace {

constexpr std::size_t kBlock = 512;  // etcdctl's check: file size % 512 == 32 (bbolt pages)
constexpr std::size_t kLenBytes = 8;
constexpr std::size_t kShaBytes = SnapshotFramer::kShaBytes;

std::string sha256(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) != 1 ||
      len != kShaBytes) {
    std::abort();  // SHA-256 of a memory buffer cannot fail short of a broken libcrypto
  }
  return std::string(reinterpret_cast<const char*>(md), len);
}

kv::Error bad(const std::string& why) {
  return kv::Error(kv::ErrorCode::kBadSnapshot, "kvserver: snapshot stream file: " + why);
}

}  // namespace

SnapshotFramer::SnapshotFramer(uint64_t image_bytes)
    : image_bytes_(image_bytes), ctx_(EVP_MD_CTX_new()) {
  const uint64_t body = image_bytes + kLenBytes;
  const uint64_t padded = (body + kBlock - 1) / kBlock * kBlock;
  trailer_bytes_ = static_cast<std::size_t>(padded - image_bytes) + kShaBytes;
  // Allocation or init of SHA-256 fails only with a broken libcrypto.
  if (ctx_ == nullptr || EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) != 1) std::abort();
}

SnapshotFramer::~SnapshotFramer() {
  EVP_MD_CTX_free(ctx_);
}

void SnapshotFramer::add(std::string_view image_part) {
  if (EVP_DigestUpdate(ctx_, image_part.data(), image_part.size()) != 1) std::abort();
}

std::string SnapshotFramer::trailer() {
  std::string out(trailer_bytes_ - kShaBytes - kLenBytes, '\0');
  for (std::size_t i = 0; i < kLenBytes; ++i)
    out.push_back(static_cast<char>((image_bytes_ >> (8 * i)) & 0xff));
  add(out);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx_, md, &len) != 1 || len != kShaBytes) std::abort();
  out.append(reinterpret_cast<const char*>(md), len);
  return out;
}

std::string frame_snapshot(std::string_view image) {
  SnapshotFramer framer(image.size());
  framer.add(image);
  std::string out;
  out.reserve(image.size() + framer.trailer_bytes());
  out.append(image);
  out.append(framer.trailer());
  return out;
}

kv::Result<std::string> unframe_snapshot(std::string_view file) {
  if (file.size() < kBlock + kShaBytes || file.size() % kBlock != kShaBytes)
    return bad("size " + std::to_string(file.size()) + " is not a multiple of 512 plus 32");
  std::string_view body = file.substr(0, file.size() - kShaBytes);
  if (sha256(body) != file.substr(body.size()))
    return bad("sha256 mismatch (truncated or modified file)");
  uint64_t n = 0;
  for (std::size_t i = 0; i < kLenBytes; ++i)
    n |= uint64_t{static_cast<unsigned char>(body[body.size() - kLenBytes + i])} << (8 * i);
  if (n > body.size() - kLenBytes) return bad("image length " + std::to_string(n) + " too large");
  return std::string(body.substr(0, n));
}

}  // namespace kvserver::services
