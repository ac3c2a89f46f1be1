// Linearizability of Event: every history of a generated concurrent scenario, under every
// explored schedule, is explained by some order of its calls that respects real time, against the
// sequential specification in linearizability_specs.h. Calls still asleep when a run ends
// quiescent must be ones the specification would keep waiting too, so lost wake-ups fail here as
// well. The zoo's broken events must fail the same property wherever their bug shows in what
// the calls return or in who is left asleep. (One program per primitive: linearizability_suite.h.)
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "interleave/rapidcheck.h"
#include "linearizability_suite.h"
#include "zoo/broken_events.h"

namespace interleave {
namespace {

using namespace linearizability_suite;

INTERLEAVE_PROPERTY(LinearizabilityProperties, EventIsLinearizable, ()) { event_is_linearizable<BasicEvent>(); }

TEST(LinearizabilityZoo, EventSetWakingOne) {
  expect_not_linearizable("set wakes one", [] { event_is_linearizable<zoo::SetWakesOneEvent>(); });
}
TEST(LinearizabilityZoo, EventWithLostWakeup) {
  expect_not_linearizable("lost wake-up", [] { event_is_linearizable<zoo::LostWakeupEvent>(); });
}

// FlagLoopEvent's bug breaks a guarantee stronger than linearizability: a set() followed at once
// by clear() must still release every thread waiting at the time. A waiter stranded that way sits
// in a state where the flag is down, which a linearizable wait() may wait in; its history is
// linearizable. event_properties.cpp catches it (SetThenClearReleasesThoseWaiting).
TEST(LinearizabilityZoo, EventFlagLoopStrandsWaitersInALinearizableWay) {
  EXPECT_TRUE(rc::check("flag loop", [] { event_is_linearizable<zoo::FlagLoopEvent>(); }));
}

}  // namespace
}  // namespace interleave
