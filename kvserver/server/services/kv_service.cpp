#include "kvserver/server/services/kv_service.h"

#include <algorithm>
#include <utility>

#include "kvserver/server/services/api_errors.h"
#include "kvserver/server/services/convert.h"

namespace kvserver::services {

namespace {

// Finishes a read call with a store read's answer (a range or a read-only txn).
template <typename Result, typename Response>
void finish_read(NodeApi& node, const Result& result, Response* resp,
                 grpc::ServerUnaryReactor* reactor) {
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

template <typename Answer>
void KvService::serve_read(bool serializable, grpc::ServerUnaryReactor* reactor, Answer answer) {
  if (serializable) {
    answer();
    return;
  }
  node_.read_barrier([this, reactor, answer = std::move(answer)](std::optional<ApiError> error) {
    if (error) {
      reactor->Finish(to_grpc_status(*error));
      return;
    }
    reads_.post(answer);
  });
}

grpc::ServerUnaryReactor* KvService::Range(grpc::CallbackServerContext* ctx,
                                           const etcdserverpb::RangeRequest* req,
                                           etcdserverpb::RangeResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  serve_read(req->serializable(), reactor, [this, req, resp, reactor] {
    finish_read(node_, node_.store().range(from_proto(*req)), resp, reactor);
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
    serve_read(serializable(*req), reactor, [this, txn = std::move(txn), resp, reactor] {
      finish_read(node_, node_.store().read_txn(txn), resp, reactor);
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
