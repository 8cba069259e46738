#include "kvserver/kv/rw_lock.h"

#include <cstdio>
#include <cstdlib>

namespace kv {
namespace {
// A failing pthread call here is a programmer error (deadlock, unlock of an unheld lock).
void check(int rc, const char* what) {
  if (rc != 0) {
    std::fprintf(stderr, "kv::RwLock: %s failed: %d\n", what, rc);
    std::abort();
  }
}
}  // namespace

RwLock::RwLock() {
  pthread_rwlockattr_t attr;
  check(pthread_rwlockattr_init(&attr), "rwlockattr_init");
  check(pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP),
        "rwlockattr_setkind_np");
  check(pthread_rwlock_init(&rw_, &attr), "rwlock_init");
  pthread_rwlockattr_destroy(&attr);
}

RwLock::~RwLock() {
  pthread_rwlock_destroy(&rw_);
}

void RwLock::lock() {
  check(pthread_rwlock_wrlock(&rw_), "wrlock");
}
bool RwLock::try_lock() {
  return pthread_rwlock_trywrlock(&rw_) == 0;
}
void RwLock::unlock() {
  check(pthread_rwlock_unlock(&rw_), "unlock");
}
void RwLock::lock_shared() {
  check(pthread_rwlock_rdlock(&rw_), "rdlock");
}
bool RwLock::try_lock_shared() {
  return pthread_rwlock_tryrdlock(&rw_) == 0;
}
void RwLock::unlock_shared() {
  check(pthread_rwlock_unlock(&rw_), "unlock");
}

}  // namespace kv
