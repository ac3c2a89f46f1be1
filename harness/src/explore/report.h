// Internal to the harness library: steps of a trace as a report lists them.
#pragma once

#include <cstddef>
#include <vector>

#include "interleave/explore.h"
#include "model/runtime.h"

namespace interleave::detail {

// The entries [first, last) of `trace`, objects numbered over the whole trace, fibers and
// objects named as `names` has them (none when null).
std::vector<StepRecord> describe_steps(const std::vector<model::TraceEntry>& trace, std::size_t first, std::size_t last,
                                       const model::Names* names = nullptr);

// The entries around the preemptions that happen before entry `last_first` (Result::preemption_steps).
std::vector<StepRecord> describe_preemptions(const std::vector<model::TraceEntry>& trace, std::size_t last_first,
                                             const model::Names* names = nullptr);

}  // namespace interleave::detail
