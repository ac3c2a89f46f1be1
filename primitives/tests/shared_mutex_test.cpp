#include "interleave/shared_mutex.h"

#include <gtest/gtest.h>
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <shared_mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "support/asleep.h"

namespace interleave {
namespace {

using namespace std::chrono_literals;

// Keeps a read from being optimized away.
void benchmark_sink(long value) {
  static std::atomic<long> sink{0};
  sink.store(value, std::memory_order_relaxed);
}

TEST(SharedMutex, ReadersShareAndExcludeWriters) {
  SharedMutex m;
  std::shared_lock reader1(m);
  bool got = false;
  std::thread([&] {
    got = m.try_lock_shared();
    if (got) m.unlock_shared();
  }).join();
  EXPECT_TRUE(got) << "a second reader was refused while only readers held the lock";
  std::thread([&] { got = m.try_lock(); }).join();
  EXPECT_FALSE(got) << "a writer got in beside a reader";
  std::thread([&] { got = m.try_lock_for(2ms); }).join();
  EXPECT_FALSE(got);
  reader1.unlock();
  EXPECT_TRUE(m.try_lock());
  m.unlock();
}

TEST(SharedMutex, AWriterExcludesEveryone) {
  SharedMutex m;
  std::unique_lock writer(m);
  bool got = true;
  std::thread([&] { got = m.try_lock_shared(); }).join();
  EXPECT_FALSE(got);
  std::thread([&] { got = m.try_lock_shared_for(2ms); }).join();
  EXPECT_FALSE(got);
  std::thread([&] { got = m.try_lock_shared_until(std::chrono::system_clock::now() + 1ms); }).join();
  EXPECT_FALSE(got);
  std::thread([&] { got = m.try_lock_until(std::chrono::steady_clock::now() + 1ms); }).join();
  EXPECT_FALSE(got);
  writer.unlock();
  std::shared_lock reader(m, std::try_to_lock);
  EXPECT_TRUE(reader.owns_lock());
}

TEST(SharedMutex, AWaitingWriterKeepsNewReadersOut) {
  SharedMutex m;
  m.lock_shared();
  std::atomic<pid_t> writer_id{0};
  std::atomic<bool> written{false};
  std::thread writer([&] {
    writer_id = test_support::current_tid();
    std::lock_guard g(m);
    written = true;
  });
  while (writer_id.load() == 0) std::this_thread::yield();
  ASSERT_TRUE(test_support::wait_until_asleep_on_futex(writer_id.load()));
  // The writer is announced and sleeps until the reader inside leaves: a new reader must wait.
  bool got = true;
  std::thread([&] { got = m.try_lock_shared(); }).join();
  EXPECT_FALSE(got) << "a new reader got in ahead of a waiting writer";
  m.unlock_shared();
  writer.join();
  EXPECT_TRUE(written.load());
}

TEST(SharedMutex, ATimedOutWriterLetsReadersInAgain) {
  SharedMutex m;
  m.lock_shared();
  bool got = true;
  std::thread([&] { got = m.try_lock_for(5ms); }).join();
  EXPECT_FALSE(got);
  EXPECT_TRUE(m.try_lock_shared()) << "the timed-out writer's announcement stayed behind";
  m.unlock_shared();
  m.unlock_shared();
  EXPECT_TRUE(m.try_lock());
  m.unlock();
}

TEST(SharedMutex, NegativeTimeoutsAreRejected) {
  SharedMutex m;
  EXPECT_THROW((void)m.try_lock_for(-1ms), std::invalid_argument);
  EXPECT_THROW((void)m.try_lock_shared_for(-1ms), std::invalid_argument);
  EXPECT_TRUE(m.try_lock());
  m.unlock();
}

TEST(SharedMutexStress, WritersAndReadersSeeConsistentPairs) {
  SharedMutex m;
  long a = 0;
  long b = 0;
  std::atomic<bool> torn{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5000; ++i) {
        std::lock_guard g(m);
        ++a;
        ++b;
      }
    });
    threads.emplace_back([&] {
      for (int i = 0; i < 5000; ++i) {
        std::shared_lock g(m);
        if (a != b) torn = true;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_FALSE(torn.load());
  EXPECT_EQ(a, 10000);
}

TEST(SharedMutexDeathTest, UnlockSharedWithoutAReaderIsReported) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        SharedMutex m;
        m.unlock_shared();
      },
      "SharedMutex::unlock_shared: no reader holds the lock");
}

#if INTERLEAVE_CHECK_OWNERSHIP
TEST(SharedMutexDeathTest, UnlockByAThreadThatIsNotTheWriterIsReported) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        SharedMutex m;
        m.lock();
        std::thread([&] { m.unlock(); }).join();
      },
      "SharedMutex::unlock: thread [0-9]+ does not hold the lock \\(it is held by thread [0-9]+\\)");
}
#endif

TEST(SharedMutex, WritersTakeTurnsWhileReadersComeAndGo) {
  SharedMutex m;
  long value = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        if (i % 3 == 0) {
          std::shared_lock g(m);
          benchmark_sink(value);
        } else if (i % 3 == 1) {
          std::lock_guard g(m);
          ++value;
        } else if (m.try_lock_for(1ms)) {
          ++value;
          m.unlock();
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  std::lock_guard g(m);
  EXPECT_GE(value, 3 * 667);
}

}  // namespace
}  // namespace interleave
