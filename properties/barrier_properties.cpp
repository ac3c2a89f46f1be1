// Barrier: one property per guarantee of its contract (primitives/include/interleave/barrier.h),
// under the model scheduler over RapidCheck-generated scenarios; the zoo's broken barriers must
// fail the same properties.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "interleave/barrier.h"
#include "interleave/rapidcheck.h"
#include "scenarios/barrier_scenarios.h"
#include "zoo/broken_barriers.h"

namespace interleave {
namespace {

template <Platform P>
using RealBarrier = BasicBarrier<P>;

// Each property draws a scenario and explores the body of properties/scenarios/barrier_scenarios.h.
template <template <class> class BarrierT, class Check = decltype(in_model)>
void phases(Check check = in_model) {
  check(scenarios::phases<BarrierT>({*rc::gen::inRange(2, 4), *rc::gen::inRange(1, scenarios::kMaxPhases + 1)}));
}

template <template <class> class BarrierT>
void abort_breaks_the_barrier() {
  check_schedules(scenarios::abort_breaks_the_barrier<BarrierT>(*rc::gen::inRange(2, 4)));
}

INTERLEAVE_PROPERTY(BarrierProperties, NobodyLeavesAPhaseBeforeAllArriveAndTheCompletionRan, ()) {
  phases<RealBarrier>();
}
INTERLEAVE_PROPERTY(BarrierProperties, AbortBreaksTheBarrier, ()) { abort_breaks_the_barrier<RealBarrier>(); }
INTERLEAVE_PROPERTY(BarrierStressProperties, NobodyLeavesAPhaseBeforeAllArriveAndTheCompletionRan, ()) {
  phases<RealBarrier>(on_real_threads);
}

TEST(BarrierZoo, TheLastButOneArrivalReleasingIsCaught) {
  EXPECT_TRUE(property_fails("last but one releases", [] { phases<zoo::LastButOneReleasesBarrier>(); }));
}
TEST(BarrierZoo, CompletingAfterTheReleaseIsCaught) {
  EXPECT_TRUE(property_fails("completion after release", [] { phases<zoo::CompletionAfterReleaseBarrier>(); }));
}

}  // namespace
}  // namespace interleave
