// The linearizability zoo: zoo::FlagLoopEvent, a broken event that passes the property
// linearizability_event_properties.cpp checks the real event with (why, below). One translation
// unit per broken primitive: each instantiates the whole checker again (docs/build.md).
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "linearizability_suite.h"
#include "zoo/broken_events.h"

namespace interleave {
namespace {

using namespace linearizability_suite;

// FlagLoopEvent's bug breaks a guarantee stronger than linearizability: a set() followed at once
// by clear() must still release every thread waiting at the time. A waiter stranded that way sits
// in a state where the flag is down, which a linearizable wait() may wait in; its history is
// linearizable. event_properties.cpp catches it (SetThenClearReleasesThoseWaiting).
TEST(LinearizabilityZoo, EventFlagLoopStrandsWaitersInALinearizableWay) {
  EXPECT_TRUE(rc::check("flag loop", [] { event_is_linearizable<zoo::FlagLoopEvent>(); }));
}

}  // namespace
}  // namespace interleave
