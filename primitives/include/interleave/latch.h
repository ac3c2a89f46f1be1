// Latch: a single-use countdown threads wait on (std::latch), built on one futex word.
//
// Purpose   Lets threads (or, as BasicLatch<NativeSharedPlatform> placed in shared memory,
//           processes) wait until a fixed number of events happened: the latch starts at
//           `expected`, count_down(n) takes n off, and wait() blocks until the count is zero.
//           Single use: once zero it stays zero.
// Requires  0 <= expected <= max(). count_down(n): n >= 0 (std::invalid_argument otherwise) and
//           not more than the count left: taking the count below zero is a contract violation
//           (it stops with a message; the model reports it), and changes nothing.
// Guarantees
//   - wait() returns only once the count reached zero, and then every waiter returns (no lost
//     wake-up).
//   - try_wait() is true only when the count is zero; it never blocks.
//   - arrive_and_wait(n) is count_down(n) then wait(), so no thread leaves it before the count
//     reached zero.
//   - wait_for(d) / wait_until(t) return true when the count reached zero, false only when the
//     deadline passed first.
//   - count_down that reaches zero makes a system call only when some thread sleeps; other
//     count_downs never make one.
// Memory ordering
//   Everything a thread wrote before its count_down is visible to every thread after its wait,
//   try_wait, wait_for/wait_until or arrive_and_wait returned true (each count_down is a release
//   read-modify-write, so they form one release sequence; the waiter's read of zero acquires).
// Blocking  wait() spins briefly, then sleeps on the futex.
// Timeouts  wait_for(d): d < 0 throws std::invalid_argument; d == 0 is try_wait().
//           wait_until(t): a t on another clock than the platform's counts as the same distance
//           from now.
#pragma once

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "interleave/native_platform.h"
#include "interleave/source_location.h"
#include "interleave/timeout.h"

namespace interleave {

template <Platform P = NativePlatform>
class BasicLatch {
 public:
  // The largest count a latch can start from.
  static constexpr std::int64_t max() noexcept { return kCountMask; }

  explicit BasicLatch(std::int64_t expected) : word_(checked_expected(expected)) {}
  BasicLatch(const BasicLatch&) = delete;
  BasicLatch& operator=(const BasicLatch&) = delete;

  // Takes n off the count; wakes the waiters when it reaches zero.
  void count_down(std::int64_t n = 1, interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("Latch::count_down", this, where);
    decrement(n, where);
  }

  // True if the count is zero now; never blocks.
  [[nodiscard]] bool try_wait(interleave::source_location where = interleave::source_location::current()) const {
    typename P::Operation op("Latch::try_wait", this, where);
    return (word_.load(std::memory_order_acquire) & kCountMask) == 0;
  }

  // Blocks until the count is zero.
  void wait(interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("Latch::wait", this, where);
    (void)wait_impl(nullptr);
  }

  // count_down(n), then wait().
  void arrive_and_wait(std::int64_t n = 1, interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("Latch::arrive_and_wait", this, where);
    decrement(n, where);
    (void)wait_impl(nullptr);
  }

  // As wait(), at most `timeout`; true when the count reached zero.
  template <class Rep, class Period>
  [[nodiscard]] bool wait_for(std::chrono::duration<Rep, Period> timeout,
                              interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("Latch::wait_for", this, where);
    const auto deadline = detail::deadline_after(P::now(), timeout, "Latch::wait_for");
    return wait_impl(&deadline);
  }

  // As wait(), until an absolute deadline on any clock; true when the count reached zero.
  template <class Clock, class Duration>
  [[nodiscard]] bool wait_until(std::chrono::time_point<Clock, Duration> deadline,
                                interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("Latch::wait_until", this, where);
    const auto at = detail::deadline_at(P::now(), deadline);
    return wait_impl(&at);
  }

 private:
  // The futex word: the count in the low 31 bits, and a bit set by a thread about to sleep, so
  // the count_down reaching zero wakes only when someone may sleep. Both live in one word, so
  // the sleeper's setting the bit and a count_down are ordered by the word's modification order:
  // either the count_down sees the bit, or the sleeper's compare-exchange fails and re-reads.
  static constexpr std::uint32_t kCountMask = 0x7fffffffU;
  static constexpr std::uint32_t kSleeping = 0x80000000U;

  static std::uint32_t checked_expected(std::int64_t expected) {
    if (expected < 0 || expected > max()) {
      throw std::invalid_argument("Latch: expected must be in [0, " + std::to_string(max()) + "], got " +
                                  std::to_string(expected));
    }
    return static_cast<std::uint32_t>(expected);
  }

  void decrement(std::int64_t n, interleave::source_location where) {
    if (n < 0) throw std::invalid_argument("Latch::count_down: n must be >= 0, got " + std::to_string(n));
    std::uint32_t word = word_.load(std::memory_order_relaxed);
    for (;;) {
      const std::uint32_t count = word & kCountMask;
      if (n > std::int64_t{count}) {
        P::contract_violation("Latch::count_down: counting down by " + std::to_string(n) + " with " +
                                  std::to_string(count) + " left would take the count below zero",
                              where);
      }
      if (n == 0) return;
      const std::uint32_t left = count - static_cast<std::uint32_t>(n);
      // Reaching zero clears the sleeping bit: every sleeper is woken below.
      const std::uint32_t next = left == 0 ? 0 : (word & kSleeping) | left;
      if (word_.compare_exchange_weak(word, next, std::memory_order_release, std::memory_order_relaxed)) {
        if (left == 0 && (word & kSleeping) != 0) P::wake_all(word_);
        return;
      }
    }
  }

  // Returns true once the count is zero, false when `deadline` (if any) passed first.
  bool wait_impl(const typename P::TimePoint* deadline) {
    std::uint32_t word = word_.load(std::memory_order_acquire);
    for (int i = 0; i < P::spin_limit && (word & kCountMask) != 0; ++i) {
      P::relax();
      word = word_.load(std::memory_order_acquire);
    }
    while ((word & kCountMask) != 0) {
      if ((word & kSleeping) == 0 &&
          !word_.compare_exchange_weak(word, word | kSleeping, std::memory_order_acquire, std::memory_order_acquire)) {
        continue;  // the count changed: look again
      }
      const std::uint32_t sleeping = word | kSleeping;
      if (deadline == nullptr) {
        P::wait(word_, sleeping);
      } else if (!P::wait_until(word_, sleeping, *deadline)) {
        return (word_.load(std::memory_order_acquire) & kCountMask) == 0;
      }
      word = word_.load(std::memory_order_acquire);
    }
    return true;
  }

  typename P::template Atomic<std::uint32_t> word_;
};

using Latch = BasicLatch<>;
// For a Latch placed in memory shared between processes.
using ProcessLatch = BasicLatch<NativeSharedPlatform>;

}  // namespace interleave
