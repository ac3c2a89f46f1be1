// Condition: one property per guarantee of its contract (primitives/include/interleave/condition.h),
// under the model scheduler over RapidCheck-generated scenarios; the zoo's broken condition
// variables must fail the same properties.
//
// A waiter in these bodies announces itself on a semaphore with the lock held, then waits; once
// the main fiber has taken every announcement and then the lock, every waiter has released the
// lock inside wait, so it is waiting.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>
#include <vector>

#include "interleave/condition.h"
#include "interleave/explore.h"
#include "interleave/mutex.h"
#include "interleave/rapidcheck.h"
#include "interleave/semaphore.h"
#include "interleave/thread.h"
#include "zoo/broken_conditions.h"

namespace interleave {
namespace {

using namespace std::chrono_literals;

template <Platform P>
using RealCondition = BasicCondition<P>;

template <Platform P>
using Threads = std::vector<std::unique_ptr<BasicThread<P>>>;

template <Platform P, class F>
void start(Threads<P>& threads, int count, F f) {
  for (int t = 0; t < count; ++t) threads.push_back(std::make_unique<BasicThread<P>>([f, t] { f(t); }));
  for (auto& thread : threads) thread->start();
}

template <Platform P>
void join(Threads<P>& threads) {
  for (auto& thread : threads) thread->join();
}

struct HandOverScenario {
  int consumers;
  int items_each;
  bool notify_under_lock;
};

void showValue(const HandOverScenario& s, std::ostream& out) {
  out << s.consumers << " consumers x " << s.items_each << " items, notify "
      << (s.notify_under_lock ? "under" : "after releasing") << " the lock";
}

// No lost wake-up: consumers wait (with a std::unique_lock) for items the main fiber adds one at
// a time, each with a notify_one; every consumer gets its items, none sleeps forever.
template <template <class> class ConditionT>
void no_lost_wake_up() {
  const auto s = *rc::gen::build<HandOverScenario>(rc::gen::set(&HandOverScenario::consumers, rc::gen::inRange(1, 4)),
                                                   rc::gen::set(&HandOverScenario::items_each, rc::gen::inRange(1, 3)),
                                                   rc::gen::set(&HandOverScenario::notify_under_lock));
  check_schedules([s]<Platform P>() {
    BasicMutex<P> m;
    ConditionT<P> c;
    int items = 0;  // guarded by m
    Threads<P> consumers;
    start<P>(consumers, s.consumers, [&](int) {
      for (int i = 0; i < s.items_each; ++i) {
        std::unique_lock lock(m);
        while (items == 0) c.wait(lock);
        --items;
      }
    });
    for (int i = 0; i < s.consumers * s.items_each; ++i) {
      std::unique_lock lock(m);
      ++items;
      if (!s.notify_under_lock) lock.unlock();
      c.notify_one();
    }
    join<P>(consumers);
    INTERLEAVE_ASSERT(items == 0);
  });
}

// notify_one wakes at most one waiter: with every waiter waiting, k notify_one calls return k
// waiters from wait (no predicate: a return is a wake-up), never more.
template <template <class> class ConditionT>
void notify_one_wakes_at_most_one() {
  const int waiters = *rc::gen::inRange(2, 4);
  const int notifies = *rc::gen::inRange(1, waiters);
  check_schedules([waiters, notifies]<Platform P>() {
    BasicMutex<P> m;
    ConditionT<P> c;
    BasicSemaphore<P> waiting(0);
    int sent = 0;   // guarded by m
    int woken = 0;  // guarded by m
    Threads<P> threads;
    start<P>(threads, waiters, [&](int) {
      m.lock();
      waiting.release();
      c.wait(m);
      ++woken;
      INTERLEAVE_ASSERT(woken <= sent, "more waiters returned from wait than notify_one calls were made");
      m.unlock();
    });
    for (int i = 0; i < waiters; ++i) waiting.acquire();
    for (int i = 0; i < notifies; ++i) {
      std::lock_guard g(m);
      ++sent;
      c.notify_one();
    }
    {
      std::lock_guard g(m);
      sent = waiters;
      c.notify_all();
    }
    join<P>(threads);
  });
}

// notify_all wakes every waiter that is waiting when it is called.
template <template <class> class ConditionT>
void notify_all_wakes_every_waiter() {
  const int waiters = *rc::gen::inRange(1, 4);
  check_schedules([waiters]<Platform P>() {
    BasicMutex<P> m;
    ConditionT<P> c;
    BasicSemaphore<P> waiting(0);
    Threads<P> threads;
    start<P>(threads, waiters, [&](int) {
      m.lock();
      waiting.release();
      c.wait(m);
      m.unlock();
    });
    for (int i = 0; i < waiters; ++i) waiting.acquire();
    {
      std::lock_guard g(m);
      c.notify_all();
    }
    join<P>(threads);  // a waiter left asleep is a deadlock
  });
}

// wait_for returns false only when the deadline passed, true only when notified. In the model the
// virtual clock moves only when every fiber is blocked, so a waiter notified by a running fiber is
// notified before its deadline and must return true.
template <template <class> class ConditionT>
void wait_for_is_false_only_on_timeout() {
  const bool notify = *rc::gen::arbitrary<bool>();
  check_schedules([notify]<Platform P>() {
    BasicMutex<P> m;
    ConditionT<P> c;
    BasicSemaphore<P> waiting(0);
    bool sent = false;  // guarded by m
    BasicThread<P> waiter([&] {
      m.lock();
      waiting.release();
      const auto deadline = P::now() + 10ms;
      const bool notified = c.wait_for(m, 10ms);
      if (notified) {
        INTERLEAVE_ASSERT(sent, "wait_for returned true but nobody notified");
      } else {
        INTERLEAVE_ASSERT(P::now() >= deadline, "wait_for returned false before its deadline");
        INTERLEAVE_ASSERT(!sent, "wait_for returned false although notified before its deadline");
      }
      m.unlock();
    });
    waiter.start();
    waiting.acquire();
    if (notify) {
      std::lock_guard g(m);
      sent = true;
      c.notify_one();
    }
    waiter.join();
  });
}

INTERLEAVE_PROPERTY(ConditionProperties, NoLostWakeUp, ()) { no_lost_wake_up<RealCondition>(); }
INTERLEAVE_PROPERTY(ConditionProperties, NotifyOneWakesAtMostOne, ()) { notify_one_wakes_at_most_one<RealCondition>(); }
INTERLEAVE_PROPERTY(ConditionProperties, NotifyAllWakesEveryWaiter, ()) {
  notify_all_wakes_every_waiter<RealCondition>();
}
INTERLEAVE_PROPERTY(ConditionProperties, WaitForIsFalseOnlyOnTimeout, ()) {
  wait_for_is_false_only_on_timeout<RealCondition>();
}

// Deadlock detection: a waiter that nobody notifies is reported as a deadlock naming the wait,
// not left hanging.
TEST(ConditionProperties, AWaiterNeverNotifiedIsReportedAsADeadlock) {
  Options options;
  options.schedules = 20;
  const Result r = explore(options, []<Platform P>() {
    BasicMutex<P> m;
    BasicCondition<P> c;
    BasicThread<P> waiter([&] {
      std::unique_lock lock(m);
      c.wait(lock);
    });
    waiter.start();
    waiter.join();
  });
  ASSERT_TRUE(r.failed());
  EXPECT_EQ(r.failure->kind, FailureKind::deadlock) << r.report();
  EXPECT_NE(r.failure->message.find("Condition::wait"), std::string::npos) << r.report();
}

// The zoo: each broken condition variable must fail the property it breaks.
TEST(ConditionZoo, ReadingTheSequenceAfterUnlockLosesAWakeUp) {
  EXPECT_TRUE(
      property_fails("unlock, then read the sequence", [] { no_lost_wake_up<zoo::UnlockThenReadCondition>(); }));
}
TEST(ConditionZoo, NotifyOneWakingAllIsCaught) {
  EXPECT_TRUE(
      property_fails("notify_one wakes all", [] { notify_one_wakes_at_most_one<zoo::NotifyOneWakesAllCondition>(); }));
}
TEST(ConditionZoo, NotifyAllWakingOneLeavesAWaiterAsleep) {
  EXPECT_TRUE(
      property_fails("notify_all wakes one", [] { notify_all_wakes_every_waiter<zoo::NotifyAllWakesOneCondition>(); }));
}
TEST(ConditionZoo, ASpuriousWakeUpReportedAsANotifyIsCaught) {
  EXPECT_TRUE(property_fails("spurious wake-up is true",
                             [] { wait_for_is_false_only_on_timeout<zoo::SpuriousTrueCondition>(); }));
}

}  // namespace
}  // namespace interleave
