#include "kvserver/server/services/convert.h"

#include <cstdlib>
#include <type_traits>
#include <variant>

namespace kvserver::services {

namespace {

kv::SortOrder sort_order(etcdserverpb::RangeRequest::SortOrder o) {
  switch (o) {
    case etcdserverpb::RangeRequest::ASCEND:
      return kv::SortOrder::kAscend;
    case etcdserverpb::RangeRequest::DESCEND:
      return kv::SortOrder::kDescend;
    default:
      return kv::SortOrder::kNone;
  }
}

kv::SortTarget sort_target(etcdserverpb::RangeRequest::SortTarget t) {
  switch (t) {
    case etcdserverpb::RangeRequest::VERSION:
      return kv::SortTarget::kVersion;
    case etcdserverpb::RangeRequest::CREATE:
      return kv::SortTarget::kCreate;
    case etcdserverpb::RangeRequest::MOD:
      return kv::SortTarget::kMod;
    case etcdserverpb::RangeRequest::VALUE:
      return kv::SortTarget::kValue;
    default:
      return kv::SortTarget::kKey;
  }
}

kv::RequestOp op_from_proto(const etcdserverpb::RequestOp& in) {
  kv::RequestOp out;
  switch (in.request_case()) {
    case etcdserverpb::RequestOp::kRequestRange:
      out.request = from_proto(in.request_range());
      break;
    case etcdserverpb::RequestOp::kRequestPut:
      out.request = from_proto(in.request_put());
      break;
    case etcdserverpb::RequestOp::kRequestDeleteRange:
      out.request = from_proto(in.request_delete_range());
      break;
    case etcdserverpb::RequestOp::kRequestTxn:
      out.request = from_proto(in.request_txn());
      break;
    default:
      // etcd treats an empty RequestOp as an empty range on key ""; the store then answers it.
      out.request = kv::RangeRequest{};
      break;
  }
  return out;
}

void op_to_proto(const kv::ResponseOp& in, etcdserverpb::ResponseOp* out) {
  std::visit(
      [out](const auto& r) {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, kv::RangeResponse>) {
          to_proto(r, out->mutable_response_range());
        } else if constexpr (std::is_same_v<T, kv::PutResponse>) {
          to_proto(r, out->mutable_response_put());
        } else if constexpr (std::is_same_v<T, kv::DeleteRangeResponse>) {
          to_proto(r, out->mutable_response_delete_range());
        } else {
          to_proto(r, out->mutable_response_txn());
        }
      },
      in.response);
}

}  // namespace

kv::RangeRequest from_proto(const etcdserverpb::RangeRequest& in) {
  kv::RangeRequest out;
  out.key = in.key();
  out.range_end = in.range_end();
  out.limit = in.limit();
  out.revision = in.revision() > 0 ? in.revision() : 0;
  out.sort_order = sort_order(in.sort_order());
  out.sort_target = sort_target(in.sort_target());
  out.keys_only = in.keys_only();
  out.count_only = in.count_only();
  out.min_mod_revision = in.min_mod_revision();
  out.max_mod_revision = in.max_mod_revision();
  out.min_create_revision = in.min_create_revision();
  out.max_create_revision = in.max_create_revision();
  return out;
}

kv::PutRequest from_proto(const etcdserverpb::PutRequest& in) {
  kv::PutRequest out;
  out.key = in.key();
  out.value = in.value();
  out.lease = in.lease();
  out.prev_kv = in.prev_kv();
  out.ignore_value = in.ignore_value();
  out.ignore_lease = in.ignore_lease();
  return out;
}

kv::DeleteRangeRequest from_proto(const etcdserverpb::DeleteRangeRequest& in) {
  kv::DeleteRangeRequest out;
  out.key = in.key();
  out.range_end = in.range_end();
  out.prev_kv = in.prev_kv();
  return out;
}

kv::Compare from_proto(const etcdserverpb::Compare& in) {
  kv::Compare out;
  switch (in.result()) {
    case etcdserverpb::Compare::GREATER:
      out.result = kv::CompareResult::kGreater;
      break;
    case etcdserverpb::Compare::LESS:
      out.result = kv::CompareResult::kLess;
      break;
    case etcdserverpb::Compare::NOT_EQUAL:
      out.result = kv::CompareResult::kNotEqual;
      break;
    default:
      out.result = kv::CompareResult::kEqual;
      break;
  }
  switch (in.target()) {
    case etcdserverpb::Compare::CREATE:
      out.target = kv::CompareTarget::kCreate;
      break;
    case etcdserverpb::Compare::MOD:
      out.target = kv::CompareTarget::kMod;
      break;
    case etcdserverpb::Compare::VALUE:
      out.target = kv::CompareTarget::kValue;
      break;
    case etcdserverpb::Compare::LEASE:
      out.target = kv::CompareTarget::kLease;
      break;
    default:
      out.target = kv::CompareTarget::kVersion;
      break;
  }
  out.key = in.key();
  out.range_end = in.range_end();
  out.version = in.version();
  out.create_revision = in.create_revision();
  out.mod_revision = in.mod_revision();
  out.lease = in.lease();
  out.value = in.value();
  return out;
}

kv::TxnRequest from_proto(const etcdserverpb::TxnRequest& in) {
  kv::TxnRequest out;
  out.compare.reserve(in.compare_size());
  for (const auto& c : in.compare())
    out.compare.push_back(from_proto(c));
  out.success.reserve(in.success_size());
  for (const auto& op : in.success())
    out.success.push_back(op_from_proto(op));
  out.failure.reserve(in.failure_size());
  for (const auto& op : in.failure())
    out.failure.push_back(op_from_proto(op));
  return out;
}

kv::WatchRequest from_proto(const etcdserverpb::WatchCreateRequest& in) {
  kv::WatchRequest out;
  out.key = in.key().empty() ? std::string(1, '\0') : in.key();
  out.range_end = in.range_end();
  out.start_revision = in.start_revision() > 0 ? in.start_revision() : 0;
  out.prev_kv = in.prev_kv();
  for (int f : in.filters()) {
    if (f == etcdserverpb::WatchCreateRequest::NOPUT) out.filter_put = true;
    if (f == etcdserverpb::WatchCreateRequest::NODELETE) out.filter_delete = true;
  }
  return out;
}

void to_proto(const kv::KeyValue& in, mvccpb::KeyValue* out) {
  out->set_key(in.key);
  out->set_create_revision(in.create_revision);
  out->set_mod_revision(in.mod_revision);
  out->set_version(in.version);
  out->set_value(in.value);
  out->set_lease(in.lease);
}

void to_proto(const kv::Event& in, mvccpb::Event* out) {
  out->set_type(in.type == kv::EventType::kPut ? mvccpb::Event::PUT : mvccpb::Event::DELETE);
  to_proto(in.kv, out->mutable_kv());
  if (in.prev_kv) to_proto(*in.prev_kv, out->mutable_prev_kv());
}

void to_proto(const kv::RangeResponse& in, etcdserverpb::RangeResponse* out) {
  out->mutable_header()->set_revision(in.revision);
  for (const auto& kv : in.kvs)
    to_proto(kv, out->add_kvs());
  out->set_more(in.more);
  out->set_count(in.count);
}

void to_proto(const kv::PutResponse& in, etcdserverpb::PutResponse* out) {
  out->mutable_header()->set_revision(in.revision);
  if (in.prev_kv) to_proto(*in.prev_kv, out->mutable_prev_kv());
}

void to_proto(const kv::DeleteRangeResponse& in, etcdserverpb::DeleteRangeResponse* out) {
  out->mutable_header()->set_revision(in.revision);
  out->set_deleted(in.deleted);
  for (const auto& kv : in.prev_kvs)
    to_proto(kv, out->add_prev_kvs());
}

void to_proto(const kv::TxnResponse& in, etcdserverpb::TxnResponse* out) {
  out->mutable_header()->set_revision(in.revision);
  out->set_succeeded(in.succeeded);
  for (const auto& r : in.responses)
    op_to_proto(r, out->add_responses());
}

void to_proto(const Member& in, etcdserverpb::Member* out) {
  out->set_id(in.id);
  out->set_name(in.name);
  for (const auto& u : in.peer_urls)
    out->add_peerurls(u);
  for (const auto& u : in.client_urls)
    out->add_clienturls(u);
  out->set_islearner(in.is_learner);
}

void fill_header(const Header& node, int64_t revision, etcdserverpb::ResponseHeader* out) {
  out->set_cluster_id(node.cluster_id);
  out->set_member_id(node.member_id);
  out->set_revision(revision > 0 ? revision : node.revision);
  out->set_raft_term(node.raft_term);
}

}  // namespace kvserver::services
