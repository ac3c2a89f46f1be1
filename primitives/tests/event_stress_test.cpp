// Multi-thread stress for Event: bounded runs (each well under a second, also under sanitizers)
// that race set/clear against threads entering and leaving waits. A lost wake-up shows as a hang.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "interleave/event.h"

namespace interleave {
namespace {

using namespace std::chrono_literals;

std::chrono::steady_clock::time_point budget(std::chrono::milliseconds ms) {
  return std::chrono::steady_clock::now() + ms;
}

// Each round: the waiters arrive and wait (some still spinning, some asleep, some not yet in the
// call when set() lands); set() must let every one of them through. The flag is cleared only
// after all returned, then the next round starts.
TEST(EventStress, EveryRoundReleasesEveryWaiter) {
  constexpr int kWaiters = 4;
  Event e;
  std::atomic<int> round{0};
  std::atomic<int> arrived{0};
  std::atomic<int> returned{0};
  std::atomic<int> false_returns{0};
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kWaiters; ++t) {
    threads.emplace_back([&, t] {
      int seen = 0;
      for (;;) {
        while (round.load() == seen && !done.load()) std::this_thread::yield();
        if (done.load()) return;
        seen = round.load();
        ++arrived;
        if ((seen + t) % 2 == 0) {
          e.wait();
        } else if (!e.wait_for(10s)) {
          ++false_returns;
        }
        ++returned;
      }
    });
  }
  const auto stop = budget(300ms);
  int rounds = 0;
  for (; rounds < 500 && std::chrono::steady_clock::now() < stop; ++rounds) {
    arrived = 0;
    returned = 0;
    ++round;
    // Vary where set() lands relative to the waiters: right away, or once they all arrived.
    if (rounds % 2 == 1) {
      while (arrived.load() < kWaiters) std::this_thread::yield();
    }
    e.set();
    while (returned.load() < kWaiters) std::this_thread::yield();
    e.clear();
  }
  done = true;
  for (auto& t : threads) t.join();
  EXPECT_GT(rounds, 0);
  EXPECT_EQ(false_returns.load(), 0);
  EXPECT_FALSE(e.is_set());
}

// Two threads hand a turn back and forth through two events, clearing each after waking:
// set/clear/wait race on every round trip.
TEST(EventStress, PingPongWithClearLosesNoWakeUp) {
  Event ping;
  Event pong;
  std::atomic<bool> done{false};
  std::thread partner([&] {
    for (;;) {
      ping.wait();
      ping.clear();
      if (done.load()) return;
      pong.set();
    }
  });
  const auto stop = budget(300ms);
  int rounds = 0;
  for (; rounds < 20000 && std::chrono::steady_clock::now() < stop; ++rounds) {
    ping.set();
    pong.wait();
    pong.clear();
  }
  done = true;
  ping.set();
  partner.join();
  EXPECT_GT(rounds, 0);
  EXPECT_FALSE(pong.is_set());
}

// A storm of set/clear pairs while waiters keep re-entering wait(): every waiter keeps making
// progress (each set releases whoever waits at that moment), and the final set releases all.
TEST(EventStress, SetClearStormKeepsWaitersMoving) {
  constexpr int kWaiters = 4;
  Event e;
  std::atomic<bool> done{false};
  std::vector<std::atomic<long>> wakeups(kWaiters);
  std::vector<std::thread> threads;
  for (int t = 0; t < kWaiters; ++t) {
    threads.emplace_back([&, t] {
      while (!done.load()) {
        if (t % 2 == 0) {
          e.wait();
          ++wakeups[t];
        } else if (e.wait_for(1ms)) {
          ++wakeups[t];
        }
      }
    });
  }
  const auto stop = budget(200ms);
  while (std::chrono::steady_clock::now() < stop) {
    e.set();
    e.clear();
  }
  done = true;
  e.set();  // stays set: every waiter still inside wait() must return
  for (auto& t : threads) t.join();
  for (int t = 0; t < kWaiters; t += 2) EXPECT_GT(wakeups[t].load(), 0) << "waiter " << t;
}

// Timed waits that expire while set() and clear() race: no waiter may hang past its deadline,
// and a wait on a set event always succeeds.
TEST(EventStress, TimedWaitsRacingSetAndClear) {
  constexpr int kWaiters = 4;
  Event e;
  Event finished;
  std::atomic<bool> done{false};
  std::atomic<long> trues{0};
  std::atomic<long> falses{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kWaiters; ++t) {
    threads.emplace_back([&, t] {
      while (!done.load()) {
        if (e.wait_for(std::chrono::microseconds(50 + 100 * t))) {
          ++trues;
        } else {
          ++falses;
        }
      }
      EXPECT_TRUE(finished.wait_for(10s));
    });
  }
  const auto stop = budget(200ms);
  while (std::chrono::steady_clock::now() < stop) {
    e.set();
    std::this_thread::sleep_for(100us);
    e.clear();
    std::this_thread::sleep_for(300us);
  }
  done = true;
  finished.set();
  for (auto& t : threads) t.join();
  EXPECT_GT(trues.load(), 0);
  EXPECT_GT(falses.load(), 0);
}

}  // namespace
}  // namespace interleave
