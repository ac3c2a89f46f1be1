// The search for the first failing schedule: schedule positions run batch by batch on the exploring
// threads, each schedule planned from the estimates of the batches before it.
#include "explore/search.h"

#include <absl/strings/str_cat.h>

#include <algorithm>
#include <memory>
#include <optional>

#include "explore/signal_report.h"
#include "explore/workers.h"
#include "model/strategies/registry.h"
#include "quote.h"

namespace interleave::detail {

using model::Outcome;
using model::Runtime;

namespace {

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

}  // namespace

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

ScheduleId Search::id_at(std::uint64_t position) const {
  return e_.replaying
             ? ScheduleId::parse(e_.options.replay)
             : schedule_for(e_.options, position * e_.options.shard_count + e_.options.shard_index, estimates_);
}

void Search::run(std::uint64_t count, unsigned jobs) {
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

void Search::explore_batch(unsigned worker) {
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

void Search::run_one(Runtime& mine, unsigned worker, std::uint64_t position) {
  const ScheduleId id = id_at(position);
  watchdog_.schedule_started(worker, arm_signal_message(id, e_.reproduce_command, e_.configuration, mine.heartbeat()));
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

void Search::note_fiber_choices(const Outcome& outcome) {
  const std::vector<std::uint64_t>& picked = *outcome.fiber_choice_points;
  const std::size_t fibers = std::min(picked.size(), model::kMaxSurwEstimates);
  std::lock_guard lock(estimates_mutex_);
  if (most_fiber_choices_.size() < fibers) most_fiber_choices_.resize(fibers, 0);
  for (std::size_t f = 0; f < fibers; ++f) most_fiber_choices_[f] = std::max(most_fiber_choices_[f], picked[f]);
}

}  // namespace interleave::detail
