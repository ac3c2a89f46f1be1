// Internal to the harness library: the search for the first failing schedule (explore()'s loop
// over schedule positions, in parallel, lowest failing position first) and the plan each schedule
// is run from (its strategy, estimates and settings).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "explore/progress.h"
#include "explore/watchdog.h"
#include "interleave/explore.h"
#include "interleave/schedule.h"
#include "model/runtime.h"

namespace interleave::detail {

// The estimates the schedules of a batch are planned from (see Search::run).
struct Estimates {
  std::uint64_t choice_points = 50;          // PCT: choice points per schedule
  std::vector<std::uint64_t> fiber_choices;  // SURW: per fiber, the choice points it is picked at
};

// The schedule explored at `index`: the strategy's (a portfolio's member's), with its estimates
// and the options' settings.
ScheduleId schedule_for(const Options& options, std::uint64_t index, const Estimates& estimates);

// This thread's runtime, made (or remade) for fiber stacks of `stack_bytes`.
model::Runtime& runtime_for(std::size_t stack_bytes);

// The first failure of an exploration: the lowest failing position wins.
struct FirstFailure {
  std::uint64_t position = UINT64_MAX;
  ScheduleId id;
  Failure failure;
  std::uint64_t steps = 0;
  std::uint32_t preemptions = 0;
  std::vector<std::uint32_t> sequence;
};

// The settings of one exploration that every exploring thread reads.
struct Exploration {
  const Options& options;
  const std::function<void()>& body;
  const std::string& reproduce_command;
  const std::string& configuration;
  const FailureProbeFactory& make_probe;
  bool replaying = false;
  std::size_t stack_bytes = 0;
};

// The search for the first failing schedule: positions [0, count) of this shard, run batch by
// batch on up to `jobs` threads, each with its own scheduler; the lowest failing position wins,
// and no position above it starts.
class Search {
 public:
  Search(const Exploration& e, model::Runtime& runtime, Watchdog& watchdog, ProgressLine& progress)
      : e_(e), runtime_(runtime), watchdog_(watchdog), progress_(progress) {}

  // The schedule at this shard's position `position`: index position * shard_count + shard_index.
  [[nodiscard]] ScheduleId id_at(std::uint64_t position) const;

  void run(std::uint64_t count, unsigned jobs);

  [[nodiscard]] const FirstFailure& first() const noexcept { return first_; }
  [[nodiscard]] std::uint64_t total_steps() const noexcept { return total_steps_.load(); }
  [[nodiscard]] std::uint64_t total_choice_points() const noexcept { return total_choices_.load(); }
  // Replaying: why the run does not fit the token (empty when it does).
  [[nodiscard]] const std::string& misfit() const noexcept { return misfit_; }

 private:
  // One exploring thread (worker 0 is the calling thread, with the exploration's own runtime).
  void explore_batch(unsigned worker);
  void run_one(model::Runtime& mine, unsigned worker, std::uint64_t position);
  // SURW's estimates: each fiber's most choice points over the schedules run so far.
  void note_fiber_choices(const model::Outcome& outcome);

  const Exploration& e_;
  model::Runtime& runtime_;
  Watchdog& watchdog_;
  ProgressLine& progress_;
  std::mutex failure_mutex_;
  FirstFailure first_;
  std::atomic<std::uint64_t> failing_position_{UINT64_MAX};
  std::atomic<std::uint64_t> next_position_{0};
  std::atomic<std::uint64_t> most_choices_{0};  // the most choice points a finished schedule made
  std::atomic<std::uint64_t> total_steps_{0};
  std::atomic<std::uint64_t> total_choices_{0};
  std::atomic<std::uint64_t> finished_{0};
  std::uint64_t batch_limit_ = 0;
  Estimates estimates_;  // the current batch's
  std::mutex estimates_mutex_;
  std::vector<std::uint64_t> most_fiber_choices_;  // guarded by estimates_mutex_
  std::string misfit_;                             // one run, on the calling thread
};

}  // namespace interleave::detail
