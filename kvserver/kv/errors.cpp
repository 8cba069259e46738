#include "kvserver/kv/errors.h"

namespace kv {

const char* grpc_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kCompacted:
    case ErrorCode::kFutureRevision:
    case ErrorCode::kLeaseTtlTooLarge:
      return "OUT_OF_RANGE";
    case ErrorCode::kLeaseNotFound:
      return "NOT_FOUND";
    case ErrorCode::kLeaseExists:
      return "FAILED_PRECONDITION";
    case ErrorCode::kKeyNotFound:
    case ErrorCode::kValueProvided:
    case ErrorCode::kLeaseProvided:
    case ErrorCode::kEmptyKey:
    case ErrorCode::kDuplicateKey:
    case ErrorCode::kTooManyOps:
      return "INVALID_ARGUMENT";
    case ErrorCode::kBadSnapshot:
      return "DATA_LOSS";
  }
  std::abort();  // an enum value outside the list is memory corruption
}

Error etcd_error(ErrorCode code) {
  switch (code) {
    case ErrorCode::kCompacted:
      return Error(code, "etcdserver: mvcc: required revision has been compacted");
    case ErrorCode::kFutureRevision:
      return Error(code, "etcdserver: mvcc: required revision is a future revision");
    case ErrorCode::kLeaseNotFound:
      return Error(code, "etcdserver: requested lease not found");
    case ErrorCode::kLeaseExists:
      return Error(code, "etcdserver: lease already exists");
    case ErrorCode::kLeaseTtlTooLarge:
      return Error(code, "etcdserver: too large lease TTL");
    case ErrorCode::kKeyNotFound:
      return Error(code, "etcdserver: key not found");
    case ErrorCode::kValueProvided:
      return Error(code, "etcdserver: value is provided");
    case ErrorCode::kLeaseProvided:
      return Error(code, "etcdserver: lease is provided");
    case ErrorCode::kEmptyKey:
      return Error(code, "etcdserver: key is not provided");
    case ErrorCode::kDuplicateKey:
      return Error(code, "etcdserver: duplicate key given in txn request");
    case ErrorCode::kTooManyOps:
      return Error(code, "etcdserver: too many operations in txn request");
    case ErrorCode::kBadSnapshot:
      return Error(code, "kvserver: snapshot is corrupt or not a kv snapshot");
  }
  std::abort();
}

}  // namespace kv
