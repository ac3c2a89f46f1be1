// Exploring with the model runtime: correct bodies pass every schedule and a lost update is found
// within a handful (random walk, PCT, POS); default options, GoogleTest assertions in a body,
// virtual time in timed waits, injected spurious wake-ups, a body that is not deterministic, and
// model objects used outside an exploration.
#include "interleave/explore.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <thread>

#include "explore_bodies.h"
#include "interleave/gtest.h"
#include "interleave/mutex.h"
#include "interleave/thread.h"

namespace interleave {
namespace {

using namespace std::chrono_literals;
using explore_bodies::add_one;
using explore_bodies::LockedCounter;
using explore_bodies::UnlockedCounter;
using explore_bodies::with_schedules;

TEST(Explore, LockedCounterIsTwoThousandOnEverySchedule) {
  const Result r = explore(with_schedules(10'000), LockedCounter{});
  EXPECT_TRUE(r.passed()) << r;
  EXPECT_EQ(r.schedules_run, 10'000U);
}

TEST(Explore, LockedCounterPassesUnderPct) {
  const Result r = explore(with_schedules(2'000, Strategy::pct), LockedCounter{});
  EXPECT_TRUE(r.passed()) << r;
}

TEST(Explore, UnlockedCounterFailsWithinAHandfulOfSchedules) {
  for (Strategy s : {Strategy::random_walk, Strategy::pct, Strategy::pos, Strategy::surw}) {
    const Result r = explore(with_schedules(20, s), UnlockedCounter{});
    ASSERT_TRUE(r.failed()) << "strategy " << to_string(s);
    EXPECT_EQ(r.failure->kind, FailureKind::assertion);
    EXPECT_LE(r.schedules_run, 5U) << r;
    EXPECT_NE(
        r.report().find("INTERLEAVE_ASSERT(counter.load() == 2U * static_cast<std::uint32_t>(increments)) failed"),
        std::string::npos)
        << r;
  }
}

// By default one thread explores: a body may write what it captures (here: the exploring
// threads it ran on, in an unguarded set) without a data race of its own making.
TEST(Explore, DefaultOptionsExploreOnOneThread) {
  EXPECT_EQ(Options{}.jobs, 1U);
  std::set<std::thread::id> threads;
  Options o;
  o.schedules = 200;
  const Result r = explore(o, [&threads]<Platform P>() {
    threads.insert(std::this_thread::get_id());
    typename P::template Atomic<int> counter{0};
    BasicThread<P> other([&] { counter.fetch_add(1); });
    other.start();
    counter.fetch_add(1);
    other.join();
  });
  EXPECT_TRUE(r.passed()) << r;
  EXPECT_EQ(r.schedules_run, 200U);
  EXPECT_EQ(threads.size(), 1U);
}

TEST(Explore, TimedWaitReturnsFalseExactlyAtItsVirtualDeadlineWithoutRealTime) {
  const auto real_start = std::chrono::steady_clock::now();
  const Result r = explore(with_schedules(50), []<Platform P>() {
    BasicMutex<P> lock;
    lock.lock();
    bool acquired = true;
    typename P::TimePoint started{};
    typename P::TimePoint finished{};
    BasicThread<P> t([&] {
      started = P::now();
      acquired = lock.try_lock_for(std::chrono::seconds(3600));
      finished = P::now();
    });
    t.start();
    t.join();
    lock.unlock();
    INTERLEAVE_ASSERT(!acquired);
    INTERLEAVE_ASSERT(finished - started == std::chrono::seconds(3600));
  });
  EXPECT_TRUE(r.passed()) << r;
  EXPECT_LT(std::chrono::steady_clock::now() - real_start, 60s);  // an hour of virtual waiting, 50 times
}

TEST(Explore, TimedWaitSucceedsWhenReleasedBeforeTheDeadline) {
  const Result r = explore(with_schedules(300), []<Platform P>() {
    BasicMutex<P> lock;
    lock.lock();
    bool acquired = false;
    BasicThread<P> t([&] {
      acquired = lock.try_lock_for(std::chrono::seconds(10));
      if (acquired) lock.unlock();
    });
    t.start();
    lock.unlock();
    t.join();
    INTERLEAVE_ASSERT(acquired);
  });
  EXPECT_TRUE(r.passed()) << r;
}

TEST(Explore, NondeterministicBodyIsReportedWithTheFirstDivergingStep) {
  int runs = 0;
  Options options = with_schedules(10);
  const Result r = explore(options, [&]<Platform P>() {
    ++runs;  // state kept between runs: the second run of the same schedule behaves differently
    typename P::template Atomic<std::uint32_t> x{0};
    x.store(1);
    if (runs % 2 == 1) {
      x.store(2);
      INTERLEAVE_ASSERT(x.load() == 1);
    }
  });
  ASSERT_TRUE(r.failed());
  EXPECT_EQ(r.failure->kind, FailureKind::nondeterminism) << r;
  EXPECT_NE(r.failure->message.find("replaying it passed"), std::string::npos) << r;
  EXPECT_NE(r.failure->message.find("first differ at step"), std::string::npos) << r;
}

TEST(Explore, SpuriousWakeupsAreInjectedByDefaultAndCanBeTurnedOff) {
  // A waiter that does not re-check its condition after a futex wait: wrong, because futex waits
  // may return spuriously.
  auto body = []<Platform P>() {
    typename P::template Atomic<std::uint32_t> ready{0};
    BasicThread<P> waiter([&] {
      if (ready.load() == 0) P::wait(ready, 0);
      INTERLEAVE_ASSERT(ready.load() == 1);
    });
    waiter.start();
    ready.store(1);
    P::wake_all(ready);
    waiter.join();
  };
  const Result with_injection = explore(with_schedules(2000), body);
  EXPECT_TRUE(with_injection.failed());
  Options off = with_schedules(2000);
  off.spurious_wakeup_permille = 0;
  const Result without = explore(off, body);
  EXPECT_TRUE(without.passed()) << without;
}

TEST(Explore, GoogleTestAssertionsInsideTheBodyFailTheSchedule) {
  const Result r = explore_test(with_schedules(50), []<Platform P>() {
    typename P::template Atomic<std::uint32_t> counter{0};
    BasicThread<P> t([&] { add_one<P>(counter); });
    t.start();
    add_one<P>(counter);
    t.join();
    EXPECT_EQ(counter.load(), 2U) << "lost update";
  });
  ASSERT_TRUE(r.failed());
  EXPECT_EQ(r.failure->kind, FailureKind::assertion);
  EXPECT_NE(r.failure->message.find("lost update"), std::string::npos) << r;
  EXPECT_NE(r.reproduce.find("GoogleTestAssertionsInsideTheBodyFailTheSchedule"), std::string::npos) << r.reproduce;
}

TEST(Explore, PassingBodyUnderExploreTestReportsNothing) {
  INTERLEAVE_EXPECT_PASS(explore_test(with_schedules(100), LockedCounter{10}));
}

TEST(Explore, ModelObjectsOutsideAnExplorationDoNotSchedule) {
  // Constructing and using atomics outside explore() is allowed (no scheduling happens).
  detail::model::ModelAtomic<std::uint32_t> a{1};
  a.store(2);
  EXPECT_EQ(a.load(), 2U);
}

}  // namespace
}  // namespace interleave
