// The linearizability zoo: zoo::CloseWithoutWakeQueue must fail the property that
// linearizability_queue_properties.cpp checks the real queue with. One translation unit per
// broken primitive: each instantiates the whole checker again (docs/build.md).
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "linearizability_suite.h"
#include "zoo/broken_queues.h"

namespace interleave {
namespace {

using namespace linearizability_suite;

TEST(LinearizabilityZoo, QueueClosingWithoutWake) {
  expect_not_linearizable("close without wake", [] { queue_is_linearizable<zoo::CloseWithoutWakeQueue>(); });
}

}  // namespace
}  // namespace interleave
