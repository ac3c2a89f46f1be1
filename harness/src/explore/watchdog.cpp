#include "explore/watchdog.h"

#include <absl/strings/str_cat.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#include "interleave/stress.h"

namespace interleave::detail {

namespace {

// The longest a watchdog waits between two samples (Watchdog::period()), and so the longest the
// sampling thread sleeps, watched or not.
constexpr std::chrono::milliseconds kLongestPeriod{1000};

std::string duration(std::uint64_t ms) {
  return ms % 1000 == 0 ? absl::StrCat(ms / 1000, " s") : absl::StrCat(ms, " ms");
}

}  // namespace

// The thread that samples every live exploration's Watchdog. One per process, never joined (like
// WorkerPool's threads); a fork()ed child, which has the memory but not the thread (and possibly a
// mutex its parent's thread held), starts a fresh one.
class WatchdogThread {
 public:
  static WatchdogThread& instance() {
    static std::mutex creation;
    static WatchdogThread* current = nullptr;
    const std::lock_guard lock(creation);
    if (current == nullptr || current->pid_ != ::getpid()) current = new WatchdogThread;  // leaked on purpose
    return *current;
  }

  void add(Watchdog* watchdog) {
    bool sooner = false;
    {
      const std::lock_guard lock(mutex_);
      watched_.push_back(watchdog);
      sooner = watchdog->period() < waiting_;
    }
    // The thread samples at least every kLongestPeriod, watched or not: an exploration with the
    // default timeout needs no wake-up (a futex wake and a thread switch, per explore() call),
    // only one that must be sampled sooner than the thread's current wait.
    if (sooner) wake_.notify_all();
  }
  // After this returns, the thread no longer touches `watchdog`.
  void remove(Watchdog* watchdog) {
    const std::lock_guard lock(mutex_);
    watched_.erase(std::remove(watched_.begin(), watched_.end(), watchdog), watched_.end());
  }

 private:
  WatchdogThread() : pid_(::getpid()) {
    std::thread([this] { loop(); }).detach();
  }

  void loop() {
    std::unique_lock lock(mutex_);
    while (true) {
      waiting_ = kLongestPeriod;
      for (const Watchdog* w : watched_) waiting_ = std::min(waiting_, w->period());
      wake_.wait_for(lock, waiting_);
      waiting_ = std::chrono::milliseconds::zero();  // sampling now: an add() needs no wake-up
      const auto now = std::chrono::steady_clock::now();
      for (Watchdog* w : watched_) w->sample(now);
    }
  }

  const pid_t pid_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Watchdog*> watched_;
  std::chrono::milliseconds waiting_ = kLongestPeriod;  // how long the thread's current wait lasts
};

Watchdog::Watchdog(std::uint64_t timeout_ms, unsigned workers, std::string reproduce_command, std::string configuration)
    : timeout_ms_(timeout_ms),
      reproduce_command_(std::move(reproduce_command)),
      configuration_(std::move(configuration)),
      slots_(std::max(workers, 1U)) {
  if (timeout_ms_ > 0) WatchdogThread::instance().add(this);
}

Watchdog::~Watchdog() {
  if (timeout_ms_ > 0) WatchdogThread::instance().remove(this);
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

std::chrono::milliseconds Watchdog::period() const noexcept {
  // Sampling four times per timeout reports a stuck fiber at most a quarter late.
  return std::clamp<std::chrono::milliseconds>(std::chrono::milliseconds(timeout_ms_) / 4, std::chrono::milliseconds(1),
                                               kLongestPeriod);
}

void Watchdog::sample(std::chrono::steady_clock::time_point now) {
  const auto timeout = std::chrono::milliseconds(timeout_ms_);
  const std::lock_guard lock(mutex_);
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
