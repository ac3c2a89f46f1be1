// std::promise and std::future under the model, unmodified: libstdc++ waits for a future's value
// on a futex (syscall(SYS_futex) from inside libstdc++.so) and sets it through std::call_once, both
// modelled (docs/std.md). Each must-report case stands next to a must-not-report control.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <string>
#include <thread>

#include "interleave/explore.h"
#include "support.h"

namespace {

using interleave::FailureKind;
using interleave::Result;

using std_tests::options;

TEST(StdFuture, GetWaitsForTheValueAndACycleThroughItIsADeadlock) {
  // The producer sets the value, in the bug only after it saw the consumer past its get().
  const auto body = [](bool wait_for_consumer_first) {
    std::promise<int> promise;
    std::future<int> future = promise.get_future();
    std::atomic<bool> consumed{false};
    int side = 0;
    std::thread producer([&] {
      side = 5;  // ordered before the get() that returns the value
      if (wait_for_consumer_first) consumed.wait(false);
      promise.set_value(7);
    });
    INTERLEAVE_ASSERT(future.get() == 7 && side == 5);
    consumed = true;
    consumed.notify_one();
    producer.join();
  };
  const Result control = interleave::explore(options(300), [&] { body(false); });
  EXPECT_TRUE(control.passed()) << control;
  const Result cycle = interleave::explore(options(300), [&] { body(true); });
  ASSERT_TRUE(cycle.failed()) << cycle;
  EXPECT_EQ(cycle.failure->kind, FailureKind::deadlock) << cycle;
}

}  // namespace
