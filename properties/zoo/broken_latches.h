// Deliberately broken latches: realistic mistakes the Latch properties must catch. Each has the
// interface the properties use (count_down / wait / try_wait / arrive_and_wait) over a platform P.
#pragma once

#include <cstdint>

#include "interleave/platform.h"

namespace interleave::zoo {

// Opens one count_down early: wait returns while one party has not counted down yet.
template <Platform P>
class OffByOneLatch {
 public:
  explicit OffByOneLatch(std::uint32_t expected) : count_(expected) {}
  void count_down() {
    if (count_.fetch_sub(1) <= 2) P::wake_all(count_);  // should wake at 1 -> 0 only
  }
  bool try_wait() { return count_.load() <= 1; }  // should be == 0
  void wait() {
    for (std::uint32_t c = count_.load(); c > 1; c = count_.load()) P::wait(count_, c);
  }
  void arrive_and_wait() {
    count_down();
    wait();
  }

 private:
  typename P::template Atomic<std::uint32_t> count_;
};

// Counts down with a load and a store: two count_downs at once lose one, and the latch never
// opens.
template <Platform P>
class LoadStoreLatch {
 public:
  explicit LoadStoreLatch(std::uint32_t expected) : count_(expected) {}
  void count_down() {
    const std::uint32_t left = count_.load() - 1;
    count_.store(left);  // should be one atomic decrement
    if (left == 0) P::wake_all(count_);
  }
  bool try_wait() { return count_.load() == 0; }
  void wait() {
    for (std::uint32_t c = count_.load(); c != 0; c = count_.load()) P::wait(count_, c);
  }
  void arrive_and_wait() {
    count_down();
    wait();
  }

 private:
  typename P::template Atomic<std::uint32_t> count_;
};

}  // namespace interleave::zoo
