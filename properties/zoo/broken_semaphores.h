// Deliberately broken counting semaphores: realistic mistakes the Semaphore properties must catch.
// Interface: Semaphore(initial), acquire(), try_acquire_for(duration), release(n = 1), value().
#pragma once

#include <chrono>
#include <cstdint>

#include "interleave/platform.h"

namespace interleave::zoo {

enum class SemaphoreBug {
  check_then_decrement,  // acquire reads the count, then writes count-1: two takers, one permit
  wake_before_add,       // release wakes sleepers before adding the permit: they sleep again
  release_n_wakes_one,   // release(n) adds n permits but wakes only one sleeper
};

template <Platform P, SemaphoreBug Bug>
class BrokenSemaphore {
 public:
  explicit BrokenSemaphore(std::int64_t initial) : count_(static_cast<std::uint32_t>(initial)) {}

  void acquire() { (void)take(nullptr); }

  template <class Rep, class Period>
  bool try_acquire_for(std::chrono::duration<Rep, Period> timeout) {
    const auto deadline = P::now() + timeout;
    return take(&deadline);
  }

  void release(std::int64_t n = 1) {
    const auto permits = static_cast<std::uint32_t>(n);
    if constexpr (Bug == SemaphoreBug::wake_before_add) {
      if (waiters_.load() > 0) P::wake(count_, permits);
      count_.fetch_add(permits);
      return;
    }
    count_.fetch_add(permits);
    if (waiters_.load() > 0) {
      if constexpr (Bug == SemaphoreBug::release_n_wakes_one) {
        P::wake_one(count_);
      } else {
        P::wake(count_, permits);
      }
    }
  }

  std::int64_t value() const { return count_.load(); }

 private:
  bool try_take() {
    if constexpr (Bug == SemaphoreBug::check_then_decrement) {
      const std::uint32_t c = count_.load();
      if (c == 0) return false;
      count_.store(c - 1);
      return true;
    } else {
      std::uint32_t c = count_.load();
      while (c > 0) {
        if (count_.compare_exchange_weak(c, c - 1)) return true;
      }
      return false;
    }
  }

  bool take(const typename P::TimePoint* deadline) {
    if (try_take()) return true;
    waiters_.fetch_add(1);
    bool taken = false;
    for (;;) {
      if (try_take()) {
        taken = true;
        break;
      }
      if (deadline == nullptr) {
        P::wait(count_, 0);
      } else if (!P::wait_until(count_, 0, *deadline)) {
        taken = try_take();
        break;
      }
    }
    waiters_.fetch_sub(1);
    return taken;
  }

  typename P::template Atomic<std::uint32_t> count_;
  typename P::template Atomic<std::uint32_t> waiters_{0};
};

template <Platform P>
using CheckThenDecrementSemaphore = BrokenSemaphore<P, SemaphoreBug::check_then_decrement>;
template <Platform P>
using WakeBeforeAddSemaphore = BrokenSemaphore<P, SemaphoreBug::wake_before_add>;
template <Platform P>
using ReleaseNWakesOneSemaphore = BrokenSemaphore<P, SemaphoreBug::release_n_wakes_one>;

}  // namespace interleave::zoo
