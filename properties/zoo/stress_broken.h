// Deliberately broken primitives for the stress harness on real threads: the stress tests require
// it to catch them, and bench/perturbation_benchmark.cpp measures how often it does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "interleave/mutex.h"
#include "interleave/platform.h"

namespace interleave::zoo {

// A counter whose increment is a load and a separate store: each step is atomic, the increment
// is not. No data race for TSan (only atomics), so only the invariant can catch it.
template <Platform P>
class UnlockedCounter {
 public:
  void increment() { value_.store(value_.load() + 1); }
  int value() const { return value_.load(); }

 private:
  typename P::template Atomic<int> value_{0};
};

// A locked ring whose producers publish the new tail AFTER unlocking: two producers can claim
// the same slot (an item is lost), and the tail is written outside the lock that guards its
// reads (a data race for TSan).
template <Platform P>
class LateTailQueue {
 public:
  explicit LateTailQueue(std::size_t capacity) : slots_(capacity) {}
  void put(std::uint32_t value) {
    lock_.lock();
    const std::size_t t = tail_;
    slots_[t] = value;
    lock_.unlock();
    tail_ = t + 1;  // the bug: outside the lock
  }
  // False once the queue is drained (after producers finished).
  bool try_get(std::uint32_t& out) {
    lock_.lock();
    const bool got = head_ < tail_;
    if (got) out = slots_[head_++];
    lock_.unlock();
    return got;
  }

 private:
  BasicMutex<P> lock_;
  std::vector<std::uint32_t> slots_;
  std::size_t head_ = 0;
  std::size_t tail_ = 0;
};

}  // namespace interleave::zoo
