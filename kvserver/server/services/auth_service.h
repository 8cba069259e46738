// AuthService: only Auth.Authenticate, answering FailedPrecondition "etcdserver: authentication is
// not enabled" - what etcd says with auth off, and what lets `etcdctl --user` carry on
// (Unimplemented would fail the command). kvserver has no users or roles (mTLS client certificates
// are its authentication), so the other Auth RPCs are absent and answer Unimplemented.
//
// Thread-safety: stateless.
#pragma once

#include "kvserver/api/etcdserverpb/rpc.grpc.pb.h"

namespace kvserver::services {

class AuthService final : public etcdserverpb::Auth::CallbackService {
 public:
  grpc::ServerUnaryReactor* Authenticate(grpc::CallbackServerContext* ctx,
                                         const etcdserverpb::AuthenticateRequest* req,
                                         etcdserverpb::AuthenticateResponse* resp) override;
};

}  // namespace kvserver::services
