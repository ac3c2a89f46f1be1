// Once / call_once: run a function exactly once however many threads ask (std::once_flag and
// std::call_once), on one futex word.
//
// Purpose   Lazy one-time initialization shared by threads: every caller of call_once(once, f)
//           returns only after f (its own, or another caller's) has run to completion once.
//           BasicOnce<NativeSharedPlatform> placed in shared memory does the same for processes:
//           the callable is never stored in the Once, it runs in the caller that won, so only what
//           it writes to shared memory is seen by the other processes. A process killed during
//           the run leaves the Once running for good (the others wait), as a ProcessMutex whose
//           holder dies stays locked.
// Requires  The callable does not call call_once on the same Once (that deadlocks: the model
//           reports it). The Once outlives every call on it.
// Guarantees
//   - Exactly one successful run: of all callables passed to call_once on one Once, exactly one
//     returns normally, and after that none is called again.
//   - An exception in the callable leaves the Once un-run, as std::call_once does: the exception
//     reaches that caller, and another caller (a waiting one, or a later one) runs its callable.
//   - Concurrent callers wait until the run finishes, then return (or one of them retries, if it
//     threw); no caller returns before a successful run.
//   - done() is true once a run succeeded; never blocks.
//   - Once done, call_once is one atomic load: no lock, no system call.
// Memory ordering
//   Everything the successful run wrote is visible to every caller after its call_once returns,
//   and to every thread after done() returned true (the end of the run is a release, the check
//   an acquire).
// Blocking  Callers that find a run in progress sleep on the futex word; the run's end wakes
//           them only if some slept.
// Timeouts  None.
#pragma once

#include <cstdint>
#include <functional>
#include <utility>

#include "interleave/native_platform.h"
#include "interleave/source_location.h"

namespace interleave {

template <Platform P = NativePlatform>
class BasicOnce {
 public:
  BasicOnce() noexcept = default;
  BasicOnce(const BasicOnce&) = delete;
  BasicOnce& operator=(const BasicOnce&) = delete;

  // Runs f(args...) unless a run already succeeded; waits for a run in progress.
  template <class F, class... Args>
  void call(F&& f, Args&&... args) {
    if (state_.load(std::memory_order_acquire) == kDone) [[likely]] {
      return;
    }
    call_slow(std::forward<F>(f), std::forward<Args>(args)...);
  }

  // True once a run succeeded.
  [[nodiscard]] bool done() const { return state_.load(std::memory_order_acquire) == kDone; }

 private:
  static constexpr std::uint32_t kIdle = 0;     // never run, or every run so far threw
  static constexpr std::uint32_t kRunning = 1;  // a run in progress, nobody sleeping
  static constexpr std::uint32_t kWaited = 2;   // a run in progress, some caller may sleep
  static constexpr std::uint32_t kDone = 3;

  template <class F, class... Args>
  void call_slow(F&& f, Args&&... args) {
    typename P::Operation op("Once::call", this, interleave::source_location::current());
    std::uint32_t state = state_.load(std::memory_order_acquire);
    for (;;) {
      if (state == kDone) return;
      if (state == kIdle) {
        if (!state_.compare_exchange_strong(state, kRunning, std::memory_order_acquire, std::memory_order_acquire)) {
          continue;
        }
        run(std::forward<F>(f), std::forward<Args>(args)...);
        return;
      }
      if (state == kRunning &&
          !state_.compare_exchange_strong(state, kWaited, std::memory_order_acquire, std::memory_order_acquire)) {
        continue;
      }
      P::wait(state_, kWaited);
      state = state_.load(std::memory_order_acquire);
    }
  }

  template <class F, class... Args>
  void run(F&& f, Args&&... args) {
    try {
      std::invoke(std::forward<F>(f), std::forward<Args>(args)...);
    } catch (...) {
      // Un-run: a sleeper wakes and retries (all of them wake; one wins the next run).
      if (state_.exchange(kIdle, std::memory_order_release) == kWaited) P::wake_all(state_);
      throw;
    }
    if (state_.exchange(kDone, std::memory_order_release) == kWaited) P::wake_all(state_);
  }

  typename P::template Atomic<std::uint32_t> state_{kIdle};
};

using Once = BasicOnce<>;
// For a Once placed in memory shared between processes.
using ProcessOnce = BasicOnce<NativeSharedPlatform>;

// std::call_once's spelling: once.call(f, args...).
template <Platform P, class F, class... Args>
void call_once(BasicOnce<P>& once, F&& f, Args&&... args) {
  once.call(std::forward<F>(f), std::forward<Args>(args)...);
}

}  // namespace interleave
