// pthread read-write locks of the test program (std::shared_mutex, std::shared_timed_mutex) as
// model objects: readers share the lock, a writer holds it alone, a blocked lock is a model futex
// wait (so a cycle of waits is reported as a DEADLOCK, with the user's frame), and a timed lock
// gives up on the virtual clock. Readers are preferred, as with glibc's default: a reader gets the
// lock while a writer waits for the readers before it. Happens-before: a write unlock orders
// before every later lock, a read unlock before every later write lock. The model's state is kept
// beside the object's address, per execution; outside an exploration each function is the C
// library's.
#include <pthread.h>

#include <cerrno>
#include <cstdint>
#include <ctime>
#include <exception>
#include <unordered_map>

#include "std/objects.h"

namespace interleave::detail::std_runtime {
namespace {

constexpr std::uint32_t kWriter = 0x80000000U;  // the state word: kWriter, or the number of readers

struct RwlockModel {
  std::uint32_t state = 0;
  std::uint32_t writer = 0;                                  // the fiber holding it to write
  std::unordered_map<std::uint32_t, std::uint32_t> readers;  // read locks held, by fiber
};

// deadline_ns < 0: no deadline; `once`: a try-lock. 0, EBUSY, ETIMEDOUT or EDEADLK.
int lock(pthread_rwlock_t* l, bool write, std::int64_t deadline_ns, bool once) {
  RwlockModel& s = model_of<RwlockModel>(l);
  const std::uint32_t me = model::current_fiber();
  if (s.state == kWriter && s.writer == me) return EDEADLK;  // glibc's answer to a relock by the writer
  for (;;) {
    std::uint64_t seen = atomic_load(&s.state, 4, std::memory_order_relaxed);
    const bool free = write ? seen == 0 : (seen & kWriter) == 0;
    if (free) {
      const std::uint64_t next = write ? kWriter : seen + 1;
      if (atomic_compare_exchange(&s.state, 4, seen, next, std::memory_order_acquire, std::memory_order_relaxed)) {
        if (write) {
          s.writer = me;
        } else {
          ++s.readers[me];
        }
        return 0;
      }
      continue;
    }
    if (once) return EBUSY;
    // A writer that waits for its own read lock waits for good: every other thread may block too,
    // and the model reports the DEADLOCK (glibc would hang).
    if (!futex_wait(&s.state, static_cast<std::uint32_t>(seen), deadline_ns)) return ETIMEDOUT;
  }
}

int unlock(pthread_rwlock_t* l, const void* pc) {
  RwlockModel& s = model_of<RwlockModel>(l);
  const std::uint32_t me = model::current_fiber();
  if (s.state == kWriter && s.writer == me) {
    atomic_store(&s.state, 4, 0, std::memory_order_release);
    futex_wake(&s.state, UINT32_MAX);
    return 0;
  }
  const auto held = s.readers.find(me);
  if (held == s.readers.end()) {
    if (std::uncaught_exceptions() > 0) return 0;  // a fiber torn down while it waited unwinds
    model::fail(FailureKind::contract_violation, "a read-write lock is unlocked by a thread that does not hold it",
                caller_location(pc));
  }
  if (--held->second == 0) s.readers.erase(held);
  const std::uint64_t before = atomic_rmw(&s.state, 4, Rmw::sub, 1, std::memory_order_release);
  if (before == 1) futex_wake(&s.state, UINT32_MAX);  // the last reader: a writer may go
  return 0;
}

// The clock of pthread_rwlock_timed*lock's deadline.
constexpr clockid_t kTimedClock = CLOCK_REALTIME;

int modelled_lock(pthread_rwlock_t* l, bool write, std::int64_t deadline_ns, bool once, const char* what,
                  const void* pc) {
  const HookScope hook;
  const Operation op(what, l, pc);
  return lock(l, write, deadline_ns, once);
}

}  // namespace
}  // namespace interleave::detail::std_runtime

namespace rt = interleave::detail::std_runtime;

extern "C" {

int pthread_rwlock_rdlock(pthread_rwlock_t* l) {
  using Lock = int (*)(pthread_rwlock_t*);
  static const Lock real_lock = rt::real<Lock>("pthread_rwlock_rdlock");
  if (!rt::modelled()) return real_lock(l);
  return rt::modelled_lock(l, false, -1, false, "pthread_rwlock_rdlock", __builtin_return_address(0));
}

int pthread_rwlock_tryrdlock(pthread_rwlock_t* l) {
  using Lock = int (*)(pthread_rwlock_t*);
  static const Lock real_lock = rt::real<Lock>("pthread_rwlock_tryrdlock");
  if (!rt::modelled()) return real_lock(l);
  return rt::modelled_lock(l, false, -1, true, "pthread_rwlock_tryrdlock", __builtin_return_address(0));
}

int pthread_rwlock_timedrdlock(pthread_rwlock_t* l, const struct timespec* abstime) {
  using Lock = int (*)(pthread_rwlock_t*, const struct timespec*);
  static const Lock real_lock = rt::real<Lock>("pthread_rwlock_timedrdlock");
  if (!rt::modelled()) return real_lock(l, abstime);
  return rt::modelled_lock(l, false, rt::deadline_of(rt::kTimedClock, *abstime), false, "pthread_rwlock_timedrdlock",
                           __builtin_return_address(0));
}

int pthread_rwlock_clockrdlock(pthread_rwlock_t* l, clockid_t clock, const struct timespec* abstime) {
  using Lock = int (*)(pthread_rwlock_t*, clockid_t, const struct timespec*);
  static const Lock real_lock = rt::real<Lock>("pthread_rwlock_clockrdlock");
  if (!rt::modelled()) return real_lock(l, clock, abstime);
  return rt::modelled_lock(l, false, rt::deadline_of(clock, *abstime), false, "pthread_rwlock_clockrdlock",
                           __builtin_return_address(0));
}

int pthread_rwlock_wrlock(pthread_rwlock_t* l) {
  using Lock = int (*)(pthread_rwlock_t*);
  static const Lock real_lock = rt::real<Lock>("pthread_rwlock_wrlock");
  if (!rt::modelled()) return real_lock(l);
  return rt::modelled_lock(l, true, -1, false, "pthread_rwlock_wrlock", __builtin_return_address(0));
}

int pthread_rwlock_trywrlock(pthread_rwlock_t* l) {
  using Lock = int (*)(pthread_rwlock_t*);
  static const Lock real_lock = rt::real<Lock>("pthread_rwlock_trywrlock");
  if (!rt::modelled()) return real_lock(l);
  return rt::modelled_lock(l, true, -1, true, "pthread_rwlock_trywrlock", __builtin_return_address(0));
}

int pthread_rwlock_timedwrlock(pthread_rwlock_t* l, const struct timespec* abstime) {
  using Lock = int (*)(pthread_rwlock_t*, const struct timespec*);
  static const Lock real_lock = rt::real<Lock>("pthread_rwlock_timedwrlock");
  if (!rt::modelled()) return real_lock(l, abstime);
  return rt::modelled_lock(l, true, rt::deadline_of(rt::kTimedClock, *abstime), false, "pthread_rwlock_timedwrlock",
                           __builtin_return_address(0));
}

int pthread_rwlock_clockwrlock(pthread_rwlock_t* l, clockid_t clock, const struct timespec* abstime) {
  using Lock = int (*)(pthread_rwlock_t*, clockid_t, const struct timespec*);
  static const Lock real_lock = rt::real<Lock>("pthread_rwlock_clockwrlock");
  if (!rt::modelled()) return real_lock(l, clock, abstime);
  return rt::modelled_lock(l, true, rt::deadline_of(clock, *abstime), false, "pthread_rwlock_clockwrlock",
                           __builtin_return_address(0));
}

int pthread_rwlock_unlock(pthread_rwlock_t* l) {
  using Unlock = int (*)(pthread_rwlock_t*);
  static const Unlock real_unlock = rt::real<Unlock>("pthread_rwlock_unlock");
  if (!rt::modelled()) return real_unlock(l);
  const rt::HookScope hook;
  return rt::unlock(l, __builtin_return_address(0));
}

}  // extern "C"
