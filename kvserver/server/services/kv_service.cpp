#include "kvserver/server/services/kv_service.h"

#include <algorithm>
#include <utility>

#include "kvserver/server/services/api_errors.h"
#include "kvserver/server/services/convert.h"

namespace kvserver::services {

namespace {

// Reads the range now (the barrier, if any, has passed) and finishes the call.
void answer_range(NodeApi& node, const etcdserverpb::RangeRequest* req,
                  etcdserverpb::RangeResponse* resp, grpc::ServerUnaryReactor* reactor) {
  auto result = node.store().range(from_proto(*req));
  if (!result.ok()) {
    reactor->Finish(to_grpc_status(result.error()));
    return;
  }
  to_proto(result.value(), resp);
  fill_header(node.header(), result->revision, resp->mutable_header());
  reactor->Finish(grpc::Status::OK);
}

// Answers a read-only txn (kv::is_read_only) from the store now and finishes the call.
void answer_read_txn(NodeApi& node, const kv::TxnRequest& txn, etcdserverpb::TxnResponse* resp,
                     grpc::ServerUnaryReactor* reactor) {
  auto result = node.store().read_txn(txn);
  if (!result.ok()) {
    reactor->Finish(to_grpc_status(result.error()));
    return;
  }
  to_proto(result.value(), resp);
  fill_header(node.header(), result->revision, resp->mutable_header());
  reactor->Finish(grpc::Status::OK);
}

// etcd's isTxnSerializable: every op of both branches is a serializable range.
bool serializable(const etcdserverpb::TxnRequest& req) {
  auto serializable_range = [](const etcdserverpb::RequestOp& op) {
    return op.has_request_range() && op.request_range().serializable();
  };
  return std::all_of(req.success().begin(), req.success().end(), serializable_range) &&
         std::all_of(req.failure().begin(), req.failure().end(), serializable_range);
}

}  // namespace

template <typename Fill>
grpc::ServerUnaryReactor* KvService::propose(grpc::CallbackServerContext* ctx, WriteRequest request,
                                             Fill fill) {
  auto* reactor = ctx->DefaultReactor();
  node_.write(std::move(request),
              [this, reactor, fill = std::move(fill)](ApiResult<WriteResponse> result) {
                if (result.index() != 0) {
                  reactor->Finish(to_grpc_status(std::get<1>(result)));
                  return;
                }
                fill(std::get<0>(result));
                reactor->Finish(grpc::Status::OK);
              });
  return reactor;
}

grpc::ServerUnaryReactor* KvService::Range(grpc::CallbackServerContext* ctx,
                                           const etcdserverpb::RangeRequest* req,
                                           etcdserverpb::RangeResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  if (req->serializable()) {
    answer_range(node_, req, resp, reactor);
    return reactor;
  }
  node_.read_barrier([this, req, resp, reactor](std::optional<ApiError> error) {
    if (error) {
      reactor->Finish(to_grpc_status(*error));
      return;
    }
    reads_.post([this, req, resp, reactor] { answer_range(node_, req, resp, reactor); });
  });
  return reactor;
}

grpc::ServerUnaryReactor* KvService::Put(grpc::CallbackServerContext* ctx,
                                         const etcdserverpb::PutRequest* req,
                                         etcdserverpb::PutResponse* resp) {
  if (too_large(*req)) {
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(to_grpc_status(request_too_large()));
    return reactor;
  }
  return propose(ctx, from_proto(*req), [this, resp](const WriteResponse& w) {
    const auto& r = std::get<kv::PutResponse>(w);
    to_proto(r, resp);
    fill_header(node_.header(), r.revision, resp->mutable_header());
  });
}

grpc::ServerUnaryReactor* KvService::DeleteRange(grpc::CallbackServerContext* ctx,
                                                 const etcdserverpb::DeleteRangeRequest* req,
                                                 etcdserverpb::DeleteRangeResponse* resp) {
  if (too_large(*req)) {
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(to_grpc_status(request_too_large()));
    return reactor;
  }
  return propose(ctx, from_proto(*req), [this, resp](const WriteResponse& w) {
    const auto& r = std::get<kv::DeleteRangeResponse>(w);
    to_proto(r, resp);
    fill_header(node_.header(), r.revision, resp->mutable_header());
  });
}

grpc::ServerUnaryReactor* KvService::Txn(grpc::CallbackServerContext* ctx,
                                         const etcdserverpb::TxnRequest* req,
                                         etcdserverpb::TxnResponse* resp) {
  if (too_large(*req)) {
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(to_grpc_status(request_too_large()));
    return reactor;
  }
  kv::TxnRequest txn = from_proto(*req);
  if (kv::is_read_only(txn)) {
    // As etcd does: a txn that only reads is a read (a ReadIndex round unless every range is
    // serializable), not a log entry that costs an fsync on every member.
    auto* reactor = ctx->DefaultReactor();
    if (serializable(*req)) {
      answer_read_txn(node_, txn, resp, reactor);
      return reactor;
    }
    node_.read_barrier(
        [this, txn = std::move(txn), resp, reactor](std::optional<ApiError> error) mutable {
          if (error) {
            reactor->Finish(to_grpc_status(*error));
            return;
          }
          reads_.post([this, txn = std::move(txn), resp, reactor] {
            answer_read_txn(node_, txn, resp, reactor);
          });
        });
    return reactor;
  }
  return propose(ctx, std::move(txn), [this, resp](const WriteResponse& w) {
    const auto& r = std::get<kv::TxnResponse>(w);
    to_proto(r, resp);
    fill_header(node_.header(), r.revision, resp->mutable_header());
  });
}

grpc::ServerUnaryReactor* KvService::Compact(grpc::CallbackServerContext* ctx,
                                             const etcdserverpb::CompactionRequest* req,
                                             etcdserverpb::CompactionResponse* resp) {
  CompactRequest request{req->revision(), req->physical()};
  return propose(ctx, request, [this, resp](const WriteResponse& w) {
    const auto& r = std::get<kv::CompactResponse>(w);
    fill_header(node_.header(), r.revision, resp->mutable_header());
  });
}

}  // namespace kvserver::services
