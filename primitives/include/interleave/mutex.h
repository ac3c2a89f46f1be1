// Mutex: a mutual-exclusion lock (Python's threading.Lock) built on one futex word.
//
// Purpose   Protects data shared between threads (or, as BasicMutex<NativeSharedPlatform> placed
//           in shared memory, between processes). Meets the standard Lockable and TimedLockable
//           requirements, so std::lock_guard, std::unique_lock and std::scoped_lock work.
// Requires  unlock() only by the thread that holds the lock. Builds with assertions enabled
//           (NDEBUG not defined, or INTERLEAVE_CHECK_OWNERSHIP=1) detect an unlock by a
//           non-owner and stop with a message naming both threads. Not recursive: locking a mutex
//           the caller already holds deadlocks (the model runtime reports it).
// Guarantees
//   - Mutual exclusion: at most one thread holds the lock at any time.
//   - try_lock never grants a lock that is held, and never blocks.
//   - try_lock_for(d) and try_lock_until(t) return false only if the lock could not be taken
//     before the deadline.
//   - Not fair: a thread that just unlocked may take the lock again before a woken waiter.
// Memory ordering
//   Everything written by a thread before unlock() is visible to the next thread after its
//   successful lock()/try_lock()/try_lock_for()/try_lock_until(). (unlock is a release, lock an
//   acquire.)
// Blocking  lock() spins briefly, then sleeps on the futex. unlock() makes a system call only
//           when some thread may be sleeping.
// Timeouts  try_lock_for(d): d < 0 throws std::invalid_argument; d == 0 is one try_lock.
//           try_lock_until(t): a t already passed is one try_lock; t on another clock than the
//           platform's (the model's is virtual) is taken as the same distance from now.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "interleave/native_platform.h"
#include "interleave/source_location.h"
#include "interleave/timeout.h"

#ifndef INTERLEAVE_CHECK_OWNERSHIP
#ifdef NDEBUG
#define INTERLEAVE_CHECK_OWNERSHIP 0
#else
#define INTERLEAVE_CHECK_OWNERSHIP 1
#endif
#endif

namespace interleave {

template <Platform P = NativePlatform>
class BasicMutex {
 public:
  BasicMutex() noexcept = default;
  BasicMutex(const BasicMutex&) = delete;
  BasicMutex& operator=(const BasicMutex&) = delete;

  void lock(interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("Mutex::lock", this, where);
    std::uint32_t expected = kUnlocked;
    if (!state_.compare_exchange_strong(expected, kLocked, std::memory_order_acquire, std::memory_order_relaxed)) {
      lock_slow();
    }
    note_owner();
  }

  [[nodiscard]] bool try_lock(interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("Mutex::try_lock", this, where);
    std::uint32_t expected = kUnlocked;
    if (state_.compare_exchange_strong(expected, kLocked, std::memory_order_acquire, std::memory_order_relaxed)) {
      note_owner();
      return true;
    }
    return false;
  }

  template <class Rep, class Period>
  [[nodiscard]] bool try_lock_for(std::chrono::duration<Rep, Period> timeout,
                                  interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("Mutex::try_lock_for", this, where);
    const auto deadline = detail::deadline_after(P::now(), timeout, "Mutex::try_lock_for");
    std::uint32_t expected = kUnlocked;
    if (state_.compare_exchange_strong(expected, kLocked, std::memory_order_acquire, std::memory_order_relaxed)) {
      note_owner();
      return true;
    }
    if (timeout == decltype(timeout)::zero()) return false;
    if (!lock_slow_until(deadline)) return false;
    note_owner();
    return true;
  }

  // As try_lock_for, until an absolute deadline on any clock (one on another clock than the
  // platform's counts as the same distance from now). A deadline already passed is one try_lock.
  template <class Clock, class Duration>
  [[nodiscard]] bool try_lock_until(std::chrono::time_point<Clock, Duration> deadline,
                                    interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("Mutex::try_lock_until", this, where);
    const auto now = P::now();
    const auto at = detail::deadline_at(now, deadline);
    std::uint32_t expected = kUnlocked;
    if (state_.compare_exchange_strong(expected, kLocked, std::memory_order_acquire, std::memory_order_relaxed)) {
      note_owner();
      return true;
    }
    if (at <= now) return false;
    if (!lock_slow_until(at)) return false;
    note_owner();
    return true;
  }

  void unlock(interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("Mutex::unlock", this, where);
    check_owner_on_unlock(where);
    if (state_.exchange(kUnlocked, std::memory_order_release) == kContended) {
      P::wake_one(state_);
    }
  }

 private:
  static constexpr std::uint32_t kUnlocked = 0;
  static constexpr std::uint32_t kLocked = 1;     // held, nobody sleeping
  static constexpr std::uint32_t kContended = 2;  // held, some thread may be sleeping

  void lock_slow() {
    // Spin briefly: critical sections are usually short, and sleeping costs two system calls.
    for (int i = 0; i < P::spin_limit; ++i) {
      P::relax();
      std::uint32_t expected = kUnlocked;
      if (state_.load(std::memory_order_relaxed) == kUnlocked &&
          state_.compare_exchange_weak(expected, kLocked, std::memory_order_acquire, std::memory_order_relaxed)) {
        return;
      }
    }
    // Announce a sleeper by moving to kContended; whoever unlocks then wakes one of us.
    while (state_.exchange(kContended, std::memory_order_acquire) != kUnlocked) {
      P::wait(state_, kContended);
    }
  }

  bool lock_slow_until(typename P::TimePoint deadline) {
    while (state_.exchange(kContended, std::memory_order_acquire) != kUnlocked) {
      if (!P::wait_until(state_, kContended, deadline)) {
        // Timed out; one last attempt so a lock freed exactly at the deadline is not missed.
        return state_.exchange(kContended, std::memory_order_acquire) == kUnlocked;
      }
    }
    return true;
  }

  void note_owner() noexcept {
    if constexpr (INTERLEAVE_CHECK_OWNERSHIP) owner_.store(P::this_thread_id(), std::memory_order_relaxed);
  }

  void check_owner_on_unlock(interleave::source_location where) {
    if constexpr (INTERLEAVE_CHECK_OWNERSHIP) {
      const std::uint32_t me = P::this_thread_id();
      const std::uint32_t owner = owner_.load(std::memory_order_relaxed);
      // Every lock notes its owner, so no owner means not locked (reading state_ here would be
      // an operation of the algorithm's own, a scheduling point in the model).
      if (owner == 0) {
        P::contract_violation("Mutex::unlock: the mutex is not locked (thread " + std::to_string(me) + " unlocked it)",
                              where);
      }
      if (owner != me) {
        P::contract_violation("Mutex::unlock: thread " + std::to_string(me) +
                                  " does not own the mutex (it is held by thread " + std::to_string(owner) + ")",
                              where);
      }
      owner_.store(0, std::memory_order_relaxed);
    }
  }

  typename P::template Atomic<std::uint32_t> state_{kUnlocked};
  // The holder's thread id; written and checked only when INTERLEAVE_CHECK_OWNERSHIP is on, but
  // always present so debug and release objects have the same layout. Bookkeeping, not part of
  // the algorithm: a plain std::atomic, not the platform's, so that under the model it is no
  // scheduling point and debug and release builds explore the same schedules. Relaxed is enough:
  // only the holder writes it, and the next holder's write is ordered after by state_'s
  // release/acquire.
  std::atomic<std::uint32_t> owner_{0};
};

using Mutex = BasicMutex<>;
// For a Mutex placed in memory shared between processes.
using ProcessMutex = BasicMutex<NativeSharedPlatform>;

}  // namespace interleave
