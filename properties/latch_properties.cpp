// Latch: one property per guarantee of its contract (primitives/include/interleave/latch.h), under
// the model scheduler over RapidCheck-generated scenarios; the zoo's broken latches must fail the
// same properties.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "interleave/latch.h"
#include "interleave/rapidcheck.h"
#include "scenarios/latch_scenarios.h"
#include "zoo/broken_latches.h"

namespace interleave {
namespace {

template <Platform P>
using RealLatch = BasicLatch<P>;

// Each property draws a scenario and explores the body of properties/scenarios/latch_scenarios.h.
template <template <class> class LatchT, class Check = decltype(in_model)>
void wait_returns_only_after_every_count_down(Check check = in_model) {
  const int parties = *rc::gen::inRange(1, 4);
  const int waiters = *rc::gen::inRange(1, 3);
  check(scenarios::wait_returns_only_after_every_count_down<LatchT>(parties, waiters));
}

template <template <class> class LatchT>
void try_wait_is_true_only_at_zero() {
  check_schedules(scenarios::try_wait_is_true_only_at_zero<LatchT>(*rc::gen::inRange(1, 4)));
}

template <template <class> class LatchT>
void nobody_leaves_arrive_and_wait_early() {
  check_schedules(scenarios::nobody_leaves_arrive_and_wait_early<LatchT>(*rc::gen::inRange(2, 4)));
}

INTERLEAVE_PROPERTY(LatchProperties, WaitReturnsOnlyAfterEveryCountDown, ()) {
  wait_returns_only_after_every_count_down<RealLatch>();
}
INTERLEAVE_PROPERTY(LatchProperties, TryWaitIsTrueOnlyAtZero, ()) { try_wait_is_true_only_at_zero<RealLatch>(); }
INTERLEAVE_PROPERTY(LatchProperties, NobodyLeavesArriveAndWaitEarly, ()) {
  nobody_leaves_arrive_and_wait_early<RealLatch>();
}
INTERLEAVE_PROPERTY(LatchStressProperties, WaitReturnsOnlyAfterEveryCountDown, ()) {
  wait_returns_only_after_every_count_down<RealLatch>(on_real_threads);
}

TEST(LatchZoo, OpeningOneCountDownEarlyIsCaught) {
  EXPECT_TRUE(property_fails("off by one", [] { wait_returns_only_after_every_count_down<zoo::OffByOneLatch>(); }));
  EXPECT_TRUE(property_fails("off by one, try_wait", [] { try_wait_is_true_only_at_zero<zoo::OffByOneLatch>(); }));
}
TEST(LatchZoo, ALostCountDownNeverOpensTheLatch) {
  EXPECT_TRUE(property_fails("load then store", [] { nobody_leaves_arrive_and_wait_early<zoo::LoadStoreLatch>(); }));
}

}  // namespace
}  // namespace interleave
