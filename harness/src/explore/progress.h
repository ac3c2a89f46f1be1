// Internal to the harness library: the progress line of an exploration (Options::progress).
#pragma once

#include <absl/strings/str_format.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "explore/signal_report.h"
#include "interleave/explore.h"
#include "interleave/options.h"

namespace interleave::detail {

// The clock set by set_progress_clock (explore.h): steady_clock's unless a test replaced it.
ProgressClock progress_clock() noexcept;

// The progress line (Options::progress): printed by whichever exploring thread finishes a
// schedule when it is due, at most every 250 ms (every 5 s when stderr is not a terminal), once
// the exploration has run for 2 s by `clock`.
class ProgressLine {
 public:
  ProgressLine(Progress mode, std::uint64_t planned, ProgressClock clock = progress_clock())
      : planned_(planned), clock_(clock) {
    const bool terminal = ::isatty(STDERR_FILENO) == 1;
    enabled_ = mode == Progress::on || (mode == Progress::automatic && terminal && std::getenv("CI") == nullptr);
    terminal_ = terminal;
    start_ = clock_();
    next_ns_.store(2'000'000'000, std::memory_order_relaxed);
  }
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;
  ~ProgressLine() {
    if (printed_.load(std::memory_order_relaxed) && terminal_) write_stderr("\r\033[K", 4);
  }

  void schedule_done(std::uint64_t done, bool failed) {
    if (!enabled_) return;
    const std::int64_t now = elapsed_ns();
    std::int64_t due = next_ns_.load(std::memory_order_relaxed);
    if (now < due) return;
    const std::int64_t interval = terminal_ ? 250'000'000 : 5'000'000'000;
    if (!next_ns_.compare_exchange_strong(due, now + interval, std::memory_order_relaxed)) return;
    printed_.store(true, std::memory_order_relaxed);
    const double seconds = static_cast<double>(now) / 1e9;
    const std::string line = absl::StrFormat(
        "%sinterleave: %d/%d schedules, %.0f/s, %d failing, %.1f s%s", terminal_ ? "\r\033[K" : "", done, planned_,
        static_cast<double>(done) / seconds, failed ? 1 : 0, seconds, terminal_ ? "" : "\n");
    write_stderr(line.data(), line.size());
  }

 private:
  std::int64_t elapsed_ns() const {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(clock_() - start_).count();
  }

  std::uint64_t planned_;
  ProgressClock clock_;
  bool enabled_ = false;
  bool terminal_ = false;
  std::chrono::steady_clock::time_point start_;
  std::atomic<std::int64_t> next_ns_{0};
  std::atomic<bool> printed_{false};
};

}  // namespace interleave::detail
