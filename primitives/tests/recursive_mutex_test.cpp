#include "interleave/recursive_mutex.h"

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace interleave {
namespace {

using namespace std::chrono_literals;

TEST(RecursiveMutex, TheHolderMayLockAgainAndCountsItsLocks) {
  RecursiveMutex m;
  EXPECT_EQ(m.count(), 0U);
  m.lock();
  m.lock();
  EXPECT_TRUE(m.try_lock());
  EXPECT_TRUE(m.try_lock_for(0ms));
  EXPECT_TRUE(m.try_lock_until(std::chrono::steady_clock::now() - 1h));
  EXPECT_EQ(m.count(), 5U);
  for (int i = 0; i < 5; ++i) m.unlock();
  EXPECT_EQ(m.count(), 0U);
}

TEST(RecursiveMutex, AnotherThreadWaitsUntilTheLastUnlock) {
  RecursiveMutex m;
  m.lock();
  m.lock();
  bool other = true;
  std::thread([&] { other = m.try_lock(); }).join();
  EXPECT_FALSE(other) << "another thread took a held lock";
  std::thread([&] { EXPECT_EQ(m.count(), 0U); }).join();
  m.unlock();
  std::thread([&] { other = m.try_lock_for(1ms); }).join();
  EXPECT_FALSE(other) << "released after one unlock of two";
  m.unlock();
  std::thread([&] {
    other = m.try_lock();
    if (other) m.unlock();
  }).join();
  EXPECT_TRUE(other) << "the lock stayed held after the last unlock";
}

TEST(RecursiveMutex, WorksWithStandardLockWrappers) {
  RecursiveMutex a;
  RecursiveMutex b;
  std::lock_guard outer(a);
  {
    std::unique_lock inner(a);
    std::scoped_lock both(a, b);
    EXPECT_EQ(a.count(), 3U);
  }
  EXPECT_EQ(a.count(), 1U);
}

TEST(RecursiveMutex, NegativeTimeoutIsRejected) {
  RecursiveMutex m;
  EXPECT_THROW((void)m.try_lock_for(-1ms), std::invalid_argument);
  EXPECT_EQ(m.count(), 0U);
}

TEST(RecursiveMutexStress, NestedLockedIncrementsAreExclusive) {
  RecursiveMutex m;
  long counter = 0;
  constexpr int kIterations = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIterations; ++i) {
        std::lock_guard outer(m);
        std::lock_guard inner(m);
        ++counter;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(counter, 3L * kIterations);
}

TEST(RecursiveMutexDeathTest, UnlockByNonOwnerIsReported) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        RecursiveMutex m;
        m.lock();
        std::thread([&] { m.unlock(); }).join();
      },
      "RecursiveMutex::unlock: thread [0-9]+ does not own the mutex \\(it is held by thread [0-9]+\\)");
}

TEST(RecursiveMutexDeathTest, UnlockOfAnUnlockedMutexIsReported) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        RecursiveMutex m;
        m.unlock();
      },
      "RecursiveMutex::unlock: the mutex is not locked");
}

}  // namespace
}  // namespace interleave
