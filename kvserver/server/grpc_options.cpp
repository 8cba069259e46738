#include "kvserver/server/grpc_options.h"

#include <algorithm>
#include <limits>

namespace kvserver::server {

void apply_client_port_options(grpc::ServerBuilder& builder, const ClientPortOptions& options) {
  constexpr uint64_t kIntMax = static_cast<uint64_t>(std::numeric_limits<int>::max());
  builder.SetMaxReceiveMessageSize(
      static_cast<int>(std::min(options.max_request_bytes + kGrpcOverheadBytes, kIntMax)));
  builder.SetMaxSendMessageSize(std::numeric_limits<int>::max());
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                             options.min_ping_interval_ms);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
}

}  // namespace kvserver::server
