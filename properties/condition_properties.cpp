// Condition: one property per guarantee of its contract (primitives/include/interleave/condition.h),
// under the model scheduler over RapidCheck-generated scenarios; the zoo's broken condition
// variables must fail the same properties.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <mutex>
#include <string>

#include "interleave/condition.h"
#include "interleave/explore.h"
#include "interleave/mutex.h"
#include "interleave/process_condition.h"
#include "interleave/rapidcheck.h"
#include "interleave/thread.h"
#include "scenarios/condition_scenarios.h"
#include "zoo/broken_conditions.h"

namespace interleave {
namespace {

template <Platform P>
using RealCondition = BasicCondition<P>;
// ProcessCondition's algorithm (slots in the object, no pointers), with room for every waiter of
// the scenarios below (at most 3).
template <Platform P>
using SlotCondition = BasicProcessCondition<P, 4>;

// Each property draws a scenario and explores the body of properties/scenarios/condition_scenarios.h.
template <template <class> class ConditionT>
void no_lost_wake_up() {
  const auto s = *rc::gen::build<scenarios::HandOverScenario>(
      rc::gen::set(&scenarios::HandOverScenario::consumers, rc::gen::inRange(1, 4)),
      rc::gen::set(&scenarios::HandOverScenario::items_each, rc::gen::inRange(1, 3)),
      rc::gen::set(&scenarios::HandOverScenario::notify_under_lock));
  check_schedules(scenarios::no_lost_wake_up<ConditionT>(s));
}

template <template <class> class ConditionT>
void notify_one_wakes_at_most_one() {
  const int waiters = *rc::gen::inRange(2, 4);
  const int notifies = *rc::gen::inRange(1, waiters);
  check_schedules(scenarios::notify_one_wakes_at_most_one<ConditionT>(waiters, notifies));
}

template <template <class> class ConditionT>
void notify_all_wakes_every_waiter() {
  check_schedules(scenarios::notify_all_wakes_every_waiter<ConditionT>(*rc::gen::inRange(1, 4)));
}

template <template <class> class ConditionT>
void wait_for_is_false_only_on_timeout() {
  check_schedules(scenarios::wait_for_is_false_only_on_timeout<ConditionT>(*rc::gen::arbitrary<bool>()));
}

INTERLEAVE_PROPERTY(ConditionProperties, NoLostWakeUp, ()) { no_lost_wake_up<RealCondition>(); }
INTERLEAVE_PROPERTY(ConditionProperties, NotifyOneWakesAtMostOne, ()) { notify_one_wakes_at_most_one<RealCondition>(); }
INTERLEAVE_PROPERTY(ConditionProperties, NotifyAllWakesEveryWaiter, ()) {
  notify_all_wakes_every_waiter<RealCondition>();
}
INTERLEAVE_PROPERTY(ConditionProperties, WaitForIsFalseOnlyOnTimeout, ()) {
  wait_for_is_false_only_on_timeout<RealCondition>();
}

// ProcessCondition promises the same guarantees: the same properties.
INTERLEAVE_PROPERTY(ProcessConditionProperties, NoLostWakeUp, ()) { no_lost_wake_up<SlotCondition>(); }
INTERLEAVE_PROPERTY(ProcessConditionProperties, NotifyOneWakesAtMostOne, ()) {
  notify_one_wakes_at_most_one<SlotCondition>();
}
INTERLEAVE_PROPERTY(ProcessConditionProperties, NotifyAllWakesEveryWaiter, ()) {
  notify_all_wakes_every_waiter<SlotCondition>();
}
INTERLEAVE_PROPERTY(ProcessConditionProperties, WaitForIsFalseOnlyOnTimeout, ()) {
  wait_for_is_false_only_on_timeout<SlotCondition>();
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
