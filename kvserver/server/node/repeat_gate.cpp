#include "kvserver/server/node/repeat_gate.h"

namespace kvserver::node {

std::string repeat_note(uint64_t held_back) {
  if (held_back == 0) return "";
  return " (" + std::to_string(held_back) + " more since the last such line)";
}

bool RepeatGate::pass(uint64_t key, const std::string& text, Clock::time_point now,
                      uint64_t* held_back) {
  std::lock_guard lock(mu_);
  auto [it, first] = last_.try_emplace(key);
  Last& last = it->second;
  if (!first && last.text == text && now - last.at < every_) {
    ++last.held_back;
    return false;
  }
  *held_back = last.text == text ? last.held_back : 0;
  last.text = text;
  last.at = now;
  last.held_back = 0;
  return true;
}

}  // namespace kvserver::node
