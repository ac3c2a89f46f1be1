// Mutex: one property per guarantee of its contract (primitives/include/interleave/mutex.h), checked
// under the model scheduler over RapidCheck-generated scenarios; the zoo's broken mutexes must
// fail the same properties.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <mutex>

#include "interleave/mutex.h"
#include "interleave/rapidcheck.h"
#include "interleave/thread.h"
#include "scenarios/mutex_scenarios.h"
#include "zoo/broken_mutexes.h"

namespace interleave {
namespace {

template <Platform P>
using RealMutex = BasicMutex<P>;

using scenarios::CounterScenario;

rc::Gen<CounterScenario> counter_scenarios() {
  return rc::gen::build<CounterScenario>(rc::gen::set(&CounterScenario::threads, rc::gen::inRange(2, 4)),
                                         rc::gen::set(&CounterScenario::increments, rc::gen::inRange(1, 4)));
}

// The property bodies are in scenarios/mutex_scenarios.h; here each runs over generated scenarios.
template <template <class> class MutexT>
void mutual_exclusion() {
  check_schedules(scenarios::mutual_exclusion<MutexT>(*counter_scenarios()));
}

template <template <class> class MutexT>
void try_lock_never_grants_a_held_lock() {
  check_schedules(scenarios::try_lock_never_grants_a_held_lock<MutexT>(*rc::gen::inRange(2, 4)));
}

INTERLEAVE_PROPERTY(MutexProperties, MutualExclusion, ()) { mutual_exclusion<RealMutex>(); }
INTERLEAVE_PROPERTY(MutexProperties, TryLockNeverGrantsAHeldLock, ()) {
  try_lock_never_grants_a_held_lock<RealMutex>();
}

INTERLEAVE_TEST(MutexProperties, TheTutorialCounterIsTwoThousand) {
  INTERLEAVE_EXPECT_PASS(explore_test(Options{}, []<Platform P>() {
    BasicMutex<P> lock;
    typename P::template Atomic<int> counter{0};
    auto increment = [&] {
      std::lock_guard guard(lock);
      for (int i = 0; i < 1000; ++i) counter.store(counter.load() + 1);
    };
    BasicThread<P> thread1(increment);
    BasicThread<P> thread2(increment);
    thread1.start();
    thread2.start();
    thread1.join();
    thread2.join();
    INTERLEAVE_ASSERT(counter.load() == 2000);
  }));
}

// The zoo: each broken mutex must fail at least one property with default settings.
TEST(MutexZoo, CheckThenSetLockBreaksMutualExclusion) {
  EXPECT_FALSE(rc::check("check-then-set mutex", [] { mutual_exclusion<zoo::CheckThenSetMutex>(); }));
}
TEST(MutexZoo, MissingWakeOnUnlockIsCaught) {
  EXPECT_FALSE(rc::check("missing wake on unlock", [] { mutual_exclusion<zoo::MissingWakeMutex>(); }));
}
TEST(MutexZoo, RacyTryLockGrantsAHeldLock) {
  EXPECT_FALSE(rc::check("racy try_lock", [] { try_lock_never_grants_a_held_lock<zoo::RacyTryLockMutex>(); }));
}

}  // namespace
}  // namespace interleave

namespace interleave {
namespace {

// What a user sees last when a property fails: RapidCheck's smallest scenario, and interleave's
// schedule shrunk to the preemptions the bug needs. A missing wake on unlock needs one: a thread
// holds the lock, a second one goes to sleep on it, the first unlocks without waking it.
TEST(MutexZoo, MissingWakeCounterexampleIsTwoThreadsOneIncrementOnePreemption) {
  testing::internal::CaptureStderr();
  const bool passed = rc::check("missing wake on unlock", [] { mutual_exclusion<zoo::MissingWakeMutex>(); });
  const std::string out = testing::internal::GetCapturedStderr();
  ASSERT_FALSE(passed);
  EXPECT_NE(out.find("2 threads x 1 increments"), std::string::npos) << out;
  EXPECT_NE(out.find("DEADLOCK"), std::string::npos) << out;
  EXPECT_NE(out.find("shrunk to 1 preemption from"), std::string::npos) << out;
}

}  // namespace
}  // namespace interleave
