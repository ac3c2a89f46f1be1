// A failure's reproduce token replays it exactly, and a token that does not fit the test it is
// replayed in (another test, a shorter run, a choice never reached) is an error naming why; the
// test fingerprint a token carries is the same on every run and in every build.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "explore_bodies.h"
#include "interleave/explore.h"
#include "interleave/thread.h"

namespace interleave {
namespace {

using explore_bodies::LockedCounter;
using explore_bodies::UnlockedCounter;
using explore_bodies::with_schedules;

// The token in a reproduce line: what follows INTERLEAVE_REPLAY= up to the next space.
std::string reproduce_token(const Result& r) {
  const std::string key = "INTERLEAVE_REPLAY=";
  const std::size_t at = r.reproduce.find(key);
  if (at == std::string::npos) return {};
  const std::size_t start = at + key.size();
  return r.reproduce.substr(start, r.reproduce.find(' ', start) - start);
}

TEST(Explore, ReproduceTokenReplaysTheSameFailureWithTheSameStepCount) {
  for (Strategy s : {Strategy::random_walk, Strategy::pct, Strategy::pos, Strategy::surw}) {
    for (std::uint64_t shrink_runs : {0U, 1000U}) {
      SCOPED_TRACE(testing::Message() << to_string(s) << ", shrink_runs " << shrink_runs);
      Options options = with_schedules(20, s);
      options.shrink_runs = shrink_runs;
      const Result first = explore(options, UnlockedCounter{});
      ASSERT_TRUE(first.failed());
      const std::string token = reproduce_token(first);
      // Unshrunk, the line names the schedule found; shrunk, the simpler one.
      EXPECT_EQ(token, first.reproduce_token());
      EXPECT_EQ(first.shrunk.has_value(), shrink_runs > 0);
      Options replay;
      replay.replay = token;
      const Result again = explore(replay, UnlockedCounter{});
      ASSERT_TRUE(again.failed()) << again;
      EXPECT_EQ(again.schedules_run, 1U);
      EXPECT_EQ(again.failure->kind, first.failure->kind);
      EXPECT_EQ(again.failure->message, first.failure->message);
      EXPECT_EQ(again.steps, first.steps);
      EXPECT_EQ(again.preemptions, first.preemptions);
      EXPECT_EQ(again.schedule.token(), token);
      EXPECT_FALSE(again.shrunk.has_value());  // a replay reports exactly the schedule it was given
    }
  }
}

// A token is a schedule of one test. Replayed in another, its decisions meant nothing there, and
// the replay "passed 1 schedule" without a word. Now it is an error that names what the token was
// recorded from and what this test did, and says what to do.
TEST(Explore, ATokenFromAnotherTestIsAnErrorNamingBoth) {
  for (std::uint64_t shrink_runs : {0U, 1000U}) {  // a random token, then a shrunk (choices) one
    SCOPED_TRACE(testing::Message() << "shrink_runs " << shrink_runs);
    Options options = with_schedules(20);
    options.shrink_runs = shrink_runs;
    const Result found = explore(options, UnlockedCounter{});
    ASSERT_TRUE(found.failed());
    const ScheduleId& id = found.shrunk ? *found.shrunk : found.schedule;
    EXPECT_EQ(id.test.steps, TestFingerprint::kSteps);
    // Unshrunk, all three fibers ran in the first 32 points; shrunk, fiber 1 runs 32 points alone.
    EXPECT_EQ(id.test.fibers, shrink_runs == 0 ? 3U : 2U);
    Options replay;
    replay.replay = reproduce_token(found);
    try {
      const Result r = explore(replay, LockedCounter{10});
      ADD_FAILURE() << "the token of another test was replayed: " << r;
    } catch (const ReplayMismatch& e) {
      const std::string m = e.what();
      EXPECT_NE(m.find("interleave: the replay token '" + replay.replay.substr(0, 40)), std::string::npos) << m;
      EXPECT_NE(m.find("does not fit this test: it was recorded from a test whose first 32 scheduling points ran " +
                       std::to_string(id.test.fibers) + " fibers (fingerprint " + id.test.text() +
                       "), but this test's first 32 scheduling points ran 3 fibers (fingerprint "),
                std::string::npos)
          << m;
      EXPECT_NE(m.find("fiber 0 spawn"), std::string::npos) << m;  // what this test did
      EXPECT_NE(m.find("in Mutex::lock"), std::string::npos) << m;
      EXPECT_NE(m.find("run the test without INTERLEAVE_REPLAY"), std::string::npos) << m;
    }
  }
}

// The same with a body that ends before the token's first 32 points: the shorter run is named.
TEST(Explore, ATokenReplayedInAShorterTestIsAnErrorNamingItsLength) {
  const Result found = explore(with_schedules(20), UnlockedCounter{});
  ASSERT_TRUE(found.failed());
  Options replay;
  replay.replay = reproduce_token(found);
  try {
    (void)explore(replay, []<Platform P>() {
      typename P::template Atomic<int> x{0};
      x.store(1);
    });
    ADD_FAILURE() << "the token of another test was replayed";
  } catch (const ReplayMismatch& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("but this test's whole run made only 2 scheduling points, which ran 1 fiber (fingerprint 2-1-"),
              std::string::npos)
        << m;
    EXPECT_NE(m.find("fiber 0 atomic store, fiber 0 finish"), std::string::npos) << m;
  }
}

// A choices token can fit the fingerprint and still not fit the test: a choice for a fiber the
// test never starts, or a position a decision does not have. Each is an error, not a silent pass.
TEST(Explore, AChoiceThatIsNeverReachedOrNamesNoPositionIsAnError) {
  Options options = with_schedules(20);
  const Result found = explore(options, UnlockedCounter{});
  ASSERT_TRUE(found.failed());
  ASSERT_TRUE(found.shrunk.has_value());
  // The undisturbed schedule's first points are the shrunk one's when its choices come later.
  ASSERT_GT(found.shrunk->choices.front().decision, TestFingerprint::kSteps) << found.shrunk->token();
  const std::string fingerprint = found.shrunk->test.text();
  const auto mismatch = [](const std::string& token) -> std::string {
    Options replay;
    replay.replay = token;
    try {
      const Result r = explore(replay, UnlockedCounter{});
      return "(replayed: " + r.report() + ")";
    } catch (const ReplayMismatch& e) {
      return e.what();
    }
  };
  const std::string unreached = mismatch("choices.c=7_0:1.m=100000.t=" + fingerprint);
  EXPECT_NE(unreached.find("its choice 7_0:1 was never reached: in this test fiber 7 took no decision (it never ran)"),
            std::string::npos)
      << unreached;
  const std::string too_late = mismatch("choices.c=1_999999:1.m=100000.t=" + fingerprint);
  EXPECT_NE(too_late.find("its choice 1_999999:1 was never reached: in this test fiber 1 took "), std::string::npos)
      << too_late;
  const std::string no_position = mismatch("choices.c=1_100:9.m=100000.t=" + fingerprint);
  EXPECT_NE(no_position.find("its choice 1_100:9 names position 9 of a pick among the runnable fibers, which in this "
                             "test had positions 0 to "),
            std::string::npos)
      << no_position;
  // The shrunk token itself fits, and fails as before.
  Options replay;
  replay.replay = found.shrunk->token();
  const Result again = explore(replay, UnlockedCounter{});
  EXPECT_TRUE(again.failed()) << again;
}

// Debug and release builds explore the same schedules, and the fingerprint holds only names and
// fiber numbers: it is the same on every run and in every build (dev, release, sanitizers), so a
// token printed by one replays in another. The value is pinned: a change to how fingerprints are
// computed refuses every token printed before it, so it must be deliberate (and documented).
TEST(Explore, TheFingerprintIsTheSameOnEveryRunAndBuild) {
  const auto body = []<Platform P>() {
    typename P::template Atomic<int> x{0};
    BasicThread<P> t([&] { x.store(1); });
    t.start();
    t.join();
    INTERLEAVE_ASSERT(x.load() == 2);
  };
  const Result found = explore(with_schedules(20), body);
  ASSERT_TRUE(found.failed());
  // spawn, join, fiber 1's store and finish, the load before the assertion
  EXPECT_EQ(found.schedule.test.text(), "5-2-23f1a6cd") << found;
  EXPECT_EQ(explore(with_schedules(20), body).schedule.test, found.schedule.test);
}

}  // namespace
}  // namespace interleave
