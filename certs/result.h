// Result<T>: the value of an operation that can fail in an expected way (bad input, unreachable
// node, a file that is not what it should be). Programmer errors are not Results: they are CHECKs.
//
// An Error carries one human sentence that names the thing (file, line, node, flag) and says what
// to do about it. It is what the user reads, so callers add context rather than replace it:
//   return Error("node h2: " + r.error().message);
//
// Thread-safety: plain values; no shared state.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <variant>

namespace certs {

struct Error {
  std::string message;
  explicit Error(std::string m) : message(std::move(m)) {}
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit on purpose, `return value;`
  Result(Error error) : v_(std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return checked_value(); }
  const T& value() const& { return const_cast<Result*>(this)->checked_value(); }
  T&& value() && { return std::move(checked_value()); }
  T* operator->() { return &checked_value(); }
  const T* operator->() const { return &const_cast<Result*>(this)->checked_value(); }
  T& operator*() { return checked_value(); }

  const Error& error() const { return std::get<1>(v_); }

 private:
  T& checked_value() {
    if (!ok()) {
      // Reading the value of a failed Result is a programmer error: stop loudly, with the reason.
      std::fprintf(stderr, "Result::value() on error: %s\n", std::get<1>(v_).message.c_str());
      std::abort();
    }
    return std::get<0>(v_);
  }
  std::variant<T, Error> v_;
};

// Result<void>: success or an Error.
struct Ok {};
using Status = Result<Ok>;
inline Status ok_status() {
  return Ok{};
}

}  // namespace certs
