#include "kvserver/server/node/frame.h"

#include "kvserver/kv/codec.h"
#include "kvserver/raft/codec.h"

namespace kvserver::node {

std::string encode_frame(const Frame& f) {
  std::string out;
  if (const auto* m = std::get_if<raft::Message>(&f)) {
    out.push_back('r');
    raft::encode_message(*m, &out);
    return out;
  }
  kv::Writer w;
  if (const auto* fw = std::get_if<Forward>(&f)) {
    w.raw("p");
    w.u64(fw->conf_change ? 1 : 0);
    w.u64(fw->request_id);
    w.bytes(fw->data);
  } else if (const auto* rj = std::get_if<Reject>(&f)) {
    w.raw("x");
    w.u64(rj->request_id);
    w.u64(static_cast<uint64_t>(rj->error.code));
    w.bytes(rj->error.message);
  } else {
    w.raw("a");
    w.u64(std::get<Alive>(f).term);
  }
  return std::move(w.out());
}

bool known_frame_tag(std::string_view data) {
  return !data.empty() && std::string_view("rpxa").find(data[0]) != std::string_view::npos;
}

std::optional<Frame> decode_frame(std::string_view data) {
  if (data.empty()) return std::nullopt;
  char tag = data[0];
  data.remove_prefix(1);
  if (tag == 'r') {
    raft::Message m;
    std::size_t consumed = 0;
    if (!raft::decode_message(data, &m, &consumed) || consumed != data.size()) return std::nullopt;
    return Frame(std::move(m));
  }
  kv::Reader r(data);
  if (tag == 'p') {
    Forward fw;
    uint64_t cc = r.u64();
    fw.request_id = r.u64();
    fw.data = r.bytes();
    if (!r.ok() || !r.at_end() || cc > 1) return std::nullopt;
    fw.conf_change = cc == 1;
    return Frame(std::move(fw));
  }
  if (tag == 'x') {
    Reject rj;
    rj.request_id = r.u64();
    uint64_t code = r.u64();
    rj.error.message = r.bytes();
    if (!r.ok() || !r.at_end() || code > 16) return std::nullopt;
    rj.error.code = static_cast<ApiCode>(code);
    return Frame(std::move(rj));
  }
  if (tag == 'a') {
    Alive alive;
    alive.term = r.u64();
    if (!r.ok() || !r.at_end()) return std::nullopt;
    return Frame(alive);
  }
  return std::nullopt;
}

}  // namespace kvserver::node
