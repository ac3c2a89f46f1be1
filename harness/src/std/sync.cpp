// pthread mutexes and condition variables of the test program (std::mutex, std::recursive_mutex,
// std::timed_mutex, std::condition_variable) as model objects: a lock is a futex word whose
// operations are scheduling points with acquire/release effects, a blocked lock or wait is a model
// futex wait (so a deadlock is reported, with the user's frame, instead of hanging), and a timed
// wait runs on the virtual clock. The model's state of each object is kept beside its address, per
// execution; the pthread object itself is not touched. Outside an exploration each function is the
// C library's.
#include <pthread.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <exception>

#include "std/objects.h"

namespace interleave::detail::std_runtime {
namespace {

struct MutexModel {
  std::uint32_t word = 0;  // 0 free, 1 locked, 2 locked and a locker may be asleep (wake at unlock)
  std::uint32_t owner = 0;
  std::uint32_t recursion = 0;  // extra locks by the owner (recursive mutexes)
};
struct CondModel {
  std::uint32_t sequence = 0;  // bumped by every signal and broadcast
};

int kind_of(const pthread_mutex_t* m) noexcept { return m->__data.__kind & 3; }  // glibc's layout

// Locks `m`; deadline_ns < 0: no deadline. ETIMEDOUT when it passed first.
int lock(pthread_mutex_t* m, std::int64_t deadline_ns, bool once) {
  MutexModel& s = model_of<MutexModel>(m);
  const std::uint32_t me = model::current_fiber();
  const int kind = kind_of(m);
  if (s.word != 0 && s.owner == me) {
    if (kind == PTHREAD_MUTEX_RECURSIVE) {
      ++s.recursion;
      return 0;
    }
    if (kind == PTHREAD_MUTEX_ERRORCHECK) return EDEADLK;
    if (once) return EBUSY;
    model::fail(FailureKind::deadlock, "a thread locks a (non-recursive) mutex it already holds",
                caller_location(__builtin_return_address(0)));
  }
  std::uint64_t expected = 0;
  if (!atomic_compare_exchange(&s.word, 4, expected, 1, std::memory_order_acquire, std::memory_order_relaxed)) {
    if (once) return EBUSY;
    // Contended: the word says 2 while anyone may sleep on it, so that only then does an unlock
    // make a wake call. Sleeps while it is held (by anyone).
    while (atomic_rmw(&s.word, 4, Rmw::exchange, 2, std::memory_order_acquire) != 0) {
      if (!futex_wait(&s.word, 2, deadline_ns)) return ETIMEDOUT;  // false only when the deadline passed
    }
  }
  s.owner = me;
  s.recursion = 0;
  return 0;
}

int unlock(pthread_mutex_t* m) {
  MutexModel& s = model_of<MutexModel>(m);
  if (s.word == 0 || s.owner != model::current_fiber()) {
    // A fiber torn down while it waited in pthread_cond_wait unwinds without the mutex (the wait
    // does not take it back): its lock guards' unlocks are no-ops.
    if (std::uncaught_exceptions() > 0) return 0;
    if (kind_of(m) != PTHREAD_MUTEX_NORMAL) return EPERM;
    model::fail(FailureKind::contract_violation, "a mutex is unlocked by a thread that does not hold it",
                caller_location(__builtin_return_address(0)));
  }
  if (s.recursion > 0) {
    --s.recursion;
    return 0;
  }
  if (atomic_rmw(&s.word, 4, Rmw::exchange, 0, std::memory_order_release) == 2) futex_wake(&s.word, 1);
  return 0;
}

// pthread_cond_wait and its timed forms: unlocks, waits for a signal (or a spurious wake-up, or
// the deadline), locks again.
int cond_wait(pthread_cond_t* c, pthread_mutex_t* m, std::int64_t deadline_ns) {
  CondModel& s = model_of<CondModel>(c);
  const auto seen = static_cast<std::uint32_t>(atomic_load(&s.sequence, 4, std::memory_order_relaxed));
  if (const int e = unlock(m); e != 0) return e;
  const bool woken = futex_wait(&s.sequence, seen, deadline_ns);
  if (const int e = lock(m, -1, false); e != 0) return e;
  return woken ? 0 : ETIMEDOUT;
}

int cond_signal(pthread_cond_t* c, std::uint32_t count) {
  CondModel& s = model_of<CondModel>(c);
  atomic_rmw(&s.sequence, 4, Rmw::add, 1, std::memory_order_release);
  futex_wake(&s.sequence, count);
  return 0;
}

clockid_t condattr_clock(const pthread_cond_t* c) noexcept {
  // glibc keeps the clock of pthread_condattr_setclock in bit 0 of __wrefs (1: CLOCK_MONOTONIC).
  return (c->__data.__wrefs & 1U) != 0 ? CLOCK_MONOTONIC : CLOCK_REALTIME;
}

}  // namespace
}  // namespace interleave::detail::std_runtime

namespace rt = interleave::detail::std_runtime;
namespace model = interleave::detail::model;

extern "C" {

int pthread_mutex_lock(pthread_mutex_t* m) {
  using Lock = int (*)(pthread_mutex_t*);
  static const Lock real_lock = rt::real<Lock>("pthread_mutex_lock");
  if (!rt::modelled()) return real_lock(m);
  const rt::HookScope hook;
  const rt::Operation op("pthread_mutex_lock", m, __builtin_return_address(0));
  return rt::lock(m, -1, false);
}

int pthread_mutex_trylock(pthread_mutex_t* m) {
  using Lock = int (*)(pthread_mutex_t*);
  static const Lock real_trylock = rt::real<Lock>("pthread_mutex_trylock");
  if (!rt::modelled()) return real_trylock(m);
  const rt::HookScope hook;
  const rt::Operation op("pthread_mutex_trylock", m, __builtin_return_address(0));
  return rt::lock(m, -1, true);
}

int pthread_mutex_timedlock(pthread_mutex_t* m, const struct timespec* abstime) {
  using Lock = int (*)(pthread_mutex_t*, const struct timespec*);
  static const Lock real_timedlock = rt::real<Lock>("pthread_mutex_timedlock");
  if (!rt::modelled()) return real_timedlock(m, abstime);
  const rt::HookScope hook;
  const rt::Operation op("pthread_mutex_timedlock", m, __builtin_return_address(0));
  return rt::lock(m, rt::deadline_of(CLOCK_REALTIME, *abstime), false);
}

int pthread_mutex_clocklock(pthread_mutex_t* m, clockid_t clock, const struct timespec* abstime) {
  using Lock = int (*)(pthread_mutex_t*, clockid_t, const struct timespec*);
  static const Lock real_clocklock = rt::real<Lock>("pthread_mutex_clocklock");
  if (!rt::modelled()) return real_clocklock(m, clock, abstime);
  const rt::HookScope hook;
  const rt::Operation op("pthread_mutex_clocklock", m, __builtin_return_address(0));
  return rt::lock(m, rt::deadline_of(clock, *abstime), false);
}

int pthread_mutex_unlock(pthread_mutex_t* m) {
  using Unlock = int (*)(pthread_mutex_t*);
  static const Unlock real_unlock = rt::real<Unlock>("pthread_mutex_unlock");
  if (!rt::modelled()) return real_unlock(m);
  const rt::HookScope hook;
  return rt::unlock(m);
}

int pthread_cond_wait(pthread_cond_t* c, pthread_mutex_t* m) {
  using Wait = int (*)(pthread_cond_t*, pthread_mutex_t*);
  static const Wait real_wait = rt::real<Wait>("pthread_cond_wait", "GLIBC_2.3.2");
  if (!rt::modelled()) return real_wait(c, m);
  const rt::HookScope hook;
  const rt::Operation op("pthread_cond_wait", c, __builtin_return_address(0));
  return rt::cond_wait(c, m, -1);
}

int pthread_cond_timedwait(pthread_cond_t* c, pthread_mutex_t* m, const struct timespec* abstime) {
  using Wait = int (*)(pthread_cond_t*, pthread_mutex_t*, const struct timespec*);
  static const Wait real_wait = rt::real<Wait>("pthread_cond_timedwait", "GLIBC_2.3.2");
  if (!rt::modelled()) return real_wait(c, m, abstime);
  const rt::HookScope hook;
  const rt::Operation op("pthread_cond_timedwait", c, __builtin_return_address(0));
  return rt::cond_wait(c, m, rt::deadline_of(rt::condattr_clock(c), *abstime));
}

int pthread_cond_clockwait(pthread_cond_t* c, pthread_mutex_t* m, clockid_t clock, const struct timespec* abstime) {
  using Wait = int (*)(pthread_cond_t*, pthread_mutex_t*, clockid_t, const struct timespec*);
  static const Wait real_wait = rt::real<Wait>("pthread_cond_clockwait");
  if (!rt::modelled()) return real_wait(c, m, clock, abstime);
  const rt::HookScope hook;
  const rt::Operation op("pthread_cond_clockwait", c, __builtin_return_address(0));
  return rt::cond_wait(c, m, rt::deadline_of(clock, *abstime));
}

int pthread_cond_signal(pthread_cond_t* c) {
  using Signal = int (*)(pthread_cond_t*);
  static const Signal real_signal = rt::real<Signal>("pthread_cond_signal", "GLIBC_2.3.2");
  if (!rt::modelled()) return real_signal(c);
  const rt::HookScope hook;
  return rt::cond_signal(c, 1);
}

int pthread_cond_broadcast(pthread_cond_t* c) {
  using Signal = int (*)(pthread_cond_t*);
  static const Signal real_broadcast = rt::real<Signal>("pthread_cond_broadcast", "GLIBC_2.3.2");
  if (!rt::modelled()) return real_broadcast(c);
  const rt::HookScope hook;
  return rt::cond_signal(c, UINT32_MAX);
}

}  // extern "C"
