// Errors of the KV state machine: expected failures (compacted revision, unknown lease, bad
// request) are values, never exceptions. Each carries an ErrorCode, which the API layer maps to a
// gRPC status code, and etcd v3.4's exact message text, which etcdctl matches on (see ETCD-FACTS.md
// "Errors").
//
// Invariants: message() of an Error made by etcd_error(code) is etcd's text for that code, byte for
// byte. Thread-safety: plain values; no shared state.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <variant>

namespace kv {

enum class ErrorCode {
  kCompacted,         // OutOfRange: a read/compact/watch below the compacted revision
  kFutureRevision,    // OutOfRange: a read/compact above the current revision
  kLeaseNotFound,     // NotFound
  kLeaseExists,       // FailedPrecondition: grant with an id already in use
  kLeaseTtlTooLarge,  // OutOfRange
  kKeyNotFound,       // InvalidArgument: ignore_value/ignore_lease on a missing key
  kValueProvided,     // InvalidArgument: ignore_value with a value
  kLeaseProvided,     // InvalidArgument: ignore_lease with a lease
  kEmptyKey,          // InvalidArgument
  kDuplicateKey,      // InvalidArgument: one txn writing a key twice
  kTooManyOps,        // InvalidArgument: txn with more than kMaxTxnOps ops in a branch
  kBadSnapshot,       // DataLoss: restore() given bytes that are not one of our snapshots
};

// The gRPC status code name etcd uses for `code` ("OUT_OF_RANGE", ...), for logs and the API layer.
const char* grpc_code_name(ErrorCode code);

class Error {
 public:
  Error(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  ErrorCode code_;
  std::string message_;
};

// The error etcd returns for `code`, with its exact text.
Error etcd_error(ErrorCode code);

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit on purpose, `return value;`
  Result(Error error) : v_(std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return checked(); }
  const T& value() const& { return const_cast<Result*>(this)->checked(); }
  T&& value() && { return std::move(checked()); }
  T* operator->() { return &checked(); }
  const T* operator->() const { return &const_cast<Result*>(this)->checked(); }
  T& operator*() { return checked(); }

  const Error& error() const { return std::get<1>(v_); }

 private:
  T& checked() {
    if (!ok()) {
      // Reading the value of a failed Result is a programmer error: stop loudly, with the reason.
      std::fprintf(stderr, "kv::Result::value() on error: %s\n", error().message().c_str());
      std::abort();
    }
    return std::get<0>(v_);
  }
  std::variant<T, Error> v_;
};

struct Ok {};
using Status = Result<Ok>;

}  // namespace kv
