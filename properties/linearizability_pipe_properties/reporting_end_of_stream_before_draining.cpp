// The linearizability zoo: zoo::EofBeforeDrainPipe must fail the property that
// linearizability_pipe_properties.cpp checks the real pipe with. One translation unit per
// broken primitive: each instantiates the whole checker again (docs/build.md).
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "linearizability_suite.h"
#include "zoo/broken_pipes.h"

namespace interleave {
namespace {

using namespace linearizability_suite;

TEST(LinearizabilityZoo, PipeReportingEndOfStreamBeforeDraining) {
  expect_not_linearizable("eof before drain", [] { pipe_is_linearizable<zoo::EofBeforeDrainPipe>(); });
}

}  // namespace
}  // namespace interleave
