// Event: a flag threads wait for (Python's threading.Event), built on one futex word.
//
// Purpose   One or more threads (or, as BasicEvent<NativeSharedPlatform> placed in shared memory,
//           processes) wait until another sets the flag: set() raises it and releases every
//           waiter, clear() lowers it, wait() blocks while it is down.
// Requires  Nothing: every operation may be called by any thread at any time.
// Guarantees
//   - set() releases every thread that was waiting when it was called, even if clear() follows
//     at once (as in Python, a waiter released by a set returns true although the flag may be
//     down again by the time it returns).
//   - wait() returns only after the flag was raised at some point during the call (it returns at
//     once if the flag is up).
//   - wait_for(d) returns true if the flag was up or a set() happened while it waited, false if
//     the deadline passed with neither.
//   - is_set() is a snapshot.
//   - set() on an event nobody waits for makes no system call; clear() never makes one.
// Memory ordering
//   Everything a thread wrote before set() is visible to a thread after its is_set() returned
//   true or its wait()/wait_for() returned because of that set (set is a release, the observing
//   read an acquire). clear() gives no ordering promise.
// Blocking  wait() spins briefly, then sleeps on the futex.
// Timeouts  wait_for(d): d < 0 throws std::invalid_argument; d == 0 returns is_set() without
//           blocking.
// Limit     The generation counter has 30 bits: a waiter that sleeps through exactly a multiple
//           of 2^30 set()s without being scheduled once would miss them (it would keep waiting).
#pragma once

#include <chrono>
#include <cstdint>

#include "interleave/native_platform.h"
#include "interleave/source_location.h"
#include "interleave/timeout.h"

namespace interleave {

template <Platform P = NativePlatform>
class BasicEvent {
 public:
  BasicEvent() noexcept = default;
  BasicEvent(const BasicEvent&) = delete;
  BasicEvent& operator=(const BasicEvent&) = delete;

  // True if the flag is up at the moment of the call.
  [[nodiscard]] bool is_set(interleave::source_location where = interleave::source_location::current()) const {
    typename P::Operation op("Event::is_set", this, where);
    return (word_.load(std::memory_order_acquire) & kFlag) != 0;
  }

  // Raises the flag and releases every thread waiting now. A set on a set event changes nothing
  // (but still orders the caller's earlier writes before later observers of the flag).
  void set(interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("Event::set", this, where);
    std::uint32_t word = word_.load(std::memory_order_relaxed);
    std::uint32_t next = 0;
    do {
      // A new generation tells every waiter of the old one that a set happened. The waiters bit
      // is dropped: all current waiters are woken below, later ones register again.
      next = (word & kFlag) != 0 ? word : static_cast<std::uint32_t>((word & kGenerationMask) + kGenerationOne) | kFlag;
    } while (!word_.compare_exchange_weak(word, next, std::memory_order_release, std::memory_order_relaxed));
    if ((word & kWaiters) != 0) P::wake_all(word_);
  }

  // Lowers the flag. Threads released by an earlier set() still return true.
  void clear(interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("Event::clear", this, where);
    // Keep the generation (waiters of it must not think a set happened) and the waiters bit.
    // A read-modify-write, not a store, so the word's release sequence from set() is unbroken.
    if ((word_.load(std::memory_order_relaxed) & kFlag) != 0) word_.fetch_and(~kFlag, std::memory_order_relaxed);
  }

  // Waits until the flag is raised (returns at once if it is up).
  void wait(interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("Event::wait", this, where);
    const std::uint32_t word = word_.load(std::memory_order_acquire);
    if ((word & kFlag) != 0) return;
    (void)wait_for_set(word, nullptr);
  }

  // Waits at most `timeout` for the flag. Returns true if it was up or a set() happened while
  // waiting, false on timeout.
  template <class Rep, class Period>
  [[nodiscard]] bool wait_for(std::chrono::duration<Rep, Period> timeout,
                              interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("Event::wait_for", this, where);
    const auto deadline = detail::deadline_after(P::now(), timeout, "Event::wait_for");
    const std::uint32_t word = word_.load(std::memory_order_acquire);
    if ((word & kFlag) != 0) return true;
    if (timeout == decltype(timeout)::zero()) return false;
    return wait_for_set(word, &deadline);
  }

 private:
  // The futex word: generation << 2 | waiters << 1 | flag.
  static constexpr std::uint32_t kFlag = 1;     // the event is set
  static constexpr std::uint32_t kWaiters = 2;  // some thread may be asleep on the word
  static constexpr std::uint32_t kGenerationOne = 4;
  static constexpr std::uint32_t kGenerationMask = ~std::uint32_t{3};

  // Waits for the generation to move on from that of `seen` (a word whose flag was down).
  //
  // Why no wake-up is lost: every change of the word is a read-modify-write of this one word, so
  // all of them are in its single modification order. A sleeper sleeps only on a value with the
  // waiters bit set (it set the bit itself, or saw it set), and the futex compares that value
  // atomically with going to sleep. A set() after that value in the order changes the generation,
  // so either the futex sees the change and returns at once, or set()'s CAS replaced a word with
  // the waiters bit up and it calls wake_all. Only set() clears the bit, and it then wakes.
  bool wait_for_set(std::uint32_t seen, const typename P::TimePoint* deadline) {
    const std::uint32_t generation = seen & kGenerationMask;
    std::uint32_t word = seen;
    for (int i = 0; i < P::spin_limit; ++i) {
      P::relax();
      word = word_.load(std::memory_order_acquire);
      if ((word & kGenerationMask) != generation) return true;
    }
    for (;;) {
      if ((word & kWaiters) == 0 &&
          !word_.compare_exchange_weak(word, word | kWaiters, std::memory_order_acquire, std::memory_order_acquire)) {
        if ((word & kGenerationMask) != generation) return true;
        continue;  // the word changed (or the CAS failed spuriously): look again
      }
      word |= kWaiters;
      if (deadline == nullptr) {
        P::wait(word_, word);
      } else if (!P::wait_until(word_, word, *deadline)) {
        return (word_.load(std::memory_order_acquire) & kGenerationMask) != generation;
      }
      word = word_.load(std::memory_order_acquire);
      if ((word & kGenerationMask) != generation) return true;
    }
  }

  typename P::template Atomic<std::uint32_t> word_{0};
};

using Event = BasicEvent<>;
// For an Event placed in memory shared between processes.
using ProcessEvent = BasicEvent<NativeSharedPlatform>;

}  // namespace interleave
