// run_on_all(): run one function against every node at once - one thread and one Session per node -
// and collect a Result per node, in the order the nodes were given.
//
// A node that cannot be reached, refuses its host key or fails in `fn` only fails its own slot; the
// others run to completion. Exceptions thrown by `fn` are caught in that node's thread and become
// an Error naming the node (they never cross threads or escape). `fn` must return a
// certs::Result<T> (or certs::Status) and receives the node's connected Session.
//
// Thread-safety: `fn` runs concurrently on different threads, each with its own Session; anything
// it shares must be synchronised by the caller. run_on_all itself returns after every thread
// joined.
#pragma once

#include <exception>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "certs/result.h"
#include "provision/ssh/connection_spec.h"
#include "provision/ssh/session.h"

namespace provision::ssh {

template <typename R>
struct NodeResult {
  std::string node;
  R result;
};

template <typename Fn, typename R = std::invoke_result_t<Fn&, Session&>>
std::vector<NodeResult<R>> run_on_all(const std::vector<ConnectionSpec>& nodes, Fn fn) {
  std::vector<std::optional<R>> slots(nodes.size());
  {
    std::vector<std::jthread> threads;
    threads.reserve(nodes.size());
    for (size_t i = 0; i < nodes.size(); ++i) {
      threads.emplace_back([&nodes, &slots, &fn, i] {
        const ConnectionSpec& spec = nodes[i];
        try {
          auto session = Session::connect(spec);
          if (!session) {
            slots[i].emplace(session.error());
            return;
          }
          slots[i].emplace(fn(**session));
        } catch (const std::exception& e) {
          slots[i].emplace(certs::Error(spec.where() + ": unexpected failure: " + e.what()));
        } catch (...) {
          slots[i].emplace(certs::Error(spec.where() + ": unexpected failure (unknown exception)"));
        }
      });
    }
  }  // jthreads join here
  std::vector<NodeResult<R>> out;
  out.reserve(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i)
    out.push_back({nodes[i].node, std::move(*slots[i])});
  return out;
}

}  // namespace provision::ssh
