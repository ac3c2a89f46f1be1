// What a failure's report says, for each kind of failure: a failed assertion with its message,
// the parts of a report and its preemptions, deadlocks (lock order, lost wake-up) naming where each
// fiber blocked, an uncaught exception, the step bound, a thread never joined, a contract violation.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>

#include "explore_bodies.h"
#include "interleave/explore.h"
#include "interleave/mutex.h"
#include "interleave/thread.h"

namespace interleave {
namespace {

using explore_bodies::UnlockedCounter;
using explore_bodies::with_schedules;

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
  EXPECT_NE(m.find("failure_report_test.cpp:" + std::to_string(line_a)), std::string::npos) << m;
  EXPECT_NE(m.find("failure_report_test.cpp:" + std::to_string(line_b)), std::string::npos) << m;
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
    while (sleep_word.load() == 0) P::wait(sleep_word, 0);  // kWaitLine
  }
  static constexpr int kWaitLine = __LINE__ - 2;
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
  // The wait is outside any primitive's operation: it is named at the line that called P::wait.
  const std::string& m = r.failure->message;
  EXPECT_NE(m.find("futex wait (object"), std::string::npos) << m;
  EXPECT_NE(m.find("failure_report_test.cpp:" + std::to_string(LostWakeupEvent<ModelPlatform>::kWaitLine)),
            std::string::npos)
      << m;
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

}  // namespace
}  // namespace interleave
