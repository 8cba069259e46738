#include "kvserver/server/services/cluster_service.h"

#include <string>
#include <utility>
#include <vector>

#include "kvserver/server/services/api_errors.h"
#include "kvserver/server/services/convert.h"

namespace kvserver::services {

namespace {

// The callback for a membership change: header + the membership after it, then `extra` for the
// fields only some responses have.
template <typename Resp, typename Extra>
NodeApi::Done<MemberChangeResult> answer(NodeApi& node, grpc::ServerUnaryReactor* reactor,
                                         Resp* resp, Extra extra) {
  return [&node, reactor, resp, extra](ApiResult<MemberChangeResult> result) {
    if (result.index() != 0) {
      reactor->Finish(to_grpc_status(std::get<1>(result)));
      return;
    }
    const auto& r = std::get<0>(result);
    fill_header(node.header(), 0, resp->mutable_header());
    for (const auto& m : r.members)
      to_proto(m, resp->add_members());
    extra(r);
    reactor->Finish(grpc::Status::OK);
  };
}

std::vector<std::string> urls(const google::protobuf::RepeatedPtrField<std::string>& in) {
  return {in.begin(), in.end()};
}

}  // namespace

grpc::ServerUnaryReactor* ClusterService::MemberAdd(grpc::CallbackServerContext* ctx,
                                                    const etcdserverpb::MemberAddRequest* req,
                                                    etcdserverpb::MemberAddResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  node_.member_add(urls(req->peerurls()), req->islearner(),
                   answer(node_, reactor, resp, [resp](const MemberChangeResult& r) {
                     to_proto(r.member, resp->mutable_member());
                   }));
  return reactor;
}

grpc::ServerUnaryReactor* ClusterService::MemberRemove(grpc::CallbackServerContext* ctx,
                                                       const etcdserverpb::MemberRemoveRequest* req,
                                                       etcdserverpb::MemberRemoveResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  node_.member_remove(req->id(), answer(node_, reactor, resp, [](const MemberChangeResult&) {}));
  return reactor;
}

grpc::ServerUnaryReactor* ClusterService::MemberUpdate(grpc::CallbackServerContext* ctx,
                                                       const etcdserverpb::MemberUpdateRequest* req,
                                                       etcdserverpb::MemberUpdateResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  node_.member_update(req->id(), urls(req->peerurls()),
                      answer(node_, reactor, resp, [](const MemberChangeResult&) {}));
  return reactor;
}

grpc::ServerUnaryReactor* ClusterService::MemberList(grpc::CallbackServerContext* ctx,
                                                     const etcdserverpb::MemberListRequest*,
                                                     etcdserverpb::MemberListResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  fill_header(node_.header(), 0, resp->mutable_header());
  for (const auto& m : node_.members())
    to_proto(m, resp->add_members());
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* ClusterService::MemberPromote(
    grpc::CallbackServerContext* ctx, const etcdserverpb::MemberPromoteRequest* req,
    etcdserverpb::MemberPromoteResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  node_.member_promote(req->id(), answer(node_, reactor, resp, [](const MemberChangeResult&) {}));
  return reactor;
}

}  // namespace kvserver::services
