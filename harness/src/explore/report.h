// Internal to the harness library: steps of a trace as a report lists them.
#pragma once

#include <cstddef>
#include <vector>

#include "interleave/explore.h"
#include "model/runtime.h"

namespace interleave::detail {

// The entries [first, last) of `trace`, objects numbered over the whole trace.
std::vector<StepRecord> describe_steps(const std::vector<model::TraceEntry>& trace, std::size_t first,
                                       std::size_t last);

}  // namespace interleave::detail
