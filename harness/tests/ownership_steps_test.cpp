// Bookkeeping is not part of the schedule: with the Mutex and SharedMutex ownership checks on (a
// debug build) a test explores exactly the schedules it explores with them off (a release build),
// step for step. An ownership check that became a scheduling point again would add steps, and
// shift every later random decision, so the totals would differ.
#undef INTERLEAVE_CHECK_OWNERSHIP
#define INTERLEAVE_CHECK_OWNERSHIP 1
#include "ownership_steps.h"

#include <gtest/gtest.h>

#include <cstdio>

namespace interleave::ownership_steps {
namespace {
struct CheckedPlatform : ModelPlatform {};
}  // namespace

Sample explore_checked(Body body, Strategy strategy) { return explore_body<CheckedPlatform>(body, strategy); }

namespace {

void expect_same_schedules(Body body, Strategy strategy) {
  const Sample checked = explore_checked(body, strategy);
  const Sample unchecked = explore_unchecked(body, strategy);
  ASSERT_TRUE(checked.passed);
  ASSERT_TRUE(unchecked.passed);
  std::printf("steps per schedule: checks on %.1f, checks off %.1f\n",
              static_cast<double>(checked.total_steps) / static_cast<double>(checked.schedules),
              static_cast<double>(unchecked.total_steps) / static_cast<double>(unchecked.schedules));
  EXPECT_EQ(checked.schedules, unchecked.schedules);
  EXPECT_EQ(checked.total_steps, unchecked.total_steps);
}

TEST(OwnershipSteps, MutexChecksAreNoSchedulingPointsRandomWalk) {
  expect_same_schedules(Body::mutex_counter, Strategy::random_walk);
}
TEST(OwnershipSteps, MutexChecksAreNoSchedulingPointsPct) { expect_same_schedules(Body::mutex_counter, Strategy::pct); }
TEST(OwnershipSteps, SharedMutexChecksAreNoSchedulingPoints) {
  expect_same_schedules(Body::shared_mutex_readers_writer, Strategy::random_walk);
}

// The checks still run with no scheduling point of their own: an unlock by a thread that does not
// hold the lock is reported.
TEST(OwnershipSteps, CheckedUnlockByNonOwnerIsStillReported) {
  Options options;
  options.schedules = 20;
  options.shrink_runs = 0;
  const Result r = explore(options, []<Platform>() {
    BasicMutex<CheckedPlatform> lock;
    lock.lock();
    BasicThread<CheckedPlatform> other([&] { lock.unlock(); });
    other.start();
    other.join();
  });
  ASSERT_TRUE(r.failed());
  EXPECT_EQ(r.failure->kind, FailureKind::contract_violation);
  EXPECT_NE(r.failure->message.find("does not own the mutex"), std::string::npos) << r.failure->message;
}

}  // namespace
}  // namespace interleave::ownership_steps
