// The linearizability zoo: zoo::ReleaseNWakesOneSemaphore must fail the property that
// linearizability_semaphore_properties.cpp checks the real semaphore with. One translation unit per
// broken primitive: each instantiates the whole checker again (docs/build.md).
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "linearizability_suite.h"
#include "zoo/broken_semaphores.h"

namespace interleave {
namespace {

using namespace linearizability_suite;

TEST(LinearizabilityZoo, SemaphoreReleaseNWakingOne) {
  expect_not_linearizable("release(n) wakes one", [] { semaphore_is_linearizable<zoo::ReleaseNWakesOneSemaphore>(); });
}

}  // namespace
}  // namespace interleave
