// KvService: etcd's KV service (Range, Put, DeleteRange, Txn, Compact) over NodeApi.
//
// Range: serializable reads the local store at once; linearizable (etcdctl's default) first waits
// for NodeApi::read_barrier() (ReadIndex), then reads on the ReadPool (not the node's thread).
// A Txn that only reads (kv::is_read_only) is served like a Range, as etcd does.
// Writes go through NodeApi::write() (the Raft log) and are answered from its callback; none of
// them holds a thread while waiting. Requests larger than max_request_bytes are refused before they
// reach the log.
//
// Thread-safety: any gRPC thread; NodeApi callbacks may finish calls from the node's threads.
#pragma once

#include <cstdint>

#include "kvserver/api/etcdserverpb/rpc.grpc.pb.h"
#include "kvserver/server/node_api.h"
#include "kvserver/server/services/read_pool.h"

namespace kvserver::services {

class KvService final : public etcdserverpb::KV::CallbackService {
 public:
  KvService(NodeApi& node, ReadPool& reads, uint64_t max_request_bytes)
      : node_(node), reads_(reads), max_request_bytes_(max_request_bytes) {}

  grpc::ServerUnaryReactor* Range(grpc::CallbackServerContext* ctx,
                                  const etcdserverpb::RangeRequest* req,
                                  etcdserverpb::RangeResponse* resp) override;
  grpc::ServerUnaryReactor* Put(grpc::CallbackServerContext* ctx,
                                const etcdserverpb::PutRequest* req,
                                etcdserverpb::PutResponse* resp) override;
  grpc::ServerUnaryReactor* DeleteRange(grpc::CallbackServerContext* ctx,
                                        const etcdserverpb::DeleteRangeRequest* req,
                                        etcdserverpb::DeleteRangeResponse* resp) override;
  grpc::ServerUnaryReactor* Txn(grpc::CallbackServerContext* ctx,
                                const etcdserverpb::TxnRequest* req,
                                etcdserverpb::TxnResponse* resp) override;
  grpc::ServerUnaryReactor* Compact(grpc::CallbackServerContext* ctx,
                                    const etcdserverpb::CompactionRequest* req,
                                    etcdserverpb::CompactionResponse* resp) override;

 private:
  // Proposes `request`; on success `fill(response)` writes the answer, then the call finishes.
  template <typename Fill>
  grpc::ServerUnaryReactor* propose(grpc::CallbackServerContext* ctx, WriteRequest request,
                                    Fill fill);
  // A serializable read runs `answer` at once; a linearizable one after the ReadIndex barrier
  // (NodeApi::read_barrier), on the ReadPool. A refused barrier finishes the call with its error.
  // (A template, so the serializable path - a Range per call - makes no std::function.)
  template <typename Answer>
  void serve_read(bool serializable, grpc::ServerUnaryReactor* reactor, Answer answer);
  bool too_large(const google::protobuf::Message& req) const {
    return req.ByteSizeLong() > max_request_bytes_;
  }

  NodeApi& node_;
  ReadPool& reads_;
  const uint64_t max_request_bytes_;
};

}  // namespace kvserver::services
