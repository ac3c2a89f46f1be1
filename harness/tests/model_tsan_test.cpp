// ThreadSanitizer under the model scheduler (tsan preset only): a race in the body's plain memory
// is reported on a deterministic schedule, and correctly synchronized bodies are not.
#include <gtest/gtest.h>

#include <cstdlib>
#include <mutex>

#include "interleave/detail/fiber.h"
#include "interleave/explore.h"
#include "interleave/mutex.h"
#include "interleave/thread.h"

namespace interleave {
namespace {

#if INTERLEAVE_TSAN
constexpr bool kTsan = true;
#else
constexpr bool kTsan = false;
#endif

Options few(std::uint64_t n) {
  Options o;
  o.schedules = n;
  return o;
}

// Two fibers write one plain int with nothing ordering them.
void racy_exploration() {
  (void)explore(few(3), []<Platform P>() {
    int shared = 0;
    BasicThread<P> writer([&] { shared = 1; });
    writer.start();
    P::yield();
    shared = 2;
    writer.join();
    INTERLEAVE_ASSERT(shared == 1 || shared == 2);
  });
  std::exit(0);
}

TEST(ModelTsanDeathTest, PlainIntWrittenByTwoFibersWithoutSyncIsReported) {
  if (!kTsan) GTEST_SKIP() << "needs the tsan preset";
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  // The tsan test preset sets halt_on_error=1: the first report ends the process with TSan's code.
  // Before it does, interleave prints the running schedule's reproduce line.
  EXPECT_EXIT(racy_exploration(), ::testing::ExitedWithCode(66),
              "WARNING: ThreadSanitizer: data race(.|\n)*interleave: ThreadSanitizer reported the data race above in "
              "a model run while running schedule [^\n]*\n(.|\n)*reproduce: INTERLEAVE_REPLAY=");
}

TEST(ModelTsan, TheSameWritesUnderOurMutexAreNotReported) {
  if (!kTsan) GTEST_SKIP() << "needs the tsan preset";
  const Result r = explore(few(200), []<Platform P>() {
    BasicMutex<P> lock;
    int shared = 0;
    BasicThread<P> writer([&] {
      std::lock_guard g(lock);
      shared = 1;
    });
    writer.start();
    {
      std::lock_guard g(lock);
      shared = 2;
    }
    writer.join();
    INTERLEAVE_ASSERT(shared == 1 || shared == 2);
  });
  EXPECT_TRUE(r.passed()) << r;
}

TEST(ModelTsan, DataWrittenBeforeStartAndReadAfterJoinIsNotReported) {
  if (!kTsan) GTEST_SKIP() << "needs the tsan preset";
  const Result r = explore(few(200), []<Platform P>() {
    int shared = 1;
    int seen = 0;
    BasicThread<P> reader([&] {
      seen = shared;
      shared = 3;
    });
    reader.start();
    reader.join();
    INTERLEAVE_ASSERT(seen == 1 && shared == 3);
  });
  EXPECT_TRUE(r.passed()) << r;
}

}  // namespace
}  // namespace interleave
