#include "kvserver/server/node/state_image.h"

#include "kvserver/kv/codec.h"
#include "kvserver/kv/kv_store.h"
#include "kvserver/raft/codec.h"
#include "kvserver/server/node/bootstrap.h"
#include "kvserver/server/node/membership.h"
#include "kvserver/storage/file_util.h"
#include "kvserver/storage/storage.h"

namespace kvserver::node {
namespace {
constexpr std::string_view kStateMagic = "kvns1";
constexpr std::string_view kImageMagic = "kvimg1";
}  // namespace

std::string encode_state(const StateParts& parts) {
  kv::Writer w;
  // Sized once: the kv image is the whole store, and regrowing would copy it several times over.
  w.out().reserve(kStateMagic.size() + parts.membership.size() + parts.kv.size() + 20);
  w.raw(kStateMagic);
  w.bytes(parts.membership);
  w.bytes(parts.kv);
  return std::move(w.out());
}

std::optional<StateParts> decode_state(std::string_view data) {
  if (data.substr(0, kStateMagic.size()) != kStateMagic) return std::nullopt;
  kv::Reader r(data.substr(kStateMagic.size()));
  StateParts p;
  p.membership = r.bytes();
  p.kv = r.bytes();
  if (!r.ok() || !r.at_end()) return std::nullopt;
  return p;
}

std::string encode_image(const Image& image) {
  kv::Writer w;
  w.raw(kImageMagic);
  w.u64(image.index);
  w.u64(image.term);
  w.bytes(image.state);
  uint32_t h = kv::fnv1a(kv::kFnvSeed, w.out());
  for (int i = 0; i < 4; ++i)
    w.out().push_back(static_cast<char>(h >> (8 * i)));
  return std::move(w.out());
}

std::optional<Image> decode_image(std::string_view data) {
  if (data.substr(0, kImageMagic.size()) != kImageMagic) return std::nullopt;
  kv::Reader r(data.substr(kImageMagic.size()));
  Image img;
  img.index = r.u64();
  img.term = r.u64();
  img.state = r.bytes();
  if (!r.ok() || r.remaining() < 4) return std::nullopt;
  std::size_t body = data.size() - r.remaining();
  std::string_view sum = r.raw(4);
  uint32_t h = kv::fnv1a(kv::kFnvSeed, data.substr(0, body));
  for (int i = 0; i < 4; ++i) {
    if (static_cast<unsigned char>(sum[i]) != ((h >> (8 * i)) & 0xff)) return std::nullopt;
  }
  for (char c : data.substr(body + 4)) {
    if (c != 0) return std::nullopt;  // only zero padding may follow
  }
  return img;
}

certs::Status restore_data_dir(const server::ServerConfig& config, std::string_view image_bytes,
                               const std::string& file) {
  auto image = decode_image(image_bytes);
  if (!image) {
    return certs::Error("--restore " + file +
                        ": not a kvserver snapshot file (bad magic or checksum); take one with "
                        "`etcdctl snapshot save` against kvserver");
  }
  auto state = decode_state(image->state);
  kv::KvStore check;
  if (!state || !check.restore(state->kv, 0).ok()) {
    return certs::Error("--restore " + file + ": the snapshot's state is damaged");
  }
  auto existing = read_meta(config.data_dir);
  if (!existing) return existing.error();
  if (existing->has_value()) {
    return certs::Error("--restore: data dir " + config.data_dir +
                        " already holds a member; restore into an empty or new directory");
  }
  // The new cluster's membership, exactly as a fresh bootstrap would derive it.
  server::ServerConfig fresh = config;
  fresh.initial_cluster_state = "new";
  auto plan = plan_bootstrap(fresh, std::nullopt, true);
  if (!plan) return plan.error();
  Membership membership;
  membership.set_cluster_id(plan->cluster_id);
  raft::ConfState cs;
  for (const auto& m : plan->initial_members) {
    membership.upsert(m);
    cs.voters.push_back(m.id);
  }
  if (auto s = storage::ensure_dir(config.data_dir); !s) return s;
  auto st = storage::Storage::open({config.data_dir});
  if (!st) return st.error();
  if ((*st)->last_index() != 0) {
    return certs::Error("--restore: data dir " + config.data_dir +
                        " already holds a Raft log; restore into an empty directory");
  }
  // Raft starts over (etcd's restore does the same): the image becomes the snapshot at index 1
  // of term 1, so every restored member agrees on it.
  raft::Snapshot snap;
  snap.metadata.index = 1;
  snap.metadata.term = 1;
  snap.metadata.conf_state = cs;
  snap.data = encode_state({membership.encode(), state->kv});
  (*st)->apply_snapshot(snap);
  (*st)->save(raft::HardState{1, 0, 1}, {});
  return write_meta(config.data_dir,
                    {config.initial_cluster_token, plan->member_id, plan->cluster_id});
}

}  // namespace kvserver::node
