// Fibers: misuse. A null entry is rejected with an exception; switching to a fiber never reset,
// switching from a context that is not the running one, and an entry that returns are contract
// violations that stop the program (each checked in a child process).
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>
#include <functional>
#include <stdexcept>
#include <utility>

#include "fiber_task.h"
#include "interleave/detail/fiber.h"
#include "interleave/process.h"

namespace interleave::detail {
namespace {

using fiber_task::kStack;

TEST(Fiber, NullEntryIsRejected) {
  Fiber f(kStack);
  EXPECT_THROW(f.reset(nullptr, nullptr), std::invalid_argument);
  EXPECT_FALSE(f.resumable());
}

// Misuse stops the program with a message (checked in a child process).
ExitStatus run_in_child(std::function<void()> body) {
  Process child(
      [body = std::move(body)] {
        body();
        return 0;
      },
      "misuse");
  child.start();
  return child.join();
}

TEST(Fiber, SwitchingToAFiberNeverResetIsAContractViolation) {
  const ExitStatus s = run_in_child([] {
    Fiber never(kStack);
    switch_fiber(ThreadContext::current(), never, false);
  });
  EXPECT_FALSE(s.exited) << s.describe();
  EXPECT_EQ(s.signal, SIGABRT) << s.describe();
}

TEST(Fiber, SwitchingToTheRunningContextIsAContractViolation) {
  const ExitStatus s = run_in_child([] {
    Fiber fiber(kStack);
    fiber.reset([](void*) { std::abort(); }, nullptr);
    // `from` is wrong: the fiber is not the one running.
    switch_fiber(fiber, ThreadContext::current(), false);
  });
  EXPECT_FALSE(s.exited) << s.describe();
  EXPECT_EQ(s.signal, SIGABRT) << s.describe();
}

TEST(Fiber, EntryReturningIsAContractViolation) {
  const ExitStatus s = run_in_child([] {
    Fiber fiber(kStack);
    fiber.reset([](void*) {}, nullptr);
    switch_fiber(ThreadContext::current(), fiber, true);
  });
  EXPECT_FALSE(s.exited) << s.describe();
  EXPECT_EQ(s.signal, SIGABRT) << s.describe();
}

}  // namespace
}  // namespace interleave::detail
