#include "interleave/recursive_mutex.h"

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "interleave/event.h"
#include "interleave/process.h"
#include "interleave/shared_memory.h"
#include "support/asleep.h"
#include "support/child_process.h"

namespace interleave {
namespace {

using test_support::expect_success_within_10s;

using namespace std::chrono_literals;

using test_support::current_tid;
using test_support::wait_until_asleep_on_futex;

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

TEST(ProcessRecursiveMutex, AChildsNestedLocksKeepTheParentOutUntilTheLastUnlock) {
  struct State {
    ProcessRecursiveMutex mutex;
    ProcessEvent held;            // the child holds the lock three times
    ProcessEvent parent_locking;  // the parent's next sleep is in its try_lock_for
    pid_t parent = 0;
    int unlocks = 0;  // the child's unlocks so far, written while it still holds the lock
  };
  SharedObject<State> state;
  state->parent = current_tid();
  Process child(
      [&]() -> int {
        state->mutex.lock();
        state->mutex.lock();
        if (!state->mutex.try_lock()) return 2;
        if (state->mutex.count() != 3) return 3;
        state->held.set();
        if (!state->parent_locking.wait_for(10s)) return 4;
        if (!wait_until_asleep_on_futex(state->parent)) return 5;
        for (int i = 1; i <= 3; ++i) {
          state->unlocks = i;
          state->mutex.unlock();
        }
        return state->mutex.count() == 0 ? 0 : 6;
      },
      "nested locker");
  child.start();
  ASSERT_TRUE(state->held.wait_for(10s));
  EXPECT_FALSE(state->mutex.try_lock()) << "the parent took a lock its child holds";
  EXPECT_EQ(state->mutex.count(), 0U);
  state->parent_locking.set();
  ASSERT_TRUE(state->mutex.try_lock_for(10s));
  EXPECT_EQ(state->unlocks, 3) << "the parent got the lock before the child's last unlock";
  EXPECT_EQ(state->mutex.count(), 1U);
  state->mutex.unlock();
  expect_success_within_10s(child);
}

TEST(ProcessRecursiveMutex, AChildForkedWhileTheParentHoldsItWaitsForTheLastNestedUnlock) {
  struct State {
    ProcessRecursiveMutex mutex;
    ProcessEvent child_locking;  // the child's next sleep is in its lock()
    int unlocks = 0;             // the parent's unlocks so far, written while it still holds the lock
  };
  SharedObject<State> state;
  state->mutex.lock();
  state->mutex.lock();
  ASSERT_TRUE(state->mutex.try_lock());
  Process child(
      [&]() -> int {
        // A new process, a new thread id: the parent's holds are not the child's.
        if (state->mutex.count() != 0) return 2;
        if (state->mutex.try_lock()) return 3;
        state->child_locking.set();
        state->mutex.lock();
        const int unlocks_seen = state->unlocks;
        state->mutex.lock();
        const bool nested = state->mutex.count() == 2;
        state->mutex.unlock();
        state->mutex.unlock();
        if (!nested) return 4;
        return unlocks_seen == 3 ? 0 : 5;
      },
      "waiting locker");
  child.start();
  ASSERT_TRUE(state->child_locking.wait_for(10s));
  ASSERT_TRUE(wait_until_asleep_on_futex(child.pid()));
  for (int i = 1; i <= 3; ++i) {
    state->unlocks = i;
    state->mutex.unlock();
  }
  expect_success_within_10s(child);
}

TEST(ProcessRecursiveMutex, NestedLockedIncrementsAreExclusiveAcrossProcesses) {
  constexpr int kIterations = 20000;
  struct State {
    ProcessRecursiveMutex mutex;
    long counter = 0;
  };
  SharedObject<State> state;
  const auto work = [&] {
    for (int i = 0; i < kIterations; ++i) {
      std::lock_guard outer(state->mutex);
      std::lock_guard inner(state->mutex);
      ++state->counter;
    }
  };
  Process a(work, "incrementer a");
  Process b(work, "incrementer b");
  Process c(work, "incrementer c");
  a.start();
  b.start();
  c.start();
  expect_success_within_10s(a);
  expect_success_within_10s(b);
  expect_success_within_10s(c);
  EXPECT_EQ(state->counter, 3L * kIterations);
}

}  // namespace
}  // namespace interleave
