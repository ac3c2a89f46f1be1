#include "watchdog.h"

#include <absl/strings/str_cat.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "interleave/stress.h"

namespace interleave::detail {

namespace {

std::string duration(std::uint64_t ms) {
  return ms % 1000 == 0 ? absl::StrCat(ms / 1000, " s") : absl::StrCat(ms, " ms");
}

}  // namespace

Watchdog::Watchdog(std::uint64_t timeout_ms, unsigned workers, std::string reproduce_command, std::string configuration)
    : timeout_ms_(timeout_ms),
      reproduce_command_(std::move(reproduce_command)),
      configuration_(std::move(configuration)),
      slots_(std::max(workers, 1U)) {
  if (timeout_ms_ > 0) thread_ = std::thread([this] { loop(); });
}

Watchdog::~Watchdog() {
  if (!thread_.joinable()) return;
  {
    const std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void Watchdog::attach(unsigned worker, const model::Heartbeat& heartbeat) {
  if (timeout_ms_ == 0) return;
  const std::lock_guard lock(mutex_);
  Slot& slot = slots_.at(worker);
  slot.heartbeat = &heartbeat;
  slot.beats = heartbeat.beats.load(std::memory_order_relaxed);
  slot.since = std::chrono::steady_clock::now();
}

void Watchdog::detach(unsigned worker) {
  if (timeout_ms_ == 0) return;
  const std::lock_guard lock(mutex_);
  slots_.at(worker).heartbeat = nullptr;
}

void Watchdog::schedule_started(unsigned worker, const std::string& token) {
  if (timeout_ms_ == 0) return;
  const std::lock_guard lock(mutex_);
  slots_.at(worker).token = token;
}

void Watchdog::loop() {
  const auto timeout = std::chrono::milliseconds(timeout_ms_);
  // Sampling four times per timeout reports a stuck fiber at most a quarter late.
  const auto period =
      std::clamp<std::chrono::milliseconds>(timeout / 4, std::chrono::milliseconds(1), std::chrono::milliseconds(1000));
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, period, [this] { return stop_; })) {
    const auto now = std::chrono::steady_clock::now();
    for (Slot& slot : slots_) {
      if (slot.heartbeat == nullptr) continue;
      const std::uint64_t beats = slot.heartbeat->beats.load(std::memory_order_relaxed);
      if (beats != slot.beats || !slot.heartbeat->running.load(std::memory_order_relaxed)) {
        slot.beats = beats;
        slot.since = now;
      } else if (now - slot.since >= timeout) {
        fire(slot);
      }
    }
  }
}

void Watchdog::fire(const Slot& slot) {
  // The stuck thread is not touching its heartbeat (that is why we are here), so these values are
  // the ones it stored last.
  const model::Heartbeat& h = *slot.heartbeat;
  const std::uint32_t fiber = h.fiber.load(std::memory_order_relaxed);
  const std::uint64_t step = h.step.load(std::memory_order_relaxed);
  const char* what = h.what.load(std::memory_order_relaxed);
  const bool its_own = what != nullptr && h.what_fiber.load(std::memory_order_relaxed) == fiber;
  const std::string last =
      its_own ? absl::StrCat("its last scheduling point was step ", step, " (", what, ")")
              : absl::StrCat("it has made none since it started (the schedule was at step ", step, ")");
  const std::string report = absl::StrCat(
      "\ninterleave: WATCHDOG: fiber ", fiber, " made no scheduling point for ", duration(timeout_ms_),
      " while running schedule ", slot.token, "\n  ", last,
      "\n  a fiber that spins on a plain variable, or blocks outside the model (a real lock, a sleep, I/O), never "
      "lets the scheduler run; it cannot be unwound, so the program exits. Raise INTERLEAVE_WATCHDOG_MS for a body "
      "that computes this long between scheduling points (0 turns the watchdog off)\n  configuration: ",
      configuration_, "\nreproduce: INTERLEAVE_REPLAY=", slot.token, " ", reproduce_command_, "\n");
  std::fwrite(report.data(), 1, report.size(), stderr);
  std::fflush(stderr);
  std::_Exit(kHungExitCode);
}

}  // namespace interleave::detail
