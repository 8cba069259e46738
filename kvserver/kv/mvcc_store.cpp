#include "kvserver/kv/mvcc_store.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace kv {
namespace {

// Rough heap cost of a key beyond its bytes (its map node, 96, and its share of index_: a 16-byte
// slot at a load of 3/8 to 3/4, about 28); the figure is for Status (db size), so it only has to
// move with the data, not match malloc exactly.
constexpr std::size_t kNodeOverhead = 96 + 28;
constexpr std::size_t kLogEntryBytes = 16;

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "kv::MvccStore: %s\n", what);
  std::abort();
}

bool is_all_keys(std::string_view range_end) {
  return range_end.size() == 1 && range_end[0] == '\0';
}

}  // namespace

KeyValue MvccStore::to_kv(const std::string& key, const Version& v) {
  KeyValue kv;
  kv.key = key;
  kv.create_revision = v.create_revision;
  kv.mod_revision = v.mod_revision;
  kv.version = v.version;
  kv.value = v.value;
  kv.lease = v.lease;
  return kv;
}

Result<int64_t> MvccStore::resolve_read_revision(int64_t rev) const {
  if (rev <= 0) return current_;
  if (rev > current_) return etcd_error(ErrorCode::kFutureRevision);
  if (rev < compact_) return etcd_error(ErrorCode::kCompacted);
  return rev;
}

int64_t MvccStore::find_at(const std::vector<Version>& versions, int64_t rev) {
  auto it = std::upper_bound(versions.begin(), versions.end(), rev,
                             [](int64_t r, const Version& v) { return r < v.mod_revision; });
  return static_cast<int64_t>(it - versions.begin()) - 1;
}

MvccStore::KeyMap::const_iterator MvccStore::find(std::string_view key) const {
  const KeyMap::iterator* hit = index_.find(key);
  return hit == nullptr ? keys_.end() : KeyMap::const_iterator(*hit);
}

MvccStore::KeyMap::iterator MvccStore::find(std::string_view key) {
  const KeyMap::iterator* hit = index_.find(key);
  return hit == nullptr ? keys_.end() : *hit;
}

MvccStore::KeyMap::iterator MvccStore::insert(std::string_view key, std::vector<Version> versions) {
  auto it = keys_.emplace_hint(keys_.lower_bound(key), std::string(key), std::move(versions));
  index_.insert(it);
  return it;
}

const Version* MvccStore::get(std::string_view key, int64_t rev) const {
  auto it = find(key);
  if (it == keys_.end()) return nullptr;
  int64_t i = find_at(it->second, rev);
  if (i < 0 || it->second[i].tombstone()) return nullptr;
  return &it->second[i];
}

void MvccStore::visit(std::string_view key, std::string_view range_end, int64_t rev,
                      const std::function<bool(const std::string&, const Version&)>& fn) const {
  if (range_end.empty()) {
    auto it = find(key);
    if (it == keys_.end()) return;
    int64_t i = find_at(it->second, rev);
    if (i >= 0 && !it->second[i].tombstone()) fn(it->first, it->second[i]);
    return;
  }
  bool unbounded = is_all_keys(range_end);
  for (auto it = keys_.lower_bound(key); it != keys_.end(); ++it) {
    if (!unbounded && it->first >= range_end) break;
    int64_t i = find_at(it->second, rev);
    if (i < 0 || it->second[i].tombstone()) continue;
    if (!fn(it->first, it->second[i])) return;
  }
}

const Version& MvccStore::put(std::string_view key, std::string value, int64_t lease, int64_t rev) {
  if (rev != current_ + 1) die("put at a revision other than current+1");
  auto it = find(key);
  if (it == keys_.end()) {
    it = insert(key, {});
    bytes_ += kNodeOverhead + key.size();
  }
  auto& versions = it->second;
  if (!versions.empty() && versions.back().mod_revision == rev) die("key written twice in one rev");
  Version v;
  v.mod_revision = rev;
  v.lease = lease;
  v.value = std::move(value);
  if (!versions.empty() && !versions.back().tombstone()) {
    v.create_revision = versions.back().create_revision;
    v.version = versions.back().version + 1;
  } else {
    v.create_revision = rev;
    v.version = 1;
  }
  bytes_ += sizeof(Version) + v.value.size() + kLogEntryBytes;
  versions.push_back(std::move(v));
  log_.push_back({rev, it});
  return versions.back();
}

std::size_t MvccStore::remove_range(
    std::string_view key, std::string_view range_end, int64_t rev,
    const std::function<void(const std::string&, const Version&)>& fn) {
  if (rev != current_ + 1) die("remove at a revision other than current+1");
  auto live = [](const std::vector<Version>& versions) {
    return !versions.empty() && !versions.back().tombstone();
  };
  if (range_end.empty()) {
    auto it = find(key);
    if (it == keys_.end() || !live(it->second)) return 0;
    fn(it->first, it->second.back());
    bury(it, rev);
    return 1;
  }
  const bool unbounded = is_all_keys(range_end);
  std::size_t removed = 0;
  for (auto it = keys_.lower_bound(key); it != keys_.end(); ++it) {
    if (!unbounded && it->first >= range_end) break;
    if (!live(it->second)) continue;
    fn(it->first, it->second.back());
    bury(it, rev);
    ++removed;
  }
  return removed;
}

void MvccStore::bury(KeyMap::iterator it, int64_t rev) {
  auto& versions = it->second;
  if (versions.back().mod_revision == rev) die("key written twice in one rev");
  Version tomb;
  tomb.mod_revision = rev;
  versions.push_back(std::move(tomb));
  bytes_ += sizeof(Version) + kLogEntryBytes;
  log_.push_back({rev, it});
}

void MvccStore::commit(int64_t rev) {
  if (rev != current_ + 1) die("commit of a revision other than current+1");
  current_ = rev;
}

MvccStore::Dropped MvccStore::discard(MvccStore store) {
  Dropped d;
  if (!store.keys_.empty()) d.maps.push_back(std::move(store.keys_));
  return d;
}

Status MvccStore::compact(int64_t rev, Dropped* dropped) {
  if (rev <= compact_) return etcd_error(ErrorCode::kCompacted);
  if (rev > current_) return etcd_error(ErrorCode::kFutureRevision);
  // The log first, while every iterator is still valid: entries before `rev` go; an entry at `rev`
  // stays only if its version survives (it is the key's latest <= rev, so unless a tombstone).
  auto first_kept = std::lower_bound(log_.begin(), log_.end(), rev,
                                     [](const LogEntry& e, int64_t r) { return e.revision < r; });
  std::vector<LogEntry> kept;
  kept.reserve(static_cast<std::size_t>(log_.end() - first_kept));
  for (auto e = first_kept; e != log_.end(); ++e) {
    if (e->revision == rev) {
      const auto& versions = e->key->second;
      int64_t i = find_at(versions, rev);
      if (i >= 0 && versions[i].tombstone()) continue;
    }
    kept.push_back(*e);
  }
  bytes_ -= (log_.size() - kept.size()) * kLogEntryBytes;
  log_ = std::move(kept);

  Dropped freed_here;  // without `dropped`: freed on return
  Dropped& out = dropped != nullptr ? *dropped : freed_here;
  const std::size_t inline_capacity = std::string().capacity();  // a short value owns no heap
  for (auto it = keys_.begin(); it != keys_.end();) {
    auto& versions = it->second;
    int64_t i = find_at(versions, rev);
    std::size_t drop = 0;
    if (i >= 0) drop = static_cast<std::size_t>(versions[i].tombstone() ? i + 1 : i);
    const bool whole_key = drop == versions.size();
    for (std::size_t j = 0; j < drop; ++j) {
      bytes_ -= sizeof(Version) + versions[j].value.size();
      if (!whole_key && versions[j].value.capacity() > inline_capacity) {
        out.values.push_back(std::move(versions[j].value));
      }
    }
    if (whole_key) {
      bytes_ -= kNodeOverhead + it->first.size();
      index_.erase(std::string_view(it->first));
      auto next = std::next(it);
      out.keys.push_back(keys_.extract(it));
      it = next;
      continue;
    }
    if (drop > 0) {
      versions.erase(versions.begin(), versions.begin() + drop);
      if (versions.capacity() > 2 * versions.size()) versions.shrink_to_fit();
    }
    ++it;
  }
  compact_ = rev;
  return Ok{};
}

uint32_t MvccStore::hash(int64_t rev) const {
  HashCursor cursor;
  hash_slice(rev, cursor, keys_.size());
  return cursor.hash;
}

void MvccStore::hash_slice(int64_t rev, HashCursor& cursor, std::size_t max_keys) const {
  auto it = cursor.started ? keys_.upper_bound(cursor.last_key) : keys_.begin();
  cursor.started = true;
  Writer w;
  auto last = keys_.end();
  for (std::size_t n = 0; it != keys_.end() && n < std::max<std::size_t>(1, max_keys); ++it, ++n) {
    last = it;
    const auto& [key, versions] = *it;
    for (const auto& v : versions) {
      if (v.mod_revision > rev) break;
      w.out().clear();
      w.bytes(key);
      w.i64(v.mod_revision);
      w.i64(v.create_revision);
      w.i64(v.version);
      w.i64(v.lease);
      w.bytes(v.value);
      cursor.hash = fnv1a(cursor.hash, w.out());
    }
  }
  if (last != keys_.end()) cursor.last_key = last->first;
  cursor.done = it == keys_.end();
}

Event MvccStore::make_event(const std::string& key, const std::vector<Version>& versions,
                            int64_t rev, bool prev_kv) const {
  int64_t i = find_at(versions, rev);
  if (i < 0 || versions[i].mod_revision != rev) die("log entry without its version");
  Event ev;
  const Version& v = versions[i];
  if (v.tombstone()) {
    ev.type = EventType::kDelete;
    ev.kv.key = key;
    ev.kv.mod_revision = rev;
  } else {
    ev.type = EventType::kPut;
    ev.kv = to_kv(key, v);
  }
  if (prev_kv && i > 0 && !versions[i - 1].tombstone()) ev.prev_kv = to_kv(key, versions[i - 1]);
  return ev;
}

MvccStore::History MvccStore::history(int64_t from_rev, std::string_view key,
                                      std::string_view range_end, bool prev_kv,
                                      std::size_t max_events) const {
  History h;
  h.through_revision = current_;
  if (range_end.empty()) {
    // One key: its own version list is the history, one event per revision.
    auto it = find(key);
    if (it == keys_.end()) return h;
    const auto& versions = it->second;
    auto v = std::lower_bound(versions.begin(), versions.end(), from_rev,
                              [](const Version& x, int64_t r) { return x.mod_revision < r; });
    for (; v != versions.end(); ++v) {
      h.events.push_back(make_event(it->first, versions, v->mod_revision, prev_kv));
      if (h.events.size() >= max_events && v + 1 != versions.end()) {
        h.through_revision = v->mod_revision;
        return h;
      }
    }
    return h;
  }
  auto e = std::lower_bound(log_.begin(), log_.end(), from_rev,
                            [](const LogEntry& x, int64_t r) { return x.revision < r; });
  while (e != log_.end()) {
    int64_t rev = e->revision;
    for (; e != log_.end() && e->revision == rev; ++e) {
      if (!in_range(e->key->first, key, range_end)) continue;
      h.events.push_back(make_event(e->key->first, e->key->second, rev, prev_kv));
    }
    if (h.events.size() >= max_events && e != log_.end()) {
      h.through_revision = rev;
      return h;
    }
  }
  return h;
}

void MvccStore::serialize(Writer& w) const {
  // One allocation up front (bytes_ over-estimates the encoding) instead of ~log2(size) regrowths,
  // each copying everything written so far.
  w.out().reserve(w.out().size() + bytes_ + 8 * log_.size() + 64);
  w.i64(current_);
  w.i64(compact_);
  w.u64(keys_.size());
  // Hashed, not ordered: the log below looks up one key per revision (100k+ after a write load),
  // and a std::map's pointer chase per lookup made this the biggest part of a snapshot's stall.
  std::unordered_map<const std::string*, uint64_t> ordinal_of;
  ordinal_of.reserve(keys_.size());
  uint64_t ordinal = 0;
  for (const auto& [key, versions] : keys_) {
    ordinal_of[&key] = ordinal++;
    w.bytes(key);
    w.u64(versions.size());
    for (const auto& v : versions) {
      w.i64(v.mod_revision);
      w.i64(v.create_revision);
      w.i64(v.version);
      w.i64(v.lease);
      w.bytes(v.value);
    }
  }
  w.u64(log_.size());
  int64_t prev = 0;
  for (const auto& e : log_) {
    w.i64(e.revision - prev);
    prev = e.revision;
    w.u64(ordinal_of.at(&e.key->first));
  }
}

Result<MvccStore> MvccStore::deserialize(Reader& r) {
  MvccStore s;
  auto bad = [] { return etcd_error(ErrorCode::kBadSnapshot); };
  s.current_ = r.i64();
  s.compact_ = r.i64();
  uint64_t nkeys = r.u64();
  if (!r.ok() || s.current_ < 1 || s.compact_ < 0 || s.compact_ > s.current_) return bad();
  std::vector<KeyMap::iterator> by_ordinal;
  for (uint64_t k = 0; k < nkeys && r.ok(); ++k) {
    std::string key = r.bytes();
    uint64_t n = r.u64();
    // Each version takes at least 5 bytes; a count larger than the input is corruption.
    if (!r.ok() || n == 0 || n > r.remaining()) return bad();
    std::vector<Version> versions(n);
    for (auto& v : versions) {
      v.mod_revision = r.i64();
      v.create_revision = r.i64();
      v.version = r.i64();
      v.lease = r.i64();
      v.value = r.bytes();
      s.bytes_ += sizeof(Version) + v.value.size();
    }
    s.bytes_ += kNodeOverhead + key.size();
    // Keys come in ascending order (serialize() walks the map), so each goes at the end.
    if (!by_ordinal.empty() && !(by_ordinal.back()->first < key)) return bad();
    by_ordinal.push_back(s.insert(key, std::move(versions)));
  }
  uint64_t nlog = r.u64();
  if (!r.ok() || nlog > r.remaining()) return bad();
  s.log_.reserve(nlog);
  int64_t rev = 0;
  for (uint64_t i = 0; i < nlog && r.ok(); ++i) {
    rev += r.i64();
    uint64_t ord = r.u64();
    if (!r.ok() || ord >= by_ordinal.size() || rev > s.current_) return bad();
    auto it = by_ordinal[ord];
    int64_t at = find_at(it->second, rev);
    if (at < 0 || it->second[at].mod_revision != rev) return bad();
    s.log_.push_back({rev, it});
    s.bytes_ += kLogEntryBytes;
  }
  if (!r.ok()) return bad();
  return s;
}

}  // namespace kv
