// Deliberately broken call_once implementations: realistic mistakes the Once properties must
// catch. Each has the interface the properties use (call(f)) over a platform P.
#pragma once

#include <cstdint>

#include "interleave/platform.h"

namespace interleave::zoo {

// Checks a done flag, then runs and sets it: two callers can both see it unset and both run.
template <Platform P>
class CheckThenRunOnce {
 public:
  template <class F>
  void call(F&& f) {
    if (done_.load() != 0) return;
    f();
    done_.store(1);  // should claim the run before running
  }

 private:
  typename P::template Atomic<std::uint32_t> done_{0};
};

// Claims the run with a compare-exchange, but the losers return at once instead of waiting for
// the run to finish: they go on before its effects exist.
template <Platform P>
class NoWaitOnce {
 public:
  template <class F>
  void call(F&& f) {
    std::uint32_t expected = 0;
    if (!state_.compare_exchange_strong(expected, 1)) return;  // should wait while it runs
    f();
    state_.store(2);
  }

 private:
  typename P::template Atomic<std::uint32_t> state_{0};
};

// Right until the callable throws: the run stays marked in progress, and every other caller
// waits for it for ever.
template <Platform P>
class StuckAfterExceptionOnce {
 public:
  template <class F>
  void call(F&& f) {
    for (;;) {
      std::uint32_t state = state_.load();
      if (state == 2) return;
      if (state == 0 && state_.compare_exchange_strong(state, 1)) {
        f();  // an exception leaves state_ at 1: should reset it to 0 and wake the waiters
        state_.store(2);
        P::wake_all(state_);
        return;
      }
      P::wait(state_, 1);
    }
  }

 private:
  typename P::template Atomic<std::uint32_t> state_{0};
};

}  // namespace interleave::zoo
