// Semaphore: one property per guarantee of its contract (primitives/include/interleave/semaphore.h),
// under the model scheduler over RapidCheck-generated scenarios; the zoo's broken semaphores must
// fail the same properties.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <chrono>
#include <memory>
#include <ostream>
#include <vector>

#include "interleave/rapidcheck.h"
#include "interleave/semaphore.h"
#include "interleave/thread.h"
#include "zoo/broken_semaphores.h"

namespace interleave {
namespace {

using namespace std::chrono_literals;

template <Platform P>
using RealSemaphore = BasicSemaphore<P>;

struct Scenario {
  int permits;
  int threads;
  int rounds;
};

void showValue(const Scenario& s, std::ostream& out) {
  out << s.permits << " permits, " << s.threads << " threads x " << s.rounds << " rounds";
}

rc::Gen<Scenario> scenarios() {
  return rc::gen::build<Scenario>(rc::gen::set(&Scenario::permits, rc::gen::inRange(1, 3)),
                                  rc::gen::set(&Scenario::threads, rc::gen::inRange(2, 4)),
                                  rc::gen::set(&Scenario::rounds, rc::gen::inRange(1, 3)));
}

// Holders never exceed permits, and permits are conserved: after every acquire is matched by a
// release, the count is back where it started.
template <template <class> class SemaphoreT>
void holders_never_exceed_permits_and_permits_are_conserved() {
  const Scenario s = *scenarios();
  check_schedules([&]<Platform P>() {
    SemaphoreT<P> semaphore(s.permits);
    typename P::template Atomic<int> holders{0};
    std::vector<std::unique_ptr<BasicThread<P>>> threads;
    for (int t = 0; t < s.threads; ++t) {
      threads.push_back(std::make_unique<BasicThread<P>>([&] {
        for (int r = 0; r < s.rounds; ++r) {
          semaphore.acquire();
          INTERLEAVE_ASSERT(holders.fetch_add(1) + 1 <= s.permits);
          holders.fetch_sub(1);
          semaphore.release();
        }
      }));
    }
    for (auto& t : threads) t->start();
    for (auto& t : threads) t->join();
    INTERLEAVE_ASSERT(semaphore.value() == s.permits);
  });
}

// release(n) lets n sleepers through: n waiters blocked on an empty semaphore all get a permit
// from one release(n).
template <template <class> class SemaphoreT>
void release_n_admits_n_waiters() {
  const int waiters = *rc::gen::inRange(2, 4);
  check_schedules([&]<Platform P>() {
    SemaphoreT<P> semaphore(0);
    std::vector<std::unique_ptr<BasicThread<P>>> threads;
    for (int t = 0; t < waiters; ++t) {
      threads.push_back(std::make_unique<BasicThread<P>>([&] { semaphore.acquire(); }));
    }
    for (auto& t : threads) t->start();
    semaphore.release(waiters);
    for (auto& t : threads) t->join();
    INTERLEAVE_ASSERT(semaphore.value() == 0);
  });
}

// try_acquire_for times out only when no permit was free: here a permit is released while the
// waiter waits (virtual time passes only when every fiber is blocked, so the release always comes
// first), so the timed acquire must succeed.
template <template <class> class SemaphoreT>
void timed_acquire_fails_only_without_a_free_permit() {
  const int others = *rc::gen::inRange(0, 2);
  check_schedules([&]<Platform P>() {
    SemaphoreT<P> semaphore(0);
    bool got = false;
    BasicThread<P> waiter([&] { got = semaphore.try_acquire_for(1h); });
    std::vector<std::unique_ptr<BasicThread<P>>> releasers;
    for (int t = 0; t <= others; ++t) {
      releasers.push_back(std::make_unique<BasicThread<P>>([&] { semaphore.release(); }));
    }
    waiter.start();
    for (auto& t : releasers) t->start();
    for (auto& t : releasers) t->join();
    waiter.join();
    INTERLEAVE_ASSERT(got);
  });
}

RC_GTEST_PROP(SemaphoreProperties, HoldersNeverExceedPermitsAndPermitsAreConserved, ()) {
  holders_never_exceed_permits_and_permits_are_conserved<RealSemaphore>();
}
RC_GTEST_PROP(SemaphoreProperties, ReleaseNAdmitsNWaiters, ()) { release_n_admits_n_waiters<RealSemaphore>(); }
RC_GTEST_PROP(SemaphoreProperties, TimedAcquireFailsOnlyWithoutAFreePermit, ()) {
  timed_acquire_fails_only_without_a_free_permit<RealSemaphore>();
}

TEST(SemaphoreZoo, CheckThenDecrementOvercommitsPermits) {
  EXPECT_FALSE(rc::check("check then decrement", [] {
    holders_never_exceed_permits_and_permits_are_conserved<zoo::CheckThenDecrementSemaphore>();
  }));
}
TEST(SemaphoreZoo, WakeBeforeAddLosesAWakeup) {
  EXPECT_FALSE(rc::check("wake before add", [] { release_n_admits_n_waiters<zoo::WakeBeforeAddSemaphore>(); }));
}
TEST(SemaphoreZoo, ReleaseNWakingOneStrandsWaiters) {
  EXPECT_FALSE(rc::check("release(n) wakes one", [] { release_n_admits_n_waiters<zoo::ReleaseNWakesOneSemaphore>(); }));
}

}  // namespace
}  // namespace interleave
