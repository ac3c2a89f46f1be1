// Semaphore: a counting semaphore (Python's threading.Semaphore), optionally bounded (Python's
// threading.BoundedSemaphore), built on one futex word plus a count of sleepers.
//
// Purpose   Limits how many threads (or, as BasicSemaphore<NativeSharedPlatform> placed in shared
//           memory, processes) use a resource at once, or counts items handed from producers to
//           consumers. acquire() takes one permit, waiting while there is none; release(n) gives
//           n permits back. Unlike a mutex, any thread may release.
// Requires  Constructor: 0 <= initial <= maximum and 1 <= maximum <= max_permits; otherwise
//           std::invalid_argument naming the values and the accepted ranges. Without a maximum
//           the semaphore is unbounded (up to max_permits, the most one futex word may count).
//           release(n): n >= 1 (std::invalid_argument otherwise).
// Guarantees
//   - Permits are conserved: the number of successful acquires never exceeds the initial count
//     plus the permits released so far, so with no releases beyond the acquires, at most
//     `initial` threads hold a permit at once.
//   - Bounded: release(n) that would raise the count above the maximum throws
//     std::overflow_error naming the counts and changes nothing (the count is checked and
//     raised in one atomic step). An unbounded semaphore throws the same way at max_permits.
//   - try_acquire never blocks; it fails only when it observed no permit.
//   - No lost wake-up: while a permit is available, no acquirer stays asleep (see the proof
//     above release()).
//   - value() is a snapshot: other threads may change the count before the caller looks at it.
//   - Not fair: a thread arriving at the moment a permit is released may take it before a
//     thread that has been waiting.
// Memory ordering
//   Everything a thread wrote before release() is visible to the thread whose acquire(),
//   try_acquire() or try_acquire_for() takes a permit that release (or a later one) added.
//   (release is a release operation on the count, taking a permit an acquire.)
// Blocking  acquire() spins briefly, then sleeps on the futex. release() makes a system call only
//           when some thread may be sleeping.
// Timeouts  try_acquire_for(d): d < 0 throws std::invalid_argument; d == 0 is one try_acquire;
//           otherwise false only when no permit could be taken before the deadline.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include "interleave/native_platform.h"
#include "interleave/source_location.h"
#include "interleave/timeout.h"

namespace interleave {

template <Platform P = NativePlatform>
class BasicSemaphore {
 public:
  // The most permits a semaphore can count (and the largest accepted maximum).
  static constexpr std::int64_t max_permits = std::numeric_limits<std::int32_t>::max();

  // An unbounded semaphore with `initial` permits (0 <= initial <= max_permits).
  explicit BasicSemaphore(std::int64_t initial = 0)
      : count_(checked_initial(initial, max_permits, false)),
        maximum_(static_cast<std::uint32_t>(max_permits)),
        bounded_(false) {}

  // A bounded semaphore: `initial` permits, never more than `maximum` (1 <= maximum <= max_permits,
  // 0 <= initial <= maximum).
  BasicSemaphore(std::int64_t initial, std::int64_t maximum)
      : count_(checked_initial(initial, checked_maximum(maximum), true)),
        maximum_(static_cast<std::uint32_t>(maximum)),
        bounded_(true) {}

  BasicSemaphore(const BasicSemaphore&) = delete;
  BasicSemaphore& operator=(const BasicSemaphore&) = delete;

  // Takes one permit, waiting as long as needed for one.
  void acquire(interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("Semaphore::acquire", this, where);
    if (try_take()) return;
    for (int i = 0; i < P::spin_limit; ++i) {
      P::relax();
      if (try_take()) return;
    }
    sleep_until_taken(nullptr);
  }

  // Takes one permit if one is available now; never blocks.
  [[nodiscard]] bool try_acquire(interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("Semaphore::try_acquire", this, where);
    return try_take();
  }

  // Takes one permit, waiting at most `timeout` for one. Returns false if none could be taken.
  template <class Rep, class Period>
  [[nodiscard]] bool try_acquire_for(std::chrono::duration<Rep, Period> timeout,
                                     interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("Semaphore::try_acquire_for", this, where);
    const auto deadline = detail::deadline_after(P::now(), timeout, "Semaphore::try_acquire_for");
    if (try_take()) return true;
    if (timeout == decltype(timeout)::zero()) return false;
    for (int i = 0; i < P::spin_limit; ++i) {
      P::relax();
      if (try_take()) return true;
    }
    return sleep_until_taken(&deadline);
  }

  // Gives back `n` permits (n >= 1) and wakes up to n sleeping acquirers.
  //
  // Why no wake-up is lost. An acquirer about to sleep does (all seq_cst)
  //     W1: waiters_ += 1      W2: read count_      W3: futex_wait(count_, 0)
  // and release does
  //     R1: count_ += n (CAS)  R2: read waiters_    R3: wake if R2 saw a waiter.
  // All of W1, W2, R1, R2 are seq_cst, so they occur in one total order S. If W2 reads a count
  // earlier than R1's (coherence-ordered before R1), then W2 precedes R1 in S, hence W1 precedes
  // R2 and R2 sees waiters_ >= 1 (W1 is not undone before this acquirer leaves): R3 wakes. If
  // instead W2 sees R1's permits (or later ones), the acquirer takes a permit or finds it already
  // taken by someone else — either way no permit is stranded. The futex compares count_ with 0
  // atomically with going to sleep, so a release landing between W2 and W3 makes W3 return at
  // once; one landing after W3 finds the sleeper queued and wakes it. A woken or timed-out
  // acquirer always re-reads count_ and takes a permit if there is one before it leaves, so a
  // wake-up is never absorbed by a thread that leaves a permit behind.
  void release(std::int64_t n = 1, interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("Semaphore::release", this, where);
    if (n < 1) {
      throw std::invalid_argument("Semaphore::release: the number of permits to release must be >= 1, got " +
                                  std::to_string(n));
    }
    std::uint32_t count = count_.load(std::memory_order_relaxed);
    for (;;) {
      if (n > std::int64_t{maximum_} - std::int64_t{count}) throw_overflow(n, count);
      const auto next = static_cast<std::uint32_t>(count + static_cast<std::uint32_t>(n));
      if (count_.compare_exchange_weak(count, next, std::memory_order_seq_cst, std::memory_order_relaxed)) break;
    }
    if (waiters_.load(std::memory_order_seq_cst) != 0) P::wake(count_, static_cast<std::uint32_t>(n));
  }

  // The number of permits available at the moment of the call (a snapshot).
  [[nodiscard]] std::int64_t value(interleave::source_location where = interleave::source_location::current()) const {
    typename P::Operation op("Semaphore::value", this, where);
    return count_.load(std::memory_order_relaxed);
  }

  // The largest count: the maximum given to a bounded semaphore, else max_permits.
  [[nodiscard]] std::int64_t maximum() const noexcept { return maximum_; }
  [[nodiscard]] bool bounded() const noexcept { return bounded_; }

 private:
  static std::int64_t checked_maximum(std::int64_t maximum) {
    if (maximum < 1 || maximum > max_permits) {
      throw std::invalid_argument("Semaphore: the maximum must be in [1, " + std::to_string(max_permits) + "], got " +
                                  std::to_string(maximum));
    }
    return maximum;
  }

  static std::uint32_t checked_initial(std::int64_t initial, std::int64_t maximum, bool bounded) {
    if (initial < 0 || initial > maximum) {
      throw std::invalid_argument("Semaphore: the initial number of permits must be in [0, " + std::to_string(maximum) +
                                  "]" + (bounded ? " (0 to the maximum)" : " (0 to max_permits)") + ", got " +
                                  std::to_string(initial));
    }
    return static_cast<std::uint32_t>(initial);
  }

  [[noreturn]] void throw_overflow(std::int64_t n, std::uint32_t count) const {
    throw std::overflow_error("Semaphore::release: releasing " + std::to_string(n) +
                              " permit(s) would raise the count from " + std::to_string(count) + " to " +
                              std::to_string(std::int64_t{count} + n) + ", above the " +
                              (bounded_ ? "maximum of " : "largest count a semaphore can hold, ") +
                              std::to_string(maximum_) + "; nothing was released");
  }

  // Takes a permit if the count is positive. Retries only when the count changed under it, so it
  // fails only after seeing zero.
  bool try_take() {
    std::uint32_t count = count_.load(std::memory_order_relaxed);
    while (count != 0) {
      if (count_.compare_exchange_weak(count, count - 1, std::memory_order_acquire, std::memory_order_relaxed)) {
        return true;
      }
    }
    return false;
  }

  // The sleeping path (W1..W3 above). Returns false only when `deadline` passed with no permit.
  bool sleep_until_taken(const typename P::TimePoint* deadline) {
    waiters_.fetch_add(1, std::memory_order_seq_cst);
    bool taken = false;
    for (;;) {
      std::uint32_t count = count_.load(std::memory_order_seq_cst);
      while (count != 0 && !taken) {
        taken = count_.compare_exchange_weak(count, count - 1, std::memory_order_acquire, std::memory_order_relaxed);
      }
      if (taken) break;
      if (deadline == nullptr) {
        P::wait(count_, 0);
      } else if (!P::wait_until(count_, 0, *deadline)) {
        // Timed out: one last look, so a permit released right at the deadline is not missed.
        taken = try_take();
        break;
      }
    }
    waiters_.fetch_sub(1, std::memory_order_relaxed);
    return taken;
  }

  // The futex word: the number of available permits.
  typename P::template Atomic<std::uint32_t> count_;
  // How many acquirers are in (or entering) the sleeping path; release wakes only when nonzero.
  typename P::template Atomic<std::uint32_t> waiters_{0};
  const std::uint32_t maximum_;
  const bool bounded_;
};

using Semaphore = BasicSemaphore<>;
// For a Semaphore placed in memory shared between processes.
using ProcessSemaphore = BasicSemaphore<NativeSharedPlatform>;

}  // namespace interleave
