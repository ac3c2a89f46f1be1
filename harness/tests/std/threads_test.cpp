// std::thread, plain memory and std::atomic under the model, unmodified (compiled with
// -fsanitize=thread, linked against interleave::std_runtime: docs/std.md). Each must-report case
// stands next to a must-not-report control.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>

#include "interleave/explore.h"
#include "support.h"

namespace {

using interleave::FailureKind;
using interleave::Result;

using std_tests::options;

TEST(StdThreads, JoinedThreadsRunAndTheirWritesAreSeenAfterJoin) {
  const Result r = interleave::explore(options(200), [] {
    int a = 0;
    int b = 0;
    std::thread first([&] { a = 1; });
    std::thread second([&] { b = 2; });
    first.join();
    second.join();
    INTERLEAVE_ASSERT(a + b == 3);
  });
  EXPECT_TRUE(r.passed()) << r;
  EXPECT_EQ(r.schedules_run, 200U);
}

TEST(StdThreads, UnsynchronizedCounterIsADataRaceAtTheUsersLine) {
  const Result r = interleave::explore(options(200), [] {
    int counter = 0;
    std::thread other([&] { ++counter; });  // the racing line
    ++counter;
    other.join();
  });
  ASSERT_TRUE(r.failed()) << r;
  EXPECT_EQ(r.failure->kind, FailureKind::data_race) << r;
  EXPECT_NE(r.failure->message.find("plain memory"), std::string::npos) << r.failure->message;
  EXPECT_NE(r.failure->message.find("threads_test.cpp:"), std::string::npos) << r.failure->message;
  EXPECT_NE(r.report().find("reproduce: INTERLEAVE_REPLAY="), std::string::npos) << r;
}

TEST(StdThreads, RelaxedAtomicCounterIsNotARace) {
  const Result r = interleave::explore(options(300), [] {
    std::atomic<int> counter{0};
    std::thread other([&] { counter.fetch_add(1, std::memory_order_relaxed); });
    counter.fetch_add(1, std::memory_order_relaxed);
    other.join();
    INTERLEAVE_ASSERT(counter.load(std::memory_order_relaxed) == 2);
  });
  EXPECT_TRUE(r.passed()) << r;
}

TEST(StdThreads, LostUpdateWithAtomicLoadThenStoreIsFound) {
  // Not a data race (atomics), but a lost update: the model schedules between the load and the
  // store.
  const Result r = interleave::explore(options(300), [] {
    std::atomic<int> counter{0};
    std::thread other([&] { counter.store(counter.load() + 1); });
    counter.store(counter.load() + 1);
    other.join();
    INTERLEAVE_ASSERT(counter.load() == 2);
  });
  ASSERT_TRUE(r.failed()) << r;
  EXPECT_EQ(r.failure->kind, FailureKind::assertion) << r;
}

TEST(StdThreads, DeleteWhileAnotherThreadMayStillReadIsARaceAndDeleteAfterJoinIsNot) {
  const auto body = [](bool delete_after_join) {
    auto* value = new int(7);
    int seen = 0;
    std::thread reader([&] { seen = *value; });
    if (delete_after_join) {
      reader.join();
      delete value;
    } else {
      delete value;  // the reader may not have read it yet
      reader.join();
    }
    (void)seen;
  };
  const Result freed_early = interleave::explore(options(300), [&] { body(false); });
  ASSERT_TRUE(freed_early.failed()) << freed_early;
  EXPECT_EQ(freed_early.failure->kind, FailureKind::data_race) << freed_early;
  EXPECT_NE(freed_early.failure->message.find("threads_test.cpp:"), std::string::npos) << freed_early.failure->message;
  const Result control = interleave::explore(options(300), [&] { body(true); });
  EXPECT_TRUE(control.passed()) << control;
}

TEST(StdThreads, HeapBlocksReusedAcrossThreadsAreNotRaces) {
  // The allocator hands a block freed by one thread to another: no report (its locking is not
  // modelled, so the allocation itself starts the block afresh).
  const Result r = interleave::explore(options(300), [] {
    const auto churn = [] {
      for (int i = 0; i < 4; ++i) {
        auto* block = new long[4]{1, 2, 3, 4};
        block[i] += 1;
        delete[] block;
      }
    };
    std::thread other(churn);
    churn();
    other.join();
  });
  EXPECT_TRUE(r.passed()) << r;
}

}  // namespace
