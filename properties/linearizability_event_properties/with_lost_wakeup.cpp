// The linearizability zoo: zoo::LostWakeupEvent must fail the property that
// linearizability_event_properties.cpp checks the real event with. One translation unit per
// broken primitive: each instantiates the whole checker again (docs/build.md).
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "linearizability_suite.h"
#include "zoo/broken_events.h"

namespace interleave {
namespace {

using namespace linearizability_suite;

TEST(LinearizabilityZoo, EventWithLostWakeup) {
  expect_not_linearizable("lost wake-up", [] { event_is_linearizable<zoo::LostWakeupEvent>(); });
}

}  // namespace
}  // namespace interleave
