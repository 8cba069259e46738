// EtcdClient: provision's mTLS gRPC client for one member's client URL (etcd v3 API, which both
// etcd and kvserver serve). It asks exactly what `etcdctl endpoint health/status` and `member list`
// ask, so provision's verdict and etcdctl's agree:
//   health()      KV.Range of key "health", linearizable (the read goes through the leader's
//                 quorum check, so a member cut off from quorum is reported unhealthy);
//   status()      Maintenance.Status (member id, version, db size, leader, raft term and index);
//   member_list() Cluster.MemberList.
//
// Every call carries its own deadline and waits for the connection within it (wait_for_ready: see
// set_deadline in the .cpp for the gRPC 1.51 stall that fail-fast calls caused); a call that got no
// connection reports the channel's last connect error. The verify loop polls on its own schedule.
// The channel's reconnect backoff is capped at 500 ms,
// because gRPC's default (1 s growing to 120 s) would make a member that came up a moment after
// the first attempt look down for a minute. Expected failures (refused, TLS, timeout) are Errors
// naming the endpoint and gRPC's status text.
//
// Thread-safety: calls may be made from several threads at once (gRPC stubs are thread-safe).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "certs/result.h"

namespace grpc {
class Status;
}

namespace provision::cluster {

// PEM contents (not paths) of the CA bundle and the client certificate and key.
struct TlsMaterial {
  std::string ca_pem;
  std::string cert_pem;
  std::string key_pem;
};

// Reads ca.crt and a client's .crt/.key from the workstation.
certs::Result<TlsMaterial> load_tls_material(const std::string& ca_path,
                                             const std::string& cert_path,
                                             const std::string& key_path);

struct MemberStatus {
  uint64_t member_id = 0;
  uint64_t cluster_id = 0;
  std::string version;
  int64_t db_size = 0;
  uint64_t leader = 0;  // 0: no leader known
  uint64_t raft_term = 0;
  uint64_t raft_index = 0;
  bool is_learner = false;
  std::vector<std::string> errors;
};

struct MemberInfo {
  uint64_t id = 0;
  std::string name;  // empty until the member has started
  std::vector<std::string> peer_urls;
  std::vector<std::string> client_urls;
  bool is_learner = false;
};

class EtcdClient {
 public:
  // `endpoint` is a client URL as the unit advertises it: "https://10.0.0.1:2379",
  // "https://[fd00::1]:2379".
  static certs::Result<std::unique_ptr<EtcdClient>> open(const std::string& endpoint,
                                                         const TlsMaterial& tls);
  ~EtcdClient();
  EtcdClient(const EtcdClient&) = delete;
  EtcdClient& operator=(const EtcdClient&) = delete;

  const std::string& endpoint() const { return endpoint_; }

  certs::Status health(std::chrono::milliseconds timeout);
  certs::Result<MemberStatus> status(std::chrono::milliseconds timeout);
  certs::Result<std::vector<MemberInfo>> member_list(std::chrono::milliseconds timeout);

 private:
  struct Stubs;
  EtcdClient(std::string endpoint, std::unique_ptr<Stubs> stubs);
  // "ENDPOINT: WHAT failed: why (gRPC code N)"; a deadline with no connection says why not.
  certs::Error rpc_error(const char* what, const grpc::Status& s) const;
  std::string endpoint_;
  std::unique_ptr<Stubs> stubs_;
};

// "10.0.0.1:2379" / "[fd00::1]:2379" from "https://10.0.0.1:2379"; an Error for anything that is
// not an https URL with a port.
certs::Result<std::string> grpc_target(const std::string& endpoint);

}  // namespace provision::cluster
