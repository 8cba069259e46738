// Command: what one kvserver Raft log entry carries, and its byte encoding.
//
// Every normal entry's data is one encoded Command; a membership entry (raft kConfChange) carries
// an encoded Command in its ConfChange::context, so the member's name and URLs travel with the
// change that admits it. An entry with empty data is a new leader's no-op (§8) and is no Command.
//
// request_id + origin let the member that proposed a command find its waiting caller when it
// applies the entry (every member applies every entry; only the origin answers). request_id 0 means
// nobody waits (e.g. the leader revoking an expired lease).
//
// Format: "kc1" then kv::Writer fields (codec.h: LEB128, zig-zag for signed, length-prefixed
// strings); a Txn nests its ops recursively. Decoding never trusts the input: a malformed buffer
// yields std::nullopt, never a crash. The format is durable (it is in the WAL and snapshots): add
// kinds and fields only at the end, never renumber.
//
// Thread-safety: pure functions over values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kvserver/server/node_api.h"

namespace kvserver::node {

enum class CommandKind : uint8_t {
  kWrite = 1,           // write: a client write (Put/DeleteRange/Txn/Compact/LeaseGrant/Revoke)
  kLeaseKeepAlive = 2,  // lease_id: refresh the lease's expiry clock on every member
  kPublish = 3,         // member: the proposer's name + client URLs (etcd's publish after start)
  kMemberAdd = 4,       // member (+ cluster_id on bootstrap entries): context of AddVoter/Learner
  kMemberRemove = 5,    // member.id: context of RemoveNode
  kMemberPromote = 6,   // member.id: context of AddVoter on a learner
  kMemberUpdate = 7,    // member.id + member.peer_urls: a normal entry (no raft change)
};

struct Command {
  CommandKind kind = CommandKind::kWrite;
  uint64_t request_id = 0;
  uint64_t origin = 0;  // member id of the proposer
  WriteRequest write;
  int64_t lease_id = 0;
  Member member;
  uint64_t cluster_id = 0;  // set on the bootstrap membership entries
};

std::string encode_command(const Command& c);
std::optional<Command> decode_command(std::string_view data);

// Members as they appear inside commands and snapshots (same field encoding).
std::string encode_member(const Member& m);
std::optional<Member> decode_member(std::string_view data);

}  // namespace kvserver::node
