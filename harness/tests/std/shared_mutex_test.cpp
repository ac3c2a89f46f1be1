// std::shared_mutex and std::shared_timed_mutex (pthread_rwlock_*) under the model, unmodified
// (docs/std.md). Each must-report case stands next to a must-not-report control.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>

#include "interleave/explore.h"
#include "support.h"

namespace {

using interleave::FailureKind;
using interleave::Result;

using std_tests::options;

TEST(StdSharedMutex, ReadersHoldTheLockTogether) {
  // Each reader keeps its shared lock until both hold one: only shared locks let both get there
  // (exclusive ones would be a DEADLOCK).
  const Result r = interleave::explore(options(300), [] {
    std::shared_mutex m;
    std::atomic<int> holding{0};
    const auto reader = [&] {
      const std::shared_lock lock(m);
      holding.fetch_add(1);
      holding.notify_all();
      for (int seen = holding.load(); seen < 2; seen = holding.load()) holding.wait(seen);
    };
    std::thread other(reader);
    reader();
    other.join();
  });
  EXPECT_TRUE(r.passed()) << r;
}

TEST(StdSharedMutex, WritersExcludeEveryoneAndAWriteUnderASharedLockRaces) {
  const auto body = [](bool write_under_shared_lock) {
    std::shared_mutex m;
    int counter = 0;
    int seen = 0;
    std::thread writer([&] {
      if (write_under_shared_lock) {
        const std::shared_lock lock(m);  // the bug: a write needs the exclusive lock
        ++counter;
      } else {
        const std::unique_lock lock(m);
        ++counter;
      }
    });
    std::thread reader([&] {
      const std::shared_lock lock(m);
      seen = counter;
    });
    {
      const std::unique_lock lock(m);
      ++counter;
    }
    writer.join();
    reader.join();
    INTERLEAVE_ASSERT(counter == 2 && seen >= 0 && seen <= 2);
  };
  const Result control = interleave::explore(options(500), [&] { body(false); });
  EXPECT_TRUE(control.passed()) << control;
  const Result race = interleave::explore(options(500), [&] { body(true); });
  ASSERT_TRUE(race.failed()) << race;
  EXPECT_EQ(race.failure->kind, FailureKind::data_race) << race;
  EXPECT_NE(race.failure->message.find("shared_mutex_test.cpp:"), std::string::npos) << race.failure->message;
}

TEST(StdSharedMutex, LockOrderInversionIsADeadlock) {
  const auto body = [](bool same_order) {
    std::shared_mutex a;
    std::shared_mutex b;
    std::thread other([&] {
      const std::unique_lock first(same_order ? a : b);
      const std::shared_lock second(same_order ? b : a);
    });
    {
      const std::unique_lock first(a);
      const std::unique_lock second(b);
    }
    other.join();
  };
  const Result inverted = interleave::explore(options(2000), [&] { body(false); });
  ASSERT_TRUE(inverted.failed()) << inverted;
  EXPECT_EQ(inverted.failure->kind, FailureKind::deadlock) << inverted;
  EXPECT_NE(inverted.failure->message.find("pthread_rwlock_"), std::string::npos) << inverted.failure->message;
  EXPECT_NE(inverted.failure->message.find("shared_mutex_test.cpp:"), std::string::npos) << inverted.failure->message;
  const Result ordered = interleave::explore(options(2000), [&] { body(true); });
  EXPECT_TRUE(ordered.passed()) << ordered;
}

TEST(StdSharedMutex, UpgradingAReadLockInPlaceIsADeadlock) {
  const Result r = interleave::explore(options(10), [] {
    std::shared_mutex m;
    m.lock_shared();
    m.lock();  // waits for the readers, itself among them
  });
  ASSERT_TRUE(r.failed()) << r;
  EXPECT_EQ(r.failure->kind, FailureKind::deadlock) << r;
}

TEST(StdSharedTimedMutex, TimedLocksGiveUpOnTheVirtualClock) {
  const Result r = interleave::explore(options(200), [] {
    std::shared_timed_mutex m;
    bool got_exclusive = true;
    bool got_shared_while_writing = true;
    m.lock_shared();  // held until the other thread is done trying
    std::thread other([&] {
      const auto before = std::chrono::steady_clock::now();
      got_exclusive = m.try_lock_for(std::chrono::seconds(5));
      INTERLEAVE_ASSERT(std::chrono::steady_clock::now() - before >= std::chrono::seconds(5));
      if (got_exclusive) m.unlock();
    });
    other.join();
    m.unlock_shared();
    m.lock();
    std::thread reader([&] {
      got_shared_while_writing = m.try_lock_shared_until(std::chrono::steady_clock::now() + std::chrono::seconds(1));
      if (got_shared_while_writing) m.unlock_shared();
    });
    reader.join();
    m.unlock();
    INTERLEAVE_ASSERT(!got_exclusive, "a writer got the lock while a reader held it");
    INTERLEAVE_ASSERT(!got_shared_while_writing, "a reader got the lock while a writer held it");
  });
  EXPECT_TRUE(r.passed()) << r;
}

}  // namespace
