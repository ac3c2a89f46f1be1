// Internal to the harness library: Strategy::dpor's search, one execution after another, each
// planned from the ones before it (model/strategies/dpor.h).
#pragma once

#include <cstdint>
#include <string>

#include "explore/progress.h"
#include "explore/search.h"
#include "explore/watchdog.h"
#include "model/runtime.h"

namespace interleave::detail {

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
DporEnd run_dpor(const Exploration& e, model::Runtime& runtime, Watchdog& watchdog, ProgressLine& progress,
                 std::uint64_t count);

}  // namespace interleave::detail
