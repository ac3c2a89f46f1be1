// The linearizability zoo: zoo::CheckThenSetMutex must fail the property that
// linearizability_mutex_properties.cpp checks the real mutex with. One translation unit per
// broken primitive: each instantiates the whole checker again (docs/build.md).
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "linearizability_suite.h"
#include "zoo/broken_mutexes.h"

namespace interleave {
namespace {

using namespace linearizability_suite;

TEST(LinearizabilityZoo, MutexCheckingThenSetting) {
  expect_not_linearizable("check then set", [] { mutex_is_linearizable<zoo::CheckThenSetMutex>(); });
}

}  // namespace
}  // namespace interleave
