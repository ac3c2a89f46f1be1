#include "interleave/once.h"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

namespace interleave {
namespace {

TEST(Once, RunsTheFirstCallableOnlyAndPassesArguments) {
  Once once;
  int runs = 0;
  int seen = 0;
  EXPECT_FALSE(once.done());
  call_once(
      once,
      [&](int value) {
        ++runs;
        seen = value;
      },
      7);
  call_once(
      once,
      [&](int value) {
        ++runs;
        seen = value;
      },
      8);
  once.call([&] { ++runs; });
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(seen, 7);
  EXPECT_TRUE(once.done());
}

TEST(Once, AnExceptionLeavesItUnrunForTheNextCaller) {
  Once once;
  EXPECT_THROW(call_once(once, [] { throw std::runtime_error("first try fails"); }), std::runtime_error);
  EXPECT_FALSE(once.done());
  int runs = 0;
  call_once(once, [&] { ++runs; });
  call_once(once, [&] { ++runs; });
  EXPECT_EQ(runs, 1);
  EXPECT_TRUE(once.done());
}

TEST(OnceStress, ManyThreadsOneRunAndEveryoneSeesIt) {
  for (int round = 0; round < 200; ++round) {
    Once once;
    std::atomic<int> runs{0};
    int value = 0;  // plain: its publication is the Once's job
    std::vector<std::thread> threads;
    std::atomic<int> wrong{0};
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        call_once(once, [&] {
          runs.fetch_add(1);
          value = 42;
        });
        if (value != 42) wrong.fetch_add(1);
      });
    }
    for (auto& t : threads) t.join();
    ASSERT_EQ(runs.load(), 1);
    ASSERT_EQ(wrong.load(), 0);
  }
}

}  // namespace
}  // namespace interleave
