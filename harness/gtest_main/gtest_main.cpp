// interleave::gtest_main: GoogleTest's main(), except that sharding splits every exploration's
// schedules instead of the tests. Under GTEST_TOTAL_SHARDS / GTEST_SHARD_INDEX (set by Bazel and
// other runners) every shard runs every test, each exploring its own slice of the schedule
// indices, so that a long exploration spreads over the shards instead of landing on one.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <exception>

#include "interleave/options.h"

int main(int argc, char** argv) {
  try {
    interleave::take_over_test_sharding();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  }
  // The runner's sign that the program understood sharding (GoogleTest writes it only when it
  // shards itself).
  if (const char* status = std::getenv("GTEST_SHARD_STATUS_FILE"); status != nullptr && *status != '\0') {
    if (std::FILE* f = std::fopen(status, "w"); f != nullptr) std::fclose(f);
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
