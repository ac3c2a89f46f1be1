// check_schedules and check_stress, the two ways a RapidCheck property runs its scenario: the
// assertions a body may use (GoogleTest's, RapidCheck's, INTERLEAVE_ASSERT) fail it with their
// message, and Options passed in are used exactly as given.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <mutex>
#include <stdexcept>
#include <string>

#include "interleave/mutex.h"
#include "interleave/rapidcheck.h"
#include "interleave/thread.h"
#include "interleave_test_support.h"

namespace interleave {
namespace {

// Two threads increment a shared counter without a lock: some schedules lose an increment.
template <Platform P, class Check>
void racy_counter(Check check) {
  typename P::template Atomic<int> counter{0};
  BasicThread<P> other([&] { counter.store(counter.load() + 1); });
  other.start();
  counter.store(counter.load() + 1);
  other.join();
  check(counter.load());
}

// Runs `property` with RapidCheck and returns its failure description (empty when it passed).
template <class Property>
std::string failure_of(const Property& property) {
  rc::detail::TestMetadata metadata;
  metadata.id = "check_api";
  const rc::detail::TestResult result = rc::detail::checkTestable(property, metadata);
  if (!result.template is<rc::detail::FailureResult>()) return {};
  return result.template get<rc::detail::FailureResult>().description;
}

TEST(CheckSchedules, AGoogleTestExpectationInTheBodyFailsTheSchedule) {
  const std::string failure = failure_of([] {
    check_schedules(
        []<Platform P>() { racy_counter<P>([](int counter) { EXPECT_EQ(counter, 2) << "an increment was lost"; }); });
  });
  EXPECT_NE(failure.find("ASSERTION FAILED"), std::string::npos) << failure;
  EXPECT_NE(failure.find("an increment was lost"), std::string::npos) << failure;
  EXPECT_NE(failure.find("INTERLEAVE_REPLAY="), std::string::npos) << failure;
}

TEST(CheckSchedules, ARapidCheckAssertionInTheBodyFailsTheScheduleWithItsMessage) {
  const std::string failure = failure_of(
      [] { check_schedules([]<Platform P>() { racy_counter<P>([](int counter) { RC_ASSERT(counter == 2); }); }); });
  EXPECT_NE(failure.find("ASSERTION FAILED"), std::string::npos) << failure;
  EXPECT_NE(failure.find("RC_ASSERT(counter == 2)"), std::string::npos) << failure;
  EXPECT_EQ(failure.find("unknown type"), std::string::npos) << failure;
}

TEST(CheckSchedules, ARapidCheckAssertionInASpawnedThreadFailsTheSchedule) {
  const std::string failure = failure_of([] {
    check_schedules([]<Platform P>() {
      typename P::template Atomic<int> counter{0};
      BasicThread<P> other([&] { RC_ASSERT(counter.load() == 0); });
      other.start();
      counter.store(1);
      other.join();
    });
  });
  EXPECT_NE(failure.find("RC_ASSERT(counter.load() == 0)"), std::string::npos) << failure;
  EXPECT_EQ(failure.find("unknown type"), std::string::npos) << failure;
}

TEST(CheckSchedules, InterleaveAssertNamesItsMessage) {
  const std::string failure = failure_of([] {
    check_schedules([]<Platform P>() {
      racy_counter<P>([](int counter) { INTERLEAVE_ASSERT(counter == 2, "an increment was lost"); });
    });
  });
  EXPECT_NE(failure.find("INTERLEAVE_ASSERT(counter == 2) failed: an increment was lost"), std::string::npos)
      << failure;
}

TEST(CheckSchedules, OptionsPassedInAreUsedAsGiven) {
  int runs = 0;
  const std::string failure = failure_of([&runs] {
    Options options = property_options();
    options.schedules = 3;
    runs = 0;
    check_schedules(options, [&runs] { ++runs; });
    RC_ASSERT(runs == 3);
    runs = 0;
    check_schedules([&runs] { ++runs; });
    RC_ASSERT(runs == static_cast<int>(kSchedulesPerScenario));
  });
  EXPECT_EQ(failure, "");
  EXPECT_EQ(property_options().schedules, kSchedulesPerScenario);
}

// Code sets Options, the INTERLEAVE_* variables override them: the reproduce line's
// INTERLEAVE_REPLAY wins over a strategy, seed and schedule count set in code.
TEST(CheckSchedules, TheReproduceLineWinsOverOptionsSetInCode) {
  const auto lossy = []<Platform P>() { racy_counter<P>([](int counter) { INTERLEAVE_ASSERT(counter == 2); }); };
  const std::string found = failure_of([&] {
    Options o = property_options();
    o.strategy = Strategy::pct;
    check_schedules(o, lossy);
  });
  const std::string key = "INTERLEAVE_REPLAY=";
  const std::size_t at = found.find(key);
  ASSERT_NE(at, std::string::npos) << found;
  const std::string token = found.substr(at + key.size(), found.find(' ', at) - at - key.size());

  const test_support::ScopedEnv replay("INTERLEAVE_REPLAY", token);
  int runs = 0;
  const std::string replayed = failure_of([&] {
    Options o = property_options();
    o.strategy = Strategy::random_walk;
    o.schedules = 1000;
    o.shrink_runs = 0;
    runs = 0;  // RapidCheck runs the property again while shrinking: count the last run's schedules
    check_schedules(o, [&runs]<Platform P>() {
      ++runs;
      racy_counter<P>([](int counter) { INTERLEAVE_ASSERT(counter == 2); });
    });
  });
  EXPECT_NE(replayed.find("INTERLEAVE_ASSERT(counter == 2) failed"), std::string::npos) << replayed;
  EXPECT_NE(replayed.find(token), std::string::npos) << replayed;
  // The one schedule the token names, and the re-run that records its trace for the report.
  EXPECT_LE(runs, 2) << "the replay ran " << runs << " schedules instead of the one its token names";
}

TEST(CheckStress, ARapidCheckAssertionInTheBodyFailsTheRunAsAnAssertion) {
  const std::string failure = failure_of([] {
    check_stress([]<Platform P>() {
      const int answer = 41;
      RC_ASSERT(answer == 42);
    });
  });
  EXPECT_NE(failure.find("RC_ASSERT(answer == 42)"), std::string::npos) << failure;
  EXPECT_NE(failure.find("ASSERTION FAILED"), std::string::npos) << failure;
  EXPECT_EQ(failure.find("unknown type"), std::string::npos) << failure;
}

// A test that expects a failure prints one line for it, not RapidCheck's full report.
TEST(PropertyFails, AFailingPropertyIsASuccessPrintedAsOneLine) {
  testing::internal::CaptureStdout();
  const ::testing::AssertionResult r = property_fails("racy counter", [] {
    check_schedules([]<Platform P>() { racy_counter<P>([](int counter) { INTERLEAVE_ASSERT(counter == 2); }); });
  });
  const std::string out = testing::internal::GetCapturedStdout();
  EXPECT_TRUE(r) << r.message();
  EXPECT_EQ(out.rfind("interleave: expected failure found: racy counter: interleave: ASSERTION FAILED", 0), 0U) << out;
  EXPECT_EQ(out.find('\n'), out.size() - 1) << out;
  EXPECT_EQ(out.find("reproduce:"), std::string::npos) << out;
}

TEST(PropertyFails, APassingPropertyIsAFailureSayingAFailureWasExpected) {
  testing::internal::CaptureStdout();
  const ::testing::AssertionResult r = property_fails("locked counter", [] {
    check_schedules([]<Platform P>() {
      BasicMutex<P> lock;
      int counter = 0;
      BasicThread<P> other([&] {
        const std::lock_guard guard(lock);
        ++counter;
      });
      other.start();
      {
        const std::lock_guard guard(lock);
        ++counter;
      }
      other.join();
      INTERLEAVE_ASSERT(counter == 2);
    });
  });
  (void)testing::internal::GetCapturedStdout();
  EXPECT_FALSE(r);
  EXPECT_NE(std::string(r.message()).find("a failure of \"locked counter\" was expected"), std::string::npos)
      << r.message();
}

// A failure other than the one the test is about does not pass for it.
TEST(PropertyFails, AFailureWithoutTheExpectedReasonIsAFailureNamingBoth) {
  testing::internal::CaptureStdout();
  const ::testing::AssertionResult r =
      property_fails("racy counter",
                     [] {
                       check_schedules([]<Platform P>() {
                         racy_counter<P>([](int counter) { INTERLEAVE_ASSERT(counter == 2, "lost an increment"); });
                       });
                     },
                     {.reason = "history not linearizable"});
  const std::string out = testing::internal::GetCapturedStdout();
  EXPECT_FALSE(r);
  const std::string message = r.message();
  EXPECT_NE(message.find("\"racy counter\" failed, but not with \"history not linearizable\""), std::string::npos)
      << message;
  EXPECT_NE(message.find("lost an increment"), std::string::npos) << message;
  EXPECT_EQ(out.find("expected failure found"), std::string::npos) << out;
}

TEST(PropertyFails, TheExpectedReasonPassesAndBadRunCountsAreRefused) {
  testing::internal::CaptureStdout();
  const auto racy = [] {
    check_schedules([]<Platform P>() {
      racy_counter<P>([](int counter) { INTERLEAVE_ASSERT(counter == 2, "lost an increment"); });
    });
  };
  const ::testing::AssertionResult r = property_fails("racy counter", racy, {.reason = "lost an increment", .runs = 3});
  (void)testing::internal::GetCapturedStdout();
  EXPECT_TRUE(r) << r.message();
  try {
    (void)property_fails("racy counter", racy, {.reason = "", .runs = 0});
    ADD_FAILURE() << "runs = 0 was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("ExpectedFailure::runs must be >= 1, got 0"), std::string::npos) << e.what();
  }
}

TEST(PropertyFails, TheFullReportIsPrintedOnRequest) {
  const test_support::ScopedEnv reports("INTERLEAVE_EXPECTED_FAILURE_REPORTS", "on");
  testing::internal::CaptureStdout();
  const ::testing::AssertionResult r = property_fails("racy counter", [] {
    check_schedules([]<Platform P>() { racy_counter<P>([](int counter) { INTERLEAVE_ASSERT(counter == 2); }); });
  });
  const std::string out = testing::internal::GetCapturedStdout();
  EXPECT_TRUE(r) << r.message();
  EXPECT_NE(out.find("schedule: INTERLEAVE_REPLAY="), std::string::npos) << out;
  EXPECT_NE(out.find("Falsifiable"), std::string::npos) << out;
}

}  // namespace
}  // namespace interleave
