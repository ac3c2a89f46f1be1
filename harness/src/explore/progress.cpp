// The progress line's clock (progress.h), replaceable by tests (set_progress_clock, explore.h).
#include "explore/progress.h"

#include <atomic>
#include <chrono>

namespace interleave::detail {
namespace {
std::atomic<ProgressClock> g_progress_clock{&std::chrono::steady_clock::now};
}  // namespace

ProgressClock progress_clock() noexcept { return g_progress_clock.load(std::memory_order_acquire); }

ProgressClock set_progress_clock(ProgressClock clock) noexcept {
  return g_progress_clock.exchange(clock != nullptr ? clock : &std::chrono::steady_clock::now,
                                   std::memory_order_acq_rel);
}

}  // namespace interleave::detail
