// Shrinking: a failing schedule is reported as a simpler one with the same bug — as few
// preemptions as the bug needs — whose token replays it; shrinking never trades the bug for
// another one, stays within its run budget, and can be turned off.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "interleave/explore.h"
#include "interleave/mutex.h"
#include "interleave/thread.h"

namespace interleave {
namespace {

// Two threads x 1000 increments, each a separate load and store: one preemption between a load
// and its store, with the other thread then running to its end, loses updates.
struct UnlockedCounter {
  template <Platform P>
  void operator()() const {
    typename P::template Atomic<int> counter{0};
    auto add = [&] {
      for (int i = 0; i < 1000; ++i)
        counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    };
    BasicThread<P> a(add), b(add);
    a.start();
    b.start();
    a.join();
    b.join();
    INTERLEAVE_ASSERT(counter.load() == 2000);
  }
};

// Lock-order inversion: one preemption (after the first thread took its first lock) deadlocks.
struct LockOrderInversion {
  template <Platform P>
  void operator()() const {
    BasicMutex<P> first, second;
    auto forward = [&] {
      for (int i = 0; i < 20; ++i) {
        std::scoped_lock a(first);
        std::scoped_lock b(second);
      }
    };
    auto backward = [&] {
      for (int i = 0; i < 20; ++i) {
        std::scoped_lock b(second);
        std::scoped_lock a(first);
      }
    };
    BasicThread<P> t1(forward), t2(backward);
    t1.start();
    t2.start();
    t1.join();
    t2.join();
  }
};

Options options(Strategy strategy, std::uint64_t seed) {
  Options o;
  o.strategy = strategy;
  o.seed = seed;
  o.schedules = 200;
  return o;
}

template <class Body>
void expect_replays(const Result& r, Body body) {
  ASSERT_TRUE(r.shrunk.has_value()) << r;
  Options replay;
  replay.replay = r.shrunk->token();
  const Result again = explore(replay, body);
  ASSERT_TRUE(again.failed()) << again;
  EXPECT_EQ(again.failure->kind, r.failure->kind);
  EXPECT_EQ(again.failure->where, r.failure->where);
  EXPECT_EQ(again.steps, r.steps);
  EXPECT_EQ(again.preemptions, r.preemptions);
}

TEST(Shrink, LostUpdateShrinksToTheOnePreemptionItNeeds) {
  for (const Strategy strategy : {Strategy::random_walk, Strategy::pct}) {
    for (std::uint64_t seed = 1; seed <= 3; ++seed) {
      SCOPED_TRACE(testing::Message() << to_string(strategy) << " seed " << seed);
      // Under sc: the weak model can lose the update with no preemption at all, by a stale read.
      Options o = options(strategy, seed);
      o.memory_model = MemoryModel::sc;
      const Result r = explore(o, UnlockedCounter{});
      ASSERT_TRUE(r.failed());
      EXPECT_EQ(r.failure->kind, FailureKind::assertion);
      EXPECT_EQ(r.preemptions, 1U) << r;
      EXPECT_LE(r.preemptions, r.found_preemptions);
      EXPECT_GT(r.shrink_runs, 0U);
      EXPECT_NE(r.report().find("shrunk to 1 preemption from"), std::string::npos) << r;
      expect_replays(r, UnlockedCounter{});
    }
  }
}

TEST(Shrink, LockOrderDeadlockShrinksToOnePreemption) {
  for (const Strategy strategy : {Strategy::random_walk, Strategy::pct}) {
    SCOPED_TRACE(to_string(strategy));
    const Result r = explore(options(strategy, 9), LockOrderInversion{});
    ASSERT_TRUE(r.failed());
    EXPECT_EQ(r.failure->kind, FailureKind::deadlock);
    EXPECT_EQ(r.preemptions, 1U) << r;
    expect_replays(r, LockOrderInversion{});
  }
}

// Two independent lost updates, checked one after the other: removing the first one's preemption
// while keeping the second's would report the second assertion. Shrinking must keep the bug found.
struct TwoLostUpdates {
  template <Platform P>
  void operator()() const {
    typename P::template Atomic<int> x{0}, y{0};
    auto add = [&] {
      for (int i = 0; i < 50; ++i) x.store(x.load() + 1);
      for (int i = 0; i < 50; ++i) y.store(y.load() + 1);
    };
    BasicThread<P> a(add), b(add);
    a.start();
    b.start();
    a.join();
    b.join();
    INTERLEAVE_ASSERT(y.load() == 100);
    INTERLEAVE_ASSERT(x.load() == 100);
  }
};

TEST(Shrink, KeepsTheBugFoundRatherThanAnotherOne) {
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    Options plain = options(Strategy::random_walk, seed);
    plain.shrink_runs = 0;
    const Result found = explore(plain, TwoLostUpdates{});
    const Result shrunk = explore(options(Strategy::random_walk, seed), TwoLostUpdates{});
    ASSERT_TRUE(found.failed());
    ASSERT_TRUE(shrunk.failed());
    EXPECT_FALSE(found.shrunk.has_value());
    EXPECT_EQ(shrunk.failure->where, found.failure->where) << "seed " << seed << "\n" << shrunk;
    EXPECT_EQ(shrunk.schedule, found.schedule);  // the schedule found is still named
    EXPECT_LE(shrunk.preemptions, found.preemptions);
  }
}

TEST(Shrink, StaysWithinItsRunBudget) {
  Options o = options(Strategy::random_walk, 1);
  o.shrink_runs = 3;
  const Result r = explore(o, UnlockedCounter{});
  ASSERT_TRUE(r.failed());
  EXPECT_LE(r.shrink_runs, 3U);
  expect_replays(r, UnlockedCounter{});
}

TEST(Shrink, ChoicesAreAReplayFormNotAnExplorationStrategy) {
  Options o;
  o.strategy = Strategy::choices;
  EXPECT_THROW((void)explore(o, UnlockedCounter{}), std::invalid_argument);
  // The empty list is the undisturbed schedule: each thread runs until it blocks or ends. Its
  // fingerprint is the shrunk failure's, whose one preemption comes after the first 32 points.
  const Result found = explore(options(Strategy::random_walk, 20), UnlockedCounter{});
  ASSERT_TRUE(found.failed() && found.shrunk.has_value());
  ASSERT_GT(found.shrunk->choices.front().decision, TestFingerprint::kSteps) << found.shrunk->token();
  o.replay = "choices.c=-.m=100000.t=" + found.shrunk->test.text();
  const Result r = explore(o, UnlockedCounter{});
  EXPECT_TRUE(r.passed()) << r;
}

}  // namespace
}  // namespace interleave
