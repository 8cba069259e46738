#include "kvserver/raft/codec.h"

#include <cstdint>
#include <cstring>

namespace raft {
namespace {

constexpr std::uint8_t kVersion = 1;

class Writer {
 public:
  explicit Writer(std::string* out) : out_(out) {}
  void u8(std::uint8_t v) { out_->push_back(static_cast<char>(v)); }
  void u32(std::uint32_t v) {
    for (int i = 0; i < 4; ++i)
      u8(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  void u64(std::uint64_t v) {
    for (int i = 0; i < 8; ++i)
      u8(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  void str(const std::string& s) {
    u32(static_cast<std::uint32_t>(s.size()));
    out_->append(s);
  }
  std::string* out() { return out_; }

 private:
  std::string* out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool u8(std::uint8_t* v) {
    if (in_.size() < 1) return false;
    *v = static_cast<std::uint8_t>(in_[0]);
    in_.remove_prefix(1);
    return true;
  }
  bool u32(std::uint32_t* v) {
    if (in_.size() < 4) return false;
    std::uint32_t r = 0;
    for (int i = 0; i < 4; ++i)
      r |= std::uint32_t(static_cast<std::uint8_t>(in_[i])) << (8 * i);
    in_.remove_prefix(4);
    *v = r;
    return true;
  }
  bool u64(std::uint64_t* v) {
    if (in_.size() < 8) return false;
    std::uint64_t r = 0;
    for (int i = 0; i < 8; ++i)
      r |= std::uint64_t(static_cast<std::uint8_t>(in_[i])) << (8 * i);
    in_.remove_prefix(8);
    *v = r;
    return true;
  }
  bool str(std::string* s) {
    std::uint32_t n = 0;
    if (!u32(&n) || in_.size() < n) return false;
    s->assign(in_.data(), n);
    in_.remove_prefix(n);
    return true;
  }
  // A count of items each at least `min_item_bytes` long: reject counts the buffer cannot hold,
  // so a corrupt count cannot make us reserve gigabytes.
  bool count(std::uint32_t* n, std::size_t min_item_bytes) {
    return u32(n) && std::uint64_t(*n) * min_item_bytes <= in_.size();
  }
  bool empty() const { return in_.empty(); }

 private:
  std::string_view in_;
};

void put_entry(Writer& w, const Entry& e) {
  w.u64(e.term);
  w.u64(e.index);
  w.u8(static_cast<std::uint8_t>(e.type));
  w.str(e.data);
}

bool get_entry(Reader& r, Entry* e) {
  std::uint8_t type = 0;
  if (!r.u64(&e->term) || !r.u64(&e->index) || !r.u8(&type) || !r.str(&e->data)) return false;
  if (type > static_cast<std::uint8_t>(EntryType::kConfChange)) return false;
  e->type = static_cast<EntryType>(type);
  return true;
}

void put_ids(Writer& w, const std::vector<NodeId>& ids) {
  w.u32(static_cast<std::uint32_t>(ids.size()));
  for (NodeId id : ids)
    w.u64(id);
}

bool get_ids(Reader& r, std::vector<NodeId>* ids) {
  std::uint32_t n = 0;
  if (!r.count(&n, 8)) return false;
  ids->resize(n);
  for (auto& id : *ids) {
    if (!r.u64(&id)) return false;
  }
  return true;
}

void put_snapshot(Writer& w, const Snapshot& s) {
  w.u64(s.metadata.index);
  w.u64(s.metadata.term);
  put_ids(w, s.metadata.conf_state.voters);
  put_ids(w, s.metadata.conf_state.learners);
  w.str(s.data);
}

bool get_snapshot(Reader& r, Snapshot* s) {
  return r.u64(&s->metadata.index) && r.u64(&s->metadata.term) &&
         get_ids(r, &s->metadata.conf_state.voters) &&
         get_ids(r, &s->metadata.conf_state.learners) && r.str(&s->data);
}

// Frames: reserve the u32 length, write the body, patch the length in.
template <typename F>
void framed(std::string* out, F body) {
  std::size_t at = out->size();
  out->append(4, '\0');
  Writer w(out);
  body(w);
  std::uint32_t n = static_cast<std::uint32_t>(out->size() - at - 4);
  for (int i = 0; i < 4; ++i)
    (*out)[at + i] = static_cast<char>(n >> (8 * i));
}

// Reads the frame header, runs `body` on exactly the framed bytes and insists it used them all.
template <typename F>
bool unframed(std::string_view in, std::size_t* consumed, F body) {
  Reader head(in);
  std::uint32_t n = 0;
  if (!head.u32(&n) || in.size() - 4 < n) return false;
  Reader r(in.substr(4, n));
  if (!body(r) || !r.empty()) return false;
  *consumed = 4 + std::size_t(n);
  return true;
}

}  // namespace

void encode_message(const Message& m, std::string* out) {
  framed(out, [&](Writer& w) {
    w.u8(kVersion);
    w.u8(static_cast<std::uint8_t>(m.type));
    w.u64(m.from);
    w.u64(m.to);
    w.u64(m.term);
    w.u64(m.log_term);
    w.u64(m.index);
    w.u64(m.commit);
    w.u8(m.reject ? 1 : 0);
    w.u64(m.reject_hint);
    w.u32(static_cast<std::uint32_t>(m.entries.size()));
    for (const Entry& e : m.entries)
      put_entry(w, e);
    put_snapshot(w, m.snapshot);
    w.str(m.context);
  });
}

bool decode_message(std::string_view in, Message* out, std::size_t* consumed) {
  Message m;
  bool ok = unframed(in, consumed, [&](Reader& r) {
    std::uint8_t version = 0, type = 0, reject = 0;
    if (!r.u8(&version) || version != kVersion || !r.u8(&type)) return false;
    if (type == 0 || type > kMaxMessageType) return false;
    m.type = static_cast<MessageType>(type);
    if (!r.u64(&m.from) || !r.u64(&m.to) || !r.u64(&m.term) || !r.u64(&m.log_term) ||
        !r.u64(&m.index) || !r.u64(&m.commit) || !r.u8(&reject) || reject > 1 ||
        !r.u64(&m.reject_hint)) {
      return false;
    }
    m.reject = reject == 1;
    std::uint32_t n = 0;
    if (!r.count(&n, 21)) return false;  // an Entry is at least 8+8+1+4 bytes
    m.entries.resize(n);
    for (auto& e : m.entries) {
      if (!get_entry(r, &e)) return false;
    }
    return get_snapshot(r, &m.snapshot) && r.str(&m.context);
  });
  if (ok) *out = std::move(m);
  return ok;
}

void encode_conf_change(const ConfChange& cc, std::string* out) {
  framed(out, [&](Writer& w) {
    w.u8(kVersion);
    w.u8(static_cast<std::uint8_t>(cc.type));
    w.u64(cc.node_id);
    w.str(cc.context);
  });
}

bool decode_conf_change(std::string_view in, ConfChange* out, std::size_t* consumed) {
  ConfChange cc;
  bool ok = unframed(in, consumed, [&](Reader& r) {
    std::uint8_t version = 0, type = 0;
    if (!r.u8(&version) || version != kVersion || !r.u8(&type)) return false;
    if (type > static_cast<std::uint8_t>(ConfChangeType::kRemoveNode)) return false;
    cc.type = static_cast<ConfChangeType>(type);
    return r.u64(&cc.node_id) && r.str(&cc.context);
  });
  if (ok) *out = std::move(cc);
  return ok;
}

void encode_entry(const Entry& e, std::string* out) {
  framed(out, [&](Writer& w) { put_entry(w, e); });
}

bool decode_entry(std::string_view in, Entry* out, std::size_t* consumed) {
  Entry e;
  bool ok = unframed(in, consumed, [&](Reader& r) { return get_entry(r, &e); });
  if (ok) *out = std::move(e);
  return ok;
}

void encode_hard_state(const HardState& hs, std::string* out) {
  framed(out, [&](Writer& w) {
    w.u64(hs.term);
    w.u64(hs.vote);
    w.u64(hs.commit);
  });
}

bool decode_hard_state(std::string_view in, HardState* out, std::size_t* consumed) {
  HardState hs;
  bool ok = unframed(in, consumed, [&](Reader& r) {
    return r.u64(&hs.term) && r.u64(&hs.vote) && r.u64(&hs.commit);
  });
  if (ok) *out = hs;
  return ok;
}

void encode_snapshot(const Snapshot& s, std::string* out) {
  framed(out, [&](Writer& w) { put_snapshot(w, s); });
}

bool decode_snapshot(std::string_view in, Snapshot* out, std::size_t* consumed) {
  Snapshot s;
  bool ok = unframed(in, consumed, [&](Reader& r) { return get_snapshot(r, &s); });
  if (ok) *out = std::move(s);
  return ok;
}

std::string encode_conf_change(const ConfChange& cc) {
  std::string out;
  encode_conf_change(cc, &out);
  return out;
}

bool decode_conf_change(std::string_view in, ConfChange* out) {
  std::size_t consumed = 0;
  return decode_conf_change(in, out, &consumed) && consumed == in.size();
}

}  // namespace raft
