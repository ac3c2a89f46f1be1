// Deliberately broken condition variables: realistic mistakes the Condition properties must
// catch. Each has the interface the properties use (wait(lock), wait_for(lock, d), notify_one(),
// notify_all()) and is written over a platform P. All but the first are the textbook futex
// condition variable (a sequence number read before the lock is released, a wake after it is
// bumped), with one thing wrong.
#pragma once

#include <chrono>
#include <cstdint>

#include "interleave/platform.h"

namespace interleave::zoo {

// Reads the sequence number after releasing the lock: a notify landing between the unlock and
// that read is missed, and the waiter sleeps through it.
template <Platform P>
class UnlockThenReadCondition {
 public:
  template <class Lock>
  void wait(Lock& lock) {
    lock.unlock();
    const std::uint32_t seen = sequence_.load();  // should be read before lock.unlock()
    P::wait(sequence_, seen);
    lock.lock();
  }
  template <class Lock, class Rep, class Period>
  bool wait_for(Lock& lock, std::chrono::duration<Rep, Period> timeout) {
    const auto deadline = P::now() + timeout;
    lock.unlock();
    const std::uint32_t seen = sequence_.load();
    const bool woken = P::wait_until(sequence_, seen, deadline);
    lock.lock();
    return woken;
  }
  void notify_one() {
    sequence_.fetch_add(1);
    P::wake_one(sequence_);
  }
  void notify_all() {
    sequence_.fetch_add(1);
    P::wake_all(sequence_);
  }

 private:
  typename P::template Atomic<std::uint32_t> sequence_{0};
};

// The textbook futex condition variable, correct but for what it promises: notify_one wakes every
// sleeper (as detail::BasicCondition does), and a futex wait may return spuriously, so more than
// one waiter returns for one notify_one.
template <Platform P>
class NotifyOneWakesAllCondition {
 public:
  template <class Lock>
  void wait(Lock& lock) {
    const std::uint32_t seen = sequence_.load();
    lock.unlock();
    P::wait(sequence_, seen);
    lock.lock();
  }
  template <class Lock, class Rep, class Period>
  bool wait_for(Lock& lock, std::chrono::duration<Rep, Period> timeout) {
    const auto deadline = P::now() + timeout;
    const std::uint32_t seen = sequence_.load();
    lock.unlock();
    const bool woken = P::wait_until(sequence_, seen, deadline);
    lock.lock();
    return woken;
  }
  void notify_one() {
    sequence_.fetch_add(1);
    P::wake_all(sequence_);  // should wake one
  }
  void notify_all() {
    sequence_.fetch_add(1);
    P::wake_all(sequence_);
  }

 private:
  typename P::template Atomic<std::uint32_t> sequence_{0};
};

// notify_all wakes one sleeper: the others sleep on although the state changed for them too.
template <Platform P>
class NotifyAllWakesOneCondition {
 public:
  template <class Lock>
  void wait(Lock& lock) {
    const std::uint32_t seen = sequence_.load();
    lock.unlock();
    while (sequence_.load() == seen) P::wait(sequence_, seen);
    lock.lock();
  }
  template <class Lock, class Rep, class Period>
  bool wait_for(Lock& lock, std::chrono::duration<Rep, Period> timeout) {
    const auto deadline = P::now() + timeout;
    const std::uint32_t seen = sequence_.load();
    lock.unlock();
    bool woken = true;
    while (woken && sequence_.load() == seen) woken = P::wait_until(sequence_, seen, deadline);
    lock.lock();
    return woken;
  }
  void notify_one() {
    sequence_.fetch_add(1);
    P::wake_one(sequence_);
  }
  void notify_all() {
    sequence_.fetch_add(1);
    P::wake_one(sequence_);  // should wake all
  }

 private:
  typename P::template Atomic<std::uint32_t> sequence_{0};
};

// A timed wait that reports "notified" whenever the futex wait returned before the deadline, a
// spurious wake-up included: wait_for returns true although nobody notified.
template <Platform P>
class SpuriousTrueCondition {
 public:
  template <class Lock>
  void wait(Lock& lock) {
    (void)wait_for(lock, std::chrono::hours(24));
  }
  template <class Lock, class Rep, class Period>
  bool wait_for(Lock& lock, std::chrono::duration<Rep, Period> timeout) {
    const auto deadline = P::now() + timeout;
    const std::uint32_t seen = sequence_.load();
    lock.unlock();
    const bool woken = P::wait_until(sequence_, seen, deadline);  // should loop while unchanged
    lock.lock();
    return woken;
  }
  void notify_one() {
    sequence_.fetch_add(1);
    P::wake_one(sequence_);
  }
  void notify_all() {
    sequence_.fetch_add(1);
    P::wake_all(sequence_);
  }

 private:
  typename P::template Atomic<std::uint32_t> sequence_{0};
};

}  // namespace interleave::zoo
