// Multi-thread stress for Semaphore: bounded runs (each well under a second, also under
// sanitizers) that check conservation of permits and the holder bound under contention.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

#include "interleave/semaphore.h"

namespace interleave {
namespace {

using namespace std::chrono_literals;

// Every test loop also stops at this deadline, so a slow (sanitized, loaded) machine stays bounded.
std::chrono::steady_clock::time_point budget(std::chrono::milliseconds ms) {
  return std::chrono::steady_clock::now() + ms;
}

void raise_to(std::atomic<int>& most, int value) {
  int seen = most.load();
  while (value > seen && !most.compare_exchange_weak(seen, value)) {
  }
}

TEST(SemaphoreStress, PermitsNeverExceedTheInitialCount) {
  constexpr int kPermits = 3;
  constexpr int kThreads = 8;
  constexpr int kIterations = 3000;
  Semaphore s(kPermits, kPermits);
  std::atomic<int> holders{0};
  std::atomic<int> most{0};
  std::atomic<long> entries{0};
  const auto stop = budget(300ms);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<std::uint32_t>(t));
      for (int i = 0; i < kIterations && std::chrono::steady_clock::now() < stop; ++i) {
        switch (rng() % 3) {  // every way of taking a permit
          case 0:
            s.acquire();
            break;
          case 1:
            if (!s.try_acquire()) continue;
            break;
          default:
            if (!s.try_acquire_for(std::chrono::microseconds(rng() % 200))) continue;
            break;
        }
        const int now = holders.fetch_add(1) + 1;
        raise_to(most, now);
        if (rng() % 8 == 0) std::this_thread::yield();
        holders.fetch_sub(1);
        ++entries;
        s.release();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_LE(most.load(), kPermits);
  EXPECT_GE(most.load(), 1);
  EXPECT_GT(entries.load(), 0);
  EXPECT_EQ(s.value(), kPermits);
}

TEST(SemaphoreStress, ProducersAndConsumersConservePermits) {
  constexpr int kProducers = 3;
  constexpr int kConsumers = 3;
  constexpr long kPerProducer = 20000;
  Semaphore s;
  std::atomic<long> consumed{0};
  std::atomic<bool> producing{true};
  const auto stop = budget(300ms);
  std::vector<std::thread> producers;
  std::atomic<long> produced{0};
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      std::mt19937 rng(static_cast<std::uint32_t>(100 + p));
      long sent = 0;
      while (sent < kPerProducer && std::chrono::steady_clock::now() < stop) {
        const long n = 1 + static_cast<long>(rng() % 4);
        s.release(n);
        sent += n;
      }
      produced += sent;
    });
  }
  std::vector<std::thread> consumers;
  for (int c = 0; c < kConsumers; ++c) {
    consumers.emplace_back([&] {
      // Timed waits so consumers notice the end; every permit taken is counted.
      while (producing.load() || s.value() > 0) {
        if (s.try_acquire_for(1ms)) ++consumed;
      }
    });
  }
  for (auto& t : producers) t.join();
  producing = false;
  for (auto& t : consumers) t.join();
  EXPECT_GT(produced.load(), 0);
  EXPECT_EQ(consumed.load() + s.value(), produced.load());
}

TEST(SemaphoreStress, BoundedReleaseNeverOvershootsAndFailedReleasesChangeNothing) {
  constexpr int kMaximum = 4;
  constexpr int kThreads = 6;
  Semaphore s(0, kMaximum);
  std::atomic<long> released{0};
  std::atomic<long> overflows{0};
  std::atomic<long> acquired{0};
  std::atomic<bool> too_high{false};
  const auto stop = budget(250ms);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<std::uint32_t>(7 + t));
      for (int i = 0; i < 20000 && std::chrono::steady_clock::now() < stop; ++i) {
        if (t % 2 == 0) {
          const int n = 1 + static_cast<int>(rng() % 3);
          try {
            s.release(n);
            released += n;
          } catch (const std::overflow_error&) {
            ++overflows;
          }
        } else if (s.try_acquire()) {
          ++acquired;
        }
        if (s.value() > kMaximum) too_high = true;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_FALSE(too_high.load());
  EXPECT_GT(overflows.load(), 0);  // the bound was hit, and each refusal was all or nothing:
  EXPECT_EQ(released.load() - acquired.load(), s.value());
}

TEST(SemaphoreStress, PingPongLosesNoWakeUp) {
  constexpr int kRounds = 20000;
  Semaphore ping;
  Semaphore pong;
  const auto stop = budget(300ms);
  std::atomic<bool> done{false};
  std::atomic<int> rounds{0};
  std::thread partner([&] {
    for (;;) {
      ping.acquire();
      if (done.load()) return;
      pong.release();
    }
  });
  for (int i = 0; i < kRounds && std::chrono::steady_clock::now() < stop; ++i) {
    ping.release();
    pong.acquire();  // hangs (and the test times out) if a wake-up is lost
    ++rounds;
  }
  done = true;
  ping.release();
  partner.join();
  EXPECT_GT(rounds.load(), 0);
  EXPECT_EQ(ping.value(), 0);
  EXPECT_EQ(pong.value(), 0);
}

TEST(SemaphoreStress, ManySleepersAllWakeForABulkRelease) {
  constexpr int kSleepers = 8;
  const auto stop = budget(300ms);
  int rounds = 0;
  for (; rounds < 200 && std::chrono::steady_clock::now() < stop; ++rounds) {
    Semaphore s;
    std::atomic<int> through{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kSleepers; ++t) {
      threads.emplace_back([&] {
        s.acquire();
        ++through;
      });
    }
    // Half in one bulk release, the rest one at a time: all must get through.
    s.release(kSleepers / 2);
    for (int i = 0; i < kSleepers / 2; ++i) s.release();
    for (auto& t : threads) t.join();
    ASSERT_EQ(through.load(), kSleepers);
    ASSERT_EQ(s.value(), 0);
  }
  EXPECT_GT(rounds, 0);
}

TEST(SemaphoreStress, TimedAcquiresRacingReleasesConservePermits) {
  constexpr int kThreads = 6;
  Semaphore s;
  std::atomic<long> released{0};
  std::atomic<long> acquired{0};
  const auto stop = budget(250ms);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<std::uint32_t>(55 + t));
      while (std::chrono::steady_clock::now() < stop) {
        if (t == 0) {
          s.release();
          ++released;
          std::this_thread::sleep_for(std::chrono::microseconds(rng() % 50));
        } else if (s.try_acquire_for(std::chrono::microseconds(rng() % 100))) {
          ++acquired;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_GT(released.load(), 0);
  EXPECT_EQ(acquired.load() + s.value(), released.load());
}

}  // namespace
}  // namespace interleave
