// watch_progress_probe: opens one watch with progress_notify over mTLS and prints, one line each,
// what the server sends for SECONDS seconds - the piece of etcd's Watch API that etcdctl 3.4
// cannot ask for (its `watch --progress-notify` came in 3.5). kvserver_etcdctl_test.sh runs it
// against kvserver and, with the same expectations, against real etcd 3.4.
//
// Usage: watch_progress_probe ENDPOINT CACERT CERT KEY WATCH_KEY SECONDS
//   ENDPOINT  https://HOST:PORT
// Output lines: "created ID REV", "event ID MOD_REVISION", "progress ID REV", "canceled ID";
// exit 0 when the stream stayed up for SECONDS, 1 with a message on stderr otherwise.
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "certs/file_io.h"
#include "kvserver/api/etcdserverpb/rpc.grpc.pb.h"

namespace {

std::string must_read(const char* path) {
  auto text = certs::read_file(path);
  if (!text) {
    std::fprintf(stderr, "watch_progress_probe: %s\n", text.error().message.c_str());
    std::exit(1);
  }
  return *text;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(stderr,
                 "usage: watch_progress_probe ENDPOINT CACERT CERT KEY WATCH_KEY SECONDS\n");
    return 1;
  }
  std::string target = argv[1];
  if (target.rfind("https://", 0) == 0) target = target.substr(8);
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = must_read(argv[2]);
  ssl.pem_cert_chain = must_read(argv[3]);
  ssl.pem_private_key = must_read(argv[4]);
  auto stub = etcdserverpb::Watch::NewStub(grpc::CreateChannel(target, grpc::SslCredentials(ssl)));
  const auto until = std::chrono::system_clock::now() + std::chrono::seconds(std::stoi(argv[6]));

  grpc::ClientContext ctx;
  ctx.set_deadline(until);
  auto stream = stub->Watch(&ctx);
  etcdserverpb::WatchRequest req;
  req.mutable_create_request()->set_key(argv[5]);
  req.mutable_create_request()->set_progress_notify(true);
  if (!stream->Write(req)) {
    std::fprintf(stderr, "watch_progress_probe: cannot open a watch on %s\n", argv[1]);
    return 1;
  }
  etcdserverpb::WatchResponse resp;
  while (stream->Read(&resp)) {
    const long long id = static_cast<long long>(resp.watch_id());
    if (resp.created()) {
      std::printf("created %lld %lld\n", id, static_cast<long long>(resp.header().revision()));
    } else if (resp.canceled()) {
      std::printf("canceled %lld\n", id);
    } else if (resp.events_size() == 0) {
      std::printf("progress %lld %lld\n", id, static_cast<long long>(resp.header().revision()));
    } else {
      for (const auto& e : resp.events())
        std::printf("event %lld %lld\n", id, static_cast<long long>(e.kv().mod_revision()));
    }
    std::fflush(stdout);
  }
  grpc::Status st = stream->Finish();
  if (st.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) {
    std::fprintf(stderr, "watch_progress_probe: stream ended before %s s: %s\n", argv[6],
                 st.error_message().c_str());
    return 1;
  }
  return 0;
}
