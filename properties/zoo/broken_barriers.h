// Deliberately broken barriers: realistic mistakes the Barrier properties must catch. Each has
// the interface the properties use (a constructor taking parties and a completion function, and
// arrive_and_wait) over a platform P.
#pragma once

#include <cstdint>
#include <functional>
#include <utility>

#include "interleave/mutex.h"
#include "interleave/platform.h"

namespace interleave::zoo {

// The textbook barrier with two mistakes to choose from: ShortBy = 1 lets the last-but-one arrival
// release everyone, and CompleteAfterRelease runs the completion function after waking the
// waiters instead of before.
template <Platform P, int ShortBy, bool CompleteAfterRelease>
class TextbookBarrier {
 public:
  TextbookBarrier(std::uint32_t parties, std::function<void()> completion)
      : parties_(parties), completion_(std::move(completion)) {}
  std::uint32_t arrive_and_wait() {
    guard_.lock();
    const std::uint32_t phase = phase_.load();
    const std::uint32_t index = arrived_++;
    if (arrived_ + ShortBy >= parties_) {  // ShortBy == 0 is right
      arrived_ = 0;
      if (!CompleteAfterRelease && completion_) completion_();
      phase_.store(phase + 1);
      P::wake_all(phase_);
      if (CompleteAfterRelease && completion_) completion_();  // should run before the wake
      guard_.unlock();
      return index;
    }
    guard_.unlock();
    while (phase_.load() == phase) P::wait(phase_, phase);
    return index;
  }

 private:
  const std::uint32_t parties_;
  std::function<void()> completion_;
  BasicMutex<P> guard_;
  std::uint32_t arrived_ = 0;
  typename P::template Atomic<std::uint32_t> phase_{0};
};

// The last-but-one arrival releases the phase.
template <Platform P>
using LastButOneReleasesBarrier = TextbookBarrier<P, 1, false>;

// The completion function runs after the waiters were woken: they may leave before it ran.
template <Platform P>
using CompletionAfterReleaseBarrier = TextbookBarrier<P, 0, true>;

}  // namespace interleave::zoo
