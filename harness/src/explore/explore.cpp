// explore(): the loop over schedules (in parallel, lowest failing index first), the replay-once
// determinism check, and the assembly of the Result (shrinking: shrink.cpp; reports: report.cpp;
// the fatal-signal reproduce line: signal_report.cpp).
#include "interleave/explore.h"

#include <absl/strings/str_cat.h>
#include <absl/strings/str_format.h>
#include <absl/strings/str_join.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "explore/escapes.h"
#include "explore/progress.h"
#include "explore/report.h"
#include "explore/shrink.h"
#include "explore/signal_report.h"
#include "explore/trace_export.h"
#include "explore/watchdog.h"
#include "explore/workers.h"
#include "interleave/contract.h"
#include "interleave/stress.h"
#include "model/runtime.h"
#include "model/strategies/dpor.h"
#include "model/strategies/registry.h"
#include "quote.h"
#include "where.h"

namespace interleave {

namespace detail {

using model::Outcome;
using model::Runtime;
using model::TraceEntry;

namespace {

// The estimates the schedules of a batch are planned from (see batch_end).
struct Estimates {
  std::uint64_t choice_points = 50;          // PCT: choice points per schedule
  std::vector<std::uint64_t> fiber_choices;  // SURW: per fiber, the choice points it is picked at
};

ScheduleId schedule_for(const Options& options, std::uint64_t index, const Estimates& estimates) {
  ScheduleId id;
  id.strategy = options.strategy;
  id.pct_depth = options.pct_depth;
  if (options.strategy == Strategy::portfolio) {  // the schedule is its member's: so is its token
    const model::PortfolioMember member = model::portfolio_member(options.seed, index);
    id.strategy = member.strategy;
    if (member.strategy == Strategy::pct) id.pct_depth = member.pct_depth;
  }
  id.pct_choice_points = id.strategy == Strategy::pct ? std::max<std::uint64_t>(estimates.choice_points, 1) : 0;
  if (id.strategy == Strategy::surw) id.surw_estimates = estimates.fiber_choices;
  id.seed = options.seed;
  id.index = index;
  id.spurious_wakeup_permille = options.spurious_wakeup_permille;
  id.max_steps = options.max_steps;
  if (options.memory_model == MemoryModel::weak) {
    id.memory_model = MemoryModel::weak;
    id.store_history = options.store_history;
    id.spurious_cas_permille = options.spurious_cas_permille;
  }
  return id;
}

Runtime& runtime_for(std::size_t stack_bytes) {
  thread_local std::unique_ptr<Runtime> runtime;
  if (!runtime || runtime->stack_bytes() != stack_bytes) runtime = std::make_unique<Runtime>(stack_bytes);
  return *runtime;
}

// PCT draws its change points from an estimate of how many choice points a schedule has: the most
// an earlier schedule made (the first schedule, with none before it, assumes 50); SURW weighs each
// fiber by the most choice points an earlier schedule picked it at (the first has no estimates).
// So that every job count explores the same schedules, the estimates change only between batches
// of schedule positions (1, 1, 2, 4, ... 64, then 64 at a time): a batch uses the most of the
// batches before it. The other strategies need no estimate: one batch.
std::uint64_t batch_end(Strategy strategy, std::uint64_t start, std::uint64_t count) {
  if (strategy != Strategy::pct && strategy != Strategy::surw && strategy != Strategy::portfolio) return count;
  const std::uint64_t size = start == 0 ? 1 : std::min<std::uint64_t>(start, 64);
  return std::min(count, start + size);
}

// The first failure of a parallel exploration: the lowest failing position wins.
struct FirstFailure {
  std::uint64_t position = UINT64_MAX;
  ScheduleId id;
  Failure failure;
  std::uint64_t steps = 0;
  std::uint32_t preemptions = 0;
  std::vector<std::uint32_t> sequence;
};

// Empty when the run just made fits the replayed token `id`, else the error: the token was
// recorded from another test (or this one before it changed), so the schedule it names could not
// be replayed, and the run shows nothing.
std::string replay_misfit(const Runtime& runtime, const ScheduleId& id) {
  const auto plural = [](std::uint64_t n, const char* word) { return absl::StrCat(n, " ", word, n == 1 ? "" : "s"); };
  std::string problem;
  const TestFingerprint found = runtime.fingerprint(id.test.steps);
  if (found != id.test) {
    problem =
        absl::StrCat("it was recorded from a test whose first ", plural(id.test.steps, "scheduling point"), " ran ",
                     plural(id.test.fibers, "fiber"), " (fingerprint ", id.test.text(), "), but this test's ",
                     found.steps < id.test.steps
                         ? absl::StrCat("whole run made only ", plural(found.steps, "scheduling point"), ", which ran ")
                         : absl::StrCat("first ", plural(found.steps, "scheduling point"), " ran "),
                     plural(found.fibers, "fiber"), " (fingerprint ", found.text(),
                     "): ", runtime.describe_fingerprint(found.steps));
  } else if (const auto& misfit = runtime.chooser().misfit()) {
    const Choice& c = misfit->choice;
    problem = absl::StrCat("its choice ", c.fiber, "_", c.decision, ":", c.value, " names position ", c.value, " of ",
                           misfit->decision, ", which in this test had positions 0 to ", misfit->positions - 1);
  } else if (const std::optional<Choice> unreached = runtime.chooser().unreached_choice()) {
    const Choice& c = *unreached;
    const std::uint64_t taken = runtime.chooser().decisions_of(c.fiber);
    problem = absl::StrCat("its choice ", c.fiber, "_", c.decision, ":", c.value, " was never reached: in this test ",
                           taken == 0 ? absl::StrCat("fiber ", c.fiber, " took no decision (it never ran)")
                                      : absl::StrCat("fiber ", c.fiber, " took ", plural(taken, "decision")));
  }
  if (problem.empty()) return {};
  return absl::StrCat(
      "interleave: the replay token ", quote_input(id.token()), " does not fit this test: ", problem,
      ".\n  The token comes from another test, or this test (or the code it tests) changed since the token was "
      "printed, or it was printed by another version of interleave (one that schedules at other steps), or the "
      "test does not run the same way every time. Its schedule was not replayed, so this run shows "
      "nothing: run the test without INTERLEAVE_REPLAY to explore it, and replay the token its own failure report "
      "prints (a property's token goes with the RC_PARAMS=\"reproduce=...\" of the same report).");
}

// Applies the environment and checks what cannot run, before anything runs.
void prepare(Options& options, std::string& reproduce_command, bool runner_shards_tests) {
  if (model::active()) {
    // The outer schedule's fibers run on this thread's runtime and stacks: an inner exploration
    // would replace them under the running fiber.
    throw std::logic_error(absl::StrCat("interleave: explore() was called inside an explored body (fiber ",
                                        model::current_fiber(),
                                        "); explorations do not nest: explore the inner body on its own"));
  }
  link_escape_checks();
  options.apply_environment();
  if (runner_shards_tests) {
    options.shard_count = 1;
    options.shard_index = 0;
  }
  if (options.strategy == Strategy::choices && options.replay.empty()) {
    throw std::invalid_argument(
        "interleave: Strategy::choices names one schedule decision by decision (a replay token); explore with "
        "Strategy::portfolio, Strategy::random_walk, Strategy::pct, Strategy::pos or Strategy::surw");
  }
  if (options.strategy == Strategy::dpor && options.memory_model == MemoryModel::weak && options.replay.empty()) {
    throw std::invalid_argument(
        "interleave: Strategy::dpor explores the sequentially consistent memory model only (each load reads the "
        "latest store); set memory_model to MemoryModel::sc (INTERLEAVE_MEMORY_MODEL=sc) for DPOR, or explore the "
        "weak model with Strategy::portfolio, random_walk, pct or pos");
  }
  // DPOR explores the interleavings of the body as written: no spurious wake-ups.
  if (options.strategy == Strategy::dpor) options.spurious_wakeup_permille = 0;
  check_trace_path(options.trace_path);
  if (reproduce_command.empty()) reproduce_command = program_command_line();
}

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
  Search(const Exploration& e, Runtime& runtime, Watchdog& watchdog, ProgressLine& progress)
      : e_(e), runtime_(runtime), watchdog_(watchdog), progress_(progress) {}

  // The schedule at this shard's position `position`: index position * shard_count + shard_index.
  [[nodiscard]] ScheduleId id_at(std::uint64_t position) const {
    return e_.replaying
               ? ScheduleId::parse(e_.options.replay)
               : schedule_for(e_.options, position * e_.options.shard_count + e_.options.shard_index, estimates_);
  }

  void run(std::uint64_t count, unsigned jobs) {
    const Strategy batching = e_.replaying ? Strategy::random_walk : e_.options.strategy;
    for (std::uint64_t start = 0; start < count && failing_position_.load() == UINT64_MAX; start = batch_limit_) {
      batch_limit_ = batch_end(batching, start, count);
      next_position_.store(start);
      estimates_.choice_points = start == 0 ? 50 : std::max<std::uint64_t>(1, most_choices_.load());
      estimates_.fiber_choices = most_fiber_choices_;  // no worker runs between batches
      WorkerPool::instance().run(static_cast<unsigned>(std::min<std::uint64_t>(jobs, batch_limit_ - start)),
                                 [this](unsigned worker) { explore_batch(worker); });
    }
  }

  [[nodiscard]] const FirstFailure& first() const noexcept { return first_; }
  [[nodiscard]] std::uint64_t total_steps() const noexcept { return total_steps_.load(); }
  [[nodiscard]] std::uint64_t total_choice_points() const noexcept { return total_choices_.load(); }
  // Replaying: why the run does not fit the token (empty when it does).
  [[nodiscard]] const std::string& misfit() const noexcept { return misfit_; }

 private:
  // One exploring thread (worker 0 is the calling thread, with the exploration's own runtime).
  void explore_batch(unsigned worker) {
    install_fatal_signal_reporter();  // this thread's alternate signal stack
    Runtime& mine = worker == 0 ? runtime_ : runtime_for(e_.stack_bytes);
    std::unique_ptr<FailureProbe> worker_probe;
    if (worker != 0 && e_.make_probe) {
      worker_probe = e_.make_probe();
      mine.set_failure_probe([p = worker_probe.get()] { return p->poll(); });
    }
    if (worker != 0) watchdog_.attach(worker, mine.heartbeat());
    struct Cleanup {
      Runtime& r;
      bool clear;
      Watchdog& watchdog;
      unsigned worker;
      ~Cleanup() {
        if (clear) r.set_failure_probe({});
        disarm_signal_message();
        if (worker != 0) watchdog.detach(worker);
      }
    } cleanup{mine, worker_probe != nullptr, watchdog_, worker};
    while (true) {
      const std::uint64_t position = next_position_.fetch_add(1, std::memory_order_relaxed);
      if (position >= batch_limit_ || position > failing_position_.load(std::memory_order_acquire)) return;
      run_one(mine, worker, position);
    }
  }

  void run_one(Runtime& mine, unsigned worker, std::uint64_t position) {
    const ScheduleId id = id_at(position);
    watchdog_.schedule_started(worker,
                               arm_signal_message(id, e_.reproduce_command, e_.configuration, mine.heartbeat()));
    // Exploration records only which fiber ran each step; a failing schedule is then replayed
    // with a full trace, which also checks that it fails the same way again.
    Outcome outcome = mine.run(id, e_.body, e_.replaying);
    if (e_.replaying) misfit_ = replay_misfit(mine, id);
    total_steps_.fetch_add(outcome.steps, std::memory_order_relaxed);
    total_choices_.fetch_add(outcome.choice_points, std::memory_order_relaxed);
    std::uint64_t seen = most_choices_.load(std::memory_order_relaxed);
    while (seen < outcome.choice_points &&
           !most_choices_.compare_exchange_weak(seen, outcome.choice_points, std::memory_order_relaxed)) {
    }
    if (id.strategy == Strategy::surw || e_.options.strategy == Strategy::portfolio) note_fiber_choices(outcome);
    if (outcome.failure) {
      std::lock_guard lock(failure_mutex_);
      if (position < first_.position) {
        first_.position = position;
        first_.id = id;
        first_.failure = *outcome.failure;
        first_.steps = outcome.steps;
        first_.preemptions = outcome.preemptions;
        first_.sequence = *outcome.sequence;
        failing_position_.store(position, std::memory_order_release);
      }
    }
    progress_.schedule_done(finished_.fetch_add(1, std::memory_order_relaxed) + 1, outcome.failure.has_value());
  }

  // SURW's estimates: each fiber's most choice points over the schedules run so far.
  void note_fiber_choices(const Outcome& outcome) {
    const std::vector<std::uint64_t>& picked = *outcome.fiber_choice_points;
    const std::size_t fibers = std::min(picked.size(), model::kMaxSurwEstimates);
    std::lock_guard lock(estimates_mutex_);
    if (most_fiber_choices_.size() < fibers) most_fiber_choices_.resize(fibers, 0);
    for (std::size_t f = 0; f < fibers; ++f) most_fiber_choices_[f] = std::max(most_fiber_choices_[f], picked[f]);
  }

  const Exploration& e_;
  Runtime& runtime_;
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

// How a DPOR search (Strategy::dpor) ended.
struct DporEnd {
  FirstFailure first;      // position UINT64_MAX: no failure
  std::string divergence;  // non-empty: the body did not re-take a prefix's decisions
  std::string spin;        // non-empty: the search could not go on (model::Dpor::spin())
  std::uint64_t executions = 0;
  std::uint64_t classes = 0;  // executions not cut short by their sleep sets
  std::uint64_t steps = 0;
  std::uint64_t choice_points = 0;
  bool exhausted = false;
};

// Strategy::dpor: one execution after another on the calling thread, each planned from the ones
// before it (model/strategies/dpor.h), until a failure, the end of the search, or `count`
// executions. Each execution records its departures from the undisturbed schedule: a failing one
// is reported (and shrunk) as the choices schedule that replays it.
DporEnd run_dpor(const Exploration& e, Runtime& runtime, Watchdog& watchdog, ProgressLine& progress,
                 std::uint64_t count) {
  DporEnd end;
  std::vector<Choice> departures;
  for (std::uint64_t index = 0; index < count; ++index) {
    const ScheduleId id = schedule_for(e.options, index, Estimates{});
    watchdog.schedule_started(0, arm_signal_message(id, e.reproduce_command, e.configuration, runtime.heartbeat()));
    departures.clear();
    Outcome outcome = runtime.run(id, e.body, false, &departures);
    auto& dpor = static_cast<model::Dpor&>(*runtime.chooser().strategy());
    dpor.end_execution();
    ++end.executions;
    end.steps += outcome.steps;
    end.choice_points += outcome.choice_points;
    if (outcome.failure || !dpor.divergence().empty()) {
      end.first.position = index;
      end.first.id = choices_schedule(departures, id);
      if (outcome.failure) end.first.failure = *outcome.failure;
      end.first.steps = outcome.steps;
      end.first.preemptions = outcome.preemptions;
      end.first.sequence = *outcome.sequence;
      if (!outcome.failure) end.divergence = dpor.divergence();
      progress.schedule_done(end.executions, true);
      return end;
    }
    if (!dpor.spin().empty()) {
      end.spin = dpor.spin();
      return end;
    }
    end.classes += dpor.redundant() ? 0 : 1;
    progress.schedule_done(end.executions, false);
    if (!dpor.plan_next()) {
      end.exhausted = true;
      return end;
    }
  }
  return end;
}

// The failure of a schedule that did not fail the same way when replayed: where the runs differ.
Failure nondeterminism(const FirstFailure& first, const Outcome& again) {
  const std::vector<std::uint32_t>& first_sequence = first.sequence;
  const std::vector<std::uint32_t>& second_sequence = *again.sequence;
  const std::vector<TraceEntry>& trace = *again.trace;
  std::size_t diverged = 0;
  while (diverged < first_sequence.size() && diverged < second_sequence.size() &&
         first_sequence[diverged] == second_sequence[diverged]) {
    ++diverged;
  }
  Failure f;
  f.kind = FailureKind::nondeterminism;
  f.fiber = first.failure.fiber;
  f.step = diverged < trace.size() ? trace[diverged].step : again.steps;
  f.message =
      absl::StrCat("the schedule failed with ", std::string(to_string(first.failure.kind)), " (", first.failure.message,
                   ") but replaying it ",
                   again.failure ? absl::StrCat("failed differently (", std::string(to_string(again.failure->kind)),
                                                ": ", again.failure->message, ")")
                                 : std::string("passed"),
                   ". The runs first differ at step ", f.step,
                   ": the body depends on something the scheduler does not control (real time, "
                   "randomness, addresses, state kept between runs).");
  absl::StrAppend(&f.message, "\n    first run:  ",
                  diverged < first_sequence.size() ? absl::StrCat("fiber ", first_sequence[diverged], " ran")
                                                   : std::string("(the run had already ended)"),
                  "\n    replay run: ");
  if (diverged < trace.size()) {
    const StepRecord r = describe_steps(trace, diverged, diverged + 1).front();
    absl::StrAppend(&f.message, "fiber ", r.fiber, " ", r.what, r.operation.empty() ? "" : " in ", r.operation,
                    r.where.empty() ? "" : " at ", r.where);
  } else {
    absl::StrAppend(&f.message, "(the run had already ended)");
  }
  return f;
}

// The weak memory model's stale reads of a full-trace run, for the report.
std::vector<std::string> describe_stale_reads(const std::vector<model::StaleRead>& reads) {
  std::vector<std::string> out;
  const auto store = [](std::uint64_t step, std::uint32_t fiber) {
    return step == 0 && fiber == UINT32_MAX ? std::string("the object's initial value")
                                            : absl::StrCat("the value stored at step #", step, " by fiber ", fiber);
  };
  for (const model::StaleRead& r : reads) {
    const std::string at = location_text(r.where);
    out.push_back(absl::StrCat(r.what, at.empty() ? "" : absl::StrCat(" at ", at), " (fiber ", r.fiber, ", step #",
                               r.step, ") read ", store(r.read_step, r.read_fiber), ", not the latest (",
                               r.newest_step == 0 && r.newest_fiber == UINT32_MAX
                                   ? std::string("the initial value")
                                   : absl::StrCat("step #", r.newest_step, " by fiber ", r.newest_fiber),
                               "): ", r.stores_old, r.stores_old == 1 ? " store" : " stores", " old"));
  }
  return out;
}

// Replays the first failing schedule once with a full trace (a test that does not fail the same
// way again depends on something outside the schedule, and its reproduce line would lie), then
// shrinks it. Fills `result` (the schedule, steps, preemptions, the failure and its last steps)
// and returns the run the report describes.
Outcome confirm_and_shrink(const Exploration& e, Runtime& runtime, Watchdog& watchdog, const FirstFailure& first,
                           Result& result) {
  ScheduleId id = first.id;
  result.schedules_run = first.position + 1;
  result.steps = first.steps;
  result.preemptions = first.preemptions;
  result.found_preemptions = first.preemptions;
  const auto before_run = [&](const ScheduleId& candidate) {
    watchdog.schedule_started(0,
                              arm_signal_message(candidate, e.reproduce_command, e.configuration, runtime.heartbeat()));
  };
  before_run(id);
  std::vector<Choice> departures;
  Outcome again = runtime.run(id, e.body, true, &departures);
  // The token names the test it belongs to: the fingerprint of this run (a replayed token's own).
  id.test = runtime.fingerprint();
  result.schedule = id;
  const bool same = again.failure && again.failure->kind == first.failure.kind && again.steps == first.steps &&
                    *again.sequence == first.sequence;
  if (same && !e.replaying && e.options.shrink_runs > 0) {
    // Report the simplest schedule that still fails with the same bug. A candidate that crashes
    // or hangs is reported with its own token (before_run), which reproduces that.
    const Failure bug = *again.failure;
    Shrunk shrunk = shrink_schedule(runtime, e.body, bug, std::move(departures), id, e.options.shrink_runs, before_run);
    before_run(shrunk.id);
    Outcome final_run = runtime.run(shrunk.id, e.body, true);
    shrunk.id.test = runtime.fingerprint();
    result.shrink_runs = shrunk.runs;
    if (final_run.failure && same_bug(*final_run.failure, bug)) {
      result.shrunk = shrunk.id;
      again = final_run;
    } else {
      // The body is not deterministic after all: report the schedule found, as found.
      before_run(id);
      again = runtime.run(id, e.body, true);
    }
  }
  const std::vector<TraceEntry>& trace = *again.trace;
  if (same) {
    result.failure = *again.failure;
    result.steps = again.steps;
    result.preemptions = again.preemptions;
  } else {
    result.failure = nondeterminism(first, again);
  }
  const std::size_t shown = std::min<std::size_t>(trace.size(), static_cast<std::size_t>(e.options.report_steps));
  result.last_steps = describe_steps(trace, trace.size() - shown, trace.size(), again.names);
  result.stale_reads = describe_stale_reads(*again.stale_reads);
  result.preemption_steps = describe_preemptions(trace, trace.size() - shown, again.names);
  return again;
}

// What one exploration sets on the calling thread's runtime for its own duration: the failure
// probe (the calling thread's lives for the whole exploration: it also serves the replay) and
// Options::race_detector. Both are put back on destruction.
class ExplorationScope {
 public:
  ExplorationScope(Runtime& runtime, const FailureProbeFactory& make_probe, std::optional<bool> race_detector)
      : runtime_(runtime), probe_(make_probe ? make_probe() : nullptr) {
    if (probe_) runtime_.set_failure_probe([p = probe_.get()] { return p->poll(); });
    if (race_detector) previous_detector_ = model::set_race_detector(*race_detector);
  }
  ExplorationScope(const ExplorationScope&) = delete;
  ExplorationScope& operator=(const ExplorationScope&) = delete;
  ~ExplorationScope() {
    if (previous_detector_) (void)model::set_race_detector(*previous_detector_);
    runtime_.set_failure_probe({});
  }

 private:
  Runtime& runtime_;
  std::unique_ptr<FailureProbe> probe_;
  std::optional<bool> previous_detector_;
};

// How many schedule positions this shard runs: position p runs schedule index
// p * shard_count + shard_index. A replay runs one.
std::uint64_t shard_positions(const Options& options, bool replaying) {
  if (replaying) return 1;
  if (options.shard_index >= options.schedules) return 0;
  return (options.schedules - options.shard_index - 1) / options.shard_count + 1;
}

// The first failure found: confirmed, shrunk, reported, traced.
Result finish_failure(const Exploration& e, Runtime& runtime, Watchdog& watchdog, const FirstFailure& first,
                      Result result) {
  const Options& options = e.options;
  const Outcome again = confirm_and_shrink(e, runtime, watchdog, first, result);
  result.reproduce = absl::StrCat("INTERLEAVE_REPLAY=", result.reproduce_token(), " ", e.reproduce_command);
  if (!options.trace_path.empty())
    write_trace_files(options.trace_path, *again.trace, *again.edges, result, again.names);
  disarm_signal_message();
  return result;
}

// Strategy::dpor from the first execution to a failure, a proof, or Options::schedules executions.
Result explore_dpor(const Exploration& e, Runtime& runtime, Watchdog& watchdog, ProgressLine& progress, Result result) {
  // One search, each execution planned from the ones before it: it is not split; shard 0 runs it.
  const DporEnd end = run_dpor(e, runtime, watchdog, progress, e.options.shard_index == 0 ? e.options.schedules : 0);
  if (!end.spin.empty()) {
    disarm_signal_message();
    throw std::runtime_error(absl::StrCat(
        "interleave: Strategy::dpor cannot search this body: in execution ", end.executions, ", ", end.spin,
        ". DPOR keeps a fiber running while it may, so a spin loop that never yields would be unrolled without "
        "end: make the loop yield (P::yield(), std::this_thread::yield()), or explore the body with "
        "Strategy::portfolio; a body this long is also too long to search exhaustively"));
  }
  result.total_steps = end.steps;
  result.total_choice_points = end.choice_points;
  result.equivalence_classes = end.classes;
  result.exhausted = end.exhausted;
  result.schedules_run = end.executions;
  if (end.first.position == UINT64_MAX) {
    result.schedule = schedule_for(e.options, end.executions > 0 ? end.executions - 1 : 0, Estimates{});
    disarm_signal_message();
    return result;
  }
  if (end.divergence.empty()) return finish_failure(e, runtime, watchdog, end.first, std::move(result));
  Failure f;
  f.kind = FailureKind::nondeterminism;
  f.message = absl::StrCat(
      "DPOR re-runs the body for each execution, re-taking the decisions of the execution before it up to a "
      "branch point, but ",
      end.divergence,
      ": the body depends on something the scheduler does not control (real time, randomness, addresses, state "
      "kept between runs)");
  result.failure = f;
  result.schedule = end.first.id;
  result.schedule.test = runtime.fingerprint();
  result.reproduce = absl::StrCat("INTERLEAVE_REPLAY=", result.reproduce_token(), " ", e.reproduce_command);
  disarm_signal_message();
  return result;
}

}  // namespace

Result explore_function(Options options, const std::function<void()>& body, std::string reproduce_command,
                        const FailureProbeFactory& make_probe, bool runner_shards_tests) {
  prepare(options, reproduce_command, runner_shards_tests);
  install_fatal_signal_reporter();
  Result result;
  result.configuration = options.describe();
  const Exploration e{options,
                      body,
                      reproduce_command,
                      result.configuration,
                      make_probe,
                      !options.replay.empty(),
                      options.stack_kib * 1024};
  result.replayed = e.replaying;
  Runtime& runtime = runtime_for(e.stack_bytes);
  const ExplorationScope scope(runtime, make_probe, options.race_detector);
  const std::uint64_t count = shard_positions(options, e.replaying);
  result.schedules_planned = e.replaying ? 1 : options.schedules;
  const unsigned jobs = static_cast<unsigned>(std::clamp<std::uint64_t>(
      options.jobs == 0 ? available_cores() : options.jobs, 1, std::max<std::uint64_t>(count, 1)));
  ProgressLine progress(options.progress, count);
  Watchdog watchdog(options.watchdog_ms, jobs, reproduce_command, result.configuration);
  watchdog.attach(0, runtime.heartbeat());  // the calling thread also replays and shrinks

  if (!e.replaying && options.strategy == Strategy::dpor) {
    return explore_dpor(e, runtime, watchdog, progress, std::move(result));
  }
  Search search(e, runtime, watchdog, progress);
  search.run(count, jobs);
  result.total_steps = search.total_steps();
  result.total_choice_points = search.total_choice_points();
  // A token from another test must not pass (or fail) as if its schedule had been replayed.
  if (!search.misfit().empty()) {
    disarm_signal_message();
    throw ReplayMismatch(search.misfit());
  }
  if (search.first().position == UINT64_MAX) {
    result.schedules_run = count;
    if (count > 0) result.schedule = search.id_at(count - 1);
    result.reproduce.clear();
    return result;
  }
  return finish_failure(e, runtime, watchdog, search.first(), std::move(result));
}

[[noreturn]] void assertion_failed(const char* expression, interleave::source_location where,
                                   std::string_view message) {
  std::string text = absl::StrCat("INTERLEAVE_ASSERT(", expression, ") failed");
  if (!message.empty()) text.append(": ").append(message);
  if (model::active()) model::fail(FailureKind::assertion, std::move(text), where);
  // On real threads of a stress run: fail the run with its seed, and unwind the failing thread.
  if (stress_active()) stress_assertion_failed(std::move(text), where);
  report_contract_violation(text, where);
}

}  // namespace detail

}  // namespace interleave
