// The production primitives, unchanged, under the model scheduler: their guarantees hold on every
// explored schedule (random walk and PCT), and timeouts run on virtual time.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "interleave/event.h"
#include "interleave/explore.h"
#include "interleave/gtest.h"
#include "interleave/mutex.h"
#include "interleave/pipe.h"
#include "interleave/queue.h"
#include "interleave/semaphore.h"
#include "interleave/thread.h"

namespace interleave {
namespace {

using namespace std::chrono_literals;

Options schedules(std::uint64_t n, Strategy s) {
  Options o;
  o.schedules = n;
  o.strategy = s;
  return o;
}

class PrimitivesInModel : public ::testing::TestWithParam<Strategy> {};

INSTANTIATE_TEST_SUITE_P(Strategies, PrimitivesInModel,
                         ::testing::Values(Strategy::random_walk, Strategy::pct, Strategy::pos),
                         [](const auto& param_info) { return std::string(to_string(param_info.param)); });

TEST_P(PrimitivesInModel, SemaphoreHoldersNeverExceedPermits) {
  INTERLEAVE_EXPECT_PASS(explore_test(schedules(500, GetParam()), []<Platform P>() {
    BasicSemaphore<P> permits(2);
    // Two holders at a time may update these: atomics, so TSan builds see no race in the test.
    typename P::template Atomic<int> holders{0};
    typename P::template Atomic<int> most{0};
    std::vector<std::unique_ptr<BasicThread<P>>> threads;
    for (int t = 0; t < 4; ++t) {
      threads.push_back(std::make_unique<BasicThread<P>>([&] {
        for (int i = 0; i < 2; ++i) {
          permits.acquire();
          const int now = holders.fetch_add(1) + 1;
          if (now > most.load()) most.store(now);
          P::yield();  // hold the permit across a scheduling point
          holders.fetch_sub(1);
          permits.release();
        }
      }));
    }
    for (auto& t : threads) t->start();
    for (auto& t : threads) t->join();
    EXPECT_LE(most.load(), 2);
    EXPECT_EQ(permits.value(), 2);
  }));
}

TEST_P(PrimitivesInModel, SemaphoreTryAcquireForTimesOutOnlyWhenNoPermitWasFree) {
  INTERLEAVE_EXPECT_PASS(explore_test(schedules(500, GetParam()), []<Platform P>() {
    BasicSemaphore<P> permits(0);
    bool released = false;
    bool got = false;
    BasicThread<P> releaser([&] {
      released = true;
      permits.release();
    });
    releaser.start();
    const auto start = P::now();
    got = permits.try_acquire_for(10s);
    const auto waited = P::now() - start;
    releaser.join();
    // The release always comes (virtual time never passes while the releaser can run), so the
    // acquire must succeed, and well before its deadline.
    EXPECT_TRUE(got);
    EXPECT_TRUE(released);
    EXPECT_LT(waited, 10s);
  }));
}

TEST_P(PrimitivesInModel, EventSetReleasesEveryWaiter) {
  INTERLEAVE_EXPECT_PASS(explore_test(schedules(500, GetParam()), []<Platform P>() {
    BasicEvent<P> event;
    typename P::template Atomic<int> released{0};
    std::vector<std::unique_ptr<BasicThread<P>>> waiters;
    for (int t = 0; t < 3; ++t) {
      waiters.push_back(std::make_unique<BasicThread<P>>([&] {
        event.wait();
        released.fetch_add(1);
      }));
    }
    for (auto& w : waiters) w->start();
    event.set();
    for (auto& w : waiters) w->join();
    EXPECT_EQ(released.load(), 3);
  }));
}

TEST_P(PrimitivesInModel, EventSetThenClearStillReleasesThoseWaiting) {
  INTERLEAVE_EXPECT_PASS(explore_test(schedules(500, GetParam()), []<Platform P>() {
    BasicEvent<P> event;
    bool returned = false;
    BasicThread<P> waiter([&] { returned = event.wait_for(1h); });
    waiter.start();
    // Virtual time passes only while every fiber is blocked: when this timed wait expires, the
    // waiter is blocked inside wait_for, so the set() below must release it.
    BasicEvent<P> pause;
    (void)pause.wait_for(1ms);
    event.set();
    event.clear();
    waiter.join();
    EXPECT_TRUE(returned);
  }));
}

TEST_P(PrimitivesInModel, EventWaitForReturnsFalseOnlyWhenNotSetByTheDeadline) {
  INTERLEAVE_EXPECT_PASS(explore_test(schedules(300, GetParam()), []<Platform P>() {
    BasicEvent<P> never;
    const auto start = P::now();
    EXPECT_FALSE(never.wait_for(250ms));
    EXPECT_EQ(P::now() - start, 250ms);
  }));
}

TEST_P(PrimitivesInModel, PipeDeliversInOrderThenEndOfStream) {
  INTERLEAVE_EXPECT_PASS(explore_test(schedules(300, GetParam()), []<Platform P>() {
    auto [receiver, sender] = make_pipe<P>(PipeOptions{.capacity = 16, .duplex = false});
    BasicThread<P> producer([&, &sender = sender] {
      for (int i = 0; i < 5; ++i) sender.send_value(i);
      sender.close();
    });
    producer.start();
    std::vector<int> got;
    try {
      for (;;) got.push_back(receiver.template recv_value<int>());
    } catch (const EndOfStream&) {
    }
    producer.join();
    EXPECT_EQ(got, (std::vector<int>{0, 1, 2, 3, 4}));
  }));
}

TEST_P(PrimitivesInModel, PipeDirectionsAreIndependent) {
  INTERLEAVE_EXPECT_PASS(explore_test(schedules(300, GetParam()), []<Platform P>() {
    auto [a, b] = make_pipe<P>(PipeOptions{.capacity = 32});
    BasicThread<P> echo([&, &b = b] {
      for (int i = 0; i < 3; ++i) b.send_value(b.template recv_value<int>() * 10);
    });
    echo.start();
    for (int i = 1; i <= 3; ++i) {
      a.send_value(i);
      EXPECT_EQ(a.template recv_value<int>(), i * 10);
    }
    echo.join();
  }));
}

TEST_P(PrimitivesInModel, QueueKeepsPerProducerOrderAndLosesNothing) {
  INTERLEAVE_EXPECT_PASS(explore_test(schedules(300, GetParam()), []<Platform P>() {
    BasicQueue<int, P> queue(2);
    std::vector<int> got_a;
    std::vector<int> got_b;
    auto produce = [&](int base) {
      for (int i = 0; i < 4; ++i) queue.put(base + i);
    };
    auto consume = [&](std::vector<int>& got) {
      while (auto item = queue.get()) got.push_back(*item);
    };
    BasicThread<P> p1([&] { produce(100); });
    BasicThread<P> p2([&] { produce(200); });
    BasicThread<P> c1([&] { consume(got_a); });
    BasicThread<P> c2([&] { consume(got_b); });
    p1.start();
    p2.start();
    c1.start();
    c2.start();
    p1.join();
    p2.join();
    queue.close();
    c1.join();
    c2.join();
    // Each consumer sees each producer's items in order; together they see every item once.
    for (const auto* got : {&got_a, &got_b}) {
      for (int base : {100, 200}) {
        int last = -1;
        for (int v : *got) {
          if (v / 100 * 100 != base) continue;
          EXPECT_GT(v, last);
          last = v;
        }
      }
    }
    std::vector<int> all = got_a;
    all.insert(all.end(), got_b.begin(), got_b.end());
    std::sort(all.begin(), all.end());
    EXPECT_EQ(all, (std::vector<int>{100, 101, 102, 103, 200, 201, 202, 203}));
  }));
}

TEST_P(PrimitivesInModel, QueueCloseDrainsThenRefuses) {
  INTERLEAVE_EXPECT_PASS(explore_test(schedules(300, GetParam()), []<Platform P>() {
    BasicQueue<int, P> queue(4);
    queue.put(1);
    queue.put(2);
    BasicThread<P> closer([&] { queue.close(); });
    closer.start();
    std::vector<int> got;
    while (auto item = queue.get()) got.push_back(*item);
    closer.join();
    EXPECT_EQ(got, (std::vector<int>{1, 2}));
    EXPECT_EQ(queue.try_put(3), QueueStatus::closed);
  }));
}

}  // namespace
}  // namespace interleave
