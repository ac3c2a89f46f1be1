// RecursiveMutex: a lock its holder may take again (Python's threading.RLock,
// std::recursive_timed_mutex), a Mutex plus an owner and a count.
//
// Purpose   Protects data reached through code paths that may lock it again while already
//           holding it (a locked method calling another locked method), between threads or, as
//           BasicRecursiveMutex<NativeSharedPlatform> placed in shared memory, between processes
//           (Python's multiprocessing.RLock). Meets the Lockable and TimedLockable requirements,
//           so std::lock_guard, std::unique_lock and std::scoped_lock work.
// Requires  Every lock()/successful try_lock*() is matched by one unlock() by the same thread.
//           unlock() by a thread that does not hold the lock (another thread's, or a lock nobody
//           holds) is a contract violation in every build: it stops with a message naming both
//           threads (the model reports it as a failure of the schedule). Between processes the
//           holder is named by its kernel thread id (gettid), unique across processes: a fork()ed
//           child never takes itself for the holder of a lock its parent holds, it waits.
// Guarantees
//   - Mutual exclusion: at most one thread (of any process sharing it) holds the lock at any time.
//   - The holder may lock again without blocking; the lock is released only by the unlock that
//     matches the first lock (after as many unlocks as locks).
//   - count() is the number of locks the calling thread holds (0 when it holds none).
//   - try_lock never blocks and never grants a lock another thread holds; try_lock_for/until
//     return false only if the lock could not be taken before the deadline.
//   - More than max_count nested locks throw std::overflow_error (and change nothing).
//   - Not fair, as Mutex.
// Memory ordering
//   Everything written by a thread before its last unlock() is visible to the next thread after
//   its first successful lock (as Mutex). Nested locks and unlocks by the holder order nothing.
// Blocking  The first lock spins briefly, then sleeps on the Mutex's futex; nested ones never
//           block. unlock() makes a system call only when it releases and a thread may sleep.
// Timeouts  As Mutex: try_lock_for(d), d < 0 throws std::invalid_argument, d == 0 is one
//           try_lock; try_lock_until(t) on another clock counts the same distance from now. A
//           nested lock succeeds at once whatever the timeout.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include "interleave/mutex.h"
#include "interleave/native_platform.h"
#include "interleave/source_location.h"

namespace interleave {

template <Platform P = NativePlatform>
class BasicRecursiveMutex {
 public:
  // The most nested locks one holder may take.
  static constexpr std::uint32_t max_count = std::numeric_limits<std::uint32_t>::max();

  BasicRecursiveMutex() noexcept = default;
  BasicRecursiveMutex(const BasicRecursiveMutex&) = delete;
  BasicRecursiveMutex& operator=(const BasicRecursiveMutex&) = delete;

  void lock(interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("RecursiveMutex::lock", this, where);
    if (relock()) return;
    mutex_.lock(where);
    take();
  }

  [[nodiscard]] bool try_lock(interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("RecursiveMutex::try_lock", this, where);
    if (relock()) return true;
    if (!mutex_.try_lock(where)) return false;
    take();
    return true;
  }

  template <class Rep, class Period>
  [[nodiscard]] bool try_lock_for(std::chrono::duration<Rep, Period> timeout,
                                  interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("RecursiveMutex::try_lock_for", this, where);
    if (timeout < decltype(timeout)::zero()) {
      throw std::invalid_argument("RecursiveMutex::try_lock_for: timeout must be >= 0, got a negative duration");
    }
    if (relock()) return true;
    if (!mutex_.try_lock_for(timeout, where)) return false;
    take();
    return true;
  }

  template <class Clock, class Duration>
  [[nodiscard]] bool try_lock_until(std::chrono::time_point<Clock, Duration> deadline,
                                    interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("RecursiveMutex::try_lock_until", this, where);
    if (relock()) return true;
    if (!mutex_.try_lock_until(deadline, where)) return false;
    take();
    return true;
  }

  void unlock(interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("RecursiveMutex::unlock", this, where);
    const std::uint32_t me = P::this_thread_id();
    const std::uint32_t owner = owner_.load(std::memory_order_relaxed);
    if (owner != me) {
      P::contract_violation(
          owner == 0 ? "RecursiveMutex::unlock: the mutex is not locked (thread " + std::to_string(me) + " unlocked it)"
                     : "RecursiveMutex::unlock: thread " + std::to_string(me) +
                           " does not own the mutex (it is held by thread " + std::to_string(owner) + ")",
          where);
    }
    if (--count_ != 0) return;
    owner_.store(0, std::memory_order_relaxed);
    mutex_.unlock(where);
  }

  // How many times the calling thread holds the lock (0 when it does not hold it).
  [[nodiscard]] std::uint32_t count() const noexcept {
    return owner_.load(std::memory_order_relaxed) == P::this_thread_id() ? count_ : 0;
  }

 private:
  // A nested lock by the holder. Only the holder ever stores its own id in owner_ (and clears it
  // before releasing), so reading its id there means it holds the lock; any other thread reads
  // another id or 0.
  bool relock() {
    if (owner_.load(std::memory_order_relaxed) != P::this_thread_id()) return false;
    if (count_ == max_count) {
      throw std::overflow_error("RecursiveMutex: more than " + std::to_string(max_count) +
                                " nested locks by one thread; nothing was locked");
    }
    ++count_;
    return true;
  }

  void take() {
    owner_.store(P::this_thread_id(), std::memory_order_relaxed);
    count_ = 1;
  }

  BasicMutex<P> mutex_;
  // The holder's thread id (0: nobody), written only by the holder under mutex_.
  typename P::template Atomic<std::uint32_t> owner_{0};
  // Nested locks of the holder; read and written only by it.
  std::uint32_t count_ = 0;
};

using RecursiveMutex = BasicRecursiveMutex<>;
// For a RecursiveMutex placed in memory shared between processes.
using ProcessRecursiveMutex = BasicRecursiveMutex<NativeSharedPlatform>;

}  // namespace interleave
