#include "interleave/once.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
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

using test_support::wait_until_asleep_on_futex;

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

TEST(ProcessOnce, ExactlyOneOfSeveralProcessesRunsItAndAllSeeItsEffect) {
  constexpr int kCallers = 4;
  for (int round = 0; round < 10; ++round) {
    struct State {
      ProcessOnce once;
      ProcessEvent go;  // released together, so the callers race for the run
      std::atomic<int> runs{0};
      int value = 0;  // plain: its publication is the Once's job
    };
    SharedObject<State> state;
    const auto caller = [&]() -> int {
      if (!state->go.wait_for(10s)) return 2;
      call_once(state->once, [&] {
        state->runs.fetch_add(1);
        state->value = 42;
      });
      if (!state->once.done()) return 3;
      return state->value == 42 ? 0 : 4;
    };
    std::vector<std::unique_ptr<Process>> callers;
    for (int i = 0; i < kCallers; ++i) {
      callers.push_back(std::make_unique<Process>(caller, "caller " + std::to_string(i)));
      callers.back()->start();
    }
    for (const auto& process : callers) ASSERT_TRUE(wait_until_asleep_on_futex(process->pid()));
    state->go.set();
    for (const auto& process : callers) expect_success_within_10s(*process);
    ASSERT_EQ(state->runs.load(), 1) << "round " << round;
  }
}

TEST(ProcessOnce, CallersInOtherProcessesWaitForTheRunInProgress) {
  struct State {
    ProcessOnce once;
    ProcessEvent running;
    std::atomic<int> entering{0};  // callers whose next sleep is in call_once
    std::atomic<int> other_runs{0};
    int value = 0;
  };
  SharedObject<State> state;
  const auto caller = [&]() -> int {
    if (!state->running.wait_for(10s)) return 2;
    state->entering.fetch_add(1);
    call_once(state->once, [&] { state->other_runs.fetch_add(1); });
    return state->value == 42 ? 0 : 3;
  };
  Process a(caller, "caller a");
  Process b(caller, "caller b");
  a.start();
  b.start();
  call_once(state->once, [&] {
    state->running.set();
    ASSERT_TRUE(wait_for_value(state->entering, 2));
    ASSERT_TRUE(wait_until_asleep_on_futex(a.pid()));
    ASSERT_TRUE(wait_until_asleep_on_futex(b.pid()));
    state->value = 42;
  });
  expect_success_within_10s(a);
  expect_success_within_10s(b);
  EXPECT_EQ(state->other_runs.load(), 0);
}

TEST(ProcessOnce, AnExceptionInOneProcessLetsAnotherRunIt) {
  struct State {
    ProcessOnce once;
    int value = 0;
  };
  SharedObject<State> state;
  Process child(
      [&]() -> int {
        try {
          call_once(state->once, [] { throw std::runtime_error("the child's run fails"); });
          return 2;
        } catch (const std::runtime_error&) {
          return state->once.done() ? 3 : 0;
        }
      },
      "failing caller");
  child.start();
  expect_success_within_10s(child);
  EXPECT_FALSE(state->once.done());
  int runs = 0;
  call_once(state->once, [&] {
    ++runs;
    state->value = 42;
  });
  EXPECT_EQ(runs, 1);
  EXPECT_TRUE(state->once.done());
  EXPECT_EQ(state->value, 42);
}

}  // namespace
}  // namespace interleave
