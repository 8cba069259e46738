// Frame: one item in a RaftPeer.Push MessageBatch (kvserver/api/raftpb/peer.proto). The proto
// carries opaque bytes; the node puts one tagged frame in each:
//   'r' + raft codec Message      a Raft message (the common case)
//   'p' + Forward                 a follower's proposal handed to the leader (Raft core has no
//                                 proposal forwarding: etcd-raft's MsgProp, done here)
//   'x' + Reject                  the leader could not propose a forwarded request: the origin
//                                 answers its caller now instead of at the request timeout
//   'a' + Alive                   a member whose loop is busy applying vouches that it is alive
//                                 (BusyWatch); the receiver passes it to raft's note_alive
// Decoding never trusts the input (nullopt on anything malformed). A frame whose tag this version
// does not know is another matter: a newer member's addition, which the receiver skips
// (known_frame_tag) instead of refusing the stream - so a frame added later must be one an older
// member can do without, as Alive is.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "kvserver/raft/message.h"
#include "kvserver/server/node_api.h"

namespace kvserver::node {

struct Forward {
  bool conf_change = false;  // data is an encoded raft::ConfChange, else an encoded Command
  uint64_t request_id = 0;   // for the Reject
  std::string data;
};

struct Reject {
  uint64_t request_id = 0;
  ApiError error;
};

struct Alive {
  uint64_t term = 0;  // the sender's term when it vouched
};

using Frame = std::variant<raft::Message, Forward, Reject, Alive>;

std::string encode_frame(const Frame& f);
std::optional<Frame> decode_frame(std::string_view data);
// Whether `data` starts with a tag this version decodes (whatever follows it).
bool known_frame_tag(std::string_view data);

}  // namespace kvserver::node
