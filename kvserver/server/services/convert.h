// Conversions between the etcd v3 protobuf messages (kvserver/api) and the plain kv structs
// (kvserver/kv/types.h) the state machine speaks. Field meanings are etcd's; a field the store does
// not serve is dropped on the way in (e.g. RangeRequest.serializable, which the KV service acts on
// itself) and left at its default on the way out.
//
// Thread-safety: pure functions.
#pragma once

#include "kvserver/api/etcdserverpb/rpc.pb.h"
#include "kvserver/api/mvccpb/kv.pb.h"
#include "kvserver/kv/types.h"
#include "kvserver/server/node_api.h"

namespace kvserver::services {

// proto -> kv
kv::RangeRequest from_proto(const etcdserverpb::RangeRequest& in);
kv::PutRequest from_proto(const etcdserverpb::PutRequest& in);
kv::DeleteRangeRequest from_proto(const etcdserverpb::DeleteRangeRequest& in);
kv::TxnRequest from_proto(const etcdserverpb::TxnRequest& in);
kv::Compare from_proto(const etcdserverpb::Compare& in);
// etcd's watch key normalisation: an empty key means "\0"; range_end "\0" means every key >= key.
kv::WatchRequest from_proto(const etcdserverpb::WatchCreateRequest& in);

// kv -> proto
void to_proto(const kv::KeyValue& in, mvccpb::KeyValue* out);
void to_proto(const kv::Event& in, mvccpb::Event* out);
void to_proto(const kv::RangeResponse& in, etcdserverpb::RangeResponse* out);
void to_proto(const kv::PutResponse& in, etcdserverpb::PutResponse* out);
void to_proto(const kv::DeleteRangeResponse& in, etcdserverpb::DeleteRangeResponse* out);
void to_proto(const kv::TxnResponse& in, etcdserverpb::TxnResponse* out);
void to_proto(const Member& in, etcdserverpb::Member* out);

// Fills a response header from the node's, with `revision` (the answer's own revision) when > 0.
void fill_header(const Header& node, int64_t revision, etcdserverpb::ResponseHeader* out);

}  // namespace kvserver::services
