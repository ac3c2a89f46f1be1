// The bodies of the Mutex properties (properties/mutex_properties.cpp), each a function of one
// scenario: the property suite runs them over RapidCheck-generated scenarios, and
// bench/scoreboard/ runs them on one fixed scenario per broken mutex under every strategy.
// Each returns a platform-generic body, []<Platform P>() {...}, for explore() or stress().
#pragma once

#include <memory>
#include <mutex>
#include <ostream>
#include <vector>

#include "interleave/explore.h"
#include "interleave/platform.h"
#include "interleave/thread.h"

namespace interleave::scenarios {

struct CounterScenario {
  int threads;
  int increments;
};

inline void showValue(const CounterScenario& s, std::ostream& out) {
  out << s.threads << " threads x " << s.increments << " increments";
}

// Mutual exclusion: N threads x M locked increments give N*M. Each increment is a read and then
// a write of a shared cell (two scheduling points), so any overlap of critical sections can
// lose an update.
template <template <class> class MutexT>
auto mutual_exclusion(CounterScenario s) {
  return [s]<Platform P>() {
    MutexT<P> lock;
    typename P::template Atomic<int> counter{0};
    std::vector<std::unique_ptr<BasicThread<P>>> threads;
    for (int t = 0; t < s.threads; ++t) {
      threads.push_back(std::make_unique<BasicThread<P>>([&] {
        for (int i = 0; i < s.increments; ++i) {
          std::lock_guard guard(lock);
          counter.store(counter.load() + 1);
        }
      }));
    }
    for (auto& t : threads) t->start();
    for (auto& t : threads) t->join();
    INTERLEAVE_ASSERT(counter.load() == s.threads * s.increments);
  };
}

// Everything written before an unlock is visible after the next lock: N threads x M locked
// increments of a counter read and written with relaxed atomics give N*M. (Under the weak memory
// model a relaxed load may read a stale value unless the unlock->lock edge orders it.)
template <template <class> class MutexT>
auto unlock_publishes_relaxed_writes(CounterScenario s) {
  return [s]<Platform P>() {
    MutexT<P> lock;
    typename P::template Atomic<int> counter{0};
    std::vector<std::unique_ptr<BasicThread<P>>> threads;
    for (int t = 0; t < s.threads; ++t) {
      threads.push_back(std::make_unique<BasicThread<P>>([&] {
        for (int i = 0; i < s.increments; ++i) {
          std::lock_guard guard(lock);
          counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        }
      }));
    }
    for (auto& t : threads) t->start();
    for (auto& t : threads) t->join();
    INTERLEAVE_ASSERT(counter.load() == s.threads * s.increments);
  };
}

// try_lock never grants a held lock: a holder count never exceeds one, whether the lock was taken
// by lock() (even-numbered threads) or try_lock() (odd-numbered threads).
template <template <class> class MutexT>
auto try_lock_never_grants_a_held_lock(int threads_count) {
  return [threads_count]<Platform P>() {
    MutexT<P> lock;
    typename P::template Atomic<int> holders{0};
    auto hold = [&] {
      const int now = holders.fetch_add(1) + 1;
      INTERLEAVE_ASSERT(now == 1);
      holders.fetch_sub(1);
      lock.unlock();
    };
    std::vector<std::unique_ptr<BasicThread<P>>> threads;
    for (int t = 0; t < threads_count; ++t) {
      threads.push_back(std::make_unique<BasicThread<P>>([&, t] {
        if (t % 2 == 0) {
          lock.lock();
          hold();
        } else if (lock.try_lock()) {
          hold();
        }
      }));
    }
    for (auto& t : threads) t->start();
    for (auto& t : threads) t->join();
  };
}

}  // namespace interleave::scenarios
