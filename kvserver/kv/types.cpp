#include "kvserver/kv/types.h"

#include <algorithm>
#include <variant>

namespace kv {

std::string prefix_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto last = static_cast<unsigned char>(end.back());
    if (last < 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  // Every byte was 0xff (or the prefix was empty): no finite end, so "every key >= prefix".
  return std::string(1, '\0');
}

bool in_range(std::string_view k, std::string_view key, std::string_view range_end) {
  if (range_end.empty()) return k == key;
  if (k < key) return false;
  if (range_end.size() == 1 && range_end[0] == '\0') return true;
  return k < range_end;
}

bool is_read_only(const TxnRequest& txn) {
  auto is_range = [](const RequestOp& op) {
    return std::holds_alternative<RangeRequest>(op.request);
  };
  return std::all_of(txn.success.begin(), txn.success.end(), is_range) &&
         std::all_of(txn.failure.begin(), txn.failure.end(), is_range);
}

}  // namespace kv
