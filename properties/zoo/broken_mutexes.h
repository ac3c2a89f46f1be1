// Deliberately broken mutexes: realistic mistakes the Mutex properties must catch. Each has the
// interface of BasicMutex (lock / try_lock / unlock) and is written over a platform P.
#pragma once

#include <cstdint>

#include "interleave/platform.h"

namespace interleave::zoo {

// Checks that the lock is free, then takes it, in two steps: two threads can both see it free.
template <Platform P>
class CheckThenSetMutex {
 public:
  void lock() {
    while (state_.load() != 0) P::wait(state_, 1);
    state_.store(1);
  }
  bool try_lock() {
    if (state_.load() != 0) return false;
    state_.store(1);
    return true;
  }
  void unlock() {
    state_.store(0);
    P::wake_one(state_);
  }

 private:
  typename P::template Atomic<std::uint32_t> state_{0};
};

// A futex mutex whose unlock forgets to wake a sleeper when the lock was contended: the sleeper
// waits forever once nobody else comes by.
template <Platform P>
class MissingWakeMutex {
 public:
  void lock() {
    std::uint32_t expected = 0;
    if (state_.compare_exchange_strong(expected, 1)) return;
    while (state_.exchange(2) != 0) P::wait(state_, 2);
  }
  bool try_lock() {
    std::uint32_t expected = 0;
    return state_.compare_exchange_strong(expected, 1);
  }
  void unlock() { state_.store(0); }  // should wake one waiter when the old state was 2

 private:
  typename P::template Atomic<std::uint32_t> state_{0};
};

// lock() is right, but try_lock() peeks and then claims in two steps, so it can grant a lock that
// another thread took in between.
template <Platform P>
class RacyTryLockMutex {
 public:
  void lock() {
    std::uint32_t expected = 0;
    if (state_.compare_exchange_strong(expected, 1)) return;
    while (state_.exchange(2) != 0) P::wait(state_, 2);
  }
  bool try_lock() {
    if (state_.load() != 0) return false;
    state_.store(1);
    return true;
  }
  void unlock() {
    if (state_.exchange(0) == 2) P::wake_one(state_);
  }

 private:
  typename P::template Atomic<std::uint32_t> state_{0};
};

}  // namespace interleave::zoo
