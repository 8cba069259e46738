#include "kvserver/kv/watch_hub.h"

#include <algorithm>
#include <utility>

namespace kv {

WatchId WatchHub::watch(const WatchRequest& request, Notify notify) {
  std::unique_lock lk(mu_);
  auto w = std::make_unique<Watcher>();
  w->id = next_id_++;
  w->request = request;
  w->notify = std::move(notify);
  // Count first, then read the store's revision: an apply that has not yet checked
  // has_watchers() will see us and build events for its revision (see KvStore::finish_write).
  watcher_count_.fetch_add(1, std::memory_order_acq_rel);
  int64_t current = source_.current_revision();
  Watcher* raw = w.get();
  watchers_.emplace(raw->id, std::move(w));
  bool replay = request.start_revision > 0 && request.start_revision <= current;
  if (replay) {
    raw->next_rev = request.start_revision;
  } else {
    raw->next_rev = request.start_revision > 0 ? request.start_revision : current + 1;
    join_synced(raw);
  }
  WatchId id = raw->id;
  Notify to_call = replay ? raw->notify : Notify{};
  lk.unlock();
  if (to_call) to_call(id);
  return id;
}

bool WatchHub::cancel(WatchId id) {
  std::lock_guard lk(mu_);
  auto it = watchers_.find(id);
  if (it == watchers_.end()) return false;
  leave_synced(it->second.get());
  watchers_.erase(it);
  watcher_count_.fetch_sub(1, std::memory_order_acq_rel);
  return true;
}

void WatchHub::join_synced(Watcher* w) {
  w->synced = true;
  if (w->request.range_end.empty()) {
    synced_keys_[w->request.key].push_back(w);
  } else {
    synced_ranges_.insert(w);
  }
}

void WatchHub::leave_synced(Watcher* w) {
  if (!w->synced) return;
  w->synced = false;
  if (w->request.range_end.empty()) {
    auto it = synced_keys_.find(w->request.key);
    if (it == synced_keys_.end()) return;
    auto& v = it->second;
    v.erase(std::remove(v.begin(), v.end(), w), v.end());
    if (v.empty()) synced_keys_.erase(it);
  } else {
    synced_ranges_.erase(w);
  }
}

bool WatchHub::wants(const Watcher& w, const Event& e) const {
  if (e.type == EventType::kPut && w.request.filter_put) return false;
  if (e.type == EventType::kDelete && w.request.filter_delete) return false;
  return true;
}

Event WatchHub::copy_for(const Watcher& w, const Event& e) const {
  Event out;
  out.type = e.type;
  out.kv = e.kv;
  if (w.request.prev_kv) out.prev_kv = e.prev_kv;
  return out;
}

void WatchHub::publish(int64_t rev, const std::vector<Event>& events) {
  std::vector<std::pair<Notify, WatchId>> to_notify;
  {
    std::lock_guard lk(mu_);
    published_rev_ = rev;
    if (events.empty() || watchers_.empty()) return;
    // Which events each synced watcher gets, in apply order.
    std::unordered_map<Watcher*, std::vector<const Event*>> matched;
    for (const Event& e : events) {
      auto k = synced_keys_.find(e.kv.key);
      if (k != synced_keys_.end()) {
        for (Watcher* w : k->second)
          matched[w].push_back(&e);
      }
      for (Watcher* w : synced_ranges_) {
        if (in_range(e.kv.key, w->request.key, w->request.range_end)) matched[w].push_back(&e);
      }
    }
    for (auto& [w, evs] : matched) {
      if (w->next_rev > rev) continue;  // history already gave it this revision
      std::size_t n = 0;
      for (const Event* e : evs)
        n += wants(*w, *e) ? 1 : 0;
      if (n == 0) {
        w->next_rev = rev + 1;
        continue;
      }
      if (!w->pending.empty() && w->pending.size() + n > options_.max_pending_events) {
        // Slow consumer: stop buffering; poll() will read this revision onwards from history.
        // Its buffer is non-empty, so it has already been notified and will poll.
        leave_synced(w);
        w->next_rev = rev;
        continue;
      }
      bool was_empty = w->pending.empty();
      for (const Event* e : evs) {
        if (wants(*w, *e)) w->pending.push_back(copy_for(*w, *e));
      }
      w->next_rev = rev + 1;
      if (was_empty && w->notify) to_notify.emplace_back(w->notify, w->id);
    }
  }
  for (auto& [fn, id] : to_notify)
    fn(id);
}

void WatchHub::reset(int64_t rev) {
  std::vector<std::pair<Notify, WatchId>> to_notify;
  {
    std::lock_guard lk(mu_);
    published_rev_ = rev;
    for (auto& [id, w] : watchers_) {
      leave_synced(w.get());
      if (w->notify) to_notify.emplace_back(w->notify, id);
    }
  }
  for (auto& [fn, id] : to_notify)
    fn(id);
}

std::optional<WatchResponse> WatchHub::poll(WatchId id) {
  std::unique_lock lk(mu_);
  auto it = watchers_.find(id);
  if (it == watchers_.end()) return std::nullopt;
  Watcher* w = it->second.get();
  WatchResponse resp;
  resp.watch_id = id;
  if (!w->pending.empty()) {
    resp.events = std::move(w->pending);
    w->pending = {};
    resp.revision = resp.events.back().kv.mod_revision;
    return resp;
  }
  if (w->synced || w->catching_up) return std::nullopt;

  // Unsynced: read history without the hub lock, so publish() (the apply thread) never waits on us.
  w->catching_up = true;
  const WatchRequest req = w->request;
  int64_t from = w->next_rev;
  for (;;) {
    lk.unlock();
    HistorySource::Chunk chunk = source_.read_history(from, req.key, req.range_end, req.prev_kv,
                                                      options_.max_pending_events);
    lk.lock();
    it = watchers_.find(id);
    if (it == watchers_.end()) return std::nullopt;  // cancelled meanwhile
    w = it->second.get();
    if (chunk.compacted) {
      resp.canceled = true;
      resp.compact_revision = chunk.compact_revision;
      resp.revision = chunk.through_revision;
      watchers_.erase(it);
      watcher_count_.fetch_sub(1, std::memory_order_acq_rel);
      return resp;
    }
    for (auto& e : chunk.events) {
      if (wants(*w, e)) resp.events.push_back(std::move(e));
    }
    w->next_rev = chunk.through_revision + 1;
    from = w->next_rev;
    if (chunk.through_revision >= published_rev_) {
      // Everything published so far is covered; later revisions come through publish(), which
      // skips any revision below next_rev that the history read already included.
      w->catching_up = false;
      join_synced(w);
      break;
    }
    if (!resp.events.empty()) {
      w->catching_up = false;
      break;  // more history remains; the consumer polls again after sending this
    }
  }
  if (resp.events.empty()) return std::nullopt;
  resp.revision = resp.events.back().kv.mod_revision;
  return resp;
}

std::optional<int64_t> WatchHub::progress(WatchId id) const {
  std::lock_guard lk(mu_);
  auto it = watchers_.find(id);
  if (it == watchers_.end()) return std::nullopt;
  const Watcher& w = *it->second;
  if (!w.synced || w.catching_up || !w.pending.empty()) return std::nullopt;
  // A synced watcher sees every published revision (publish() skips only what it does not
  // match), so with nothing pending it has been handed everything up to published_rev_.
  return published_rev_;
}

std::size_t WatchHub::unsynced_count() const {
  std::lock_guard lk(mu_);
  std::size_t n = 0;
  for (const auto& [id, w] : watchers_)
    n += w->synced ? 0 : 1;
  return n;
}

}  // namespace kv
