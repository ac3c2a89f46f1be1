// Strategy::dpor's search: runs the executions the DPOR strategy plans, until a failure, a proof
// (the search is exhausted) or the budget.
#include "explore/dpor_search.h"

#include <vector>

#include "explore/shrink.h"
#include "explore/signal_report.h"
#include "model/strategies/dpor.h"

namespace interleave::detail {

using model::Outcome;
using model::Runtime;

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

}  // namespace interleave::detail
