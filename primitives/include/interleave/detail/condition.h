// detail::BasicCondition<P>: a condition variable / event count over a platform.
// detail::BasicLockGuard<P>: a scoped BasicMutex<P> lock that passes the caller's source location.
//
// Purpose   Lets a thread sleep until another thread changes some shared state it is waiting on.
//           Two ways to use it:
//   With a mutex (a classic condition variable): with `mutex` held and the predicate false, call
//           wait(mutex) / wait_until(mutex, deadline); it releases the mutex, sleeps, re-locks.
//           The notifier changes the state under the same mutex and calls notify_* (after
//           unlocking is cheaper).
//   Lock-free (an event count), for state kept in atomics:
//             auto ticket = cond.prepare_wait();      // register as a waiter
//             if (predicate()) cond.cancel_wait();    // re-check AFTER registering
//             else cond.wait(ticket);                 // sleeps unless notified since prepare_wait
//           The notifier changes the state with a seq_cst atomic operation, then calls notify_*.
// Requires  Callers re-check their predicate after wait returns: it may return spuriously, and
//           another thread may have consumed what the notify announced.
// Guarantees
//   - No lost wake-up: a waiter that registered (prepare_wait, or wait under the mutex) before a
//     notifier's state change was made visible is woken by that notifier's notify_* (or its wait
//     returns at once).
//   - notify_* makes no system call unless some thread registered since the last notify that
//     woke: a burst of notifies costs one wake-up.
//   - notify_one wakes every registered thread, as notify_all does (see Algorithm): callers must
//     tolerate waking and finding nothing to do. With few waiters per condition (the queue's
//     case) this costs less than tracking waiters one by one.
// Algorithm One futex word: bit 0 says "some thread registered", the rest is a generation count.
//           prepare_wait sets bit 0 (seq_cst fetch_or) and returns the word as its ticket; wait
//           sleeps only while the word still equals the ticket. A notifier that sees bit 0 set
//           replaces the word by (generation + 1, bit clear) with one CAS and wakes all sleepers;
//           if its CAS fails, another notifier just did that. Registration (set bit, then the
//           caller's re-check) and notification (the state change, then reading the word) are
//           seq_cst, so in their single total order either the re-check sees the change or the
//           notifier sees the bit. A waiter could sleep through a notify only if exactly 2^31
//           notifies happened between its registration and its sleep.
// Memory ordering
//   None of its own beyond the above: the state itself carries its ordering (the mutex, or the
//   caller's atomics).
#pragma once

#include <cstdint>

#include "interleave/mutex.h"
#include "interleave/platform.h"
#include "interleave/source_location.h"

namespace interleave::detail {

template <Platform P>
class BasicCondition {
 public:
  BasicCondition() noexcept = default;
  BasicCondition(const BasicCondition&) = delete;
  BasicCondition& operator=(const BasicCondition&) = delete;

  // What prepare_wait() returns: the word value a wait compares against.
  using Ticket = std::uint32_t;

  // Releases `mutex` (held by the caller), sleeps until notified (or spuriously), re-locks it.
  // The mutex is held again however it returns, an exception included (the model scheduler tears
  // a sleeping thread down by unwinding it), as std::condition_variable::wait promises.
  void wait(BasicMutex<P>& mutex, interleave::source_location where) {
    const Ticket ticket = prepare_wait();
    mutex.unlock(where);
    const Relock relock{mutex, where};
    wait(ticket);
  }

  // As wait(mutex); returns false when it woke because `deadline` passed. The mutex is held again
  // either way, and the caller's predicate may hold in both cases: re-check it.
  bool wait_until(BasicMutex<P>& mutex, typename P::TimePoint deadline, interleave::source_location where) {
    const Ticket ticket = prepare_wait();
    mutex.unlock(where);
    const Relock relock{mutex, where};
    return wait_until(ticket, deadline);
  }

  // Registers the caller as a waiter. Follow with a re-check of the predicate, then either give
  // up (cancel_wait) or sleep (wait / wait_until with the ticket).
  [[nodiscard]] Ticket prepare_wait() noexcept {
    return state_.fetch_or(kRegistered, std::memory_order_seq_cst) | kRegistered;
  }
  // Gives up a registration (the re-check found the predicate true). The next notify may then
  // make one system call for nobody.
  void cancel_wait() noexcept {}
  // Sleeps unless a notify came since prepare_wait (or returns spuriously). Not noexcept: the
  // model scheduler ends a failed schedule by unwinding the threads that sleep here.
  void wait(Ticket ticket) { P::wait(state_, ticket); }
  // As wait(ticket); returns false when it woke because `deadline` passed.
  bool wait_until(Ticket ticket, typename P::TimePoint deadline) { return P::wait_until(state_, ticket, deadline); }

  // Wakes the registered threads, if any (all of them: see Guarantees).
  void notify_one() noexcept { notify_all(); }

  // Wakes every registered thread. A system call only when some thread registered since the
  // last wake-up.
  void notify_all() noexcept {
    std::uint32_t word = state_.load(std::memory_order_seq_cst);
    if ((word & kRegistered) == 0) return;
    if (state_.compare_exchange_strong(word, (word & ~kRegistered) + 2, std::memory_order_seq_cst)) {
      P::wake_all(state_);
    }
  }

 private:
  static constexpr std::uint32_t kRegistered = 1;

  // Locks the mutex when the wait ends, by return or by exception.
  struct Relock {
    Relock(BasicMutex<P>& mutex_, interleave::source_location where_) noexcept : mutex(mutex_), where(where_) {}
    Relock(const Relock&) = delete;
    Relock& operator=(const Relock&) = delete;
    ~Relock() noexcept(false) { mutex.lock(where); }  // the model may unwind a lock (teardown)
    BasicMutex<P>& mutex;
    interleave::source_location where;
  };

  typename P::template Atomic<std::uint32_t> state_{0};
};

template <Platform P>
class BasicLockGuard {
 public:
  BasicLockGuard(BasicMutex<P>& mutex, interleave::source_location where) : mutex_(mutex), where_(where) {
    mutex_.lock(where_);
  }
  BasicLockGuard(const BasicLockGuard&) = delete;
  BasicLockGuard& operator=(const BasicLockGuard&) = delete;
  ~BasicLockGuard() {
    if (held_) mutex_.unlock(where_);
  }

  // Releases the lock early (at most once).
  void unlock() {
    held_ = false;
    mutex_.unlock(where_);
  }

  [[nodiscard]] BasicMutex<P>& mutex() const noexcept { return mutex_; }
  [[nodiscard]] interleave::source_location where() const noexcept { return where_; }

 private:
  BasicMutex<P>& mutex_;
  interleave::source_location where_;
  bool held_ = true;
};

}  // namespace interleave::detail
