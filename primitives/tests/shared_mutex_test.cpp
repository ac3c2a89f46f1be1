#include "interleave/shared_mutex.h"

#include <gtest/gtest.h>
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <shared_mutex>
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
using test_support::wait_for_value;

using namespace std::chrono_literals;

using test_support::current_tid;
using test_support::wait_until_asleep_on_futex;

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

TEST(ProcessSharedMutex, ReadersInTwoProcessesShareItAndAWriterInAThirdWaitsForBoth) {
  struct State {
    ProcessSharedMutex mutex;
    std::atomic<int> readers_entered{0};  // never goes down: both readers see it reach 2
    std::atomic<int> readers_inside{0};
    ProcessEvent writer_coming;  // the writer's next sleep is in its lock()
    pid_t writer = 0;            // written before writer_coming is set
  };
  SharedObject<State> state;
  const auto reader = [&]() -> int {
    state->mutex.lock_shared();
    state->readers_inside.fetch_add(1);
    state->readers_entered.fetch_add(1);
    // Both readers inside at once, each in its own process: if one excluded the other, the count
    // would never reach 2 while this one holds its shared lock.
    const bool both_inside = wait_for_value(state->readers_entered, 2);
    const bool writer_asleep =
        both_inside && state->writer_coming.wait_for(10s) && wait_until_asleep_on_futex(state->writer);
    state->readers_inside.fetch_sub(1);
    state->mutex.unlock_shared();
    if (!both_inside) return 2;
    return writer_asleep ? 0 : 3;
  };
  const auto writer = [&]() -> int {
    state->writer = current_tid();
    state->writer_coming.set();
    state->mutex.lock();
    const int inside = state->readers_inside.load();
    state->mutex.unlock();
    return inside == 0 ? 0 : 2;  // a reader was still inside
  };
  Process a(reader, "reader a");
  Process b(reader, "reader b");
  a.start();
  b.start();
  ASSERT_TRUE(wait_for_value(state->readers_entered, 2));
  EXPECT_FALSE(state->mutex.try_lock()) << "a writer got in beside readers in other processes";
  Process w(writer, "writer");
  w.start();
  expect_success_within_10s(a);
  expect_success_within_10s(b);
  expect_success_within_10s(w);
}

TEST(ProcessSharedMutex, AWriterKeepsAReaderInAnotherProcessOutUntilItUnlocks) {
  struct State {
    ProcessSharedMutex mutex;
    ProcessEvent reader_waiting;  // the child's next sleep is in its lock_shared()
    int data = 0;                 // written by the writer, read by the reader
  };
  SharedObject<State> state;
  state->mutex.lock();
  Process child(
      [&]() -> int {
        if (state->mutex.try_lock_shared()) return 2;
        state->reader_waiting.set();
        state->mutex.lock_shared();
        const int seen = state->data;
        state->mutex.unlock_shared();
        return seen == 7 ? 0 : 3;
      },
      "reader");
  child.start();
  ASSERT_TRUE(state->reader_waiting.wait_for(10s));
  ASSERT_TRUE(wait_until_asleep_on_futex(child.pid()));
  state->data = 7;
  state->mutex.unlock();
  expect_success_within_10s(child);
}

TEST(ProcessSharedMutex, WritersAndReadersInThreeProcessesSeeConsistentPairs) {
  constexpr int kIterations = 20000;
  struct State {
    ProcessSharedMutex mutex;
    long first = 0;  // every writer increments both under the lock
    long second = 0;
  };
  SharedObject<State> state;
  const auto work = [&]() -> int {
    int torn = 0;
    for (int i = 0; i < kIterations; ++i) {
      if (i % 4 == 0) {
        std::lock_guard writer(state->mutex);
        ++state->first;
        ++state->second;
      } else {
        std::shared_lock reader(state->mutex);
        if (state->first != state->second) ++torn;
      }
    }
    return torn == 0 ? 0 : 2;  // 2: a reader saw a writer's pair half done
  };
  Process a(work, "worker a");
  Process b(work, "worker b");
  Process c(work, "worker c");
  a.start();
  b.start();
  c.start();
  expect_success_within_10s(a);
  expect_success_within_10s(b);
  expect_success_within_10s(c);
  EXPECT_EQ(state->first, 3L * kIterations / 4);
  EXPECT_EQ(state->second, state->first);
}

}  // namespace
}  // namespace interleave
