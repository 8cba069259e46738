// A compact binary encoding of the Raft core's values, so the transport and the WAL share one
// format instead of inventing two.
//
// Format (all integers little-endian, fixed width; no padding):
//   u32 body_length, then the body                  -- the outer frame of every encode_* below
//   string   = u32 length, bytes
//   Entry    = u64 term, u64 index, u8 type, string data
//   HardState= u64 term, u64 vote, u64 commit
//   ConfState= u32 n, n x u64 voters, u32 m, m x u64 learners
//   Snapshot = u64 index, u64 term, ConfState, string data
//   Message  = u8 version(=1), u8 type, u64 from, u64 to, u64 term, u64 log_term, u64 index,
//              u64 commit, u8 reject, u64 reject_hint, u32 n, n x Entry, Snapshot, string context
//   ConfChange = u8 version(=1), u8 type, u64 node_id, string context
// Decoders never trust the input: every length is checked against what remains, unknown enum
// values and trailing bytes are rejected, and a malformed buffer yields false, never a crash.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "kvserver/raft/message.h"
#include "kvserver/raft/types.h"

namespace raft {

// Each encode_* appends one framed record to *out. Each decode_* reads one framed record from the
// front of `in`; on success it sets *out and *consumed (frame included) and returns true.
void encode_message(const Message& m, std::string* out);
bool decode_message(std::string_view in, Message* out, std::size_t* consumed);

void encode_conf_change(const ConfChange& cc, std::string* out);
bool decode_conf_change(std::string_view in, ConfChange* out, std::size_t* consumed);

void encode_entry(const Entry& e, std::string* out);
bool decode_entry(std::string_view in, Entry* out, std::size_t* consumed);

void encode_hard_state(const HardState& hs, std::string* out);
bool decode_hard_state(std::string_view in, HardState* out, std::size_t* consumed);

void encode_snapshot(const Snapshot& s, std::string* out);
bool decode_snapshot(std::string_view in, Snapshot* out, std::size_t* consumed);

// Conveniences for a whole buffer holding exactly one record (e.g. a ConfChange entry's data).
std::string encode_conf_change(const ConfChange& cc);
bool decode_conf_change(std::string_view in, ConfChange* out);

}  // namespace raft
