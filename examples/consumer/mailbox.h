// A user's own primitive, written once over an interleave platform: a one-slot mailbox.
//
// put(v) blocks while the slot is full, then leaves v in it; take() blocks while the slot is empty,
// then removes and returns the value. Every value put is taken exactly once.
//
// Written as a class template over `interleave::Platform P`: Mailbox<interleave::NativePlatform>
// is the production type (std::atomic + futex); under interleave::explore the same code runs as
// fibers on interleave::ModelPlatform, where every atomic operation and wait is a scheduling point.
#pragma once

#include <interleave/native_platform.h>
#include <interleave/platform.h>

#include <cstdint>

namespace consumer {

// The slot's states. The futex word is the state; the value beside it is only touched by the
// fiber that moved the state to `writing` or `reading`.
enum : std::uint32_t { kEmpty = 0, kWriting = 1, kFull = 2, kReading = 3 };

template <interleave::Platform P = interleave::NativePlatform>
class Mailbox {
 public:
  void put(int value) {
    for (;;) {
      std::uint32_t s = kEmpty;
      if (state_.compare_exchange_strong(s, kWriting, std::memory_order_acquire)) break;
      P::wait(state_, s);  // may return spuriously: the loop re-checks
    }
    value_.store(value, std::memory_order_relaxed);
    state_.store(kFull, std::memory_order_release);
    P::wake_all(state_);
  }

  int take() {
    for (;;) {
      std::uint32_t s = kFull;
      if (state_.compare_exchange_strong(s, kReading, std::memory_order_acquire)) break;
      P::wait(state_, s);
    }
    const int value = value_.load(std::memory_order_relaxed);
    state_.store(kEmpty, std::memory_order_release);
    P::wake_all(state_);
    return value;
  }

 private:
  typename P::template Atomic<std::uint32_t> state_{kEmpty};
  typename P::template Atomic<int> value_{0};
};

// The same mailbox with a classic bug: put() checks that the slot is empty, then claims it with a
// separate store. Two producers can both see it empty, and the second overwrites the first's value.
template <interleave::Platform P = interleave::NativePlatform>
class RacyMailbox {
 public:
  void put(int value) {
    for (;;) {
      const std::uint32_t s = state_.load(std::memory_order_acquire);
      if (s == kEmpty) break;  // BUG: another producer can claim the slot between this check...
      P::wait(state_, s);
    }
    state_.store(kWriting, std::memory_order_relaxed);  // ...and this store.
    value_.store(value, std::memory_order_relaxed);
    state_.store(kFull, std::memory_order_release);
    P::wake_all(state_);
  }

  int take() {
    for (;;) {
      std::uint32_t s = kFull;
      if (state_.compare_exchange_strong(s, kReading, std::memory_order_acquire)) break;
      P::wait(state_, s);
    }
    const int value = value_.load(std::memory_order_relaxed);
    state_.store(kEmpty, std::memory_order_release);
    P::wake_all(state_);
    return value;
  }

 private:
  typename P::template Atomic<std::uint32_t> state_{kEmpty};
  typename P::template Atomic<int> value_{0};
};

}  // namespace consumer
