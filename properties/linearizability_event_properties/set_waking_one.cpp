// The linearizability zoo: zoo::SetWakesOneEvent must fail the property that
// linearizability_event_properties.cpp checks the real event with. One translation unit per
// broken primitive: each instantiates the whole checker again (docs/build.md).
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "linearizability_suite.h"
#include "zoo/broken_events.h"

namespace interleave {
namespace {

using namespace linearizability_suite;

TEST(LinearizabilityZoo, EventSetWakingOne) {
  expect_not_linearizable("set wakes one", [] { event_is_linearizable<zoo::SetWakesOneEvent>(); });
}

}  // namespace
}  // namespace interleave
