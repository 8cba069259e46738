// bench_null_kv: an etcd v3 KV endpoint over mTLS that stores nothing and answers every request
// with an empty success: no Raft, no disk, no store. It is a measuring instrument, not a server:
// bench/kv/run.sh points `etcdctl check perf --load=l` at three of them to find the ceiling that
// etcdctl itself reaches on this machine, the reference beside kvserver's and etcd's runs.
//
// Why it exists: on this 2-core machine check perf l's result is set more by etcdctl (it shares
// the cores, and its Go pacer loses its turn while its runtime sleeps in epoll in whole
// milliseconds) than by the servers. Two modes separate the two effects:
//  - at once (--batch-us 0): each request is answered on arrival; what is left is the cost of
//    etcdctl plus gRPC and TLS on the server side, the part every server pays;
//  - in batches (--batch-us N): requests are answered together every N microseconds, as a Raft
//    server answers a commit's worth of requests at once; the CPU stays mostly idle, so what
//    changes is only when the answers reach etcdctl.
//
// It answers what check perf sends: KV.Range (no keys), KV.Put, KV.DeleteRange (nothing
// deleted) and KV.Compact, each with a response header (cluster and member id 1, the revision
// counting Puts). Other methods answer UNIMPLEMENTED.
//
// Usage: bench_null_kv --listen HOST:PORT --cert CRT --key KEY --cacert CA [--batch-us N]
// Runs until killed. Exit 1 on usage errors, 2 if it cannot listen.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "certs/file_io.h"
#include "kvserver/api/etcdserverpb/rpc.grpc.pb.h"

namespace {

struct Options {
  std::string listen, cert, key, cacert;
  long batch_us = 0;
};

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr,
               "bench_null_kv: %s\nusage: bench_null_kv --listen HOST:PORT --cert CRT --key KEY "
               "--cacert CA [--batch-us N]\n",
               why.c_str());
  std::exit(1);
}

std::string read_file(const std::string& path) {
  auto text = certs::read_file(path);
  if (!text) usage(text.error().message);
  return std::move(*text);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) usage("missing value for " + a);
    const std::string v = argv[++i];
    if (a == "--listen") {
      o.listen = v;
    } else if (a == "--cert") {
      o.cert = v;
    } else if (a == "--key") {
      o.key = v;
    } else if (a == "--cacert") {
      o.cacert = v;
    } else if (a == "--batch-us") {
      char* end = nullptr;
      o.batch_us = std::strtol(v.c_str(), &end, 10);
      if (*end != '\0' || o.batch_us < 0) usage("bad value `" + v + "` for --batch-us");
    } else {
      usage("unknown option " + a);
    }
  }
  if (o.listen.empty() || o.cert.empty() || o.key.empty() || o.cacert.empty())
    usage("--listen, --cert, --key and --cacert are required");
  return o;
}

// Answers requests at once, or hands them to the batcher when --batch-us is set.
class NullKv final : public etcdserverpb::KV::CallbackService {
 public:
  explicit NullKv(long batch_us) : batch_us_(batch_us) {}

  // Finishes every request held since the last call (the batcher thread's tick).
  void finish_held() {
    std::vector<grpc::ServerUnaryReactor*> ready;
    {
      std::lock_guard lock(mu_);
      ready.swap(held_);
    }
    for (auto* r : ready)
      r->Finish(grpc::Status::OK);
  }

 private:
  grpc::ServerUnaryReactor* Range(grpc::CallbackServerContext* ctx,
                                  const etcdserverpb::RangeRequest*,
                                  etcdserverpb::RangeResponse* resp) override {
    fill(resp->mutable_header());
    return answer(ctx);
  }
  grpc::ServerUnaryReactor* Put(grpc::CallbackServerContext* ctx, const etcdserverpb::PutRequest*,
                                etcdserverpb::PutResponse* resp) override {
    revision_.fetch_add(1, std::memory_order_relaxed);
    fill(resp->mutable_header());
    return answer(ctx);
  }
  grpc::ServerUnaryReactor* DeleteRange(grpc::CallbackServerContext* ctx,
                                        const etcdserverpb::DeleteRangeRequest*,
                                        etcdserverpb::DeleteRangeResponse* resp) override {
    fill(resp->mutable_header());
    return answer(ctx);
  }
  grpc::ServerUnaryReactor* Compact(grpc::CallbackServerContext* ctx,
                                    const etcdserverpb::CompactionRequest*,
                                    etcdserverpb::CompactionResponse* resp) override {
    fill(resp->mutable_header());
    return answer(ctx);
  }

  void fill(etcdserverpb::ResponseHeader* h) const {
    h->set_cluster_id(1);
    h->set_member_id(1);
    h->set_raft_term(1);
    h->set_revision(revision_.load(std::memory_order_relaxed));
  }

  grpc::ServerUnaryReactor* answer(grpc::CallbackServerContext* ctx) {
    auto* reactor = ctx->DefaultReactor();
    if (batch_us_ == 0) {
      reactor->Finish(grpc::Status::OK);
    } else {
      std::lock_guard lock(mu_);
      held_.push_back(reactor);
    }
    return reactor;
  }

  const long batch_us_;
  std::atomic<int64_t> revision_{1};
  std::mutex mu_;
  std::vector<grpc::ServerUnaryReactor*> held_;  // guarded by mu_
};

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  grpc::SslServerCredentialsOptions ssl(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  ssl.pem_root_certs = read_file(o.cacert);
  ssl.pem_key_cert_pairs.push_back({read_file(o.key), read_file(o.cert)});
  NullKv service(o.batch_us);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(o.listen, grpc::SslServerCredentials(ssl));
  builder.RegisterService(&service);
  auto server = builder.BuildAndStart();
  if (!server) {
    std::fprintf(stderr, "bench_null_kv: cannot listen on %s\n", o.listen.c_str());
    return 2;
  }
  if (o.batch_us > 0) {
    // Ticks on an absolute schedule, so batches stay N us apart however long a tick takes.
    std::thread([&service, period = std::chrono::microseconds(o.batch_us)] {
      auto next = std::chrono::steady_clock::now();
      for (;;) {
        next += period;
        std::this_thread::sleep_until(next);
        service.finish_held();
      }
    }).detach();
  }
  server->Wait();
}
