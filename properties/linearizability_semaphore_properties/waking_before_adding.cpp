// The linearizability zoo: zoo::WakeBeforeAddSemaphore must fail the property that
// linearizability_semaphore_properties.cpp checks the real semaphore with. One translation unit per
// broken primitive: each instantiates the whole checker again (docs/build.md).
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "linearizability_suite.h"
#include "zoo/broken_semaphores.h"

namespace interleave {
namespace {

using namespace linearizability_suite;

TEST(LinearizabilityZoo, SemaphoreWakingBeforeAdding) {
  expect_not_linearizable("wake before add", [] { semaphore_is_linearizable<zoo::WakeBeforeAddSemaphore>(); });
}

}  // namespace
}  // namespace interleave
