// explore(): checks the options, runs the search (search.cpp; Strategy::dpor: dpor_search.cpp),
// replays the first failure once to check it is deterministic, and assembles the Result
// (shrinking: shrink.cpp; reports: report.cpp; the fatal-signal reproduce line: signal_report.cpp).
#include "interleave/explore.h"

#include <absl/strings/str_cat.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "explore/dpor_search.h"
#include "explore/escapes.h"
#include "explore/progress.h"
#include "explore/report.h"
#include "explore/search.h"
#include "explore/shrink.h"
#include "explore/signal_report.h"
#include "explore/trace_export.h"
#include "explore/watchdog.h"
#include "interleave/contract.h"
#include "interleave/stress.h"
#include "model/runtime.h"
#include "where.h"

namespace interleave {

namespace detail {

using model::Outcome;
using model::Runtime;
using model::TraceEntry;

namespace {

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
