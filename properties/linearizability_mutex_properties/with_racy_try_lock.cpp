// The linearizability zoo: zoo::RacyTryLockMutex must fail the property that
// linearizability_mutex_properties.cpp checks the real mutex with. One translation unit per
// broken primitive: each instantiates the whole checker again (docs/build.md).
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "linearizability_suite.h"
#include "zoo/broken_mutexes.h"

namespace interleave {
namespace {

using namespace linearizability_suite;

TEST(LinearizabilityZoo, MutexWithRacyTryLock) {
  expect_not_linearizable("racy try_lock", [] { mutex_is_linearizable<zoo::RacyTryLockMutex>(); });
}

}  // namespace
}  // namespace interleave
