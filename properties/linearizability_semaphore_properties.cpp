// Linearizability of Semaphore: every history of a generated concurrent scenario, under every
// explored schedule, is explained by some order of its calls that respects real time, against the
// sequential specification in linearizability_specs.h. Calls still asleep when a run ends
// quiescent must be ones the specification would keep waiting too, so lost wake-ups fail here as
// well. The zoo's broken semaphores must fail the same property wherever their bug shows in what
// the calls return or in who is left asleep. (One program per primitive: linearizability_suite.h.)
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "interleave/rapidcheck.h"
#include "linearizability_suite.h"
#include "zoo/broken_semaphores.h"

namespace interleave {
namespace {

using namespace linearizability_suite;

INTERLEAVE_PROPERTY(LinearizabilityProperties, SemaphoreIsLinearizable, ()) {
  semaphore_is_linearizable<BasicSemaphore>();
}

TEST(LinearizabilityZoo, SemaphoreCheckingThenDecrementing) {
  expect_not_linearizable("check then decrement",
                          [] { semaphore_is_linearizable<zoo::CheckThenDecrementSemaphore>(); });
}
TEST(LinearizabilityZoo, SemaphoreWakingBeforeAdding) {
  expect_not_linearizable("wake before add", [] { semaphore_is_linearizable<zoo::WakeBeforeAddSemaphore>(); });
}
TEST(LinearizabilityZoo, SemaphoreReleaseNWakingOne) {
  expect_not_linearizable("release(n) wakes one", [] { semaphore_is_linearizable<zoo::ReleaseNWakesOneSemaphore>(); });
}
}  // namespace
}  // namespace interleave
