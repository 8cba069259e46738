#include "kvserver/server/services/auth_service.h"

#include "kvserver/server/services/api_errors.h"

namespace kvserver::services {

grpc::ServerUnaryReactor* AuthService::Authenticate(grpc::CallbackServerContext* ctx,
                                                    const etcdserverpb::AuthenticateRequest*,
                                                    etcdserverpb::AuthenticateResponse*) {
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(to_grpc_status(auth_not_enabled()));
  return reactor;
}

}  // namespace kvserver::services
