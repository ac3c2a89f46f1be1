// thread_local variables and errno of unmodified code are per model thread (docs/std.md): each
// std::thread of an exploration starts with its own fresh copy, as a new OS thread would, the body
// keeps the test thread's, and a thread_local's destructor runs when its thread ends.
#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <string>
#include <thread>

#include "interleave/explore.h"
#include "support.h"

namespace {

using interleave::Result;

using std_tests::options;

thread_local int t_counter = 0;
thread_local int t_initialized = 7;  // a new thread starts from the initial value, not the current one

TEST(StdThreadLocal, EachThreadCountsInItsOwnCopy) {
  t_counter = 100;  // the test thread's copy: the body (fiber 0) sees it, the threads do not
  const Result r = interleave::explore(options(300), [] {
    const auto count = [] {
      INTERLEAVE_ASSERT(t_counter == 0, "a new thread's thread_local starts at its initial value");
      INTERLEAVE_ASSERT(t_initialized == 7);
      for (int i = 0; i < 3; ++i) {
        ++t_counter;
        std::this_thread::yield();
      }
      t_initialized = 8;
      INTERLEAVE_ASSERT(t_counter == 3, "another thread's increments showed in this thread's copy");
    };
    const int before = t_counter;
    std::thread first(count);
    std::thread second(count);
    ++t_counter;
    first.join();
    second.join();
    INTERLEAVE_ASSERT(t_counter == before + 1);
    INTERLEAVE_ASSERT(t_initialized == 7, "the body's copy changed by another thread");
  });
  EXPECT_TRUE(r.passed()) << r;
  EXPECT_EQ(t_counter, 100 + 300);  // the body's increments, on the test thread's own copy
}

std::atomic<int> g_destroyed{0};
struct Tracked {
  std::string name = std::string(40, 'x');  // heap-allocated: a shared copy would be freed twice
  ~Tracked() { g_destroyed.fetch_add(1, std::memory_order_relaxed); }
};
thread_local Tracked t_tracked;

TEST(StdThreadLocal, DynamicInitializationRunsPerThreadAndDestructorsAtThreadEnd) {
  g_destroyed.store(0);
  const Result r = interleave::explore(options(200), [] {
    const int destroyed_before = g_destroyed.load(std::memory_order_relaxed);
    const auto use = [](char mark) {
      INTERLEAVE_ASSERT(t_tracked.name == std::string(40, 'x'), "a new thread's object was not constructed afresh");
      t_tracked.name[0] = mark;
      std::this_thread::yield();
      INTERLEAVE_ASSERT(t_tracked.name[0] == mark, "another thread wrote this thread's object");
    };
    std::thread first(use, 'a');
    std::thread second(use, 'b');
    first.join();
    second.join();
    INTERLEAVE_ASSERT(g_destroyed.load(std::memory_order_relaxed) == destroyed_before + 2,
                      "each thread's thread_local object is destroyed when the thread ends");
  });
  EXPECT_TRUE(r.passed()) << r;
}

TEST(StdThreadLocal, ErrnoIsPerThread) {
  const Result r = interleave::explore(options(300), [] {
    const auto set_and_check = [](int value) {
      errno = value;
      std::this_thread::yield();
      INTERLEAVE_ASSERT(errno == value, "another thread's errno showed in this one");
    };
    std::thread first(set_and_check, EINVAL);
    std::thread second(set_and_check, ENOENT);
    set_and_check(EAGAIN);
    first.join();
    second.join();
  });
  EXPECT_TRUE(r.passed()) << r;
}

// The control: a variable that is shared (not thread_local) is still one variable, and the same
// unsynchronized increments of it are a reported race.
int g_shared_counter = 0;
TEST(StdThreadLocal, ASharedCounterIsStillARace) {
  const Result r = interleave::explore(options(300), [] {
    g_shared_counter = 0;
    const auto count = [] { ++g_shared_counter; };
    std::thread first(count);
    std::thread second(count);
    first.join();
    second.join();
  });
  ASSERT_TRUE(r.failed()) << r;
  EXPECT_EQ(r.failure->kind, interleave::FailureKind::data_race) << r;
}

}  // namespace
