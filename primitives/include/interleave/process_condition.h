// ProcessCondition: a condition variable whose state holds no pointer, so that it works between
// processes placed in shared memory (Python's multiprocessing.Condition), with the guarantees of
// Condition (condition.h) and a bounded number of waiters.
//
// Purpose   Lets a thread or process holding a lock sleep until another one changes the state that
//           lock protects: wait(lock) releases the lock, sleeps until notified, and locks it
//           again. Works with any BasicLockable lock; between processes, a ProcessMutex (or
//           another process-capable lock) in the same shared memory.
// Requires  The caller of wait*() holds `lock` (exactly once). The state a waiter waits for is
//           changed while holding the same lock; notify_one/notify_all may be called with or
//           without it. The condition outlives every wait on it. Between processes the object
//           lives in memory every process maps (SharedObject<ProcessCondition>, or a member of a
//           shared struct) and P is a process-capable platform (NativeSharedPlatform, the
//           default). At most kSlots waiters at once (64 by default): a wait that finds them all
//           taken throws std::length_error before releasing the lock, which stays held.
// Guarantees
//   - No lost wake-up: a waiter that was waiting (had released its lock inside wait) when
//     notify_one or notify_all was called is woken by it, if the notify is made after the state
//     change under the lock.
//   - notify_one wakes at most one waiter: the one waiting longest (each wait takes a ticket in
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
// Blocking  wait*() sleeps on the futex word of a slot of its own. notify_* takes a short
//           internal lock, looks through the slots, and makes one futex wake per woken waiter.
// Timeouts  As Condition: wait_for(lock, d): d < 0 throws std::invalid_argument; d == 0 releases
//           and relocks the lock and returns false unless notified meanwhile. wait_until(lock, t):
//           a t on another clock than the platform's counts as the same distance from now. The
//           predicate forms return the predicate's value at the end.
// Processes A process that dies while waiting leaves its slot taken (one fewer for the others);
//           one that dies holding the internal lock (inside notify_* or at the start or end of a
//           wait) leaves the condition unusable, as a ProcessMutex held by a dead process would.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "interleave/mutex.h"
#include "interleave/native_platform.h"
#include "interleave/source_location.h"
#include "interleave/timeout.h"

namespace interleave {

template <Platform P = NativeSharedPlatform, std::size_t kSlots = 64>
class BasicProcessCondition {
  static_assert(kSlots > 0, "a ProcessCondition needs at least one waiter slot");

 public:
  BasicProcessCondition() noexcept = default;
  BasicProcessCondition(const BasicProcessCondition&) = delete;
  BasicProcessCondition& operator=(const BasicProcessCondition&) = delete;

  // The most waiters at once.
  static constexpr std::size_t capacity() noexcept { return kSlots; }

  // Releases `lock`, sleeps until notified, locks it again.
  template <class Lock>
  void wait(Lock& lock, interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("ProcessCondition::wait", this, where);
    const Claim claim{*this, "ProcessCondition::wait", where};
    {
      const Relock<Lock> relock{lock};
      lock.unlock();
      Slot& slot = slots_[claim.slot];
      while (slot.word.load(std::memory_order_acquire) == kWaiting) P::wait(slot.word, kWaiting);
    }
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
    typename P::Operation op("ProcessCondition::wait_for", this, where);
    return wait_until_deadline(lock, detail::deadline_after(P::now(), timeout, "ProcessCondition::wait_for"),
                               "ProcessCondition::wait_for", where);
  }

  // wait_for until pred() is true or the time is up; returns pred().
  template <class Lock, class Rep, class Period, class Predicate>
  bool wait_for(Lock& lock, std::chrono::duration<Rep, Period> timeout, Predicate pred,
                interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("ProcessCondition::wait_for", this, where);
    const auto deadline = detail::deadline_after(P::now(), timeout, "ProcessCondition::wait_for");
    while (!pred()) {
      if (!wait_until_deadline(lock, deadline, "ProcessCondition::wait_for", where)) return pred();
    }
    return true;
  }

  // As wait(lock) until an absolute deadline on any clock; true when notified.
  template <class Lock, class Clock, class Duration>
  bool wait_until(Lock& lock, std::chrono::time_point<Clock, Duration> deadline,
                  interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("ProcessCondition::wait_until", this, where);
    return wait_until_deadline(lock, detail::deadline_at(P::now(), deadline), "ProcessCondition::wait_until", where);
  }

  // wait_until until pred() is true or the deadline passed; returns pred().
  template <class Lock, class Clock, class Duration, class Predicate>
  bool wait_until(Lock& lock, std::chrono::time_point<Clock, Duration> deadline, Predicate pred,
                  interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("ProcessCondition::wait_until", this, where);
    const auto at = detail::deadline_at(P::now(), deadline);
    while (!pred()) {
      if (!wait_until_deadline(lock, at, "ProcessCondition::wait_until", where)) return pred();
    }
    return true;
  }

  // Wakes the longest-waiting waiter, if any.
  void notify_one(interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("ProcessCondition::notify_one", this, where);
    if (waiting_.load(std::memory_order_acquire) == 0) return;
    guard_.lock(where);
    std::size_t oldest = kSlots;
    for (std::size_t i = 0; i < kSlots; ++i) {
      if (slots_[i].status == kWaiting && (oldest == kSlots || slots_[i].ticket < slots_[oldest].ticket)) oldest = i;
    }
    if (oldest != kSlots) wake(slots_[oldest]);
    guard_.unlock(where);
  }

  // Wakes every thread waiting now.
  void notify_all(interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("ProcessCondition::notify_all", this, where);
    if (waiting_.load(std::memory_order_acquire) == 0) return;
    guard_.lock(where);
    for (Slot& slot : slots_) {
      if (slot.status == kWaiting) wake(slot);
    }
    guard_.unlock(where);
  }

 private:
  static constexpr std::uint32_t kFree = 0;
  static constexpr std::uint32_t kWaiting = 1;
  static constexpr std::uint32_t kNotified = 2;

  // One waiter's place. `status` and `ticket` are read and written under guard_ only (notify_*
  // looks through them without touching any futex word); `word` is what the waiter sleeps on.
  struct Slot {
    typename P::template Atomic<std::uint32_t> word{kFree};
    std::uint32_t status = kFree;
    std::uint64_t ticket = 0;
  };

  // Takes a free slot on construction (or throws, the caller's lock untouched). On destruction
  // (return or exception) frees it under the internal lock, after any notifier that is waking it
  // has finished, and sets *notified (when given) to whether a notify took it.
  struct Claim {
    Claim(BasicProcessCondition& c, const char* operation, interleave::source_location where_,
          bool* notified_out = nullptr)
        : condition(c), where(where_), notified(notified_out) {
      condition.guard_.lock(where);
      while (slot < kSlots && condition.slots_[slot].status != kFree) ++slot;
      if (slot == kSlots) {
        condition.guard_.unlock(where);
        throw std::length_error(std::string(operation) + ": " + std::to_string(kSlots) +
                                " waiters are waiting already, the most this condition holds (its kSlots); the "
                                "lock is still held");
      }
      Slot& s = condition.slots_[slot];
      s.status = kWaiting;
      s.ticket = condition.next_ticket_++;
      s.word.store(kWaiting, std::memory_order_relaxed);
      condition.waiting_.fetch_add(1, std::memory_order_relaxed);
      condition.guard_.unlock(where);
    }
    Claim(const Claim&) = delete;
    Claim& operator=(const Claim&) = delete;
    ~Claim() noexcept(false) {  // the model may unwind a sleeping thread (teardown)
      condition.guard_.lock(where);
      Slot& s = condition.slots_[slot];
      if (notified != nullptr) *notified = s.status == kNotified;
      if (s.status == kWaiting) condition.waiting_.fetch_sub(1, std::memory_order_relaxed);
      s.status = kFree;
      condition.guard_.unlock(where);
    }
    BasicProcessCondition& condition;
    interleave::source_location where;
    bool* notified;
    std::size_t slot = 0;
  };

  // Locks the caller's lock again when the wait ends, by return or by exception. Constructed
  // after Claim (so it relocks first, then the slot is freed).
  template <class Lock>
  struct Relock {
    explicit Relock(Lock& l) noexcept : lock(l) {}
    Relock(const Relock&) = delete;
    Relock& operator=(const Relock&) = delete;
    ~Relock() noexcept(false) { lock.lock(); }  // the model may unwind a lock (teardown)
    Lock& lock;
  };

  template <class Lock>
  bool wait_until_deadline(Lock& lock, typename P::TimePoint deadline, const char* operation,
                           interleave::source_location where) {
    bool notified = false;
    {
      const Claim claim{*this, operation, where, &notified};
      {
        const Relock<Lock> relock{lock};
        lock.unlock();
        Slot& slot = slots_[claim.slot];
        while (slot.word.load(std::memory_order_acquire) == kWaiting) {
          if (!P::wait_until(slot.word, kWaiting, deadline)) break;
        }
      }
    }
    // Decided when the slot was freed, under the internal lock (the claim's destructor): a notify
    // that came before is this waiter's, one after it is not.
    return notified;
  }

  // Under guard_: the waiter cannot free its slot before the wake is done.
  void wake(Slot& slot) {
    slot.status = kNotified;
    waiting_.fetch_sub(1, std::memory_order_relaxed);
    slot.word.store(kNotified, std::memory_order_release);
    P::wake_one(slot.word);
  }

  // Protects the slots' status and tickets and next_ticket_.
  BasicMutex<P> guard_;
  std::array<Slot, kSlots> slots_{};
  std::uint64_t next_ticket_ = 0;
  // How many slots are waiting (not yet notified), readable without guard_: notify_* returns at
  // once when it is zero.
  typename P::template Atomic<std::uint32_t> waiting_{0};
};

using ProcessCondition = BasicProcessCondition<>;

}  // namespace interleave
