// Linearizability of Pipe: every history of a generated concurrent scenario, under every
// explored schedule, is explained by some order of its calls that respects real time, against the
// sequential specification in linearizability_specs.h. Calls still asleep when a run ends
// quiescent must be ones the specification would keep waiting too, so lost wake-ups fail here as
// well. The zoo's broken pipes must fail the same property: the files in
// linearizability_pipe_properties/, compiled into the same program. (One program per primitive:
// linearizability_suite.h.)
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "interleave/rapidcheck.h"
#include "linearizability_suite.h"

namespace interleave {
namespace {

using namespace linearizability_suite;

INTERLEAVE_PROPERTY(LinearizabilityProperties, PipeIsLinearizable, ()) { pipe_is_linearizable<specs::RealPipe>(); }

}  // namespace
}  // namespace interleave
