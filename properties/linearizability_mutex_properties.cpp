// Linearizability of Mutex: every history of a generated concurrent scenario, under every
// explored schedule, is explained by some order of its calls that respects real time, against the
// sequential specification in linearizability_specs.h. Calls still asleep when a run ends
// quiescent must be ones the specification would keep waiting too, so lost wake-ups fail here as
// well. The zoo's broken mutexs must fail the same property wherever their bug shows in what
// the calls return or in who is left asleep. (One program per primitive: linearizability_suite.h.)
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "interleave/rapidcheck.h"
#include "linearizability_suite.h"

namespace interleave {
namespace {

using namespace linearizability_suite;

INTERLEAVE_PROPERTY(LinearizabilityProperties, MutexIsLinearizable, ()) { mutex_is_linearizable<BasicMutex>(); }

}  // namespace
}  // namespace interleave
