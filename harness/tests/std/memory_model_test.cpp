// Plain std::atomic code under the model's C++ memory model (docs/memory-model.md): the outcomes
// that relaxed and acquire/release orders allow are explored, the ones seq_cst forbids never
// appear. Unmodified code, compiled with -fsanitize=thread and linked against
// interleave::std_runtime (docs/std.md).
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>

#include "interleave/explore.h"
#include "support.h"

namespace {

using interleave::FailureKind;
using interleave::MemoryModel;
using interleave::Result;

using std_tests::options;

// Store buffering: each thread stores its flag, then loads the other's. Both loads reading 0 is
// allowed unless all four operations are seq_cst.
Result store_buffering(std::memory_order store, std::memory_order load, MemoryModel model, std::uint64_t schedules) {
  return interleave::explore(options(schedules, model), [=] {
    std::atomic<int> x{0};
    std::atomic<int> y{0};
    int r1 = -1;
    std::thread other([&] {
      y.store(1, store);
      r1 = x.load(load);
    });
    x.store(1, store);
    const int r2 = y.load(load);
    other.join();
    INTERLEAVE_ASSERT(r1 == 1 || r2 == 1, "both threads read 0: the stores were not ordered before the loads");
  });
}

TEST(StdMemoryModel, StoreBufferingWithReleaseAcquireIsFound) {
  const Result r = store_buffering(std::memory_order_release, std::memory_order_acquire, MemoryModel::weak, 2000);
  ASSERT_TRUE(r.failed()) << r;
  EXPECT_EQ(r.failure->kind, FailureKind::assertion) << r;
  EXPECT_NE(r.report().find("reproduce: INTERLEAVE_REPLAY="), std::string::npos) << r;
}

TEST(StdMemoryModel, StoreBufferingWithSeqCstNeverHappens) {
  const Result r = store_buffering(std::memory_order_seq_cst, std::memory_order_seq_cst, MemoryModel::weak, 1000);
  EXPECT_TRUE(r.passed()) << r;
}

TEST(StdMemoryModel, StoreBufferingIsInvisibleUnderTheSequentiallyConsistentModel) {
  // The control for the weak model: the same relaxed program, explored with every atomic seq_cst.
  const Result r = store_buffering(std::memory_order_relaxed, std::memory_order_relaxed, MemoryModel::sc, 1000);
  EXPECT_TRUE(r.passed()) << r;
}

// Message passing: data, then a flag. With a release store and an acquire load, a reader that sees
// the flag sees the data; with relaxed ones it may read the data's old value.
Result message_passing(std::memory_order store, std::memory_order load, std::uint64_t schedules) {
  return interleave::explore(options(schedules), [=] {
    std::atomic<int> data{0};
    std::atomic<bool> ready{false};
    std::thread writer([&] {
      data.store(42, std::memory_order_relaxed);
      ready.store(true, store);
    });
    if (ready.load(load)) {
      INTERLEAVE_ASSERT(data.load(std::memory_order_relaxed) == 42, "saw the flag but not the data");
    }
    writer.join();
  });
}

TEST(StdMemoryModel, RelaxedFlagLetsTheReaderSeeStaleData) {
  const Result r = message_passing(std::memory_order_relaxed, std::memory_order_relaxed, 3000);
  ASSERT_TRUE(r.failed()) << r;
  EXPECT_EQ(r.failure->kind, FailureKind::assertion) << r;
  EXPECT_NE(r.failure->message.find("saw the flag but not the data"), std::string::npos) << r;
}

TEST(StdMemoryModel, ReleaseAcquireFlagPublishesTheData) {
  const Result r = message_passing(std::memory_order_release, std::memory_order_acquire, 1000);
  EXPECT_TRUE(r.passed()) << r;
}

TEST(StdMemoryModel, RelaxedFlagPublishingPlainDataIsARace) {
  const auto body = [](std::memory_order store, std::memory_order load) {
    return interleave::explore(options(2000), [=] {
      int data = 0;
      std::atomic<bool> ready{false};
      std::thread writer([&] {
        data = 42;
        ready.store(true, store);
      });
      if (ready.load(load)) INTERLEAVE_ASSERT(data == 42);
      writer.join();
    });
  };
  const Result relaxed = body(std::memory_order_relaxed, std::memory_order_relaxed);
  ASSERT_TRUE(relaxed.failed()) << relaxed;
  EXPECT_EQ(relaxed.failure->kind, FailureKind::data_race) << relaxed;
  EXPECT_NE(relaxed.failure->message.find("memory_model_test.cpp:"), std::string::npos) << relaxed.failure->message;

  const Result published = body(std::memory_order_release, std::memory_order_acquire);
  EXPECT_TRUE(published.passed()) << published;
}

// A spin lock taken with compare_exchange_weak in a loop: spurious failures (which the model
// injects) only cost another iteration, and the lock still excludes.
TEST(StdMemoryModel, CompareExchangeWeakLoopStillExcludes) {
  const Result r = interleave::explore(options(1000), [] {
    std::atomic<bool> locked{false};
    int counter = 0;
    const auto add = [&] {
      bool expected = false;
      while (!locked.compare_exchange_weak(expected, true, std::memory_order_acquire, std::memory_order_relaxed)) {
        expected = false;
      }
      ++counter;
      locked.store(false, std::memory_order_release);
    };
    std::thread other(add);
    add();
    other.join();
    INTERLEAVE_ASSERT(counter == 2);
  });
  EXPECT_TRUE(r.passed()) << r;
}

TEST(StdMemoryModel, SpinLockReleasedRelaxedIsARace) {
  // The bug the previous test's release prevents: the unlock does not publish the critical
  // section, so the next holder's access races with it.
  const Result r = interleave::explore(options(1000), [] {
    std::atomic<bool> locked{false};
    int counter = 0;
    const auto add = [&] {
      bool expected = false;
      while (!locked.compare_exchange_weak(expected, true, std::memory_order_relaxed)) expected = false;
      ++counter;
      locked.store(false, std::memory_order_relaxed);
    };
    std::thread other(add);
    add();
    other.join();
  });
  ASSERT_TRUE(r.failed()) << r;
  EXPECT_EQ(r.failure->kind, FailureKind::data_race) << r;
}

}  // namespace
