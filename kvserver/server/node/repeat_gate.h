// RepeatGate: decides whether a repeated warning is logged. A peer that refuses our stream (or
// that we refuse) redials every second, and logging the same line each time fills the journal
// and pushes out what came before it.
//
// Contract: for each key (a peer id), pass() lets a line through the first time, whenever its
// text differs from the last one let through, and otherwise at most once per `every`. With a
// line that passes, *held_back says how many identical lines were held back since the last one
// let through, so the log still shows that the condition persists.
//
// Thread-safety: all methods are thread-safe (one mutex).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace kvserver::node {

// " (12 more since the last such line)" for a held-back count, "" for none: appended to a line
// that passed.
std::string repeat_note(uint64_t held_back);

class RepeatGate {
 public:
  using Clock = std::chrono::steady_clock;
  explicit RepeatGate(Clock::duration every) : every_(every) {}

  bool pass(uint64_t key, const std::string& text, Clock::time_point now, uint64_t* held_back);

 private:
  struct Last {
    std::string text;
    Clock::time_point at;
    uint64_t held_back = 0;
  };
  const Clock::duration every_;
  std::mutex mu_;
  std::map<uint64_t, Last> last_;  // guarded by mu_
};

}  // namespace kvserver::node
