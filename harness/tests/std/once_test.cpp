// std::call_once (pthread_once) and function-local statics (__cxa_guard_*) under the model,
// unmodified (docs/std.md): a thread that arrives while another initializes waits for it as a
// model wait, and the initialization happens-before its use. Each must-report case stands next to
// a must-not-report control.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

#include "interleave/explore.h"
#include "support.h"

namespace {

using interleave::FailureKind;
using interleave::Result;

using std_tests::options;

TEST(StdCallOnce, TheRoutineRunsOnceAndHappensBeforeEveryReturn) {
  const Result r = interleave::explore(options(500), [] {
    std::once_flag flag;
    int runs = 0;
    int data = 0;
    const auto use = [&](int& seen) {
      std::call_once(flag, [&] {
        ++runs;
        std::this_thread::yield();  // the other caller may arrive while this one initializes
        data = 42;
      });
      seen = data;  // no race: the routine happens-before every call_once's return
    };
    int seen_there = 0;
    int seen_here = 0;
    std::thread other(use, std::ref(seen_there));
    use(seen_here);
    other.join();
    INTERLEAVE_ASSERT(runs == 1);
    INTERLEAVE_ASSERT(seen_there == 42 && seen_here == 42);
  });
  EXPECT_TRUE(r.passed()) << r;
}

TEST(StdCallOnce, ARoutineThatWaitsForTheOtherCallerIsADeadlock) {
  // The routine waits for something the other thread does only after its own call_once, where it
  // waits for the routine: a hang on real threads, a DEADLOCK here. The control signals first.
  const auto body = [](bool signal_first) {
    std::once_flag flag;
    std::atomic<bool> signalled{false};
    const auto routine = [&] {
      while (!signalled.load()) signalled.wait(false);
    };
    std::thread other([&] {
      if (signal_first) {
        signalled.store(true);
        signalled.notify_all();
      }
      std::call_once(flag, routine);
      if (!signal_first) {
        signalled.store(true);
        signalled.notify_all();
      }
    });
    std::call_once(flag, routine);
    other.join();
  };
  const Result control = interleave::explore(options(300), [&] { body(true); });
  EXPECT_TRUE(control.passed()) << control;
  const Result stuck = interleave::explore(options(300), [&] { body(false); });
  ASSERT_TRUE(stuck.failed()) << stuck;
  EXPECT_EQ(stuck.failure->kind, FailureKind::deadlock) << stuck;
  EXPECT_NE(stuck.failure->message.find("pthread_once"), std::string::npos) << stuck.failure->message;
  EXPECT_NE(stuck.failure->message.find("once_test.cpp:"), std::string::npos) << stuck.failure->message;
}

TEST(StdCallOnce, AThrowingRoutineLeavesTheFlagForTheNextCaller) {
  const Result r = interleave::explore(options(300), [] {
    std::once_flag flag;
    std::atomic<int> attempts{0};
    int value = 0;
    const auto call = [&] {
      try {
        std::call_once(flag, [&] {
          if (attempts.fetch_add(1) == 0) throw std::runtime_error("first attempt fails");
          value = 7;
        });
      } catch (const std::runtime_error&) {
        std::call_once(flag, [&] { value = 7; });  // the flag is still unset: this one runs
      }
      INTERLEAVE_ASSERT(value == 7);
    };
    std::thread other(call);
    call();
    other.join();
  });
  EXPECT_TRUE(r.passed()) << r;
}

// A function-local static whose constructor lets the other thread run into the same static: it
// waits until both threads have `arrived`, then sleeps (virtual time), so the other thread reaches
// the guard and waits there. Arriving only after one's own use of the static is a cycle: the
// constructor then waits for a thread that waits for the constructor.
struct Slow {
  explicit Slow(std::atomic<int>& arrived) {
    for (int seen = arrived.load(); seen < 2; seen = arrived.load()) arrived.wait(seen);
    std::this_thread::sleep_for(std::chrono::seconds(1));
    value = 42;
  }
  int value = 0;
};
std::atomic<int> g_constructions{0};

void arrive(std::atomic<int>& arrived) {
  arrived.fetch_add(1);
  arrived.notify_all();
}

template <int kTag>  // one static per test: a static initialized once stays initialized
int use_static(std::atomic<int>& arrived) {
  static Slow slow(arrived);
  g_constructions.fetch_add(1, std::memory_order_relaxed);
  return slow.value;
}

TEST(StdStaticInit, ASecondThreadWaitsForTheInitializerAndSeesItsWrites) {
  int constructed_before = g_constructions.load();
  const Result r = interleave::explore(options(20), [] {
    std::atomic<int> arrived{0};
    int seen_there = 0;
    std::thread other([&] {
      arrive(arrived);
      seen_there = use_static<1>(arrived);
    });
    arrive(arrived);
    const int seen_here = use_static<1>(arrived);
    other.join();
    INTERLEAVE_ASSERT(seen_here == 42 && seen_there == 42);
  });
  EXPECT_TRUE(r.passed()) << r;
  EXPECT_EQ(g_constructions.load() - constructed_before, 40);  // two uses per schedule, no hang
}

TEST(StdStaticInit, AnInitializerWaitingForTheOtherUserIsADeadlock) {
  const Result r = interleave::explore(options(20), [] {
    std::atomic<int> arrived{0};
    std::thread other([&] {
      use_static<2>(arrived);
      arrive(arrived);
    });
    use_static<2>(arrived);
    arrive(arrived);
    other.join();
  });
  ASSERT_TRUE(r.failed()) << r;
  EXPECT_EQ(r.failure->kind, FailureKind::deadlock) << r;
  EXPECT_NE(r.failure->message.find("__cxa_guard_acquire"), std::string::npos) << r.failure->message;
}

}  // namespace
