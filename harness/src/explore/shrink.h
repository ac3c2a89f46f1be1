// Internal to the harness library: shrinking a failing schedule (Options::shrink_runs).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "interleave/explore.h"
#include "interleave/schedule.h"
#include "model/runtime.h"

namespace interleave::detail {

// Two failures are the same bug when they are of the same kind, detected at the same place.
inline bool same_bug(const Failure& a, const Failure& b) { return a.kind == b.kind && a.where == b.where; }

// The choices schedule that lists `choices` (departures a run recorded, in any order), with
// `found`'s step bound and memory model settings: it replays that run.
ScheduleId choices_schedule(std::vector<Choice> choices, const ScheduleId& found);

// Shrinks a failing schedule to a simpler one that fails with the same bug: fewer departures from
// the undisturbed schedule (see schedule.h), that is fewer preemptions, spurious wake-ups and
// out-of-order wakes. `choices` are the failing run's departures, recorded. Delta debugging: drop a
// chunk of them, keep the result when the bug persists (taking the departures that run actually
// made), halve the chunk when nothing more goes; then drop one while moving another a decision or
// two earlier or later (a preemption one step too late can need a second one to repair it); then
// single early preemptions of each fiber. At most
// `budget` runs; each candidate keeps `found`'s step bound and memory model settings, and a load
// that reads an older store is a departure like a preemption, so shrinking prefers the latest
// store; deterministic, so every job count shrinks alike.
struct Shrunk {
  ScheduleId id;
  std::uint64_t runs = 0;
};

Shrunk shrink_schedule(model::Runtime& runtime, const std::function<void()>& body, const Failure& bug,
                       std::vector<Choice> choices, const ScheduleId& found, std::uint64_t budget,
                       const std::function<void(const ScheduleId&)>& before_run);

}  // namespace interleave::detail
