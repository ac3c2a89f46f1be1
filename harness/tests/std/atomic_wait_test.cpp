// std::atomic<T>::wait/notify, std::counting_semaphore, std::latch and std::barrier under the
// model, unmodified: libstdc++ waits for them with syscall(SYS_futex) (docs/std.md). Each
// must-report case stands next to a must-not-report control.
#include <gtest/gtest.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <barrier>
#include <chrono>
#include <climits>
#include <cstdint>
#include <latch>
#include <semaphore>
#include <string>
#include <thread>

#include "interleave/explore.h"
#include "support.h"

namespace {

using interleave::FailureKind;
using interleave::Result;

using std_tests::options;

// One thread publishes a value through an atomic flag and wakes the other, which waits for the
// flag with std::atomic<Flag>::wait. int is waited on directly; bool through libstdc++'s pool of
// proxy words. `notify` false plants the bug: the store is never notified, and a waiter already
// asleep is never woken. The setter is slow (a sleep on the virtual clock, in both variants): the
// waiter gets past libstdc++'s spinning (16 checks, yielding) and sleeps in the futex first, which
// is the interleaving that loses the wake-up (schedules that reach it without the sleep are rare).
template <class Flag>
void hand_off(bool notify) {
  std::atomic<Flag> flag{Flag{}};
  int data = 0;
  std::thread setter([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    data = 42;
    flag.store(Flag{1});
    if (notify) flag.notify_one();
  });
  flag.wait(Flag{});
  INTERLEAVE_ASSERT(data == 42);  // the store happens-before the load that ended the wait
  setter.join();
}

TEST(StdAtomicWait, NotifyAfterTheStoreWakesTheWaiter) {
  const Result direct = interleave::explore(options(500), [] { hand_off<int>(true); });
  EXPECT_TRUE(direct.passed()) << direct;
  const Result proxied = interleave::explore(options(500), [] { hand_off<bool>(true); });
  EXPECT_TRUE(proxied.passed()) << proxied;
}

TEST(StdAtomicWait, AMissingNotifyIsADeadlockAtTheWaitersLine) {
  for (const bool proxied : {false, true}) {
    const Result r = interleave::explore(options(500), [&] {
      if (proxied) {
        hand_off<bool>(false);
      } else {
        hand_off<int>(false);
      }
    });
    ASSERT_TRUE(r.failed()) << r;
    EXPECT_EQ(r.failure->kind, FailureKind::deadlock) << r;
    EXPECT_NE(r.failure->message.find("futex wait"), std::string::npos) << r.failure->message;
    EXPECT_NE(r.failure->message.find("atomic_wait_test.cpp:"), std::string::npos) << r.failure->message;
  }
}

TEST(StdAtomicWait, FutexWakeReturnsHowManyWaitersItWoke) {
  // Two threads wait on a word with the raw system call; the body sets it and wakes all. Each
  // schedule finds between none and both of them asleep, and the count says which.
  std::uint32_t fewest = UINT32_MAX;
  std::uint32_t most = 0;
  const Result r = interleave::explore(options(500), [&] {
    std::atomic<int> word{0};
    const auto waiter = [&] {
      while (word.load() == 0) syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, nullptr);
    };
    std::thread first(waiter);
    std::thread second(waiter);
    word.store(1);
    const long woken = syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, INT_MAX);
    INTERLEAVE_ASSERT(woken >= 0 && woken <= 2);
    fewest = std::min(fewest, static_cast<std::uint32_t>(woken));
    most = std::max(most, static_cast<std::uint32_t>(woken));
    first.join();
    second.join();
  });
  EXPECT_TRUE(r.passed()) << r;
  EXPECT_EQ(fewest, 0U);
  EXPECT_EQ(most, 2U);
}

TEST(StdAtomicWait, OtherSystemCallsPassThrough) {
  const Result r = interleave::explore(options(5), [] {
    INTERLEAVE_ASSERT(syscall(SYS_getpid) == getpid());
    INTERLEAVE_ASSERT(syscall(SYS_futex, nullptr, FUTEX_WAIT_BITSET_PRIVATE, 0, nullptr, nullptr, 0) == -1);
  });
  EXPECT_TRUE(r.passed()) << r;
}

TEST(StdSemaphore, ReleaseAfterTheWriteOrdersItAndReleaseBeforeItRaces) {
  const auto body = [](bool release_first) {
    std::counting_semaphore<2> ready(0);
    int data = 0;
    std::thread producer([&] {
      if (release_first) ready.release();
      data = 7;
      if (!release_first) ready.release();
    });
    ready.acquire();
    const int seen = data;
    producer.join();
    INTERLEAVE_ASSERT(release_first || seen == 7);
  };
  const Result control = interleave::explore(options(500), [&] { body(false); });
  EXPECT_TRUE(control.passed()) << control;
  const Result race = interleave::explore(options(500), [&] { body(true); });
  ASSERT_TRUE(race.failed()) << race;
  EXPECT_EQ(race.failure->kind, FailureKind::data_race) << race;
}

TEST(StdSemaphore, AnAcquireNobodyReleasesIsADeadlock) {
  const Result r = interleave::explore(options(500), [] {
    std::binary_semaphore slots(0);
    std::thread worker([&] { slots.release(); });
    slots.acquire();
    slots.acquire();  // one release for two acquires
    worker.join();
  });
  ASSERT_TRUE(r.failed()) << r;
  EXPECT_EQ(r.failure->kind, FailureKind::deadlock) << r;
  EXPECT_NE(r.failure->message.find("atomic_wait_test.cpp:"), std::string::npos) << r.failure->message;
}

TEST(StdSemaphore, TryAcquireForTimesOutOnTheVirtualClock) {
  const Result r = interleave::explore(options(50), [] {
    std::counting_semaphore<1> never(0);
    const auto before = std::chrono::steady_clock::now();
    const bool got = never.try_acquire_for(std::chrono::seconds(30));
    const auto waited = std::chrono::steady_clock::now() - before;
    INTERLEAVE_ASSERT(!got);
    INTERLEAVE_ASSERT(waited >= std::chrono::seconds(30), "the virtual clock did not advance");
  });
  EXPECT_TRUE(r.passed()) << r;
}

TEST(StdSemaphore, TryAcquireForGetsAReleaseBeforeItsDeadline) {
  const Result r = interleave::explore(options(300), [] {
    std::counting_semaphore<1> sem(0);
    std::thread releaser([&] { sem.release(); });
    const bool got = sem.try_acquire_for(std::chrono::hours(1));
    releaser.join();
    INTERLEAVE_ASSERT(got, "a release came within the hour, yet the acquire timed out");
  });
  EXPECT_TRUE(r.passed()) << r;
}

TEST(StdLatch, WaitReturnsAfterEveryCountDownAndAMissingOneDeadlocks) {
  const auto body = [](int workers_that_count_down) {
    std::latch done(2);
    int results[2] = {0, 0};
    std::thread first([&] {
      results[0] = 1;
      if (workers_that_count_down >= 1) done.count_down();
    });
    std::thread second([&] {
      results[1] = 2;
      if (workers_that_count_down >= 2) done.count_down();
    });
    done.wait();
    INTERLEAVE_ASSERT(results[0] + results[1] == 3);  // no race: each count_down happens-before
    first.join();
    second.join();
  };
  const Result control = interleave::explore(options(500), [&] { body(2); });
  EXPECT_TRUE(control.passed()) << control;
  const Result missing = interleave::explore(options(500), [&] { body(1); });
  ASSERT_TRUE(missing.failed()) << missing;
  EXPECT_EQ(missing.failure->kind, FailureKind::deadlock) << missing;
}

TEST(StdBarrier, PhasesOrderWritesAndTooFewParticipantsDeadlock) {
  const auto body = [](std::ptrdiff_t participants) {
    std::barrier sync(participants);
    int cells[2] = {0, 0};
    int read_back[2] = {0, 0};
    const auto worker = [&](int me) {
      cells[me] = me + 1;  // phase 1: each writes its own cell
      sync.arrive_and_wait();
      read_back[me] = cells[1 - me];  // phase 2: each reads the other's
      sync.arrive_and_wait();
    };
    std::thread other(worker, 1);
    worker(0);
    other.join();
    INTERLEAVE_ASSERT(read_back[0] == 2 && read_back[1] == 1);
  };
  const Result control = interleave::explore(options(300), [&] { body(2); });
  EXPECT_TRUE(control.passed()) << control;
  const Result short_one = interleave::explore(options(300), [&] { body(3); });
  ASSERT_TRUE(short_one.failed()) << short_one;
  EXPECT_EQ(short_one.failure->kind, FailureKind::deadlock) << short_one;
}

}  // namespace
