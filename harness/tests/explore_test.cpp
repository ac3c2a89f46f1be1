// The model runtime finds, reports and replays failures; correct bodies pass every schedule.
#include "interleave/explore.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "interleave/detail/fiber.h"
#include "interleave/gtest.h"
#include "interleave/mutex.h"
#include "interleave/stress.h"
#include "interleave/thread.h"

namespace interleave {
namespace {

using namespace std::chrono_literals;

// The tutorial's counter with its increment made of two scheduling points (a read, then a
// write), so that an unprotected increment can lose an update.
template <Platform P>
void add_one(typename P::template Atomic<std::uint32_t>& counter) {
  const std::uint32_t value = counter.load(std::memory_order_relaxed);
  counter.store(value + 1, std::memory_order_relaxed);
}

struct LockedCounter {
  int increments = 1000;
  template <Platform P>
  void operator()() const {
    BasicMutex<P> lock;
    typename P::template Atomic<std::uint32_t> counter{0};
    auto increment = [&] {
      std::lock_guard guard(lock);
      for (int i = 0; i < increments; ++i) add_one<P>(counter);
    };
    BasicThread<P> thread1(increment);
    BasicThread<P> thread2(increment);
    thread1.start();
    thread2.start();
    thread1.join();
    thread2.join();
    INTERLEAVE_ASSERT(counter.load() == 2U * static_cast<std::uint32_t>(increments));
  }
};

struct UnlockedCounter {
  int increments = 1000;
  template <Platform P>
  void operator()() const {
    typename P::template Atomic<std::uint32_t> counter{0};
    auto increment = [&] {
      for (int i = 0; i < increments; ++i) add_one<P>(counter);
    };
    BasicThread<P> thread1(increment);
    BasicThread<P> thread2(increment);
    thread1.start();
    thread2.start();
    thread1.join();
    thread2.join();
    INTERLEAVE_ASSERT(counter.load() == 2U * static_cast<std::uint32_t>(increments));
  }
};

Options with_schedules(std::uint64_t n, Strategy strategy = Strategy::random_walk) {
  Options o;
  o.schedules = n;
  o.strategy = strategy;
  return o;
}

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
  for (Strategy s : {Strategy::random_walk, Strategy::pct, Strategy::pos}) {
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

TEST(Explore, AnAssertionMessageIsInTheReport) {
  const Result r = explore(with_schedules(50), []<Platform P>() {
    typename P::template Atomic<int> counter{0};
    BasicThread<P> other([&] { counter.store(counter.load() + 1); });
    other.start();
    counter.store(counter.load() + 1);
    other.join();
    const std::string lost = "lost " + std::to_string(2 - counter.load()) + " increment";
    INTERLEAVE_ASSERT(counter.load() == 2, lost);
  });
  ASSERT_TRUE(r.failed());
  EXPECT_NE(r.report().find("INTERLEAVE_ASSERT(counter.load() == 2) failed: lost 1 increment"), std::string::npos) << r;
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

// The token in a reproduce line: what follows INTERLEAVE_REPLAY= up to the next space.
std::string reproduce_token(const Result& r) {
  const std::string key = "INTERLEAVE_REPLAY=";
  const std::size_t at = r.reproduce.find(key);
  if (at == std::string::npos) return {};
  const std::size_t start = at + key.size();
  return r.reproduce.substr(start, r.reproduce.find(' ', start) - start);
}

TEST(Explore, ReproduceTokenReplaysTheSameFailureWithTheSameStepCount) {
  for (Strategy s : {Strategy::random_walk, Strategy::pct, Strategy::pos}) {
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
  EXPECT_EQ(found.schedule.test.text(), "5-2-78a44dae") << found;
  EXPECT_EQ(explore(with_schedules(20), body).schedule.test, found.schedule.test);
}

TEST(Explore, ReportCarriesEveryPart) {
  const Result r = explore(with_schedules(20), UnlockedCounter{});
  ASSERT_TRUE(r.failed());
  const std::string report = r.report();
  for (const char* part :
       {"ASSERTION FAILED after", "random, seed 0x1eaf5eed", "schedule ", "shrunk to 1 preemption from", "last ",
        "configuration: strategy=random", "reproduce: INTERLEAVE_REPLAY=choices.c="}) {
    EXPECT_NE(report.find(part), std::string::npos) << "missing '" << part << "' in\n" << report;
  }
  EXPECT_EQ(r.last_steps.size(), 20U);
  Options unshrunk = with_schedules(20);
  unshrunk.shrink_runs = 0;
  const std::string plain = explore(unshrunk, UnlockedCounter{}).report();
  EXPECT_NE(plain.find("reproduce: INTERLEAVE_REPLAY=random.s=1eaf5eed.i="), std::string::npos) << plain;
  EXPECT_EQ(plain.find("shrunk"), std::string::npos) << plain;
}

// A check-then-act whose decisive preemption comes long before the failure: after it, the other
// thread runs a long tail, so the preemption lies outside the last steps. The report still shows
// it, marked, with the steps around it, and says when the preempted fiber runs again.
TEST(Explore, ReportShowsEveryPreemptionEvenBeforeTheLastSteps) {
  const auto body = []<Platform P>() {
    BasicMutex<P> lock;
    typename P::template Atomic<int> balance{60};
    auto withdraw = [&](int amount) {
      lock.lock();
      const bool enough = balance.load() >= amount;
      lock.unlock();
      if (enough) {
        lock.lock();
        balance.store(balance.load() - amount);
        lock.unlock();
      }
      typename P::template Atomic<int> busy{0};
      for (int i = 0; i < 40; ++i) busy.fetch_add(1);  // a long tail after the decisive steps
    };
    BasicThread<P> alice([&] { withdraw(50); });
    BasicThread<P> bob([&] { withdraw(40); });
    alice.start();
    bob.start();
    alice.join();
    bob.join();
    INTERLEAVE_ASSERT(balance.load() >= 0);
  };
  const Result r = explore(with_schedules(200), body);
  ASSERT_TRUE(r.failed());
  ASSERT_GE(r.preemptions, 1U) << r;
  std::size_t marked = 0;
  for (const StepRecord& s : r.preemption_steps) {
    if (!s.preempted) continue;
    ++marked;
    EXPECT_NE(*s.preempted, s.fiber) << r;
    EXPECT_GT(s.resumes_at, s.step) << r;
  }
  for (const StepRecord& s : r.last_steps) marked += s.preempted ? 1 : 0;
  EXPECT_EQ(marked, r.preemptions) << r;
  ASSERT_FALSE(r.preemption_steps.empty()) << "the preemption fell inside the last steps; lengthen the tail\n" << r;
  EXPECT_LT(r.preemption_steps.back().step, r.last_steps.front().step) << r;
  const std::string report = r.report();
  EXPECT_NE(report.find("before the last steps, with the steps around"), std::string::npos) << report;
  EXPECT_NE(report.find(" preempted here (it could still run); it runs again at step #"), std::string::npos) << report;
}

TEST(Explore, AbbaLockOrderDeadlockNamesBothBlockedSites) {
  int line_a = 0;
  int line_b = 0;
  Options options = with_schedules(200);
  const Result r = explore(options, [&]<Platform P>() {
    BasicMutex<P> a;
    BasicMutex<P> b;
    BasicThread<P> t([&] {
      a.lock();
      line_b = __LINE__ + 1;
      b.lock();
      b.unlock();
      a.unlock();
    });
    t.start();
    b.lock();
    line_a = __LINE__ + 1;
    a.lock();
    a.unlock();
    b.unlock();
    t.join();
  });
  ASSERT_TRUE(r.failed());
  EXPECT_EQ(r.failure->kind, FailureKind::deadlock) << r;
  const std::string& m = r.failure->message;
  EXPECT_NE(m.find("fiber 0 blocked in Mutex::lock"), std::string::npos) << m;
  EXPECT_NE(m.find("fiber 1 blocked in Mutex::lock"), std::string::npos) << m;
  EXPECT_NE(m.find("explore_test.cpp:" + std::to_string(line_a)), std::string::npos) << m;
  EXPECT_NE(m.find("explore_test.cpp:" + std::to_string(line_b)), std::string::npos) << m;
}

TEST(Explore, AbbaDeadlockThroughStandardLockGuardsIsFound) {
  // std::lock_guard calls lock() from the standard header, so that is the site a report can name.
  const Result r = explore(with_schedules(200), []<Platform P>() {
    BasicMutex<P> a;
    BasicMutex<P> b;
    BasicThread<P> t([&] {
      std::lock_guard ga(a);
      std::lock_guard gb(b);
    });
    t.start();
    {
      std::lock_guard gb(b);
      std::lock_guard ga(a);
    }
    t.join();
  });
  ASSERT_TRUE(r.failed());
  EXPECT_EQ(r.failure->kind, FailureKind::deadlock) << r;
}

// An event written for this test with a classic lost wake-up: the waiter announces itself only
// after checking the flag, and the setter wakes only announced waiters.
template <Platform P>
struct LostWakeupEvent {
  typename P::template Atomic<std::uint32_t> flag{0};
  typename P::template Atomic<std::uint32_t> waiting{0};
  typename P::template Atomic<std::uint32_t> sleep_word{0};
  void set() {
    flag.store(1);
    if (waiting.load() != 0) {
      sleep_word.store(1);
      P::wake_all(sleep_word);
    }
  }
  void wait() {
    if (flag.load() != 0) return;
    waiting.store(1);
    while (sleep_word.load() == 0) P::wait(sleep_word, 0);
  }
};

TEST(Explore, LostWakeupInAnEventIsFoundAsADeadlock) {
  const Result r = explore(with_schedules(1000), []<Platform P>() {
    LostWakeupEvent<P> event;
    BasicThread<P> waiter([&] { event.wait(); });
    waiter.start();
    event.set();
    waiter.join();
  });
  ASSERT_TRUE(r.failed());
  EXPECT_EQ(r.failure->kind, FailureKind::deadlock) << r;
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

TEST(Explore, UncaughtExceptionInAFiberIsReported) {
  const Result r = explore(with_schedules(5), []<Platform P>() {
    typename P::Thread t([] { throw std::runtime_error("worker broke"); });
    t.join();
  });
  ASSERT_TRUE(r.failed());
  EXPECT_EQ(r.failure->kind, FailureKind::exception);
  EXPECT_NE(r.failure->message.find("worker broke"), std::string::npos) << r;
}

TEST(Explore, SpinWithoutProgressHitsTheStepBound) {
  Options o = with_schedules(3);
  o.max_steps = 5'000;
  const Result r = explore(o, []<Platform P>() {
    typename P::template Atomic<std::uint32_t> flag{0};
    while (flag.load() == 0) {
    }
  });
  ASSERT_TRUE(r.failed());
  EXPECT_EQ(r.failure->kind, FailureKind::step_bound) << r;
  EXPECT_EQ(r.steps, 5'001U);
  EXPECT_NE(r.reproduce.find(".m=5000"), std::string::npos) << r.reproduce;
}

TEST(Explore, ThreadDestroyedWithoutJoinIsReported) {
  const Result r = explore(with_schedules(3), []<Platform P>() { typename P::Thread t([] {}); });
  ASSERT_TRUE(r.failed());
  EXPECT_EQ(r.failure->kind, FailureKind::unjoined_fiber) << r;
}

TEST(Explore, UnlockByNonOwnerIsAContractViolationInTheModel) {
  if (!INTERLEAVE_CHECK_OWNERSHIP) GTEST_SKIP() << "ownership checks are off in this build (NDEBUG)";
  const Result r = explore(with_schedules(3), []<Platform P>() {
    BasicMutex<P> m;
    m.lock();
    BasicThread<P> t([&] { m.unlock(); });
    t.start();
    t.join();
  });
  ASSERT_TRUE(r.failed());
  EXPECT_EQ(r.failure->kind, FailureKind::contract_violation) << r;
  EXPECT_NE(r.failure->message.find("does not own the mutex"), std::string::npos) << r;
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

TEST(ExploreDeathTest, FatalSignalPrintsTheReproduceLine) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  // The token printed from the signal handler carries the fingerprint of the points run until the
  // crash: the same as a report's token for a body that fails at the same point without crashing.
  Options o = with_schedules(5);
  o.jobs = 1;  // with several jobs, the schedule named is whichever crashed first
  const Result failing = explore(o, []<Platform P>() {
    typename P::template Atomic<std::uint32_t> x{0};
    x.store(1);
    INTERLEAVE_ASSERT(x.load() == 2);
  });
  ASSERT_TRUE(failing.failed());
  const std::string fingerprint = failing.schedule.test.text();
  EXPECT_EQ(fingerprint.substr(0, 4), "2-1-");
  EXPECT_DEATH(
      {
        (void)explore(o, []<Platform P>() {
          typename P::template Atomic<std::uint32_t> x{0};
          x.store(1);
          (void)x.load();
          std::abort();
        });
      },
      "FATAL SIGNAL .* while running schedule random\\.s=1eaf5eed\\.i=0[^\n]*\\.t=" + fingerprint +
          "\n.*\nreproduce: "
          "INTERLEAVE_REPLAY=random\\.s=1eaf5eed\\.i=0\\.w=[0-9]+\\.m=[0-9]+\\.v=weak-[0-9]+-[0-9]+\\.t=" +
          fingerprint + " ");
}

// Recursion far deeper than a 64 KiB stack; the volatile frame keeps it from being optimized away.
int recurse(int depth) {
  volatile char frame[256];
  frame[0] = static_cast<char>(depth);
  if (depth > 1'000'000) return frame[0];
  return recurse(depth + 1) + frame[0];
}

TEST(ExploreDeathTest, StackOverflowInAFiberIsReportedWithTheReproduceLine) {
#if INTERLEAVE_ASAN || INTERLEAVE_TSAN
  GTEST_SKIP() << "sanitizers handle SIGSEGV themselves and use stacks differently";
#endif
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        Options o = with_schedules(1);
        o.stack_kib = 64;
        (void)explore(o, []<Platform P>() {
          typename P::Thread t([] { (void)recurse(0); });
          t.join();
        });
      },
      "FATAL SIGNAL .*stack overflow in a fiber.* in fiber 1 after step [0-9]+ while running schedule "
      "random\\.s=1eaf5eed[^\n]*\n.*\nreproduce: INTERLEAVE_REPLAY=random\\.s=1eaf5eed");
}

// A function with a frame of `Bytes`, touching only its lowest byte (the end a stack overflow
// reaches first): without stack probes, the compiler moves the stack pointer down by the whole
// frame at once, possibly past the stack's guard region.
template <std::size_t Bytes>
[[gnu::noinline]] int touch_large_frame() {
  volatile char frame[Bytes];
  frame[0] = 1;
  return frame[0];
}

// The body's main fiber overflows its stack with a single large frame while fiber 1, whose stack
// the kernel mapped just below the main fiber's guard region, is suspended.
template <std::size_t FrameBytes>
void overflow_beside_a_neighbour() {
  Options o = with_schedules(1);
  o.jobs = 1;
  o.stack_kib = 64;
  (void)explore(o, []<Platform P>() {
    typename P::template Atomic<int> started{0};
    typename P::template Atomic<int> go{0};
    typename P::Thread neighbour([&] {
      started.store(1);
      while (go.load() == 0) P::yield();
    });
    while (started.load() == 0) P::yield();  // the neighbour has a stack now
    (void)touch_large_frame<FrameBytes>();
    go.store(1);
    neighbour.join();
  });
}

// Regression: the guard region was 16 KiB and nothing probed the stack, so a larger frame jumped
// it: the overflow went unreported and wrote into the neighbouring fiber's stack (seen as an
// assertion failing in the wrong fiber, or a pass). Now the guard is Fiber::kGuardBytes (256 KiB)
// and code linking interleave::harness is built with -fstack-clash-protection.
TEST(ExploreDeathTest, FrameLargerThanAPageCannotJumpTheGuardRegion) {
#if INTERLEAVE_ASAN || INTERLEAVE_TSAN
  GTEST_SKIP() << "sanitizers handle SIGSEGV themselves and use stacks differently";
#endif
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(overflow_beside_a_neighbour<100 * 1024>(),
               "FATAL SIGNAL .*stack overflow in a fiber.* in fiber 0 after step [0-9]+ while running schedule "
               "random\\.s=1eaf5eed[^\n]*\n.*\nreproduce: INTERLEAVE_REPLAY=random\\.s=1eaf5eed");
}

// A frame larger than the guard region itself: caught because this test, like any code linking
// interleave::harness, is built with stack probes.
TEST(ExploreDeathTest, FrameLargerThanTheGuardRegionIsCaughtByStackProbes) {
#if INTERLEAVE_ASAN || INTERLEAVE_TSAN
  GTEST_SKIP() << "sanitizers handle SIGSEGV themselves and use stacks differently";
#endif
  static_assert(detail::Fiber::kGuardBytes < 1024 * 1024);
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(overflow_beside_a_neighbour<1024 * 1024>(),
               "FATAL SIGNAL .*stack overflow in a fiber.* in fiber 0 after step [0-9]+ while running schedule "
               "random\\.s=1eaf5eed[^\n]*\n.*\nreproduce: INTERLEAVE_REPLAY=random\\.s=1eaf5eed");
}

// Regression: the alternate signal stack was installed only on the thread that first called
// explore(), so an overflow on one of the worker threads (jobs >= 2) killed the process with no
// output at all.
TEST(ExploreDeathTest, StackOverflowOnAWorkerThreadIsReportedWithTheReproduceLine) {
#if INTERLEAVE_ASAN || INTERLEAVE_TSAN
  GTEST_SKIP() << "sanitizers handle SIGSEGV themselves and use stacks differently";
#endif
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        Options o = with_schedules(2);
        o.jobs = 2;
        o.stack_kib = 64;
        (void)explore(o, []<Platform P>() {
          // The calling thread runs one schedule and waits in it until the process ends, so the
          // other schedule runs on a worker thread, where the overflow happens.
          if (::gettid() == ::getpid()) {
            for (;;) ::pause();
          }
          typename P::Thread t([] { (void)recurse(0); });
          t.join();
        });
      },
      "FATAL SIGNAL .*stack overflow in a fiber.* in fiber 1 after step [0-9]+ while running schedule "
      "random\\.s=1eaf5eed\\.i=[01][^\n]*\n.*\nreproduce: INTERLEAVE_REPLAY=random\\.s=1eaf5eed\\.i=[01]");
}

// The process's address space now, in bytes (VmSize in /proc/self/status).
std::uint64_t address_space_in_use() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmSize:", 0) == 0) return std::stoull(line.substr(7)) * 1024;
  }
  return 0;
}

// Starts 64 threads that stay alive until all have started, each needing a 16 MiB stack, under an
// address-space limit that admits about 30 of them. Exits 0 when the exploration reports that.
[[noreturn]] void start_more_fibers_than_the_address_space_holds() {
  constexpr int kThreads = 64;
  const std::uint64_t limit = address_space_in_use() + std::uint64_t{512} * 1024 * 1024;
  const rlimit address_space{limit, limit};
  if (::setrlimit(RLIMIT_AS, &address_space) != 0) std::exit(2);
  Options o = with_schedules(1);
  o.jobs = 1;
  o.stack_kib = 16 * 1024;
  o.shrink_runs = 0;
  const Result r = explore(o, []<Platform P>() {
    typename P::template Atomic<int> started{0};
    std::vector<std::unique_ptr<typename P::Thread>> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.push_back(std::make_unique<typename P::Thread>([&] {
        started.fetch_add(1);
        while (started.load() < kThreads) P::yield();
      }));
    }
    for (auto& t : threads) t->join();
  });
  std::fputs(r.report().c_str(), stderr);
  std::exit(r.failed() && r.failure->kind == FailureKind::resources_exhausted ? 0 : 1);
}

// Regression: a fiber stack that could not be mapped (past about 32k live fibers, at the limit of
// vm.max_map_count; here an address-space limit) threw out of the scheduler on a fiber, whose
// entry cannot throw: std::terminate, with no report.
TEST(ExploreDeathTest, FiberStackThatCannotBeMappedFailsTheScheduleNamingTheCause) {
#if INTERLEAVE_ASAN || INTERLEAVE_TSAN
  GTEST_SKIP() << "sanitizers reserve more address space than the limit this test sets";
#endif
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(start_more_fibers_than_the_address_space_holds(), ::testing::ExitedWithCode(0),
              "RESOURCES EXHAUSTED .*\n  fiber [0-9]+ could not be started: Fiber: mapping a stack of [0-9]+ bytes "
              "failed: Cannot allocate memory; [0-9]+ fibers are alive in this schedule(.|\n)*reproduce: "
              "INTERLEAVE_REPLAY=");
}

// A body whose second fiber spins on a plain variable that nothing sets: no scheduling point,
// ever. With a 200 ms watchdog.
[[noreturn]] void spin_without_a_scheduling_point(unsigned jobs) {
  Options o = with_schedules(jobs);
  o.jobs = jobs;
  o.watchdog_ms = 200;
  (void)explore(o, []<Platform P>() {
    typename P::Thread spinner([] {
      volatile bool stop = false;
      while (!stop) {
      }
    });
    spinner.join();
  });
  std::exit(0);  // not reached: the watchdog ends the process
}

// Regression: such a body hung the exploration for ever, with no output even with progress on.
TEST(ExploreDeathTest, FiberMakingNoSchedulingPointIsReportedByTheWatchdog) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(spin_without_a_scheduling_point(1), ::testing::ExitedWithCode(kHungExitCode),
              "WATCHDOG: fiber 1 made no scheduling point for 200 ms while running schedule "
              "random\\.s=1eaf5eed\\.i=0[^\n]*\n  it has made none since it started \\(the schedule was at step "
              "[0-9]+\\)(.|\n)*\nreproduce: INTERLEAVE_REPLAY=random\\.s=1eaf5eed\\.i=0");
}

TEST(ExploreDeathTest, FiberMakingNoSchedulingPointOnAWorkerThreadIsReportedByTheWatchdog) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(spin_without_a_scheduling_point(2), ::testing::ExitedWithCode(kHungExitCode),
              "WATCHDOG: fiber 1 made no scheduling point for 200 ms while running schedule "
              "random\\.s=1eaf5eed\\.i=[01](.|\n)*\nreproduce: INTERLEAVE_REPLAY=random\\.s=1eaf5eed\\.i=[01]");
}

// The fiber's last scheduling point is named when it made one.
TEST(ExploreDeathTest, WatchdogReportNamesTheFibersLastSchedulingPoint) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        Options o = with_schedules(1);
        o.jobs = 1;
        o.watchdog_ms = 200;
        (void)explore(o, []<Platform P>() {
          typename P::template Atomic<int> flag{0};
          typename P::Thread spinner([&] {
            flag.store(1);
            volatile bool stop = false;
            while (!stop) {
            }
          });
          spinner.join();
        });
        std::exit(0);
      },
      ::testing::ExitedWithCode(kHungExitCode),
      "WATCHDOG: fiber 1 made no scheduling point for 200 ms[^\n]*\n  its last scheduling point was step [0-9]+ "
      "\\(atomic store\\)");
}

// The control: a watchdog far shorter than the exploration stays quiet while scheduling points
// keep coming, across schedules and jobs.
TEST(Explore, WatchdogStaysQuietWhileSchedulingPointsKeepComing) {
  Options o = with_schedules(1000);
  o.jobs = 2;
  o.watchdog_ms = 250;
  const Result r = explore(o, LockedCounter{300});
  EXPECT_TRUE(r.passed()) << r;
}

}  // namespace
}  // namespace interleave
