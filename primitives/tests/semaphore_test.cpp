#include "interleave/semaphore.h"

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

// Runs `f`, expects it to throw E, and returns the message (empty if nothing was thrown).
template <class E, class F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  ADD_FAILURE() << "no exception was thrown";
  return {};
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(Semaphore, DefaultHasNoPermitsAndIsUnbounded) {
  Semaphore s;
  EXPECT_EQ(s.value(), 0);
  EXPECT_FALSE(s.bounded());
  EXPECT_EQ(s.maximum(), Semaphore::max_permits);
  EXPECT_FALSE(s.try_acquire());
}

TEST(Semaphore, TryAcquireTakesExactlyTheInitialPermits) {
  Semaphore s(3);
  EXPECT_EQ(s.value(), 3);
  EXPECT_TRUE(s.try_acquire());
  EXPECT_TRUE(s.try_acquire());
  EXPECT_TRUE(s.try_acquire());
  EXPECT_FALSE(s.try_acquire());
  EXPECT_EQ(s.value(), 0);
}

TEST(Semaphore, ReleaseAddsPermits) {
  Semaphore s;
  s.release();
  EXPECT_EQ(s.value(), 1);
  s.release(4);
  EXPECT_EQ(s.value(), 5);
  s.acquire();
  EXPECT_EQ(s.value(), 4);
}

TEST(Semaphore, AcquireWithPermitDoesNotBlock) {
  Semaphore s(1);
  s.acquire();
  EXPECT_EQ(s.value(), 0);
}

TEST(Semaphore, AcquireWaitsForRelease) {
  Semaphore s;
  std::atomic<bool> acquired{false};
  std::atomic<pid_t> tid{0};
  std::thread t([&] {
    tid = current_tid();
    s.acquire();
    acquired = true;
  });
  while (tid.load() == 0) std::this_thread::yield();
  EXPECT_TRUE(wait_until_asleep_on_futex(tid.load()));
  EXPECT_FALSE(acquired.load());  // no permit yet: still waiting
  s.release();
  t.join();
  EXPECT_TRUE(acquired.load());
  EXPECT_EQ(s.value(), 0);
}

TEST(Semaphore, ReleaseOfNWakesNWaiters) {
  Semaphore s;
  constexpr int kWaiters = 4;
  std::atomic<int> through{0};
  std::vector<std::atomic<pid_t>> tids(kWaiters);
  std::vector<std::thread> threads;
  for (int i = 0; i < kWaiters; ++i) {
    threads.emplace_back([&, i] {
      tids[i] = current_tid();
      s.acquire();
      ++through;
    });
  }
  for (auto& tid : tids) {
    while (tid.load() == 0) std::this_thread::yield();
    EXPECT_TRUE(wait_until_asleep_on_futex(tid.load()));
  }
  EXPECT_EQ(through.load(), 0);
  s.release(kWaiters);
  for (auto& t : threads) t.join();
  EXPECT_EQ(through.load(), kWaiters);
  EXPECT_EQ(s.value(), 0);
}

TEST(Semaphore, ReleaseHappensBeforeTheAcquireThatTakesItsPermit) {
  Semaphore s;
  int data = 0;  // plain: ThreadSanitizer reports a race if the ordering is missing
  std::thread t([&] {
    data = 42;
    s.release();
  });
  s.acquire();
  EXPECT_EQ(data, 42);
  t.join();
}

TEST(Semaphore, ReleaseOfLessThanOnePermitThrowsAndChangesNothing) {
  Semaphore s(2);
  const std::string zero = message_of<std::invalid_argument>([&] { s.release(0); });
  EXPECT_TRUE(contains(zero, "Semaphore::release")) << zero;
  EXPECT_TRUE(contains(zero, ">= 1")) << zero;
  EXPECT_TRUE(contains(zero, "got 0")) << zero;
  const std::string negative = message_of<std::invalid_argument>([&] { s.release(-3); });
  EXPECT_TRUE(contains(negative, "got -3")) << negative;
  EXPECT_EQ(s.value(), 2);
}

TEST(Semaphore, ConstructorRejectsNegativeInitial) {
  const std::string m = message_of<std::invalid_argument>([] { Semaphore s(-1); });
  EXPECT_TRUE(contains(m, "initial")) << m;
  EXPECT_TRUE(contains(m, "got -1")) << m;
  EXPECT_TRUE(contains(m, "[0, " + std::to_string(Semaphore::max_permits) + "]")) << m;
  const std::string bounded = message_of<std::invalid_argument>([] { Semaphore s(-2, 5); });
  EXPECT_TRUE(contains(bounded, "[0, 5]")) << bounded;
  EXPECT_TRUE(contains(bounded, "got -2")) << bounded;
}

TEST(Semaphore, ConstructorRejectsInitialAboveMaximum) {
  const std::string m = message_of<std::invalid_argument>([] { Semaphore s(4, 3); });
  EXPECT_TRUE(contains(m, "[0, 3]")) << m;
  EXPECT_TRUE(contains(m, "got 4")) << m;
  const std::string huge = message_of<std::invalid_argument>([] { Semaphore s(Semaphore::max_permits + 1); });
  EXPECT_TRUE(contains(huge, "got " + std::to_string(Semaphore::max_permits + 1))) << huge;
}

TEST(Semaphore, ConstructorRejectsMaximumOutOfRange) {
  for (const std::int64_t bad : {std::int64_t{0}, std::int64_t{-7}, Semaphore::max_permits + 1}) {
    const std::string m = message_of<std::invalid_argument>([&] { Semaphore s(0, bad); });
    EXPECT_TRUE(contains(m, "maximum")) << m;
    EXPECT_TRUE(contains(m, "[1, " + std::to_string(Semaphore::max_permits) + "]")) << m;
    EXPECT_TRUE(contains(m, "got " + std::to_string(bad))) << m;
  }
}

TEST(Semaphore, ConstructorAcceptsTheEdgesOfTheRanges) {
  Semaphore a(0, 1);
  EXPECT_EQ(a.value(), 0);
  EXPECT_TRUE(a.bounded());
  EXPECT_EQ(a.maximum(), 1);
  Semaphore b(1, 1);
  EXPECT_EQ(b.value(), 1);
  Semaphore c(Semaphore::max_permits, Semaphore::max_permits);
  EXPECT_EQ(c.value(), Semaphore::max_permits);
  Semaphore d(Semaphore::max_permits);
  EXPECT_EQ(d.value(), Semaphore::max_permits);
}

TEST(Semaphore, BoundedReleasePastMaximumThrowsAndChangesNothing) {
  Semaphore s(1, 2);
  s.release();
  EXPECT_EQ(s.value(), 2);
  const std::string m = message_of<std::overflow_error>([&] { s.release(); });
  EXPECT_TRUE(contains(m, "from 2 to 3")) << m;
  EXPECT_TRUE(contains(m, "maximum of 2")) << m;
  EXPECT_EQ(s.value(), 2);
  EXPECT_TRUE(s.try_acquire());
  EXPECT_TRUE(s.try_acquire());
  EXPECT_FALSE(s.try_acquire());
}

TEST(Semaphore, BoundedReleaseOfManyIsAllOrNothing) {
  Semaphore s(0, 3);
  EXPECT_THROW(s.release(4), std::overflow_error);
  EXPECT_EQ(s.value(), 0);
  s.release(3);
  EXPECT_EQ(s.value(), 3);
  EXPECT_THROW(s.release(1), std::overflow_error);
  EXPECT_EQ(s.value(), 3);
}

TEST(Semaphore, UnboundedReleasePastTheLimitThrows) {
  Semaphore s(Semaphore::max_permits - 1);
  s.release();
  const std::string m = message_of<std::overflow_error>([&] { s.release(); });
  EXPECT_TRUE(contains(m, "largest count")) << m;
  EXPECT_EQ(s.value(), Semaphore::max_permits);
  Semaphore t;
  EXPECT_THROW(t.release(Semaphore::max_permits + 1), std::overflow_error);
  EXPECT_EQ(t.value(), 0);
}

TEST(Semaphore, TryAcquireForRejectsNegativeTimeout) {
  Semaphore s(1);
  const std::string m = message_of<std::invalid_argument>([&] { (void)s.try_acquire_for(-1ms); });
  EXPECT_TRUE(contains(m, "Semaphore::try_acquire_for")) << m;
  EXPECT_EQ(s.value(), 1);  // the failed call took nothing
}

TEST(Semaphore, TryAcquireForZeroIsOneTry) {
  Semaphore s(1);
  EXPECT_TRUE(s.try_acquire_for(0ms));
  EXPECT_FALSE(s.try_acquire_for(0ms));
  EXPECT_FALSE(s.try_acquire_for(std::chrono::nanoseconds(0)));
  EXPECT_EQ(s.value(), 0);
}

TEST(Semaphore, TryAcquireForExpiresAfterAtLeastTheTimeout) {
  Semaphore s;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(s.try_acquire_for(30ms));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 30ms);
  EXPECT_EQ(s.value(), 0);
}

TEST(Semaphore, TryAcquireForSucceedsWhenReleasedBeforeTheDeadline) {
  Semaphore s;
  bool got = false;
  std::atomic<pid_t> tid{0};
  std::thread t([&] {
    tid = current_tid();
    got = s.try_acquire_for(10s);
  });
  while (tid.load() == 0) std::this_thread::yield();
  EXPECT_TRUE(wait_until_asleep_on_futex(tid.load()));
  s.release();
  t.join();
  EXPECT_TRUE(got);
  EXPECT_EQ(s.value(), 0);
}

TEST(Semaphore, TryAcquireForTakesAnAvailablePermitWithHugeTimeout) {
  Semaphore s(1);
  EXPECT_TRUE(s.try_acquire_for(std::chrono::hours::max()));
  EXPECT_EQ(s.value(), 0);
}

TEST(Semaphore, TimedOutWaiterDoesNotStealALaterPermit) {
  Semaphore s;
  EXPECT_FALSE(s.try_acquire_for(5ms));
  s.release();
  EXPECT_EQ(s.value(), 1);
  EXPECT_TRUE(s.try_acquire());
}

TEST(ProcessSemaphore, SignalsAcrossProcesses) {
  struct State {
    ProcessSemaphore go{0};
    ProcessSemaphore done{0};
    int data = 0;
  };
  SharedObject<State> state;
  Process child(
      [&]() -> int {
        if (!state->go.try_acquire_for(10s)) return 2;
        if (state->data != 1) return 3;
        state->data = 2;
        state->done.release();
        return 0;
      },
      "semaphore child");
  child.start();
  EXPECT_TRUE(wait_until_asleep_on_futex(child.pid()));  // so the wake must cross processes
  state->data = 1;
  state->go.release();
  EXPECT_TRUE(state->done.try_acquire_for(10s));
  EXPECT_EQ(state->data, 2);
  EXPECT_EQ(child.join(), (ExitStatus{true, 0, 0}));
}

TEST(ProcessSemaphore, BoundsHoldersAcrossProcesses) {
  struct State {
    ProcessSemaphore slots{2, 2};
    std::atomic<int> holders{0};
    std::atomic<int> most{0};
  };
  SharedObject<State> state;
  auto work = [&]() -> int {
    for (int i = 0; i < 2000; ++i) {
      state->slots.acquire();
      const int now = state->holders.fetch_add(1) + 1;
      int most = state->most.load();
      while (now > most && !state->most.compare_exchange_weak(most, now)) {
      }
      state->holders.fetch_sub(1);
      state->slots.release();
    }
    return 0;
  };
  Process a(work, "a");
  Process b(work, "b");
  Process c(work, "c");
  a.start();
  b.start();
  c.start();
  EXPECT_TRUE(a.join().success());
  EXPECT_TRUE(b.join().success());
  EXPECT_TRUE(c.join().success());
  EXPECT_LE(state->most.load(), 2);
  EXPECT_GE(state->most.load(), 1);
  EXPECT_EQ(state->slots.value(), 2);
}

}  // namespace
}  // namespace interleave
