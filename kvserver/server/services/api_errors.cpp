#include "kvserver/server/services/api_errors.h"

#include <cstdlib>

namespace kvserver::services {

namespace {

ApiCode code_for(kv::ErrorCode code) {
  switch (code) {
    case kv::ErrorCode::kCompacted:
    case kv::ErrorCode::kFutureRevision:
    case kv::ErrorCode::kLeaseTtlTooLarge:
      return ApiCode::kOutOfRange;
    case kv::ErrorCode::kLeaseNotFound:
      return ApiCode::kNotFound;
    case kv::ErrorCode::kLeaseExists:
      return ApiCode::kFailedPrecondition;
    case kv::ErrorCode::kKeyNotFound:
    case kv::ErrorCode::kValueProvided:
    case kv::ErrorCode::kLeaseProvided:
    case kv::ErrorCode::kEmptyKey:
    case kv::ErrorCode::kDuplicateKey:
    case kv::ErrorCode::kTooManyOps:
      return ApiCode::kInvalidArgument;
    case kv::ErrorCode::kBadSnapshot:
      return ApiCode::kDataLoss;
  }
  std::abort();  // an enum value outside the list is memory corruption
}

}  // namespace

ApiError to_api_error(const kv::Error& error) {
  return {code_for(error.code()), error.message()};
}

grpc::Status to_grpc_status(const ApiError& error) {
  // ApiCode's values are grpc::StatusCode's by construction (node_api.h).
  return grpc::Status(static_cast<grpc::StatusCode>(error.code), error.message);
}

}  // namespace kvserver::services
