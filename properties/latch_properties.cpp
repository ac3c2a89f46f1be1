// Latch: one property per guarantee of its contract (primitives/include/interleave/latch.h), under
// the model scheduler over RapidCheck-generated scenarios; the zoo's broken latches must fail the
// same properties.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <memory>
#include <vector>

#include "interleave/latch.h"
#include "interleave/rapidcheck.h"
#include "interleave/thread.h"
#include "zoo/broken_latches.h"

namespace interleave {
namespace {

template <Platform P>
using RealLatch = BasicLatch<P>;

// wait() returns only after every count_down, and then every waiter returns: `parties` threads
// each mark their slot and count down; `waiters` threads wait, then find every slot marked.
template <template <class> class LatchT, class Check = decltype(in_model)>
void wait_returns_only_after_every_count_down(Check check = in_model) {
  const int parties = *rc::gen::inRange(1, 4);
  const int waiters = *rc::gen::inRange(1, 3);
  check([=]<Platform P>() {
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
  });
}

// try_wait is true only when the count is zero.
template <template <class> class LatchT>
void try_wait_is_true_only_at_zero() {
  const int parties = *rc::gen::inRange(1, 4);
  check_schedules([=]<Platform P>() {
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
  });
}

// Nobody leaves arrive_and_wait before every party arrived.
template <template <class> class LatchT>
void nobody_leaves_arrive_and_wait_early() {
  const int parties = *rc::gen::inRange(2, 4);
  check_schedules([=]<Platform P>() {
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
  });
}

INTERLEAVE_PROPERTY(LatchProperties, WaitReturnsOnlyAfterEveryCountDown, ()) {
  wait_returns_only_after_every_count_down<RealLatch>();
}
INTERLEAVE_PROPERTY(LatchProperties, TryWaitIsTrueOnlyAtZero, ()) { try_wait_is_true_only_at_zero<RealLatch>(); }
INTERLEAVE_PROPERTY(LatchProperties, NobodyLeavesArriveAndWaitEarly, ()) {
  nobody_leaves_arrive_and_wait_early<RealLatch>();
}
INTERLEAVE_PROPERTY(LatchStressProperties, WaitReturnsOnlyAfterEveryCountDown, ()) {
  wait_returns_only_after_every_count_down<RealLatch>(on_real_threads);
}

TEST(LatchZoo, OpeningOneCountDownEarlyIsCaught) {
  EXPECT_TRUE(property_fails("off by one", [] { wait_returns_only_after_every_count_down<zoo::OffByOneLatch>(); }));
  EXPECT_TRUE(property_fails("off by one, try_wait", [] { try_wait_is_true_only_at_zero<zoo::OffByOneLatch>(); }));
}
TEST(LatchZoo, ALostCountDownNeverOpensTheLatch) {
  EXPECT_TRUE(property_fails("load then store", [] { nobody_leaves_arrive_and_wait_early<zoo::LoadStoreLatch>(); }));
}

}  // namespace
}  // namespace interleave
