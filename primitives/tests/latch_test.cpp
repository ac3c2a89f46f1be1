#include "interleave/latch.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "interleave/process.h"
#include "interleave/shared_memory.h"
#include "support/asleep.h"
#include "support/child_process.h"

namespace interleave {
namespace {

using test_support::expect_success_within_10s;

using namespace std::chrono_literals;

using test_support::wait_until_asleep_on_futex;

TEST(Latch, WaitReturnsOnceEveryCountDownHappened) {
  Latch latch(3);
  std::atomic<int> done{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&] {
      done.fetch_add(1, std::memory_order_relaxed);
      latch.count_down();
    });
  }
  latch.wait();
  EXPECT_EQ(done.load(std::memory_order_relaxed), 3);
  EXPECT_TRUE(latch.try_wait());
  for (auto& t : threads) t.join();
}

TEST(Latch, TryWaitAndTimedWaitsBeforeZero) {
  Latch latch(2);
  EXPECT_FALSE(latch.try_wait());
  EXPECT_FALSE(latch.wait_for(0ms));
  EXPECT_FALSE(latch.wait_for(2ms));
  EXPECT_FALSE(latch.wait_until(std::chrono::system_clock::now() + 1ms));
  latch.count_down(2);
  EXPECT_TRUE(latch.try_wait());
  EXPECT_TRUE(latch.wait_for(0ms));
  EXPECT_TRUE(latch.wait_until(std::chrono::steady_clock::now() - 1h));
}

TEST(Latch, ArriveAndWaitReleasesEveryParty) {
  Latch latch(4);
  std::atomic<int> arrived{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      arrived.fetch_add(1, std::memory_order_relaxed);
      latch.arrive_and_wait();
      EXPECT_EQ(arrived.load(std::memory_order_relaxed), 4);
    });
  }
  for (auto& t : threads) t.join();
}

TEST(Latch, ZeroIsOpenAndCountDownByZeroChangesNothing) {
  Latch latch(0);
  EXPECT_TRUE(latch.try_wait());
  latch.wait();
  latch.count_down(0);
  EXPECT_TRUE(latch.try_wait());
}

TEST(Latch, BadArgumentsAreRejected) {
  EXPECT_THROW(Latch(-1), std::invalid_argument);
  EXPECT_THROW(Latch(Latch::max() + 1), std::invalid_argument);
  Latch latch(1);
  EXPECT_THROW(latch.count_down(-1), std::invalid_argument);
  EXPECT_THROW((void)latch.wait_for(-1ms), std::invalid_argument);
  EXPECT_FALSE(latch.try_wait());
}

TEST(LatchDeathTest, CountingDownBelowZeroIsReported) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        Latch latch(1);
        latch.count_down(2);
      },
      "Latch::count_down: counting down by 2 with 1 left would take the count below zero");
}

TEST(ProcessLatch, WaitersInOtherProcessesReturnOnceTheCountReachesZero) {
  struct State {
    ProcessLatch latch{2};
    int data = 0;  // written before the count_downs, read after the wait
  };
  SharedObject<State> state;
  const auto waiter = [&]() -> int {
    state->latch.wait();
    return state->data == 42 ? 0 : 2;
  };
  Process a(waiter, "waiter a");
  Process b(waiter, "waiter b");
  a.start();
  b.start();
  ASSERT_TRUE(wait_until_asleep_on_futex(a.pid()));
  ASSERT_TRUE(wait_until_asleep_on_futex(b.pid()));
  state->data = 42;
  state->latch.count_down();
  EXPECT_FALSE(state->latch.try_wait());
  state->latch.count_down();
  expect_success_within_10s(a);
  expect_success_within_10s(b);
}

TEST(ProcessLatch, ArriveAndWaitReleasesEveryProcessOnlyOnceAllArrived) {
  constexpr int kParties = 3;
  struct State {
    ProcessLatch latch{kParties};
    std::atomic<int> arrived{0};
  };
  SharedObject<State> state;
  const auto party = [&]() -> int {
    state->arrived.fetch_add(1, std::memory_order_relaxed);
    state->latch.arrive_and_wait();
    return state->arrived.load(std::memory_order_relaxed) == kParties ? 0 : 2;
  };
  Process a(party, "party a");
  Process b(party, "party b");
  Process c(party, "party c");
  a.start();
  b.start();
  c.start();
  expect_success_within_10s(a);
  expect_success_within_10s(b);
  expect_success_within_10s(c);
  EXPECT_TRUE(state->latch.try_wait());
}

}  // namespace
}  // namespace interleave
