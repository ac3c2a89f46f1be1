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

// Up to `increments` per thread: a few in the model, where every interleaving of them is reachable;
// more on real threads, where critical sections must overlap in time to collide.
rc::Gen<CounterScenario> counter_scenarios(int increments = 4) {
  return rc::gen::build<CounterScenario>(rc::gen::set(&CounterScenario::threads, rc::gen::inRange(2, 4)),
                                         rc::gen::set(&CounterScenario::increments, rc::gen::inRange(1, increments)));
}

// The property bodies are in scenarios/mutex_scenarios.h; here each runs over generated scenarios,
// in the model (check_schedules) or on real threads (check_stress).
template <template <class> class MutexT, class Check = decltype(in_model)>
void mutual_exclusion(Check check = in_model, int increments = 4) {
  check(scenarios::mutual_exclusion<MutexT>(*counter_scenarios(increments)));
}

template <template <class> class MutexT, class Check = decltype(in_model)>
void try_lock_never_grants_a_held_lock(Check check = in_model) {
  check(scenarios::try_lock_never_grants_a_held_lock<MutexT>(*rc::gen::inRange(2, 4)));
}

INTERLEAVE_PROPERTY(MutexProperties, MutualExclusion, ()) { mutual_exclusion<RealMutex>(); }
INTERLEAVE_PROPERTY(MutexProperties, TryLockNeverGrantsAHeldLock, ()) {
  try_lock_never_grants_a_held_lock<RealMutex>();
}

// The same guarantees of the production mutex on real threads under perturbed timing.
INTERLEAVE_PROPERTY(MutexStressProperties, MutualExclusion, ()) { mutual_exclusion<RealMutex>(on_real_threads, 200); }
INTERLEAVE_PROPERTY(MutexStressProperties, TryLockNeverGrantsAHeldLock, ()) {
  try_lock_never_grants_a_held_lock<RealMutex>(on_real_threads);
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
  EXPECT_TRUE(property_fails("check-then-set mutex", [] { mutual_exclusion<zoo::CheckThenSetMutex>(); }));
}
// The stress variant must be able to fail too: on real threads, two critical sections of the
// check-then-set mutex overlap often enough in a hundred perturbed scenarios to lose an update.
TEST(MutexZoo, CheckThenSetLockIsCaughtOnRealThreadsToo) {
  EXPECT_TRUE(property_fails("check-then-set mutex on real threads",
                             [] { mutual_exclusion<zoo::CheckThenSetMutex>(on_real_threads, 200); }));
}
TEST(MutexZoo, MissingWakeOnUnlockIsCaught) {
  EXPECT_TRUE(property_fails("missing wake on unlock", [] { mutual_exclusion<zoo::MissingWakeMutex>(); }));
}
TEST(MutexZoo, RacyTryLockGrantsAHeldLock) {
  EXPECT_TRUE(property_fails("racy try_lock", [] { try_lock_never_grants_a_held_lock<zoo::RacyTryLockMutex>(); }));
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
