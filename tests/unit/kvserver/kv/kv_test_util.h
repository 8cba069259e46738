// Small builders shared by the kv unit tests: they keep each test about the behaviour it checks.
#pragma once

#include <string>
#include <vector>

#include "kvserver/kv/kv_store.h"

namespace kv::test {

inline PutResponse put(KvStore& s, const std::string& key, const std::string& value,
                       int64_t lease = 0) {
  PutRequest req;
  req.key = key;
  req.value = value;
  req.lease = lease;
  return s.put(req).value();
}

inline RangeResponse get(const KvStore& s, const std::string& key,
                         const std::string& range_end = "", int64_t revision = 0) {
  RangeRequest req;
  req.key = key;
  req.range_end = range_end;
  req.revision = revision;
  return s.range(req).value();
}

inline DeleteRangeResponse del(KvStore& s, const std::string& key,
                               const std::string& range_end = "") {
  DeleteRangeRequest req;
  req.key = key;
  req.range_end = range_end;
  req.prev_kv = true;
  return s.delete_range(req).value();
}

inline std::vector<std::string> keys_of(const RangeResponse& r) {
  std::vector<std::string> out;
  for (const auto& kv : r.kvs)
    out.push_back(kv.key);
  return out;
}

inline RequestOp put_op(const std::string& key, const std::string& value, int64_t lease = 0) {
  PutRequest p;
  p.key = key;
  p.value = value;
  p.lease = lease;
  return RequestOp{p};
}

inline RequestOp range_op(const std::string& key, const std::string& range_end = "") {
  RangeRequest r;
  r.key = key;
  r.range_end = range_end;
  return RequestOp{r};
}

inline RequestOp delete_op(const std::string& key, const std::string& range_end = "") {
  DeleteRangeRequest d;
  d.key = key;
  d.range_end = range_end;
  return RequestOp{d};
}

inline Compare cmp(const std::string& key, CompareTarget target, CompareResult result) {
  Compare c;
  c.key = key;
  c.target = target;
  c.result = result;
  return c;
}

}  // namespace kv::test
