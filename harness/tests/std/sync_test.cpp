// std::mutex and std::condition_variable under the model, unmodified (compiled with
// -fsanitize=thread, linked against interleave::std_runtime: docs/std.md). Each must-report case
// stands next to a must-not-report control.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <source_location>
#include <string>
#include <thread>

#include "interleave/explore.h"
#include "support.h"

namespace {

using interleave::FailureKind;
using interleave::Options;
using interleave::Result;

using std_tests::options;

// A bounded blocking queue as most code writes it. `kBug` picks a defect to plant.
enum class Bug { none, if_instead_of_while, one_condvar_notify_one };

template <Bug kBug>
class BoundedQueue {
 public:
  explicit BoundedQueue(std::size_t capacity) : capacity_(capacity) {}

  void put(int value) {
    std::unique_lock lock(mutex_);
    if constexpr (kBug == Bug::one_condvar_notify_one) {
      while (items_.size() == capacity_) not_empty_.wait(lock);  // one condvar for both conditions
    } else {
      not_full_.wait(lock, [&] { return items_.size() < capacity_; });
    }
    items_.push_back(value);
    not_empty_.notify_one();
  }

  int get() {
    std::unique_lock lock(mutex_);
    if constexpr (kBug == Bug::if_instead_of_while) {
      if (items_.empty()) not_empty_.wait(lock);  // a spurious or stolen wake-up finds it empty
    } else {
      while (items_.empty()) not_empty_.wait(lock);
    }
    INTERLEAVE_ASSERT(!items_.empty(), "get() woke up to an empty queue");
    const int value = items_.front();
    items_.pop_front();
    if constexpr (kBug == Bug::one_condvar_notify_one) {
      not_empty_.notify_one();  // may wake another consumer instead of the blocked producer
    } else {
      not_full_.notify_one();
    }
    return value;
  }

 private:
  std::mutex mutex_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
  std::deque<int> items_;
  std::size_t capacity_;
};

// Two producers and two consumers through a queue of one slot; every item arrives once.
template <Bug kBug>
void producers_and_consumers() {
  BoundedQueue<kBug> queue(1);
  int sums[2] = {0, 0};
  std::thread producer1([&] {
    queue.put(1);
    queue.put(2);
  });
  std::thread producer2([&] {
    queue.put(10);
    queue.put(20);
  });
  std::thread consumer1([&] {
    sums[0] += queue.get();
    sums[0] += queue.get();
  });
  std::thread consumer2([&] {
    sums[1] += queue.get();
    sums[1] += queue.get();
  });
  producer1.join();
  producer2.join();
  consumer1.join();
  consumer2.join();
  INTERLEAVE_ASSERT(sums[0] + sums[1] == 33);
}

TEST(StdSync, BoundedQueueWithMutexAndTwoCondvarsPasses) {
  const Result r = interleave::explore(options(500), [] { producers_and_consumers<Bug::none>(); });
  EXPECT_TRUE(r.passed()) << r;
  EXPECT_EQ(r.schedules_run, 500U);
}

TEST(StdSync, IfInsteadOfWhileAroundWaitIsFound) {
  const Result r = interleave::explore(options(2000), [] { producers_and_consumers<Bug::if_instead_of_while>(); });
  ASSERT_TRUE(r.failed()) << r;
  EXPECT_EQ(r.failure->kind, FailureKind::assertion) << r;
  EXPECT_NE(r.report().find("reproduce: INTERLEAVE_REPLAY="), std::string::npos) << r;
}

TEST(StdSync, OneCondvarWithNotifyOneDeadlocksAndTheReplayFailsTheSameWay) {
  const auto body = [] { producers_and_consumers<Bug::one_condvar_notify_one>(); };
  const Result r = interleave::explore(options(5000), body);
  ASSERT_TRUE(r.failed()) << r;
  EXPECT_EQ(r.failure->kind, FailureKind::deadlock) << r;
  // Each blocked fiber is named with the user's line (the wait inside put or get).
  EXPECT_NE(r.failure->message.find("pthread_cond_wait"), std::string::npos) << r.failure->message;
  EXPECT_NE(r.failure->message.find("sync_test.cpp:"), std::string::npos) << r.failure->message;
  // The reproduce line's token replays the same deadlock.
  Options replay = options(1);
  replay.replay = r.reproduce_token();
  const Result again = interleave::explore(replay, body);
  ASSERT_TRUE(again.failed()) << again;
  EXPECT_EQ(again.failure->kind, FailureKind::deadlock) << again;
}

TEST(StdSync, LostWakeUpFromANotifyWithoutTheMutexIsADeadlock) {
  // The flag is set without holding the mutex: the notify can fall between the waiter's check
  // and its wait, and is lost. The control does the same under the mutex.
  const auto body = [](bool under_mutex) {
    std::mutex m;
    std::condition_variable cv;
    std::atomic<bool> ready{false};
    std::thread setter([&] {
      if (under_mutex) {
        const std::lock_guard lock(m);
        ready.store(true);
      } else {
        ready.store(true);
      }
      cv.notify_one();
    });
    {
      std::unique_lock lock(m);
      while (!ready.load()) cv.wait(lock);
    }
    setter.join();
  };
  const Result lost = interleave::explore(options(2000), [&] { body(false); });
  ASSERT_TRUE(lost.failed()) << lost;
  EXPECT_EQ(lost.failure->kind, FailureKind::deadlock) << lost;
  const Result control = interleave::explore(options(2000), [&] { body(true); });
  EXPECT_TRUE(control.passed()) << control;
}

TEST(StdSync, LockedCounterIsNotARaceAndUnlockedOneIs) {
  const auto body = [](bool locked) {
    std::mutex m;
    int counter = 0;
    const auto add = [&] {
      for (int i = 0; i < 3; ++i) {
        if (locked) {
          const std::lock_guard lock(m);
          ++counter;
        } else {
          ++counter;
        }
      }
    };
    std::thread other(add);
    add();
    other.join();
    INTERLEAVE_ASSERT(counter == 6);
  };
  const Result control = interleave::explore(options(500), [&] { body(true); });
  EXPECT_TRUE(control.passed()) << control;
  const Result race = interleave::explore(options(500), [&] { body(false); });
  ASSERT_TRUE(race.failed()) << race;
  EXPECT_EQ(race.failure->kind, FailureKind::data_race) << race;
  EXPECT_NE(race.failure->message.find("sync_test.cpp:"), std::string::npos) << race.failure->message;
}

TEST(StdSync, LockOrderInversionBetweenTwoMutexesIsADeadlock) {
  const auto body = [](bool same_order) {
    std::mutex a;
    std::mutex b;
    std::thread other([&] {
      const std::scoped_lock first(same_order ? a : b);
      const std::scoped_lock second(same_order ? b : a);
    });
    {
      const std::scoped_lock first(a);
      const std::scoped_lock second(b);
    }
    other.join();
  };
  const Result inverted = interleave::explore(options(2000), [&] { body(false); });
  ASSERT_TRUE(inverted.failed()) << inverted;
  EXPECT_EQ(inverted.failure->kind, FailureKind::deadlock) << inverted;
  EXPECT_NE(inverted.failure->message.find("pthread_mutex_lock"), std::string::npos) << inverted.failure->message;
  const Result ordered = interleave::explore(options(2000), [&] { body(true); });
  EXPECT_TRUE(ordered.passed()) << ordered;
}

// Locks `first`, then `second`: called with the two mutexes in opposite orders by two threads.
[[gnu::noinline]] void lock_both(std::mutex& first, std::mutex& second) {
  const std::scoped_lock outer(first);
  const std::scoped_lock inner(second);
}

TEST(StdSync, ADeadlockInsideASharedHelperNamesEachBlockedThreadsCaller) {
  int other_call = 0;
  int main_call = 0;
  const Result r = interleave::explore(options(2000), [&] {
    std::mutex a;
    std::mutex b;
    std::thread other([&] {
      other_call = __LINE__ + 1;
      lock_both(b, a);
    });
    main_call = __LINE__ + 1;
    lock_both(a, b);
    other.join();
  });
  ASSERT_TRUE(r.failed()) << r;
  EXPECT_EQ(r.failure->kind, FailureKind::deadlock) << r;
#if !defined(__cpp_lib_source_location)
  GTEST_SKIP() << "call chains need std::source_location (g++ 11, clang 15 with libstdc++ 12)";
#endif
  const std::string& m = r.failure->message;
  for (const int call : {other_call, main_call}) {
    EXPECT_NE(m.find("called from " + std::string(__FILE__) + ":" + std::to_string(call)), std::string::npos)
        << "the call at line " << call << "\n"
        << m;
  }
}

TEST(StdSync, WaitForTimesOutOnTheVirtualClock) {
  // Nobody notifies: wait_for returns after its timeout, at once in real time; the clock read
  // inside the model has advanced by at least the timeout.
  const Result r = interleave::explore(options(50), [] {
    std::mutex m;
    std::condition_variable cv;
    std::unique_lock lock(m);
    const auto before = std::chrono::steady_clock::now();
    const bool woke = cv.wait_for(lock, std::chrono::seconds(30), [] { return false; });
    const auto waited = std::chrono::steady_clock::now() - before;
    INTERLEAVE_ASSERT(!woke);
    INTERLEAVE_ASSERT(waited >= std::chrono::seconds(30), "the virtual clock did not advance");
  });
  EXPECT_TRUE(r.passed()) << r;
}

TEST(StdSync, WaitForWithANotifierReturnsTrueOrTimesOut) {
  const Result r = interleave::explore(options(300), [] {
    std::mutex m;
    std::condition_variable cv;
    bool ready = false;
    std::thread setter([&] {
      // Part of the program under test, on the model's virtual clock (no real time passes): it
      // puts the notify near the waiter's deadline, so both outcomes of wait_for are explored.
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      {
        const std::lock_guard lock(m);
        ready = true;
      }
      cv.notify_all();
    });
    {
      std::unique_lock lock(m);
      cv.wait_for(lock, std::chrono::milliseconds(10), [&] { return ready; });
    }
    setter.join();
  });
  EXPECT_TRUE(r.passed()) << r;
}

TEST(StdSync, RecursiveMutexRelocksAndTimedTryLockTimesOutWhileHeld) {
  const Result r = interleave::explore(options(200), [] {
    std::recursive_mutex recursive;
    recursive.lock();
    recursive.lock();  // the owner may lock it again
    recursive.unlock();
    recursive.unlock();
    std::timed_mutex timed;
    bool got = false;
    timed.lock();
    std::thread other([&] {
      got = timed.try_lock_for(std::chrono::seconds(5));  // held for good: times out, virtually
      if (got) timed.unlock();
    });
    other.join();
    timed.unlock();
    INTERLEAVE_ASSERT(!got);
  });
  EXPECT_TRUE(r.passed()) << r;
}

TEST(StdSync, SleepForAdvancesTheVirtualClockAndOrdersNothing) {
  // A sleep is no synchronization: the sleeper's later write still races with the other thread's
  // read, on some schedule. The control joins first.
  const auto body = [](bool joined_first) {
    int value = 0;
    std::thread sleeper([&] {
      const auto before = std::chrono::steady_clock::now();
      std::this_thread::sleep_for(std::chrono::minutes(10));
      INTERLEAVE_ASSERT(std::chrono::steady_clock::now() - before >= std::chrono::minutes(10));
      value = 1;
    });
    if (joined_first) sleeper.join();
    const int seen = value;  // used below, so that an optimizing build keeps the read
    if (!joined_first) sleeper.join();
    INTERLEAVE_ASSERT(seen == 0 || seen == 1);
  };
  const Result control = interleave::explore(options(200), [&] { body(true); });
  EXPECT_TRUE(control.passed()) << control;
  const Result race = interleave::explore(options(200), [&] { body(false); });
  ASSERT_TRUE(race.failed()) << race;
  EXPECT_EQ(race.failure->kind, FailureKind::data_race) << race;
}

// A loop that nothing ends, polling with std::this_thread::yield or the clock (both noexcept):
// the step bound reports it as a livelock. The fiber cannot be unwound through those calls; it is
// abandoned there, and the report is kept (it once ended the process in std::terminate).
TEST(StdSync, APollingLoopNothingEndsIsAStepBoundReportNotATerminate) {
  const auto spin = [](bool on_the_clock) {
    Options o = options(5);
    o.max_steps = 300;
    return interleave::explore(o, [on_the_clock] {
      const auto never = std::make_unique<bool>(false);
      std::thread waiter([&] {
        if (on_the_clock) {
          const auto start = std::chrono::steady_clock::now();
          while (!*never && std::chrono::steady_clock::now() - start < std::chrono::seconds(1)) {
          }
        } else {
          while (!*never) std::this_thread::yield();
        }
      });
      waiter.join();
    });
  };
  for (const bool on_the_clock : {false, true}) {
    const Result r = spin(on_the_clock);
    ASSERT_TRUE(r.failed()) << r;
    EXPECT_EQ(r.failure->kind, FailureKind::step_bound) << r;
  }
}

}  // namespace
