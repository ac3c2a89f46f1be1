// POSIX semaphores (sem_*) and barriers (pthread_barrier_*) of the test program as model objects:
// a wait that cannot go on is a model futex wait (a wait nobody ends is a DEADLOCK, with the
// user's frame, instead of a hang) and a timed wait gives up on the virtual clock. A sem_post
// happens-before the wait that takes its count; every arrival at a barrier happens-before every
// thread's return from that round. Outside an exploration each function is the C library's.
#include <pthread.h>
#include <semaphore.h>

#include <cerrno>
#include <cstdint>
#include <ctime>

#include "std/objects.h"

namespace interleave::detail::std_runtime {
namespace {

// The count of a sem_t lives in its first 4 bytes (glibc's layout on 64-bit targets: the value in
// the low half of a 64-bit word whose high half counts waiters). The model keeps the count there,
// so that sem_init and sem_getvalue outside an exploration agree with it; it leaves the waiter
// count alone (its waiters are the model's).
std::uint32_t* count_of(sem_t* sem) noexcept { return reinterpret_cast<std::uint32_t*>(sem); }

int failed(int error) noexcept {
  errno = error;
  return -1;
}

// deadline_ns < 0: no deadline; `once`: sem_trywait. 0, or -1 with errno EAGAIN or ETIMEDOUT.
int sem_take(sem_t* sem, std::int64_t deadline_ns, bool once, const char* what, const void* pc) {
  const HookScope hook;
  const Operation op(what, sem, pc);
  std::uint32_t* count = count_of(sem);
  for (;;) {
    std::uint64_t seen = atomic_load(count, 4, std::memory_order_relaxed);
    if (seen > 0) {
      if (atomic_compare_exchange(count, 4, seen, seen - 1, std::memory_order_acquire, std::memory_order_relaxed)) {
        return 0;
      }
      continue;
    }
    if (once) return failed(EAGAIN);
    if (!futex_wait(count, 0, deadline_ns)) return failed(ETIMEDOUT);
  }
}

int sem_give(sem_t* sem) {
  const HookScope hook;
  std::uint32_t* count = count_of(sem);
  if (atomic_rmw(count, 4, Rmw::add, 1, std::memory_order_release) == SEM_VALUE_MAX) {
    atomic_rmw(count, 4, Rmw::sub, 1, std::memory_order_relaxed);
    return failed(EOVERFLOW);
  }
  futex_wake(count, 1);
  return 0;
}

// glibc's pthread_barrier_t keeps the count it was initialized with at byte 8 (struct
// pthread_barrier: in, current_round, count, ...); the model reads it from there, so a barrier
// initialized outside the exploration works inside it too.
unsigned participants_of(const pthread_barrier_t* b) noexcept { return reinterpret_cast<const unsigned*>(b)[2]; }

struct BarrierModel {
  std::uint32_t arrived = 0;  // arrivals in the current round
  std::uint32_t round = 0;    // bumped by the last arrival of each round
};

int barrier_wait(pthread_barrier_t* b, const void* pc) {
  const HookScope hook;
  const Operation op("pthread_barrier_wait", b, pc);
  BarrierModel& s = model_of<BarrierModel>(b);
  const auto round = static_cast<std::uint32_t>(atomic_load(&s.round, 4, std::memory_order_relaxed));
  // acq_rel: the last arrival reads every earlier one (a release sequence of read-modify-writes),
  // then publishes them all with the round's bump.
  if (atomic_rmw(&s.arrived, 4, Rmw::add, 1, std::memory_order_acq_rel) + 1 == participants_of(b)) {
    atomic_store(&s.arrived, 4, 0, std::memory_order_relaxed);
    atomic_rmw(&s.round, 4, Rmw::add, 1, std::memory_order_release);
    futex_wake(&s.round, UINT32_MAX);
    return PTHREAD_BARRIER_SERIAL_THREAD;
  }
  while (atomic_load(&s.round, 4, std::memory_order_acquire) == round) futex_wait(&s.round, round, -1);
  return 0;
}

}  // namespace
}  // namespace interleave::detail::std_runtime

namespace rt = interleave::detail::std_runtime;

extern "C" {

int sem_wait(sem_t* sem) {
  using Wait = int (*)(sem_t*);
  static const Wait real_wait = rt::real<Wait>("sem_wait");
  if (!rt::modelled()) return real_wait(sem);
  return rt::sem_take(sem, -1, false, "sem_wait", __builtin_return_address(0));
}

int sem_trywait(sem_t* sem) noexcept {
  using Wait = int (*)(sem_t*);
  static const Wait real_wait = rt::real<Wait>("sem_trywait");
  if (!rt::modelled()) return real_wait(sem);
  return rt::sem_take(sem, -1, true, "sem_trywait", __builtin_return_address(0));
}

int sem_timedwait(sem_t* sem, const struct timespec* abstime) {
  using Wait = int (*)(sem_t*, const struct timespec*);
  static const Wait real_wait = rt::real<Wait>("sem_timedwait");
  if (!rt::modelled()) return real_wait(sem, abstime);
  if (abstime->tv_nsec < 0 || abstime->tv_nsec >= 1'000'000'000) return rt::failed(EINVAL);
  return rt::sem_take(sem, rt::deadline_of(CLOCK_REALTIME, *abstime), false, "sem_timedwait",
                      __builtin_return_address(0));
}

int sem_clockwait(sem_t* sem, clockid_t clock, const struct timespec* abstime) {
  using Wait = int (*)(sem_t*, clockid_t, const struct timespec*);
  static const Wait real_wait = rt::real<Wait>("sem_clockwait");
  if (!rt::modelled()) return real_wait(sem, clock, abstime);
  if (abstime->tv_nsec < 0 || abstime->tv_nsec >= 1'000'000'000) return rt::failed(EINVAL);
  return rt::sem_take(sem, rt::deadline_of(clock, *abstime), false, "sem_clockwait", __builtin_return_address(0));
}

int sem_post(sem_t* sem) noexcept {
  using Post = int (*)(sem_t*);
  static const Post real_post = rt::real<Post>("sem_post");
  if (!rt::modelled()) return real_post(sem);
  return rt::sem_give(sem);
}

int pthread_barrier_wait(pthread_barrier_t* b) {
  using Wait = int (*)(pthread_barrier_t*);
  static const Wait real_wait = rt::real<Wait>("pthread_barrier_wait");
  if (!rt::modelled()) return real_wait(b);
  return rt::barrier_wait(b, __builtin_return_address(0));
}

}  // extern "C"
