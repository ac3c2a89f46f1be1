#include "interleave/event.h"

#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "interleave/process.h"
#include "interleave/shared_memory.h"
#include "support/asleep.h"

namespace interleave {
namespace {

using namespace std::chrono_literals;

using test_support::current_tid;
using test_support::wait_until_asleep_on_futex;

TEST(Event, StartsClear) {
  Event e;
  EXPECT_FALSE(e.is_set());
  EXPECT_FALSE(e.wait_for(0ms));
}

TEST(Event, SetAndClearChangeTheFlag) {
  Event e;
  e.set();
  EXPECT_TRUE(e.is_set());
  e.set();  // setting a set event keeps it set
  EXPECT_TRUE(e.is_set());
  e.clear();
  EXPECT_FALSE(e.is_set());
  e.clear();  // clearing a clear event keeps it clear
  EXPECT_FALSE(e.is_set());
  e.set();
  EXPECT_TRUE(e.is_set());
}

TEST(Event, WaitOnSetEventReturnsAtOnce) {
  Event e;
  e.set();
  e.wait();
  EXPECT_TRUE(e.wait_for(0ms));
  EXPECT_TRUE(e.wait_for(10s));
  EXPECT_TRUE(e.is_set());  // waiting does not consume the flag
}

TEST(Event, WaitBlocksUntilSet) {
  Event e;
  std::atomic<bool> through{false};
  std::atomic<pid_t> tid{0};
  std::thread t([&] {
    tid = current_tid();
    e.wait();
    through = true;
  });
  while (tid.load() == 0) std::this_thread::yield();
  EXPECT_TRUE(wait_until_asleep_on_futex(tid.load()));
  EXPECT_FALSE(through.load());
  e.set();
  t.join();
  EXPECT_TRUE(through.load());
}

TEST(Event, SetReleasesEveryWaiter) {
  Event e;
  constexpr int kWaiters = 6;
  std::atomic<int> through{0};
  std::vector<std::atomic<pid_t>> tids(kWaiters);
  std::vector<std::thread> threads;
  for (int i = 0; i < kWaiters; ++i) {
    threads.emplace_back([&, i] {
      tids[i] = current_tid();
      e.wait();
      ++through;
    });
  }
  for (auto& tid : tids) {
    while (tid.load() == 0) std::this_thread::yield();
    EXPECT_TRUE(wait_until_asleep_on_futex(tid.load()));
  }
  EXPECT_EQ(through.load(), 0);
  e.set();
  for (auto& t : threads) t.join();
  EXPECT_EQ(through.load(), kWaiters);
}

TEST(Event, SetThenClearStillReleasesWaiters) {
  Event e;
  constexpr int kWaiters = 4;
  std::atomic<int> returned_true{0};
  std::vector<std::atomic<pid_t>> tids(kWaiters);
  std::vector<std::thread> threads;
  for (int i = 0; i < kWaiters; ++i) {
    threads.emplace_back([&, i] {
      tids[i] = current_tid();
      // True, and before the deadline: released by the set, not by a last look at expiry.
      const auto start = std::chrono::steady_clock::now();
      if (e.wait_for(5s) && std::chrono::steady_clock::now() - start < 5s) ++returned_true;
    });
  }
  for (auto& tid : tids) {
    while (tid.load() == 0) std::this_thread::yield();
    EXPECT_TRUE(wait_until_asleep_on_futex(tid.load()));
  }
  e.set();
  e.clear();
  for (auto& t : threads) t.join();
  EXPECT_EQ(returned_true.load(), kWaiters);
  EXPECT_FALSE(e.is_set());
}

TEST(Event, SetThenClearReleasesPlainWait) {
  Event e;
  std::atomic<bool> through{false};
  std::atomic<pid_t> tid{0};
  std::thread t([&] {
    tid = current_tid();
    e.wait();
    through = true;
  });
  while (tid.load() == 0) std::this_thread::yield();
  EXPECT_TRUE(wait_until_asleep_on_futex(tid.load()));
  e.set();
  e.clear();
  t.join();  // would hang if the waiter missed the set
  EXPECT_TRUE(through.load());
}

TEST(Event, WaitForRejectsNegativeTimeout) {
  Event e;
  try {
    (void)e.wait_for(-1ms);
    ADD_FAILURE() << "no exception";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("Event::wait_for"), std::string::npos) << error.what();
  }
  e.set();
  EXPECT_THROW((void)e.wait_for(-1s), std::invalid_argument);  // even when set: a caller bug
}

TEST(Event, WaitForZeroReportsTheFlag) {
  Event e;
  EXPECT_FALSE(e.wait_for(0s));
  e.set();
  EXPECT_TRUE(e.wait_for(0s));
}

TEST(Event, WaitForReturnsFalseWhenNeverSetAfterAtLeastTheTimeout) {
  Event e;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(e.wait_for(30ms));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 30ms);
  EXPECT_FALSE(e.is_set());
}

TEST(Event, WaitForReturnsTrueWhenSetBeforeTheDeadline) {
  Event e;
  bool result = false;
  std::atomic<pid_t> tid{0};
  std::thread t([&] {
    tid = current_tid();
    result = e.wait_for(10s);
  });
  while (tid.load() == 0) std::this_thread::yield();
  EXPECT_TRUE(wait_until_asleep_on_futex(tid.load()));
  e.set();
  t.join();
  EXPECT_TRUE(result);
}

TEST(Event, WaitForHugeTimeoutDoesNotOverflow) {
  Event e;
  e.set();
  EXPECT_TRUE(e.wait_for(std::chrono::hours::max()));
}

TEST(Event, ClearedEventBlocksAgain) {
  Event e;
  e.set();
  e.clear();
  EXPECT_FALSE(e.wait_for(5ms));
}

TEST(Event, SetHappensBeforeTheWaitItReleases) {
  Event e;
  int data = 0;  // plain: ThreadSanitizer reports a race if the ordering is missing
  std::thread t([&] {
    data = 7;
    e.set();
  });
  e.wait();
  EXPECT_EQ(data, 7);
  t.join();
}

TEST(Event, IsSetTrueMakesTheSettersWritesVisible) {
  Event e;
  int data = 0;
  std::thread t([&] {
    data = 9;
    e.set();
  });
  while (!e.is_set()) std::this_thread::yield();
  EXPECT_EQ(data, 9);
  t.join();
}

TEST(ProcessEvent, SignalsAcrossProcesses) {
  struct State {
    ProcessEvent go;
    ProcessEvent done;
    int data = 0;
  };
  SharedObject<State> state;
  Process child(
      [&]() -> int {
        if (!state->go.wait_for(10s)) return 2;
        if (state->data != 1) return 3;
        state->data = 2;
        state->done.set();
        return 0;
      },
      "event child");
  child.start();
  EXPECT_TRUE(wait_until_asleep_on_futex(child.pid()));
  state->data = 1;
  state->go.set();
  EXPECT_TRUE(state->done.wait_for(10s));
  EXPECT_EQ(state->data, 2);
  EXPECT_EQ(child.join(), (ExitStatus{true, 0, 0}));
}

TEST(ProcessEvent, SetThenClearReleasesWaitersInOtherProcesses) {
  struct State {
    ProcessEvent gate;
  };
  SharedObject<State> state;
  auto waiter = [&]() -> int { return state->gate.wait_for(10s) ? 0 : 4; };
  Process a(waiter, "a");
  Process b(waiter, "b");
  a.start();
  b.start();
  ASSERT_TRUE(wait_until_asleep_on_futex(a.pid()));
  ASSERT_TRUE(wait_until_asleep_on_futex(b.pid()));
  state->gate.set();
  state->gate.clear();
  EXPECT_EQ(a.join(), (ExitStatus{true, 0, 0}));
  EXPECT_EQ(b.join(), (ExitStatus{true, 0, 0}));
}

}  // namespace
}  // namespace interleave
