#include "interleave/barrier.h"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

namespace interleave {
namespace {

TEST(Barrier, EveryPartyLeavesAPhaseOnlyAfterAllArrived) {
  constexpr int kParties = 3;
  constexpr int kPhases = 50;
  std::atomic<int> arrivals{0};
  int completions = 0;  // written by the completion function, read by every party after it
  Barrier barrier(kParties, [&] {
    ++completions;  // two phases per round: the first counts arrivals, the second keeps rounds apart
    if (completions % 2 == 1) {
      EXPECT_EQ(arrivals.load(), (completions + 1) / 2 * kParties);
    }
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kParties; ++t) {
    threads.emplace_back([&] {
      for (int phase = 1; phase <= kPhases; ++phase) {
        arrivals.fetch_add(1);
        const std::uint32_t index = barrier.arrive_and_wait();
        EXPECT_LT(index, static_cast<std::uint32_t>(kParties));
        EXPECT_GE(arrivals.load(), phase * kParties);
        EXPECT_EQ(completions, 2 * phase - 1);
        barrier.arrive_and_wait();  // nobody starts the next round's arrivals before all read
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(completions, 2 * kPhases);
}

TEST(Barrier, OnePartyNeverWaits) {
  int completions = 0;
  Barrier barrier(1, [&] { ++completions; });
  EXPECT_EQ(barrier.arrive_and_wait(), 0U);
  EXPECT_EQ(barrier.arrive_and_wait(), 0U);
  EXPECT_EQ(completions, 2);
}

TEST(Barrier, ArrivalIndicesAreDistinct) {
  Barrier barrier(2);
  std::uint32_t other = 0;
  std::thread t([&] { other = barrier.arrive_and_wait(); });
  const std::uint32_t mine = barrier.arrive_and_wait();
  t.join();
  EXPECT_EQ(mine + other, 1U);
}

TEST(Barrier, AbortBreaksItForWaitersAndLaterArrivals) {
  Barrier barrier(3);
  std::atomic<int> broken{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i) {
    threads.emplace_back([&] {
      try {
        barrier.arrive_and_wait();
      } catch (const BrokenBarrierError&) {
        broken.fetch_add(1);
      }
    });
  }
  barrier.abort();
  for (auto& t : threads) t.join();
  EXPECT_EQ(broken.load(), 2);
  EXPECT_TRUE(barrier.broken());
  EXPECT_THROW(barrier.arrive_and_wait(), BrokenBarrierError);
}

TEST(Barrier, AThrowingCompletionBreaksTheBarrier) {
  Barrier barrier(2, [] { throw std::runtime_error("completion failed"); });
  std::atomic<int> completion_errors{0};
  std::atomic<int> broken_errors{0};
  auto party = [&] {
    try {
      barrier.arrive_and_wait();
    } catch (const BrokenBarrierError&) {
      broken_errors.fetch_add(1);
    } catch (const std::runtime_error&) {
      completion_errors.fetch_add(1);  // the party that ran the completion
    }
  };
  std::thread t(party);
  party();
  t.join();
  EXPECT_EQ(completion_errors.load(), 1);
  EXPECT_EQ(broken_errors.load(), 1);
  EXPECT_TRUE(barrier.broken());
}

TEST(Barrier, BadPartiesAreRejected) {
  EXPECT_THROW(Barrier(0), std::invalid_argument);
  EXPECT_THROW(Barrier(Barrier::max_parties + 1), std::invalid_argument);
}

}  // namespace
}  // namespace interleave
