// kvserver entry point: flags -> validation -> signal watcher -> TLS credentials -> data dir
// (optionally restored from a snapshot file) -> Raft node -> peer port -> client port (the etcd v3
// services) -> READY=1 once the member has a leader and has applied what was committed at start.
//
// Stopping: SIGTERM/SIGINT (or this member's removal from the cluster) -> STOPPING=1, a leader
// hands leadership over first, then both gRPC servers shut down and the process exits 0.
// SIGHUP re-reads the TLS files (tls_reloader.h). A member started with `existing` that the
// cluster never admitted stops with the reason (join_check.h) and exit code 2.
// Exit codes: 0 = stopped as asked; 1 = failed while serving (a port could not be bound);
// 2 = the operator must fix a flag, file or data dir, or run `member add` first.
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <absl/synchronization/mutex.h>
#include <grpcpp/grpcpp.h>

#include "kvserver/server/flags.h"
#include "kvserver/server/grpc_options.h"
#include "kvserver/server/log.h"
#include "kvserver/server/node/bootstrap.h"
#include "kvserver/server/node/join_check.h"
#include "kvserver/server/node/node.h"
#include "kvserver/server/node/state_image.h"
#include "kvserver/server/sd_notify.h"
#include "kvserver/server/services/services.h"
#include "kvserver/server/signals.h"
#include "kvserver/server/tls.h"
#include "kvserver/server/tls_reloader.h"
#include "kvserver/storage/file_util.h"

#ifndef KVSERVER_VERSION
#error "KVSERVER_VERSION must be defined by the build"
#endif

namespace {

constexpr const char* kEtcdApiVersion = "3.4";
constexpr int kExitServeFailed = 1;
constexpr int kExitBadConfig = 2;

// Where the signal thread and the node's callbacks tell main to stop.
struct StopLatch {
  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  std::string why;

  void trigger(const std::string& reason) {
    {
      std::lock_guard lock(mu);
      if (stop) return;
      stop = true;
      why = reason;
    }
    cv.notify_all();
  }
  std::string wait() {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return stop; });
    return why;
  }
};

void status_line(const std::string& s) {
  if (auto st = kvserver::server::notify_status(s); !st) spdlog::warn("{}", st.error().message);
}

// `kvserver --restore FILE`: seed a fresh data dir from a saved snapshot (etcdctl's framing or our
// bare image), then serve from it. A data dir that already holds a member is left alone, so a unit
// that keeps --restore in its flags can restart.
int restore_if_asked(const kvserver::server::ServerConfig& config) {
  if (config.restore_file.empty()) return 0;
  auto meta = kvserver::node::read_meta(config.data_dir);
  if (!meta) {
    spdlog::error("{}", meta.error().message);
    return kExitBadConfig;
  }
  if (meta->has_value()) {
    spdlog::warn("--restore {}: data dir {} already holds a member; starting from it instead",
                 config.restore_file, config.data_dir);
    return 0;
  }
  auto bytes = storage::read_file(config.restore_file);
  if (!bytes) {
    spdlog::error("--restore {}: {}", config.restore_file, bytes.error().message);
    return kExitBadConfig;
  }
  std::string image = *bytes;
  if (auto unframed = kvserver::services::unframe_snapshot(*bytes); unframed.ok()) {
    image = std::move(unframed).value();
  }
  if (auto s = kvserver::node::restore_data_dir(config, image, config.restore_file); !s) {
    spdlog::error("{}", s.error().message);
    return kExitBadConfig;
  }
  spdlog::info("restored data dir {} from {}", config.data_dir, config.restore_file);
  return 0;
}

// For a member started with `existing`: asks the other members of --initial-cluster whether the
// cluster admitted it until a leader has contacted it (join_check.h); a restart is admitted at
// once (its applied membership lists it) and asks no one.
std::unique_ptr<kvserver::node::JoinWatcher> watch_join(
    const kvserver::server::ServerConfig& config, const kvserver::node::Node& node,
    kvserver::server::PeerDialCredentials* dial, StopLatch& latch, std::atomic<bool>& refused) {
  if (config.initial_cluster_state != "existing") return nullptr;
  kvserver::node::JoinWatcherOptions o;
  o.self.id = node.id();
  o.self.name = config.name;
  for (const auto& u : config.advertise_peer)
    o.self.peer_urls.push_back(u.text);
  o.self.token = config.initial_cluster_token;
  for (const auto& cm : config.cluster) {
    bool own = false;
    for (const auto& u : config.advertise_peer)
      own = own || u.text == cm.peer_url.text;
    if (!own) o.ask_urls.push_back(cm.peer_url.text);
  }
  o.dial = dial;
  o.admitted = [&node] {
    if (node.leader() != 0) return true;
    for (const auto& m : node.members())
      if (m.id == node.id()) return true;
    return false;
  };
  o.refused = [&latch, &refused](const std::string& reason) {
    spdlog::error("{}", reason);
    refused = true;
    latch.trigger("the cluster has not admitted this member");
  };
  return std::make_unique<kvserver::node::JoinWatcher>(std::move(o));
}

std::unique_ptr<grpc::Server> listen(grpc::ServerBuilder& builder, const char* what,
                                     const std::vector<kvserver::server::Url>& urls) {
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server) {
    std::string list;
    for (const auto& u : urls)
      list += (list.empty() ? "" : ", ") + u.text;
    spdlog::error("cannot listen on the {} URL(s) {}: is another process using the port?", what,
                  list);
  }
  return server;
}

int run(const std::vector<std::string>& args) {
  using kvserver::server::ParsedFlags;
  auto parsed = kvserver::server::parse_flags(args);
  if (!parsed) {
    std::fprintf(stderr, "kvserver: %s\n", parsed.error().message.c_str());
    return kExitBadConfig;
  }
  if (parsed->action == ParsedFlags::Action::kPrintHelp) {
    std::fputs(parsed->help_text.c_str(), stdout);
    return 0;
  }
  if (parsed->action == ParsedFlags::Action::kPrintVersion) {
    // etcdctl's layout, so scripts that parse `etcd --version`-like output keep working.
    std::printf("kvserver Version: %s\nAPI Version: %s\n", KVSERVER_VERSION, kEtcdApiVersion);
    return 0;
  }

  kvserver::server::ServerConfig& config = parsed->config;
  if (auto s = kvserver::server::validate_config(config); !s) {
    std::fprintf(stderr, "kvserver: %s\n", s.error().message.c_str());
    return kExitBadConfig;
  }
  kvserver::server::init_logging(config.log_level);

  // Before any other thread exists (signals.h): gRPC and the node start threads below.
  StopLatch latch;
  std::mutex reload_mu;
  kvserver::server::TlsReloader* reloader_ptr = nullptr;  // guarded by reload_mu
  kvserver::server::SignalWatcher signals(
      [&] {
        std::lock_guard lock(reload_mu);
        if (reloader_ptr != nullptr) {
          if (auto s = reloader_ptr->reload(); s) spdlog::info("TLS files reloaded (SIGHUP)");
        }
      },
      [&](int signo) { latch.trigger(signo == SIGTERM ? "SIGTERM" : "SIGINT"); });

  spdlog::info("member {} starting: data-dir {}, {} member(s) in --initial-cluster ({})",
               config.name, config.data_dir, config.cluster.size(), config.initial_cluster_state);
  if (config.unsafe_no_fsync) {
    // Before the data dir is opened: the switch is process-wide (file_util.h).
    storage::set_unsafe_no_fsync(true);
    spdlog::warn(
        "--unsafe-no-fsync: nothing is fsync'd; a crash or power loss can lose acknowledged "
        "writes and leave this member inconsistent with the others. For tests and measurements "
        "only: never on data you keep");
  }
  auto client_creds = kvserver::server::make_server_credentials(config.client_tls, "");
  if (!client_creds) {
    spdlog::error("{}", client_creds.error().message);
    return kExitBadConfig;
  }
  auto peer_creds = kvserver::server::make_server_credentials(config.peer_tls, "peer-");
  if (!peer_creds) {
    spdlog::error("{}", peer_creds.error().message);
    return kExitBadConfig;
  }
  auto dial = kvserver::server::PeerDialCredentials::create(config.peer_tls);
  if (!dial) {
    spdlog::error("{}", dial.error().message);
    return kExitBadConfig;
  }
  kvserver::server::TlsReloader reloader(config.client_tls, config.peer_tls, dial->get());
  {
    std::lock_guard lock(reload_mu);
    reloader_ptr = &reloader;
  }

  if (int rc = restore_if_asked(config); rc != 0) return rc;
  if (auto s = storage::ensure_dir(config.data_dir); !s) {
    spdlog::error("--data-dir {}: {}", config.data_dir, s.error().message);
    return kExitBadConfig;
  }
  kvserver::node::NodeOptions options;
  options.config = config;
  options.dial = dial->get();
  options.on_ready = [] {
    if (auto s = kvserver::server::notify_ready("serving"); !s) {
      spdlog::warn("{}", s.error().message);
    }
  };
  options.on_removed = [&latch] { latch.trigger("removed from the cluster"); };
  options.on_status = status_line;
  auto node = kvserver::node::Node::open(std::move(options));
  if (!node) {
    spdlog::error("{}", node.error().message);
    return kExitBadConfig;
  }
  spdlog::info("member {:x} of cluster {:x}", (*node)->id(), (*node)->header().cluster_id);

  grpc::ServerBuilder peer_builder;
  for (const auto& u : config.listen_peer)
    peer_builder.AddListeningPort(u.host_port(), *peer_creds);
  peer_builder.RegisterService((*node)->peer_service());
  peer_builder.SetMaxReceiveMessageSize(-1);  // snapshot chunks and big append batches
  // Peers ping every 2 s to notice silent failures (peer_transport.h); allow it.
  peer_builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 1000);
  peer_builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  auto peer_server = listen(peer_builder, "peer", config.listen_peer);
  if (!peer_server) return kExitServeFailed;
  (*node)->start();

  kvserver::services::ServicesOptions sopts;
  sopts.max_request_bytes = config.max_request_bytes;
  sopts.election_timeout_ms = config.election_timeout_ms;
  sopts.progress_notify_interval = config.watch_progress_notify;
  auto services = std::make_unique<kvserver::services::EtcdServices>(**node, sopts);
  grpc::ServerBuilder client_builder;
  kvserver::server::apply_client_port_options(client_builder, {config.max_request_bytes});
  for (const auto& u : config.listen_client) {
    client_builder.AddListeningPort(u.host_port(), *client_creds);
  }
  services->register_with(client_builder);
  auto client_server = listen(client_builder, "client", config.listen_client);
  if (!client_server) {
    (*node)->stop();
    peer_server->Shutdown();
    return kExitServeFailed;
  }
  spdlog::info("serving clients on {} URL(s), peers on {} URL(s)", config.listen_client.size(),
               config.listen_peer.size());
  status_line("waiting for a leader");
  std::atomic<bool> join_refused{false};
  auto join_watcher = watch_join(config, **node, dial->get(), latch, join_refused);

  std::string why = latch.wait();
  join_watcher.reset();
  spdlog::info("stopping: {}", why);
  if (auto s = kvserver::server::notify_stopping(); !s) spdlog::warn("{}", s.error().message);
  (*node)->stop();  // a leader transfers leadership first
  auto deadline = std::chrono::system_clock::now() + std::chrono::seconds(2);
  client_server->Shutdown(deadline);
  peer_server->Shutdown(deadline);
  services.reset();
  {
    std::lock_guard lock(reload_mu);
    reloader_ptr = nullptr;
  }
  spdlog::info("stopped");
  return join_refused ? kExitBadConfig : 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Debian builds abseil without NDEBUG, which leaves absl::Mutex's deadlock detector on: every
  // lock gRPC takes then updates a global lock-order graph. Profiled under load (bench/kv) that
  // was 4-8% of a member's CPU. gRPC's own tests are what it is for, not a production server.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  std::vector<std::string> args(argv + 1, argv + argc);
  return run(args);
}
