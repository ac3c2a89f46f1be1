#include "interleave/mutex.h"

#include <gtest/gtest.h>
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "support/asleep.h"

namespace interleave {
namespace {

using namespace std::chrono_literals;

TEST(Mutex, LockHoldsItUntilUnlock) {
  Mutex m;
  m.lock();
  bool other = true;
  std::thread([&] { other = m.try_lock(); }).join();
  EXPECT_FALSE(other) << "another thread took a held lock";
  m.unlock();
  std::thread([&] {
    other = m.try_lock();
    if (other) m.unlock();
  }).join();
  EXPECT_TRUE(other) << "the lock stayed held after unlock";
}

TEST(Mutex, TryLockNeverGrantsAHeldLock) {
  Mutex m;
  ASSERT_TRUE(m.try_lock());
  bool other = true;
  std::thread t([&] { other = m.try_lock(); });
  t.join();
  EXPECT_FALSE(other);
  m.unlock();
  EXPECT_TRUE(m.try_lock());
  m.unlock();
}

TEST(Mutex, WorksWithStandardLockWrappers) {
  Mutex a;
  Mutex b;
  { std::lock_guard g(a); }
  {
    std::unique_lock u(a);
    EXPECT_TRUE(u.owns_lock());
    u.unlock();
    EXPECT_TRUE(u.try_lock_for(1ms));
  }
  { std::scoped_lock s(a, b); }
  EXPECT_TRUE(a.try_lock());
  a.unlock();
  EXPECT_TRUE(b.try_lock());
  b.unlock();
}

TEST(Mutex, TryLockForTimesOutWhileHeld) {
  Mutex m;
  m.lock();
  bool got = true;
  std::chrono::steady_clock::duration waited{};
  std::thread t([&] {
    const auto start = std::chrono::steady_clock::now();
    got = m.try_lock_for(20ms);
    waited = std::chrono::steady_clock::now() - start;
  });
  t.join();
  EXPECT_FALSE(got);
  EXPECT_GE(waited, 20ms);
  m.unlock();
}

TEST(Mutex, TryLockForSucceedsWhenReleasedInTime) {
  Mutex m;
  m.lock();
  bool got = false;
  std::atomic<pid_t> waiter{0};
  std::thread t([&] {
    waiter = test_support::current_tid();
    got = m.try_lock_for(10s);
    if (got) m.unlock();
  });
  while (waiter.load() == 0) std::this_thread::yield();
  // Released only once the other thread sleeps in its timed lock: the release must wake it.
  EXPECT_TRUE(test_support::wait_until_asleep_on_futex(waiter.load()));
  m.unlock();
  t.join();
  EXPECT_TRUE(got);
}

TEST(Mutex, TryLockUntilTakesAFreeLockAndTimesOutOnAHeldOne) {
  Mutex m;
  ASSERT_TRUE(m.try_lock_until(std::chrono::steady_clock::now() + 1s));
  bool got = true;
  std::chrono::steady_clock::duration waited{};
  std::thread([&] {
    const auto start = std::chrono::steady_clock::now();
    got = m.try_lock_until(start + 20ms);
    waited = std::chrono::steady_clock::now() - start;
  }).join();
  EXPECT_FALSE(got);
  EXPECT_GE(waited, 20ms);
  // A deadline already passed is one attempt; one on another clock counts from now.
  std::thread([&] { got = m.try_lock_until(std::chrono::steady_clock::now() - 1h); }).join();
  EXPECT_FALSE(got);
  std::thread([&] { got = m.try_lock_until(std::chrono::system_clock::now() + 10ms); }).join();
  EXPECT_FALSE(got);
  m.unlock();
  EXPECT_TRUE(m.try_lock_until(std::chrono::system_clock::now() - 1h));  // free: taken at once
  m.unlock();
}

TEST(Mutex, UniqueLockWithADeadlineCompilesAndLocks) {
  Mutex m;
  std::unique_lock<Mutex> held(m, std::chrono::steady_clock::now() + 1s);
  EXPECT_TRUE(held.owns_lock());
  bool other = true;
  std::thread([&] { other = std::unique_lock<Mutex>(m, std::chrono::steady_clock::now() + 5ms).owns_lock(); }).join();
  EXPECT_FALSE(other);
}

TEST(Mutex, TryLockForZeroIsOneAttempt) {
  Mutex m;
  EXPECT_TRUE(m.try_lock_for(0ms));
  bool got = true;
  std::thread t([&] { got = m.try_lock_for(0ms); });
  t.join();
  EXPECT_FALSE(got);
  m.unlock();
}

TEST(Mutex, NegativeTimeoutIsRejected) {
  Mutex m;
  EXPECT_THROW((void)m.try_lock_for(-1ms), std::invalid_argument);
  EXPECT_TRUE(m.try_lock());  // the failed call left the mutex untouched
  m.unlock();
}

TEST(Mutex, HugeTimeoutDoesNotOverflow) {
  Mutex m;
  EXPECT_TRUE(m.try_lock_for(std::chrono::hours::max()));
  m.unlock();
}

TEST(Mutex, TwoThreadsTimesThousandIncrementsGiveTwoThousand) {
  Mutex m;
  int counter = 0;
  auto increment = [&] {
    std::lock_guard g(m);
    for (int i = 0; i < 1000; ++i) ++counter;
  };
  std::thread t1(increment);
  std::thread t2(increment);
  t1.join();
  t2.join();
  EXPECT_EQ(counter, 2000);
}

TEST(Mutex, ContendedIncrementsAreExclusive) {
  Mutex m;
  long counter = 0;
  constexpr int kThreads = 4;
  constexpr int kIterations = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIterations; ++i) {
        std::lock_guard g(m);
        ++counter;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(counter, long{kThreads} * kIterations);
}

#if INTERLEAVE_CHECK_OWNERSHIP
TEST(MutexDeathTest, UnlockByNonOwnerIsReported) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        Mutex m;
        m.lock();
        std::thread t([&] { m.unlock(); });
        t.join();
      },
      "Mutex::unlock: thread [0-9]+ does not own the mutex \\(it is held by thread [0-9]+\\)");
}

TEST(MutexDeathTest, UnlockOfUnlockedMutexIsReported) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        Mutex m;
        m.unlock();
      },
      "Mutex::unlock: the mutex is not locked");
}
#endif

}  // namespace
}  // namespace interleave
