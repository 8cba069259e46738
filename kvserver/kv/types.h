// Plain C++ mirrors of etcd v3's KV, Watch and Lease messages (package etcdserverpb / mvccpb). The
// gRPC layer converts protobuf to and from these; this module never sees protobuf. Field meanings
// are etcd's; only what kvserver serves is here.
//
// Key ranges follow etcd: range_end empty = the single key `key`; range_end "\0" = every key >=
// key; otherwise the half-open interval [key, range_end). prefix_end() gives the end that selects a
// prefix. Revisions: the store starts at revision 1; every write transaction bumps it by one.
//
// Thread-safety: plain values; no shared state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace kv {

// etcd caps a txn at 128 operations per branch (--max-txn-ops default).
inline constexpr std::size_t kMaxTxnOps = 128;
// etcd's MaxLeaseTTL: 9,000,000,000 seconds.
inline constexpr int64_t kMaxLeaseTtlS = 9'000'000'000;

struct KeyValue {
  std::string key;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;  // 1 on creation, +1 per put; a delete ends the generation
  std::string value;
  int64_t lease = 0;  // 0 = no lease
  bool operator==(const KeyValue&) const = default;
};

// The range_end selecting every key that starts with `prefix` (etcd's GetPrefixRangeEnd): the
// prefix with its last byte below 0xff incremented and the rest cut; "\0" (all keys) when there is
// none.
std::string prefix_end(std::string_view prefix);

// True when `k` lies in etcd's range (key, range_end) as described above.
bool in_range(std::string_view k, std::string_view key, std::string_view range_end);

struct PutRequest {
  std::string key;
  std::string value;
  int64_t lease = 0;
  bool prev_kv = false;
  bool ignore_value = false;  // keep the current value (the key must exist)
  bool ignore_lease = false;  // keep the current lease (the key must exist)
};
struct PutResponse {
  int64_t revision = 0;  // header revision: the store revision after the put
  std::optional<KeyValue> prev_kv;
};

enum class SortOrder { kNone, kAscend, kDescend };
enum class SortTarget { kKey, kVersion, kCreate, kMod, kValue };

struct RangeRequest {
  std::string key;
  std::string range_end;
  int64_t limit = 0;     // 0 = no limit
  int64_t revision = 0;  // 0 = current
  SortOrder sort_order = SortOrder::kNone;
  SortTarget sort_target = SortTarget::kKey;
  bool keys_only = false;
  bool count_only = false;
  // Filters applied after the read (etcd: `count` still counts every key in the range).
  int64_t min_mod_revision = 0;
  int64_t max_mod_revision = 0;
  int64_t min_create_revision = 0;
  int64_t max_create_revision = 0;
};
struct RangeResponse {
  int64_t revision = 0;  // header revision: the current store revision (not the one read at)
  std::vector<KeyValue> kvs;
  bool more = false;  // limit cut the answer
  int64_t count = 0;  // keys in the range at the read revision
};

struct DeleteRangeRequest {
  std::string key;
  std::string range_end;
  bool prev_kv = false;
};
struct DeleteRangeResponse {
  int64_t revision = 0;
  int64_t deleted = 0;
  std::vector<KeyValue> prev_kvs;
};

enum class CompareResult { kEqual, kGreater, kLess, kNotEqual };
enum class CompareTarget { kVersion, kCreate, kMod, kValue, kLease };

// One txn guard. Only the field named by `target` is read. A missing key compares as version 0,
// create 0, mod 0, lease 0; a value compare on a missing key is always false (etcd's rule). With a
// range_end every key in the range must satisfy it.
struct Compare {
  CompareResult result = CompareResult::kEqual;
  CompareTarget target = CompareTarget::kVersion;
  std::string key;
  std::string range_end;
  int64_t version = 0;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t lease = 0;
  std::string value;
};

struct RequestOp;
struct TxnRequest {
  std::vector<Compare> compare;
  std::vector<RequestOp> success;
  std::vector<RequestOp> failure;
};
struct RequestOp {
  std::variant<RangeRequest, PutRequest, DeleteRangeRequest, TxnRequest> request;
};

// etcd's isTxnReadonly: every op of both branches is a range (a nested txn is not, even one that
// only reads). Such a txn changes nothing, so it is served as a read, not through the log.
bool is_read_only(const TxnRequest& txn);

struct ResponseOp;
struct TxnResponse {
  int64_t revision = 0;  // header revision after the txn
  bool succeeded = false;
  std::vector<ResponseOp> responses;
};
struct ResponseOp {
  std::variant<RangeResponse, PutResponse, DeleteRangeResponse, TxnResponse> response;
};

struct CompactResponse {
  int64_t revision = 0;
};

// HashKV: a stable 32-bit hash of every retained key version with mod_revision <= the asked
// revision.
struct HashResponse {
  uint32_t hash = 0;
  int64_t compact_revision = 0;
  int64_t revision = 0;  // header revision
};

enum class EventType { kPut, kDelete };
struct Event {
  EventType type = EventType::kPut;
  // For a delete: key and mod_revision (the delete's revision) only, like etcd.
  KeyValue kv;
  std::optional<KeyValue> prev_kv;  // only when the watch asked for it and history still has it
};

struct WatchRequest {
  std::string key;
  std::string range_end;
  int64_t start_revision = 0;  // 0 = from the next revision
  bool prev_kv = false;
  bool filter_put = false;     // etcd's NOPUT filter: do not send PUT events
  bool filter_delete = false;  // etcd's NODELETE filter
};
using WatchId = int64_t;
struct WatchResponse {
  WatchId watch_id = 0;
  int64_t revision = 0;  // header revision: the revision of the last event in this batch
  std::vector<Event> events;
  int64_t compact_revision = 0;  // set, with canceled, when the watch start was compacted
  bool canceled = false;
};

struct LeaseGrantResponse {
  int64_t id = 0;
  int64_t ttl = 0;  // seconds
  int64_t revision = 0;
};
struct LeaseTimeToLiveResponse {
  int64_t id = 0;
  int64_t ttl = 0;  // remaining seconds
  int64_t granted_ttl = 0;
  std::vector<std::string> keys;
  int64_t revision = 0;
};

}  // namespace kv
