// Barrier: a reusable rendezvous for a fixed number of threads (Python's threading.Barrier,
// std::barrier), a short internal lock plus a futex word counting phases.
//
// Purpose   `parties` threads each call arrive_and_wait(); none returns until all of them have
//           arrived, then all are released and the barrier is ready for the next phase. An
//           optional completion function runs once per phase, in the last thread to arrive,
//           before anyone is released (Python's `action`). BasicBarrier<NativeSharedPlatform>
//           placed in shared memory does the same for parties in several processes.
// Requires  1 <= parties <= max_parties (std::invalid_argument otherwise). Exactly `parties`
//           calls per phase: a thread arriving again before the phase ended counts as another
//           party of that phase. The barrier outlives every call on it.
//           Between processes: the completion function is a std::function stored in the barrier,
//           and each process calls its own copy of what that std::function points to (the
//           callable's code, and its state when kept on the heap), inherited through fork(). So
//           construct the barrier, with its completion, before fork()ing the processes that
//           arrive at it, and destroy it in the process that constructed it. The completion runs
//           in the process of the last arrival: its writes to that process's own memory (a
//           captured local, say) stay there; only what it writes to shared memory reaches the
//           other processes.
// Guarantees
//   - Nobody leaves a phase before all parties arrived.
//   - The completion function runs exactly once per phase, after every party of the phase
//     arrived and before any of them returns.
//   - arrive_and_wait returns the arrival index, 0 for the first to arrive in its phase up to
//     parties - 1 for the last: distinct within a phase.
//   - Reusable: phases follow one another with no reset.
//   - abort() breaks the barrier: every thread waiting in it, and every later arrival, throws
//     BrokenBarrierError. If the completion function throws, the barrier breaks, the thread that
//     ran it gets the exception and the others BrokenBarrierError. A broken barrier stays broken.
// Memory ordering
//   Everything a party wrote before arriving is visible to the completion function and to every
//   party after it returns from the same phase; everything the completion function wrote is
//   visible to every party of its phase after it returns.
// Blocking  arrive_and_wait spins briefly, then sleeps on the phase word (a short internal lock
//           orders arrivals); the last arrival makes one futex wake for all, only if some sleep.
// Timeouts  None: a thread that must not wait forever arranges for abort().
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>

#include "interleave/mutex.h"
#include "interleave/native_platform.h"
#include "interleave/source_location.h"

namespace interleave {

// Thrown by arrive_and_wait on a broken barrier (Python's BrokenBarrierError).
class BrokenBarrierError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

template <Platform P = NativePlatform>
class BasicBarrier {
 public:
  static constexpr std::int64_t max_parties = 0x7fffffff;

  explicit BasicBarrier(std::int64_t parties, std::function<void()> completion = {})
      : parties_(checked_parties(parties)), completion_(std::move(completion)) {}
  BasicBarrier(const BasicBarrier&) = delete;
  BasicBarrier& operator=(const BasicBarrier&) = delete;

  // Arrives and waits until every party of this phase arrived; returns the arrival index.
  std::uint32_t arrive_and_wait(interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("Barrier::arrive_and_wait", this, where);
    guard_.lock(where);
    const std::uint32_t word = phase_.load(std::memory_order_relaxed);
    const std::uint32_t phase = word & kPhaseMask;
    if ((word & kBroken) != 0) {
      guard_.unlock(where);
      throw BrokenBarrierError("Barrier::arrive_and_wait: the barrier is broken");
    }
    const std::uint32_t index = arrived_++;
    if (arrived_ == parties_) {
      complete_phase(phase, where);
      return index;
    }
    guard_.unlock(where);
    for (int i = 0; i < P::spin_limit; ++i) {
      if (moved_on(phase_.load(std::memory_order_acquire), phase)) return left(phase, index);
      P::relax();
    }
    std::uint32_t now = phase_.load(std::memory_order_acquire);
    while (!moved_on(now, phase)) {
      // Say that someone sleeps, so the last arrival wakes; the bit and the phase share one word,
      // so either the last arrival's exchange sees the bit or this compare-exchange fails.
      if ((now & kSleeping) == 0 &&
          !phase_.compare_exchange_weak(now, now | kSleeping, std::memory_order_acquire, std::memory_order_acquire)) {
        continue;
      }
      P::wait(phase_, now | kSleeping);
      now = phase_.load(std::memory_order_acquire);
    }
    return left(phase, index);
  }

  // Breaks the barrier: every waiting thread and every later arrival throws BrokenBarrierError.
  void abort(interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("Barrier::abort", this, where);
    guard_.lock(where);
    break_locked();
    guard_.unlock(where);
  }

  [[nodiscard]] bool broken(interleave::source_location where = interleave::source_location::current()) const {
    typename P::Operation op("Barrier::broken", this, where);
    return (phase_.load(std::memory_order_acquire) & kBroken) != 0;
  }

  [[nodiscard]] std::uint32_t parties() const noexcept { return parties_; }

 private:
  // The phase word: the phase number times four, plus "broken" and "some party sleeps".
  static constexpr std::uint32_t kBroken = 1;
  static constexpr std::uint32_t kSleeping = 2;
  static constexpr std::uint32_t kPhaseOne = 4;
  static constexpr std::uint32_t kPhaseMask = ~(kBroken | kSleeping);

  // Whether a waiter of `phase` may stop waiting: its phase completed, or the barrier broke.
  static bool moved_on(std::uint32_t word, std::uint32_t phase) {
    return (word & kPhaseMask) != phase || (word & kBroken) != 0;
  }

  // A waiter whose phase word moved on: a new phase number means its phase completed (even if
  // the barrier broke later); the same number means the barrier broke during its phase.
  std::uint32_t left(std::uint32_t phase, std::uint32_t index) const {
    if ((phase_.load(std::memory_order_acquire) & kPhaseMask) == phase) {
      throw BrokenBarrierError("Barrier::arrive_and_wait: the barrier was broken");
    }
    return index;
  }

  static std::uint32_t checked_parties(std::int64_t parties) {
    if (parties < 1 || parties > max_parties) {
      throw std::invalid_argument("Barrier: parties must be in [1, " + std::to_string(max_parties) + "], got " +
                                  std::to_string(parties));
    }
    return static_cast<std::uint32_t>(parties);
  }

  // The last arrival, with guard_ held: run the completion, open the next phase, wake everyone.
  void complete_phase(std::uint32_t phase, interleave::source_location where) {
    if (completion_) {
      try {
        completion_();
      } catch (...) {
        break_locked();
        guard_.unlock(where);
        throw;
      }
    }
    arrived_ = 0;
    if ((phase_.exchange(phase + kPhaseOne, std::memory_order_release) & kSleeping) != 0) P::wake_all(phase_);
    guard_.unlock(where);
  }

  void break_locked() {
    phase_.fetch_or(kBroken, std::memory_order_release);  // the phase number stays: its waiters throw
    arrived_ = 0;
    P::wake_all(phase_);
  }

  const std::uint32_t parties_;
  std::function<void()> completion_;
  // Orders arrivals: arrived_ and the phase transitions.
  BasicMutex<P> guard_;
  std::uint32_t arrived_ = 0;  // guarded by guard_
  // The futex word waiters sleep on (written under guard_, read without it).
  typename P::template Atomic<std::uint32_t> phase_{0};
};

using Barrier = BasicBarrier<>;
// For a Barrier placed in memory shared between processes (see Requires for its completion).
using ProcessBarrier = BasicBarrier<NativeSharedPlatform>;

}  // namespace interleave
