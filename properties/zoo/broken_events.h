// Deliberately broken events: realistic mistakes the Event properties must catch.
// Interface: set(), clear(), is_set(), wait(), wait_for(duration) -> bool.
#pragma once

#include <chrono>
#include <cstdint>

#include "interleave/platform.h"

namespace interleave::zoo {

enum class EventBug {
  flag_loop,      // waiters loop on the flag, so set() followed at once by clear() strands them
  set_wakes_one,  // set() wakes a single waiter
};

template <Platform P, EventBug Bug>
class BrokenEvent {
 public:
  void set() {
    flag_.store(1);
    if constexpr (Bug == EventBug::set_wakes_one) {
      P::wake_one(flag_);
    } else {
      P::wake_all(flag_);
    }
  }
  void clear() { flag_.store(0); }
  bool is_set() const { return flag_.load() != 0; }

  void wait() { (void)wait_until(nullptr); }
  template <class Rep, class Period>
  bool wait_for(std::chrono::duration<Rep, Period> timeout) {
    const auto deadline = P::now() + timeout;
    return wait_until(&deadline);
  }

 private:
  bool wait_until(const typename P::TimePoint* deadline) {
    while (flag_.load() == 0) {
      if (deadline == nullptr) {
        P::wait(flag_, 0);
      } else if (!P::wait_until(flag_, 0, *deadline)) {
        return flag_.load() != 0;
      }
    }
    return true;
  }

  typename P::template Atomic<std::uint32_t> flag_{0};
};

template <Platform P>
using FlagLoopEvent = BrokenEvent<P, EventBug::flag_loop>;
template <Platform P>
using SetWakesOneEvent = BrokenEvent<P, EventBug::set_wakes_one>;

// The classic lost wake-up: the waiter sleeps on a separate word that set() signals only when it
// saw the waiter announced; the announcement comes after the waiter checked the flag.
template <Platform P>
class LostWakeupEvent {
 public:
  void set() {
    flag_.store(1);
    if (waiting_.load() != 0) {
      sleep_word_.store(1);
      P::wake_all(sleep_word_);
    }
  }
  void clear() { flag_.store(0); }
  bool is_set() const { return flag_.load() != 0; }
  void wait() {
    if (flag_.load() != 0) return;
    waiting_.store(1);
    while (sleep_word_.load() == 0) P::wait(sleep_word_, 0);
  }
  template <class Rep, class Period>
  bool wait_for(std::chrono::duration<Rep, Period> timeout) {
    if (flag_.load() != 0) return true;
    waiting_.store(1);
    const auto deadline = P::now() + timeout;
    while (sleep_word_.load() == 0) {
      if (!P::wait_until(sleep_word_, 0, deadline)) return flag_.load() != 0;
    }
    return true;
  }

 private:
  typename P::template Atomic<std::uint32_t> flag_{0};
  typename P::template Atomic<std::uint32_t> waiting_{0};
  typename P::template Atomic<std::uint32_t> sleep_word_{0};
};

}  // namespace interleave::zoo
