// 16-byte std::atomic under the model (g++ instruments them as __tsan_atomic128_*): each
// operation is a scheduling point with its memory order's happens-before effects, reading the
// newest value. clang 14 calls libatomic for them instead, outside its instrumentation, so there
// they are not modelled and these tests are skipped (docs/std.md).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

#include "interleave/explore.h"
#include "support.h"

namespace {

using interleave::FailureKind;
using interleave::Result;

using std_tests::options;

struct alignas(16) Pair {
  std::uint64_t first = 0;
  std::uint64_t second = 0;
};

#if defined(__clang__)
#define SKIP_UNLESS_INSTRUMENTED() GTEST_SKIP() << "clang calls libatomic for 16-byte atomics (not instrumented)"
#else
#define SKIP_UNLESS_INSTRUMENTED() static_cast<void>(0)
#endif

TEST(StdWideAtomic, ALoadThenStoreLosesAnUpdateAndACompareExchangeLoopDoesNot) {
  SKIP_UNLESS_INSTRUMENTED();
#if !defined(__clang__)
  const Result lost = interleave::explore(options(300), [] {
    std::atomic<Pair> pair{};
    auto add = [&] {
      Pair p = pair.load();
      ++p.first;
      p.second += 2;
      pair.store(p);
    };
    std::thread other(add);
    add();
    other.join();
    const Pair p = pair.load();
    INTERLEAVE_ASSERT(p.first == 2 && p.second == 4, "an update was lost");
  });
  ASSERT_TRUE(lost.failed()) << lost;
  EXPECT_EQ(lost.failure->kind, FailureKind::assertion) << lost;

  const Result kept = interleave::explore(options(300), [] {
    std::atomic<Pair> pair{};
    auto add = [&] {
      Pair p = pair.load();
      Pair next;
      do {
        next = Pair{p.first + 1, p.second + 2};
      } while (!pair.compare_exchange_weak(p, next));
    };
    std::thread other(add);
    add();
    other.join();
    const Pair p = pair.load();
    INTERLEAVE_ASSERT(p.first == 2 && p.second == 4, "an update was lost");
  });
  EXPECT_TRUE(kept.passed()) << kept;
#endif
}

TEST(StdWideAtomic, ReleaseAcquireOrdersPlainDataAndRelaxedDoesNot) {
  SKIP_UNLESS_INSTRUMENTED();
#if !defined(__clang__)
  const auto publish = [](std::memory_order store_order, std::memory_order load_order) {
    return interleave::explore(options(300), [store_order, load_order] {
      int data = 0;
      std::atomic<Pair> flag{};
      std::thread writer([&] {
        data = 42;
        flag.store(Pair{1, 1}, store_order);
      });
      if (flag.load(load_order).first == 1) INTERLEAVE_ASSERT(data == 42);
      writer.join();
    });
  };
  const Result ordered = publish(std::memory_order_release, std::memory_order_acquire);
  EXPECT_TRUE(ordered.passed()) << ordered;
  const Result racy = publish(std::memory_order_relaxed, std::memory_order_relaxed);
  ASSERT_TRUE(racy.failed()) << racy;
  EXPECT_EQ(racy.failure->kind, FailureKind::data_race) << racy;
#endif
}

}  // namespace
