// The bodies of the Semaphore properties (properties/semaphore_properties.cpp), each a function of
// one scenario: the property suite runs them over RapidCheck-generated scenarios, and
// bench/scoreboard/ runs them on one fixed scenario per broken semaphore under every strategy.
// Each returns a platform-generic body, []<Platform P>() {...}, for explore() or stress().
#pragma once

#include <chrono>
#include <memory>
#include <ostream>
#include <vector>

#include "interleave/explore.h"
#include "interleave/platform.h"
#include "interleave/thread.h"

namespace interleave::scenarios {

struct SemaphoreScenario {
  int permits;
  int threads;
  int rounds;
};

inline void showValue(const SemaphoreScenario& s, std::ostream& out) {
  out << s.permits << " permits, " << s.threads << " threads x " << s.rounds << " rounds";
}

// Holders never exceed permits, and permits are conserved: after every acquire is matched by a
// release, the count is back where it started.
template <template <class> class SemaphoreT>
auto holders_never_exceed_permits_and_permits_are_conserved(SemaphoreScenario s) {
  return [s]<Platform P>() {
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
  };
}

// release(n) lets n sleepers through: n waiters blocked on an empty semaphore all get a permit
// from one release(n).
template <template <class> class SemaphoreT>
auto release_n_admits_n_waiters(int waiters) {
  return [waiters]<Platform P>() {
    SemaphoreT<P> semaphore(0);
    std::vector<std::unique_ptr<BasicThread<P>>> threads;
    for (int t = 0; t < waiters; ++t) {
      threads.push_back(std::make_unique<BasicThread<P>>([&] { semaphore.acquire(); }));
    }
    for (auto& t : threads) t->start();
    semaphore.release(waiters);
    for (auto& t : threads) t->join();
    INTERLEAVE_ASSERT(semaphore.value() == 0);
  };
}

// try_acquire_for times out only when no permit was free: here a permit is released while the
// waiter waits (under the model, virtual time passes only when every fiber is blocked, so the
// release always comes first), so the timed acquire must succeed.
template <template <class> class SemaphoreT>
auto timed_acquire_fails_only_without_a_free_permit(int others) {
  return [others]<Platform P>() {
    using namespace std::chrono_literals;
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
  };
}

}  // namespace interleave::scenarios
