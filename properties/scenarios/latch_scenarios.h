// The bodies of the Latch properties (properties/latch_properties.cpp), each a function of one
// scenario: the property suite runs them over RapidCheck-generated scenarios, and
// bench/scoreboard/ runs them on one fixed scenario per broken latch under every strategy. Each
// returns a platform-generic body, []<Platform P>() {...}, for explore() or stress().
#pragma once

#include <memory>
#include <vector>

#include "interleave/explore.h"
#include "interleave/platform.h"
#include "interleave/thread.h"

namespace interleave::scenarios {

// wait() returns only after every count_down, and then every waiter returns: `parties` threads
// each mark their slot and count down; `waiters` threads wait, then find every slot marked.
template <template <class> class LatchT>
auto wait_returns_only_after_every_count_down(int parties, int waiters) {
  return [=]<Platform P>() {
    LatchT<P> latch(parties);
    typename P::template Atomic<int> counted{0};
    std::vector<std::unique_ptr<BasicThread<P>>> threads;
    for (int t = 0; t < parties; ++t) {
      threads.push_back(std::make_unique<BasicThread<P>>([&] {
        counted.fetch_add(1);
        latch.count_down();
      }));
    }
    for (int t = 0; t < waiters; ++t) {
      threads.push_back(std::make_unique<BasicThread<P>>([&] {
        latch.wait();
        INTERLEAVE_ASSERT(counted.load() == parties, "wait returned before every count_down");
      }));
    }
    for (auto& t : threads) t->start();
    for (auto& t : threads) t->join();  // a waiter left asleep is a deadlock
  };
}

// try_wait is true only when the count is zero.
template <template <class> class LatchT>
auto try_wait_is_true_only_at_zero(int parties) {
  return [=]<Platform P>() {
    LatchT<P> latch(parties);
    typename P::template Atomic<int> counted{0};
    std::vector<std::unique_ptr<BasicThread<P>>> threads;
    for (int t = 0; t < parties; ++t) {
      threads.push_back(std::make_unique<BasicThread<P>>([&] {
        counted.fetch_add(1);
        latch.count_down();
      }));
    }
    for (auto& t : threads) t->start();
    for (int i = 0; i < 3; ++i) {
      if (latch.try_wait()) INTERLEAVE_ASSERT(counted.load() == parties, "try_wait true before every count_down");
    }
    for (auto& t : threads) t->join();
    INTERLEAVE_ASSERT(latch.try_wait(), "try_wait false after every count_down");
  };
}

// Nobody leaves arrive_and_wait before every party arrived.
template <template <class> class LatchT>
auto nobody_leaves_arrive_and_wait_early(int parties) {
  return [=]<Platform P>() {
    LatchT<P> latch(parties);
    typename P::template Atomic<int> arrived{0};
    std::vector<std::unique_ptr<BasicThread<P>>> threads;
    for (int t = 0; t < parties; ++t) {
      threads.push_back(std::make_unique<BasicThread<P>>([&] {
        arrived.fetch_add(1);
        latch.arrive_and_wait();
        INTERLEAVE_ASSERT(arrived.load() == parties, "a party left before every party arrived");
      }));
    }
    for (auto& t : threads) t->start();
    for (auto& t : threads) t->join();
  };
}

}  // namespace interleave::scenarios
