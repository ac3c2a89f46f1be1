// Semaphore: one property per guarantee of its contract (primitives/include/interleave/semaphore.h),
// under the model scheduler over RapidCheck-generated scenarios; the zoo's broken semaphores must
// fail the same properties.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "interleave/rapidcheck.h"
#include "interleave/semaphore.h"
#include "interleave/thread.h"
#include "scenarios/semaphore_scenarios.h"
#include "zoo/broken_semaphores.h"

namespace interleave {
namespace {

template <Platform P>
using RealSemaphore = BasicSemaphore<P>;

using scenarios::SemaphoreScenario;

// Up to `rounds` per thread: a few in the model, more on real threads (see mutex_properties.cpp).
rc::Gen<SemaphoreScenario> semaphore_scenarios(int rounds = 3) {
  return rc::gen::build<SemaphoreScenario>(rc::gen::set(&SemaphoreScenario::permits, rc::gen::inRange(1, 3)),
                                           rc::gen::set(&SemaphoreScenario::threads, rc::gen::inRange(2, 4)),
                                           rc::gen::set(&SemaphoreScenario::rounds, rc::gen::inRange(1, rounds)));
}

// The property bodies are in scenarios/semaphore_scenarios.h; here each runs over generated
// scenarios, in the model (check_schedules) or on real threads (check_stress).
template <template <class> class SemaphoreT, class Check = decltype(in_model)>
void holders_never_exceed_permits_and_permits_are_conserved(Check check = in_model, int rounds = 3) {
  check(scenarios::holders_never_exceed_permits_and_permits_are_conserved<SemaphoreT>(*semaphore_scenarios(rounds)));
}

template <template <class> class SemaphoreT, class Check = decltype(in_model)>
void release_n_admits_n_waiters(Check check = in_model) {
  check(scenarios::release_n_admits_n_waiters<SemaphoreT>(*rc::gen::inRange(2, 4)));
}

template <template <class> class SemaphoreT, class Check = decltype(in_model)>
void timed_acquire_fails_only_without_a_free_permit(Check check = in_model) {
  check(scenarios::timed_acquire_fails_only_without_a_free_permit<SemaphoreT>(*rc::gen::inRange(0, 2)));
}

INTERLEAVE_PROPERTY(SemaphoreProperties, HoldersNeverExceedPermitsAndPermitsAreConserved, ()) {
  holders_never_exceed_permits_and_permits_are_conserved<RealSemaphore>();
}
INTERLEAVE_PROPERTY(SemaphoreProperties, ReleaseNAdmitsNWaiters, ()) { release_n_admits_n_waiters<RealSemaphore>(); }
INTERLEAVE_PROPERTY(SemaphoreProperties, TimedAcquireFailsOnlyWithoutAFreePermit, ()) {
  timed_acquire_fails_only_without_a_free_permit<RealSemaphore>();
}

// The same guarantees of the production semaphore on real threads under perturbed timing.
INTERLEAVE_PROPERTY(SemaphoreStressProperties, HoldersNeverExceedPermitsAndPermitsAreConserved, ()) {
  holders_never_exceed_permits_and_permits_are_conserved<RealSemaphore>(on_real_threads, 50);
}
INTERLEAVE_PROPERTY(SemaphoreStressProperties, ReleaseNAdmitsNWaiters, ()) {
  release_n_admits_n_waiters<RealSemaphore>(on_real_threads);
}
INTERLEAVE_PROPERTY(SemaphoreStressProperties, TimedAcquireFailsOnlyWithoutAFreePermit, ()) {
  timed_acquire_fails_only_without_a_free_permit<RealSemaphore>(on_real_threads);
}

TEST(SemaphoreZoo, CheckThenDecrementOvercommitsPermits) {
  EXPECT_TRUE(property_fails("check then decrement", [] {
    holders_never_exceed_permits_and_permits_are_conserved<zoo::CheckThenDecrementSemaphore>();
  }));
}
TEST(SemaphoreZoo, WakeBeforeAddLosesAWakeup) {
  EXPECT_TRUE(property_fails("wake before add", [] { release_n_admits_n_waiters<zoo::WakeBeforeAddSemaphore>(); }));
}
TEST(SemaphoreZoo, ReleaseNWakingOneStrandsWaiters) {
  EXPECT_TRUE(
      property_fails("release(n) wakes one", [] { release_n_admits_n_waiters<zoo::ReleaseNWakesOneSemaphore>(); }));
}

}  // namespace
}  // namespace interleave
