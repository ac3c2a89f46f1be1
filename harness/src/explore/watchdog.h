// Internal to the harness library: the watchdog of an exploration. A fiber that makes no
// scheduling point -- a spin on a plain variable, a real lock, a sleep, I/O -- never hands control
// back to its scheduler, so no step bound or deadlock check can see it: the exploration would
// hang with no output. The watchdog thread samples each exploring thread's Heartbeat and, when
// one has not moved for the configured time inside a run, prints which fiber is stuck, where it
// was and the reproduce line, and ends the process with kHungExitCode (a running fiber cannot be
// unwound from outside).
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "model/runtime.h"

namespace interleave::detail {

class Watchdog {
 public:
  // Watches up to `workers` exploring threads from the process's one watchdog thread (started on
  // first use and kept: starting and joining a thread per exploration cost milliseconds on a busy
  // machine); timeout_ms = 0: watches nothing.
  Watchdog(std::uint64_t timeout_ms, unsigned workers, std::string reproduce_command, std::string configuration);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // Worker `worker` runs schedules on the scheduler that owns `heartbeat` until detach(worker);
  // the heartbeat must outlive that.
  void attach(unsigned worker, const model::Heartbeat& heartbeat);
  void detach(unsigned worker);
  // The schedule worker `worker` runs next, for the report (once per schedule, not per step).
  void schedule_started(unsigned worker, const std::string& token);

 private:
  struct Slot {
    const model::Heartbeat* heartbeat = nullptr;
    std::string token;
    std::uint64_t beats = 0;
    std::chrono::steady_clock::time_point since;  // when `beats` was last seen to change
  };

  friend class WatchdogThread;
  // Called by the watchdog thread every period: reports and ends the process if a worker is stuck.
  void sample(std::chrono::steady_clock::time_point now);
  [[nodiscard]] std::chrono::milliseconds period() const noexcept;
  [[noreturn]] void fire(const Slot& slot);

  const std::uint64_t timeout_ms_;
  const std::string reproduce_command_;
  const std::string configuration_;
  std::mutex mutex_;
  std::vector<Slot> slots_;
};

}  // namespace interleave::detail
