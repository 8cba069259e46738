#include "provision/cluster/etcd_client.h"

#include <grpcpp/grpcpp.h>

#include "certs/file_io.h"
#include "kvserver/api/etcdserverpb/rpc.grpc.pb.h"

namespace provision::cluster {

using certs::Error;
using certs::Result;

struct EtcdClient::Stubs {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<etcdserverpb::KV::Stub> kv;
  std::unique_ptr<etcdserverpb::Maintenance::Stub> maintenance;
  std::unique_ptr<etcdserverpb::Cluster::Stub> cluster;
};

namespace {

void set_deadline(grpc::ClientContext& ctx, std::chrono::milliseconds timeout) {
  ctx.set_deadline(std::chrono::system_clock::now() + timeout);
  // Wait for the connection (within the deadline) instead of failing fast. In gRPC 1.51 a
  // fail-fast call on a channel in TRANSIENT_FAILURE (the member refused the first attempt: it was
  // not listening yet) returns at once without polling, and then nothing but gRPC's 5 s backup
  // poller drives the reconnect's TCP connect and TLS handshake: each step waited up to 5 s, the
  // 20 s connect timeout expired, and verify saw a healthy member as unreachable for a minute. A
  // waiting call polls the attempt from this thread, so the handshake completes at once.
  ctx.set_wait_for_ready(true);
  // etcdctl 3.4 sends this on every call; servers may use it to pick behaviour.
  ctx.AddMetadata("client-api-version", "3.4");
}

// Why a waiting call got no connection: a fail-fast call on a channel in TRANSIENT_FAILURE returns
// at once with the last connection error ("Connection refused", the TLS alert, ...).
std::string last_connect_error(etcdserverpb::Maintenance::Stub& stub) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(100));
  etcdserverpb::StatusRequest req;
  etcdserverpb::StatusResponse resp;
  grpc::Status s = stub.Status(&ctx, req, &resp);
  if (s.error_code() == grpc::StatusCode::UNAVAILABLE) return s.error_message();
  return "not connected before the deadline (TCP connect or TLS handshake unfinished)";
}

}  // namespace

Error EtcdClient::rpc_error(const char* what, const grpc::Status& s) const {
  std::string text = s.error_message();
  if (s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    text = stubs_->channel->GetState(false) == GRPC_CHANNEL_READY
               ? "no answer before the deadline"
               : last_connect_error(*stubs_->maintenance);
  }
  return Error(endpoint_ + ": " + what + " failed: " + text + " (gRPC code " +
               std::to_string(static_cast<int>(s.error_code())) + ")");
}

Result<TlsMaterial> load_tls_material(const std::string& ca_path, const std::string& cert_path,
                                      const std::string& key_path) {
  TlsMaterial m;
  auto ca = certs::read_file(ca_path);
  if (!ca) return ca.error();
  auto cert = certs::read_file(cert_path);
  if (!cert) return cert.error();
  auto key = certs::read_file(key_path);
  if (!key) return key.error();
  m.ca_pem = std::move(*ca);
  m.cert_pem = std::move(*cert);
  m.key_pem = std::move(*key);
  return m;
}

Result<std::string> grpc_target(const std::string& endpoint) {
  const std::string scheme = "https://";
  if (endpoint.rfind(scheme, 0) != 0) {
    return Error("endpoint `" + endpoint + "` is not an https:// URL");
  }
  std::string rest = endpoint.substr(scheme.size());
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  const size_t colon = rest.rfind(':');
  const size_t bracket = rest.rfind(']');
  if (colon == std::string::npos || (bracket != std::string::npos && colon < bracket) ||
      colon + 1 == rest.size() || rest.find('/') != std::string::npos) {
    return Error("endpoint `" + endpoint + "` has no port (want https://HOST:PORT)");
  }
  return rest;
}

EtcdClient::EtcdClient(std::string endpoint, std::unique_ptr<Stubs> stubs)
    : endpoint_(std::move(endpoint)), stubs_(std::move(stubs)) {}

EtcdClient::~EtcdClient() = default;

Result<std::unique_ptr<EtcdClient>> EtcdClient::open(const std::string& endpoint,
                                                     const TlsMaterial& tls) {
  auto target = grpc_target(endpoint);
  if (!target) return target.error();
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = tls.ca_pem;
  ssl.pem_cert_chain = tls.cert_pem;
  ssl.pem_private_key = tls.key_pem;
  grpc::ChannelArguments args;
  // See the header: a member that starts a moment late must be seen within half a second.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  // Not GRPC_ARG_MIN_RECONNECT_BACKOFF_MS: gRPC also uses it as the connect (TCP + TLS handshake)
  // timeout, and 100 ms cuts handshakes short on a loaded workstation.
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
  // One channel per endpoint, never shared with another EtcdClient: a subchannel stuck in
  // backoff for one client must not delay another.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto stubs = std::make_unique<Stubs>();
  stubs->channel = grpc::CreateCustomChannel(*target, grpc::SslCredentials(ssl), args);
  stubs->kv = etcdserverpb::KV::NewStub(stubs->channel);
  stubs->maintenance = etcdserverpb::Maintenance::NewStub(stubs->channel);
  stubs->cluster = etcdserverpb::Cluster::NewStub(stubs->channel);
  return std::unique_ptr<EtcdClient>(new EtcdClient(endpoint, std::move(stubs)));
}

certs::Status EtcdClient::health(std::chrono::milliseconds timeout) {
  grpc::ClientContext ctx;
  set_deadline(ctx, timeout);
  etcdserverpb::RangeRequest req;
  req.set_key("health");
  req.set_serializable(false);  // linearizable: needs a leader and a quorum
  etcdserverpb::RangeResponse resp;
  grpc::Status s = stubs_->kv->Range(&ctx, req, &resp);
  // etcdctl counts PermissionDenied as healthy: the member answered through raft, auth refused.
  if (!s.ok() && s.error_code() != grpc::StatusCode::PERMISSION_DENIED) {
    return rpc_error("health check (linearizable read of key \"health\")", s);
  }
  return certs::ok_status();
}

Result<MemberStatus> EtcdClient::status(std::chrono::milliseconds timeout) {
  grpc::ClientContext ctx;
  set_deadline(ctx, timeout);
  etcdserverpb::StatusRequest req;
  etcdserverpb::StatusResponse resp;
  grpc::Status s = stubs_->maintenance->Status(&ctx, req, &resp);
  if (!s.ok()) return rpc_error("Maintenance.Status", s);
  MemberStatus out;
  out.member_id = resp.header().member_id();
  out.cluster_id = resp.header().cluster_id();
  out.version = resp.version();
  out.db_size = resp.dbsize();
  out.leader = resp.leader();
  out.raft_term = resp.raftterm();
  out.raft_index = resp.raftindex();
  out.is_learner = resp.islearner();
  for (const auto& e : resp.errors())
    out.errors.push_back(e);
  return out;
}

Result<std::vector<MemberInfo>> EtcdClient::member_list(std::chrono::milliseconds timeout) {
  grpc::ClientContext ctx;
  set_deadline(ctx, timeout);
  etcdserverpb::MemberListRequest req;
  etcdserverpb::MemberListResponse resp;
  grpc::Status s = stubs_->cluster->MemberList(&ctx, req, &resp);
  if (!s.ok()) return rpc_error("Cluster.MemberList", s);
  std::vector<MemberInfo> out;
  for (const auto& m : resp.members()) {
    MemberInfo info;
    info.id = m.id();
    info.name = m.name();
    info.peer_urls.assign(m.peerurls().begin(), m.peerurls().end());
    info.client_urls.assign(m.clienturls().begin(), m.clienturls().end());
    info.is_learner = m.islearner();
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace provision::cluster
