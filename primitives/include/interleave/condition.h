// Condition: a condition variable (Python's threading.Condition, std::condition_variable_any)
// whose waiters sleep each on their own futex word, queued in arrival order.
//
// Purpose   Lets a thread holding a lock sleep until another thread changes the state that lock
//           protects: wait(lock) releases the lock, sleeps until notified, and locks it again.
//           Works with any BasicLockable lock: Mutex, std::unique_lock<Mutex>,
//           std::unique_lock<std::mutex>, ...
// Requires  The caller of wait*() holds `lock` (exactly once). The state a waiter waits for is
//           changed while holding the same lock; notify_one/notify_all may be called with or
//           without it. The condition outlives every wait on it. Not for processes: each
//           waiter's queue node and futex word live on its own stack and the queue links them by
//           pointer, which a notifier in another process would follow into its own memory;
//           ProcessCondition (process_condition.h) keeps its waiters in slots inside the object.
// Guarantees
//   - No lost wake-up: a waiter that was waiting (had released its lock inside wait) when
//     notify_one or notify_all was called is woken by it, if the notify is made after the state
//     change under the lock.
//   - notify_one wakes at most one waiter: the one waiting longest (waiters are queued in
//     arrival order). notify_all wakes every waiter waiting at the time of the call, and none
//     that starts waiting later.
//   - No spurious wake-ups: wait() returns only when notified; wait_for/wait_until return true
//     only when notified, false only when the deadline passed first (a notify racing the
//     deadline counts as a wake-up: it is never absorbed by a waiter that reports a timeout).
//   - The lock is held again whenever a wait returns, by exception included.
//   - notify_* with nobody waiting makes no system call and takes no lock (one atomic load).
// Memory ordering
//   The lock orders the state. Besides, everything a notifier wrote before notify_* is visible
//   to the waiter it wakes after its wait returns (the wake-up is a release/acquire pair).
// Blocking  wait*() sleeps on a futex word of its own. notify_* takes a short internal lock and
//           makes one futex wake per woken waiter.
// Timeouts  wait_for(lock, d): d < 0 throws std::invalid_argument; d == 0 releases and relocks
//           the lock and returns false unless notified meanwhile. wait_until(lock, t): a t on
//           another clock than the platform's counts as the same distance from now. The
//           predicate forms return the predicate's value at the end.
#pragma once

#include <chrono>
#include <cstdint>

#include "interleave/mutex.h"
#include "interleave/native_platform.h"
#include "interleave/source_location.h"
#include "interleave/timeout.h"

namespace interleave {

template <Platform P = NativePlatform>
class BasicCondition {
 public:
  BasicCondition() noexcept = default;
  BasicCondition(const BasicCondition&) = delete;
  BasicCondition& operator=(const BasicCondition&) = delete;

  // Releases `lock`, sleeps until notified, locks it again.
  template <class Lock>
  void wait(Lock& lock, interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("Condition::wait", this, where);
    Waiter waiter;
    Enqueued enqueued{*this, waiter, where};
    const Relock<Lock> relock{lock};
    lock.unlock();
    while (waiter.notified.load(std::memory_order_acquire) == 0) P::wait(waiter.notified, 0);
  }

  // wait(lock) until pred() is true (checked first, and after every wake-up, with the lock held).
  template <class Lock, class Predicate>
  void wait(Lock& lock, Predicate pred, interleave::source_location where = interleave::source_location::current()) {
    while (!pred()) wait(lock, where);
  }

  // As wait(lock); true when notified, false when `timeout` passed first.
  template <class Lock, class Rep, class Period>
  bool wait_for(Lock& lock, std::chrono::duration<Rep, Period> timeout,
                interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("Condition::wait_for", this, where);
    return wait_until_deadline(lock, detail::deadline_after(P::now(), timeout, "Condition::wait_for"), where);
  }

  // wait_for until pred() is true or the time is up; returns pred().
  template <class Lock, class Rep, class Period, class Predicate>
  bool wait_for(Lock& lock, std::chrono::duration<Rep, Period> timeout, Predicate pred,
                interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("Condition::wait_for", this, where);
    const auto deadline = detail::deadline_after(P::now(), timeout, "Condition::wait_for");
    while (!pred()) {
      if (!wait_until_deadline(lock, deadline, where)) return pred();
    }
    return true;
  }

  // As wait(lock) until an absolute deadline on any clock; true when notified.
  template <class Lock, class Clock, class Duration>
  bool wait_until(Lock& lock, std::chrono::time_point<Clock, Duration> deadline,
                  interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("Condition::wait_until", this, where);
    return wait_until_deadline(lock, detail::deadline_at(P::now(), deadline), where);
  }

  // wait_until until pred() is true or the deadline passed; returns pred().
  template <class Lock, class Clock, class Duration, class Predicate>
  bool wait_until(Lock& lock, std::chrono::time_point<Clock, Duration> deadline, Predicate pred,
                  interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("Condition::wait_until", this, where);
    const auto at = detail::deadline_at(P::now(), deadline);
    while (!pred()) {
      if (!wait_until_deadline(lock, at, where)) return pred();
    }
    return true;
  }

  // Wakes the longest-waiting waiter, if any.
  void notify_one(interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("Condition::notify_one", this, where);
    if (waiting_.load(std::memory_order_acquire) == 0) return;
    guard_.lock(where);
    if (Waiter* w = head_) {
      unlink(*w);
      wake(*w);
    }
    guard_.unlock(where);
  }

  // Wakes every thread waiting now.
  void notify_all(interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("Condition::notify_all", this, where);
    if (waiting_.load(std::memory_order_acquire) == 0) return;
    guard_.lock(where);
    while (Waiter* w = head_) {
      unlink(*w);
      wake(*w);
    }
    guard_.unlock(where);
  }

 private:
  // One sleeping thread: its own futex word, linked into the queue while it waits.
  struct Waiter {
    typename P::template Atomic<std::uint32_t> notified{0};
    Waiter* previous = nullptr;
    Waiter* next = nullptr;
    bool queued = false;
  };

  // Queues the waiter on construction. On destruction (return or exception) it waits for a
  // notifier that may still be waking it to finish (the internal lock), and leaves the queue if no
  // notifier took it out. Returns, through `notified`, whether it was woken.
  struct Enqueued {
    Enqueued(BasicCondition& c, Waiter& w, interleave::source_location where_)
        : condition(c), waiter(w), where(where_) {
      condition.guard_.lock(where);
      condition.link(waiter);
      condition.guard_.unlock(where);
    }
    Enqueued(const Enqueued&) = delete;
    Enqueued& operator=(const Enqueued&) = delete;
    ~Enqueued() noexcept(false) {  // the model may unwind a sleeping thread (teardown)
      condition.guard_.lock(where);
      if (waiter.queued) condition.unlink(waiter);
      condition.guard_.unlock(where);
    }
    BasicCondition& condition;
    Waiter& waiter;
    interleave::source_location where;
  };

  // Locks the caller's lock again when the wait ends, by return or by exception. Constructed
  // after Enqueued (so it relocks first, then the waiter leaves the queue): a failure to queue
  // leaves the caller's lock as it was, held.
  template <class Lock>
  struct Relock {
    explicit Relock(Lock& l) noexcept : lock(l) {}
    Relock(const Relock&) = delete;
    Relock& operator=(const Relock&) = delete;
    ~Relock() noexcept(false) { lock.lock(); }  // the model may unwind a lock (teardown)
    Lock& lock;
  };

  template <class Lock>
  bool wait_until_deadline(Lock& lock, typename P::TimePoint deadline, interleave::source_location where) {
    Waiter waiter;
    {
      Enqueued enqueued{*this, waiter, where};
      const Relock<Lock> relock{lock};
      lock.unlock();
      while (waiter.notified.load(std::memory_order_acquire) == 0) {
        if (!P::wait_until(waiter.notified, 0, deadline)) break;
      }
    }
    // Read after leaving the queue under the internal lock: a notify that came before is seen.
    return waiter.notified.load(std::memory_order_acquire) != 0;
  }

  void link(Waiter& w) {
    w.previous = tail_;
    w.next = nullptr;
    if (tail_ != nullptr) {
      tail_->next = &w;
    } else {
      head_ = &w;
    }
    tail_ = &w;
    w.queued = true;
    waiting_.fetch_add(1, std::memory_order_relaxed);
  }

  void unlink(Waiter& w) {
    (w.previous != nullptr ? w.previous->next : head_) = w.next;
    (w.next != nullptr ? w.next->previous : tail_) = w.previous;
    w.queued = false;
    waiting_.fetch_sub(1, std::memory_order_relaxed);
  }

  // Under guard_: the waiter cannot leave (and free its word) before the wake is done.
  static void wake(Waiter& w) {
    w.notified.store(1, std::memory_order_release);
    P::wake_one(w.notified);
  }

  // Protects the queue (head_, tail_ and the waiters' links).
  BasicMutex<P> guard_;
  Waiter* head_ = nullptr;
  Waiter* tail_ = nullptr;
  // The queue's length, readable without guard_: notify_* returns at once when it is zero.
  typename P::template Atomic<std::uint32_t> waiting_{0};
};

using Condition = BasicCondition<>;

}  // namespace interleave
