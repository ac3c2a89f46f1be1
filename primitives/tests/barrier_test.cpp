#include "interleave/barrier.h"

#include <gtest/gtest.h>
#include <sys/types.h>
#include <unistd.h>

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

TEST(ProcessBarrier, EveryProcessLeavesAPhaseOnlyAfterAllArrived) {
  constexpr int kParties = 3;
  constexpr int kPhases = 3;
  struct State {
    // The completion reaches the shared state through `this`, a pointer into the shared region.
    ProcessBarrier barrier{kParties, [this] { completions.fetch_add(1); }};
    std::atomic<int> arrivals[kPhases] = {};  // parties that arrived at each phase
    std::atomic<int> completions{0};
  };
  SharedObject<State> state;
  const auto party = [&]() -> int {
    for (int phase = 0; phase < kPhases; ++phase) {
      state->arrivals[phase].fetch_add(1);
      (void)state->barrier.arrive_and_wait();
      if (state->arrivals[phase].load() != kParties) return 10 + phase;  // left before all arrived
      if (state->completions.load() != phase + 1) return 20 + phase;
    }
    return 0;
  };
  // The parties are three children, so that one left asleep fails the test instead of hanging it.
  Process a(party, "party a");
  Process b(party, "party b");
  Process c(party, "party c");
  a.start();
  b.start();
  c.start();
  expect_success_within_10s(a);
  expect_success_within_10s(b);
  expect_success_within_10s(c);
  EXPECT_EQ(state->completions.load(), kPhases);
}

TEST(ProcessBarrier, TheCompletionRunsInTheLastArrivalsProcessOnItsOwnCopy) {
  struct State {
    std::atomic<pid_t> ran_in{0};
  };
  SharedObject<State> state;
  State* const shared = state.get();
  int runs_here = 0;  // each process has its own: the completion's write stays where it ran
  SharedObject<ProcessBarrier> barrier(2, [shared, &runs_here] {
    ++runs_here;
    shared->ran_in.store(getpid());
  });
  const pid_t parent = getpid();
  Process child(
      [&]() -> int {
        if (barrier->arrive_and_wait() != 0) return 2;  // the first to arrive
        if (state->ran_in.load() != parent) return 3;
        return runs_here == 0 ? 0 : 4;  // the parent's run changed the parent's copy only
      },
      "first arrival");
  child.start();
  ASSERT_TRUE(wait_until_asleep_on_futex(child.pid()));  // it sleeps only in the barrier
  EXPECT_EQ(barrier->arrive_and_wait(), 1U);
  EXPECT_EQ(state->ran_in.load(), parent) << "the completion did not run in the last arrival's process";
  EXPECT_EQ(runs_here, 1);
  expect_success_within_10s(child);
}

TEST(ProcessBarrier, AbortInOneProcessBreaksItForAWaiterInAnother) {
  SharedObject<ProcessBarrier> barrier(2);
  Process child(
      [&]() -> int {
        try {
          (void)barrier->arrive_and_wait();
          return 2;
        } catch (const BrokenBarrierError&) {
          return 0;
        }
      },
      "waiter");
  child.start();
  ASSERT_TRUE(wait_until_asleep_on_futex(child.pid()));
  barrier->abort();
  expect_success_within_10s(child);
  EXPECT_TRUE(barrier->broken());
  EXPECT_THROW((void)barrier->arrive_and_wait(), BrokenBarrierError);
}

}  // namespace
}  // namespace interleave
