// bench_kv_load: a closed-loop load generator for any etcd v3 API server (kvserver or etcd 3.4),
// over mTLS, through the generated etcdserverpb stubs. It prints one machine-readable RESULT line
// that bench/kv/run.sh turns into the side-by-side table.
//
// Model (the same for every server, so the comparison is fair):
//  - C "clients", each with exactly one request in flight: send, wait for the answer, send the next
//    (closed loop, no think time). Latency is measured per request from send to answer.
//  - Clients share a few connections, like etcd's own `benchmark` tool (--conns shared by
//    --clients): one TLS connection per endpoint (--conns-per-endpoint, default 1); client i uses
//    connection i mod #connections, so with the leader listed first a single client talks to the
//    leader and many clients spread over all members as etcdctl's round-robin does.
//  - gRPC's async API: one completion queue per worker thread (--threads, default 2 = this
//    machine's cores), so 256 clients cost 256 outstanding calls, not 256 threads.
//  - Ops: put = KV.Put of a 256 B value (--value-size) to a random key of the key space;
//    get = linearizable KV.Range of one random key; fill = KV.Put of every key of the key space
//    exactly once (to load the store before measuring memory).
//  - Requests sent during the first --warmup seconds are not counted; the measured window is the
//    next --duration seconds; answers to requests sent in the window count, whenever they arrive.
//  - --rate R (paced, `etcdctl check perf`'s shape): instead of sending again at once, a client
//    waits for a token; a pacer thread hands out one token every 1/R s on time (an absolute-time
//    sleep, 1 us timer slack), and a token no client is free to take waits for the next free one
//    (one waiting token per client at most, as check perf's producer blocks on a full queue).
//    So at most C requests are in flight and at most R are started per second. Why: check perf's
//    own pacer (a Go rate.Limiter with a burst of 1) loses its turn whenever etcdctl's runtime is
//    asleep in epoll, which Go 1.19 does in whole milliseconds; on this 2-core machine that, not
//    the servers, set check perf l's result (bench/kv/run.sh). This measures what the servers
//    sustain at the same offered load with a pacer that keeps time.
//  - --key-size B pads each key name with '0's to B bytes (check perf writes 256 B keys).
//
// Usage: bench_kv_load --endpoints https://A:P,https://B:P --cacert CA --cert CRT --key KEY
//                      --op put|get|fill --clients N [--duration S] [--warmup S] [--keys N]
//                      [--value-size B] [--key-size B] [--rate R] [--conns-per-endpoint N]
//                      [--threads N] [--timeout-ms MS]
// Output: RESULT op=put clients=16 ops=N secs=S tput=OPS_PER_S p50_ms=X p99_ms=Y max_ms=Z errors=E
//         (paced: also offered=TOKENS_PER_S, the tokens handed out in the window per second, and
//         stddev_ms, the latencies' standard deviation, which check perf also judges)
// Exit 0 if every request succeeded, 1 on usage errors, 2 if any request failed (first error
// shown).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <sys/prctl.h>
#include <sys/resource.h>

#include <absl/synchronization/mutex.h>
#include <grpcpp/alarm.h>
#include <grpcpp/grpcpp.h>

#include "certs/file_io.h"
#include "kvserver/api/etcdserverpb/rpc.grpc.pb.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::vector<std::string> endpoints;
  std::string cacert, cert, key;
  std::string op = "put";
  int clients = 1;
  double duration_s = 5;
  double warmup_s = 1;
  long keys = 100000;
  int value_size = 256;
  int key_size = 0;  // 0: the name as it is
  double rate = 0;   // 0: closed loop
  int conns_per_endpoint = 1;
  int threads = 2;
  int timeout_ms = 10000;
};

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(
      stderr,
      "bench_kv_load: %s\nusage: bench_kv_load --endpoints URL[,URL...] --cacert F --cert F "
      "--key F --op put|get|fill --clients N [--duration S] [--warmup S] [--keys N] "
      "[--value-size B] [--key-size B] [--rate R] [--conns-per-endpoint N] [--threads N] "
      "[--timeout-ms MS]\n",
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
    try {
      if (a == "--endpoints") {
        std::stringstream ss(v);
        for (std::string e; std::getline(ss, e, ',');)
          if (!e.empty()) o.endpoints.push_back(e);
      } else if (a == "--cacert") {
        o.cacert = v;
      } else if (a == "--cert") {
        o.cert = v;
      } else if (a == "--key") {
        o.key = v;
      } else if (a == "--op") {
        o.op = v;
      } else if (a == "--clients") {
        o.clients = std::stoi(v);
      } else if (a == "--duration") {
        o.duration_s = std::stod(v);
      } else if (a == "--warmup") {
        o.warmup_s = std::stod(v);
      } else if (a == "--keys") {
        o.keys = std::stol(v);
      } else if (a == "--value-size") {
        o.value_size = std::stoi(v);
      } else if (a == "--key-size") {
        o.key_size = std::stoi(v);
      } else if (a == "--rate") {
        o.rate = std::stod(v);
      } else if (a == "--conns-per-endpoint") {
        o.conns_per_endpoint = std::stoi(v);
      } else if (a == "--threads") {
        o.threads = std::stoi(v);
      } else if (a == "--timeout-ms") {
        o.timeout_ms = std::stoi(v);
      } else {
        usage("unknown option " + a);
      }
    } catch (const std::exception&) {
      usage("bad value `" + v + "` for " + a);
    }
  }
  if (o.endpoints.empty() || o.cacert.empty() || o.cert.empty() || o.key.empty())
    usage("--endpoints, --cacert, --cert and --key are required");
  if (o.op != "put" && o.op != "get" && o.op != "fill") usage("--op must be put, get or fill");
  if (o.clients < 1 || o.threads < 1 || o.conns_per_endpoint < 1 || o.keys < 1 ||
      o.value_size < 0 || o.key_size < 0 || o.rate < 0 || o.duration_s <= 0 || o.warmup_s < 0)
    usage("counts and durations must be positive");
  return o;
}

std::string target_of(const std::string& url) {
  const std::string scheme = "https://";
  if (url.rfind(scheme, 0) != 0) usage("endpoint " + url + " is not https://HOST:PORT");
  std::string rest = url.substr(scheme.size());
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  return rest;
}

std::string key_name(long i, int key_size) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "bench/%08ld", i);
  std::string name = buf;
  if (name.size() < static_cast<size_t>(key_size)) name.resize(static_cast<size_t>(key_size), '0');
  return name;
}

// What a worker's completion queue hands back: a finished call or a pacer's token.
struct Tag {
  enum class Kind { kCall, kToken, kLastToken };
  explicit Tag(Kind k) : kind(k) {}
  virtual ~Tag() = default;
  const Kind kind;
};

// A token from the pacer (--rate), delivered through the worker's queue by an alarm due at once.
struct Token : Tag {
  explicit Token(Kind k) : Tag(k) {}
  grpc::Alarm alarm;
};

// One in-flight request of one client. The object is its own completion-queue tag.
struct Call : Tag {
  Call() : Tag(Kind::kCall) {}
  int client = 0;
  Clock::time_point sent;
  std::unique_ptr<grpc::ClientContext> ctx;
  etcdserverpb::PutResponse put_resp;
  etcdserverpb::RangeResponse range_resp;
  std::unique_ptr<grpc::ClientAsyncResponseReader<etcdserverpb::PutResponse>> put_rpc;
  std::unique_ptr<grpc::ClientAsyncResponseReader<etcdserverpb::RangeResponse>> range_rpc;
  grpc::Status status;
};

struct Shared {
  const Options* opt = nullptr;
  std::vector<std::unique_ptr<etcdserverpb::KV::Stub>> stubs;
  std::string value;
  Clock::time_point window_start, window_end;
  std::atomic<long> next_fill{0};
  std::atomic<long> errors{0};
  std::mutex first_error_mu;
  std::string first_error;
};

// A worker thread drives the clients c with c % threads == index through its own queue.
class Worker {
 public:
  Worker(Shared& shared, int index) : s_(shared), index_(index), rng_(1234567u + index) {}

  // The pacer's thread: one token for this worker (last: no more will come).
  void give_token(bool last) {
    auto* t = new Token(last ? Tag::Kind::kLastToken : Tag::Kind::kToken);
    t->alarm.Set(&cq_, gpr_now(GPR_CLOCK_MONOTONIC), static_cast<Tag*>(t));
  }

  void run() {
    const Options& o = *s_.opt;
    const bool paced = o.rate > 0;
    for (int c = index_; c < o.clients; c += o.threads) {
      ++clients_;
      if (paced) {
        idle_.push_back(c);
      } else if (send(c)) {
        ++in_flight_;
      }
    }
    bool tokens_end = !paced;
    void* raw_tag = nullptr;
    bool ok = false;
    while ((in_flight_ > 0 || !tokens_end) && cq_.Next(&raw_tag, &ok)) {
      std::unique_ptr<Tag> tag(static_cast<Tag*>(raw_tag));
      if (tag->kind != Tag::Kind::kCall) {
        if (tag->kind == Tag::Kind::kLastToken) {
          tokens_end = true;
          continue;
        }
        // At most one waiting token per client of this worker, as check perf's producer blocks
        // once its 500-slot queue is full: the offered load is not made up in a burst later.
        if (waiting_tokens_ < clients_) ++waiting_tokens_;
        const auto now = Clock::now();
        if (now >= s_.window_start && now < s_.window_end) ++tokens_in_window_;
        take_tokens();
        continue;
      }
      std::unique_ptr<Call> call(static_cast<Call*>(tag.release()));
      const auto done = Clock::now();
      --in_flight_;
      const bool counted = call->sent >= s_.window_start && call->sent < s_.window_end;
      if (!ok || !call->status.ok()) {
        record_error(call->status);
      } else if (counted) {
        latencies_us_.push_back(static_cast<uint32_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(done - call->sent).count()));
      }
      if (paced) {
        idle_.push_back(call->client);
        take_tokens();
      } else if (send(call->client)) {
        ++in_flight_;
      }
    }
    cq_.Shutdown();
    while (cq_.Next(&raw_tag, &ok))  // tokens the pacer gave after the window: none is sent
      delete static_cast<Tag*>(raw_tag);
  }

  std::vector<uint32_t> latencies_us_;
  long tokens_in_window_ = 0;

 private:
  // Paced: idle clients take the tokens waiting, one request each.
  void take_tokens() {
    while (waiting_tokens_ > 0 && !idle_.empty()) {
      const int c = idle_.back();
      idle_.pop_back();
      --waiting_tokens_;
      if (send(c)) {
        ++in_flight_;
      } else {
        idle_.push_back(c);
        waiting_tokens_ = 0;  // the window is over: what is left is not sent
      }
    }
  }

  // Starts the next request of client c; false once the client is done.
  bool send(int c) {
    const Options& o = *s_.opt;
    const auto now = Clock::now();
    long key_index = 0;
    if (o.op == "fill") {
      key_index = s_.next_fill.fetch_add(1);
      if (key_index >= o.keys) return false;
    } else {
      if (now >= s_.window_end) return false;
      key_index = std::uniform_int_distribution<long>(0, o.keys - 1)(rng_);
    }
    auto call = std::make_unique<Call>();
    call->client = c;
    call->ctx = std::make_unique<grpc::ClientContext>();
    call->ctx->set_deadline(std::chrono::system_clock::now() +
                            std::chrono::milliseconds(o.timeout_ms));
    call->ctx->AddMetadata("client-api-version", "3.4");  // as etcdctl 3.4 sends
    auto& stub = *s_.stubs[static_cast<size_t>(c) % s_.stubs.size()];
    call->sent = now;
    Call* raw = call.release();
    if (o.op == "get") {
      etcdserverpb::RangeRequest req;
      req.set_key(key_name(key_index, o.key_size));
      req.set_serializable(false);  // linearizable: a ReadIndex round (or etcd's equivalent)
      raw->range_rpc = stub.AsyncRange(raw->ctx.get(), req, &cq_);
      raw->range_rpc->Finish(&raw->range_resp, &raw->status, raw);
    } else {
      etcdserverpb::PutRequest req;
      req.set_key(key_name(key_index, o.key_size));
      req.set_value(s_.value);
      raw->put_rpc = stub.AsyncPut(raw->ctx.get(), req, &cq_);
      raw->put_rpc->Finish(&raw->put_resp, &raw->status, raw);
    }
    return true;
  }

  void record_error(const grpc::Status& st) {
    if (s_.errors.fetch_add(1) == 0) {
      std::lock_guard<std::mutex> lock(s_.first_error_mu);
      s_.first_error = "gRPC code " + std::to_string(static_cast<int>(st.error_code())) + ": " +
                       st.error_message();
    }
  }

  Shared& s_;
  int index_;
  std::mt19937_64 rng_;
  grpc::CompletionQueue cq_;
  long in_flight_ = 0;
  std::vector<int> idle_;    // paced: clients with no request in flight
  long waiting_tokens_ = 0;  // paced: tokens no client was free to take yet
  long clients_ = 0;         // how many clients this worker drives
};

// --rate: one token every 1/rate s from the start to the end of the window, to the workers in
// turn, each at its own absolute time (a late token does not push the later ones back).
void pace(const Options& o, const Shared& s, std::vector<std::unique_ptr<Worker>>& workers,
          Clock::time_point start) {
  prctl(PR_SET_TIMERSLACK, 1UL);  // the default 50 us slack is 6% of 8000/s's interval
  const std::chrono::duration<double> interval(1.0 / o.rate);
  for (long i = 0;; ++i) {
    const auto at = start + std::chrono::duration_cast<Clock::duration>(interval * i);
    if (at >= s.window_end) break;
    std::this_thread::sleep_until(at);
    workers[static_cast<size_t>(i) % workers.size()]->give_token(false);
  }
  for (auto& w : workers)
    w->give_token(true);
}

double stddev_ms(const std::vector<uint32_t>& us) {
  if (us.empty()) return 0;
  double sum = 0, sum_sq = 0;
  for (uint32_t v : us) {
    sum += v;
    sum_sq += static_cast<double>(v) * v;
  }
  const double n = static_cast<double>(us.size());
  const double mean = sum / n;
  return std::sqrt(std::max(0.0, sum_sq / n - mean * mean)) / 1000.0;
}

double percentile_ms(const std::vector<uint32_t>& sorted_us, double p) {
  if (sorted_us.empty()) return 0;
  size_t i = static_cast<size_t>(p * static_cast<double>(sorted_us.size() - 1) + 0.5);
  return sorted_us[std::min(i, sorted_us.size() - 1)] / 1000.0;
}

}  // namespace

int main(int argc, char** argv) {
  // As kvserver does (server/main.cpp): Debian's abseil keeps absl::Mutex's deadlock detector on,
  // which costs the load generator CPU it shares with the servers under test.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  Options o = parse(argc, argv);
  // Hundreds of connections (--conns-per-endpoint) need more descriptors than a shell's default
  // soft limit of 1024; raise it to the hard limit, as Go (and so etcdctl) does at start.
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }
  o.threads = std::min(o.threads, o.clients);  // workers index clients by the threads really used
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = read_file(o.cacert);
  ssl.pem_cert_chain = read_file(o.cert);
  ssl.pem_private_key = read_file(o.key);
  auto creds = grpc::SslCredentials(ssl);

  Shared s;
  s.opt = &o;
  s.value = std::string(static_cast<size_t>(o.value_size), 'v');
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int k = 0; k < o.conns_per_endpoint; ++k) {
    for (const auto& ep : o.endpoints) {
      grpc::ChannelArguments args;
      // Without this gRPC would reuse one subchannel (one TCP connection) for equal targets.
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      // etcd's client allows 2 MiB messages; our values are far smaller, kept for parity.
      args.SetMaxSendMessageSize(2 * 1024 * 1024);
      auto ch = grpc::CreateCustomChannel(target_of(ep), creds, args);
      if (!ch->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10))) {
        std::fprintf(stderr, "bench_kv_load: cannot connect to %s within 10 s\n", ep.c_str());
        return 2;
      }
      s.stubs.push_back(etcdserverpb::KV::NewStub(ch));
      channels.push_back(std::move(ch));
    }
  }

  const auto start = Clock::now();
  s.window_start = start + std::chrono::duration_cast<Clock::duration>(
                               std::chrono::duration<double>(o.warmup_s));
  s.window_end = s.window_start + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(o.duration_s));
  if (o.op == "fill") {  // fill counts everything, however long it takes
    s.window_start = start;
    s.window_end = Clock::time_point::max();
  }

  std::vector<std::unique_ptr<Worker>> workers;
  for (int t = 0; t < o.threads; ++t)
    workers.push_back(std::make_unique<Worker>(s, t));
  std::vector<std::thread> threads;
  for (auto& w : workers)
    threads.emplace_back([&w] { w->run(); });
  if (o.rate > 0) pace(o, s, workers, start);
  for (auto& t : threads)
    t.join();
  const auto end = Clock::now();

  std::vector<uint32_t> all;
  long tokens = 0;
  for (auto& w : workers) {
    all.insert(all.end(), w->latencies_us_.begin(), w->latencies_us_.end());
    tokens += w->tokens_in_window_;
  }
  std::sort(all.begin(), all.end());
  const double secs =
      o.op == "fill" ? std::chrono::duration<double>(end - start).count() : o.duration_s;
  std::printf(
      "RESULT op=%s clients=%d ops=%zu secs=%.2f tput=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f "
      "errors=%ld",
      o.op.c_str(), o.clients, all.size(), secs, static_cast<double>(all.size()) / secs,
      percentile_ms(all, 0.50), percentile_ms(all, 0.99), all.empty() ? 0.0 : all.back() / 1000.0,
      s.errors.load());
  if (o.rate > 0)
    std::printf(" offered=%.0f stddev_ms=%.2f", static_cast<double>(tokens) / secs, stddev_ms(all));
  std::printf("\n");
  if (s.errors.load() > 0) {
    std::fprintf(stderr, "bench_kv_load: %ld request(s) failed, first: %s\n", s.errors.load(),
                 s.first_error.c_str());
    return 2;
  }
  return 0;
}
