// State images: what a Raft snapshot's data holds, and the standalone snapshot file that
// Maintenance.Snapshot streams and `kvserver --restore FILE` reads.
//
//   state  = "kvns1", bytes(Membership::encode()), bytes(KvStore::snapshot())   (kv/codec.h bytes)
//   file   = "kvimg1", u64 raft index, u64 raft term, bytes(state), then a 4-byte little-endian
//            FNV-1a of everything before it
// The file is padded to etcdctl's expectation (`snapshot save` requires size % 512 == 32) by the
// services layer if it wants; decode_image() ignores bytes after the checksum only when they are
// zero padding.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "certs/result.h"
#include "kvserver/server/flags.h"

namespace kvserver::node {

struct StateParts {
  std::string membership;  // Membership::encode()
  std::string kv;          // KvStore::snapshot()
};

std::string encode_state(const StateParts& parts);
std::optional<StateParts> decode_state(std::string_view data);

struct Image {
  uint64_t index = 0;
  uint64_t term = 0;
  std::string state;  // encode_state()
};

std::string encode_image(const Image& image);
std::optional<Image> decode_image(std::string_view data);

// etcd's `snapshot restore` semantics: a fresh data dir for a NEW cluster (the one described by
// --initial-cluster, ids derived as at bootstrap) whose state is the image's keys and leases.
// Refuses a data dir that already holds a member.
// `image_bytes` is the exact image (a saved Maintenance.Snapshot stream unframed first); `file`
// only names it in messages.
certs::Status restore_data_dir(const server::ServerConfig& config, std::string_view image_bytes,
                               const std::string& file);

}  // namespace kvserver::node
