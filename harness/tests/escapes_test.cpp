// What a body may not do inside an exploration, each reported clearly instead of a crash, a hang
// or a pass that means nothing: nesting explorations, exit(), fork(), starting a real thread,
// and leaving a thread unjoined.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>

#include "interleave/explore.h"
#include "interleave/stress.h"
#include "interleave/thread.h"

namespace interleave {
namespace {

using P = ModelPlatform;

Options schedules(std::uint64_t n, unsigned jobs = 1) {
  Options options;
  options.schedules = n;
  options.jobs = jobs;
  return options;
}

void expect_failure(const Result& result, FailureKind kind, const std::string& says) {
  ASSERT_TRUE(result.failed()) << result.report();
  EXPECT_EQ(result.failure->kind, kind) << result.report();
  EXPECT_NE(result.failure->message.find(says), std::string::npos) << result.report();
  EXPECT_NE(result.report().find("reproduce: INTERLEAVE_REPLAY="), std::string::npos) << result.report();
}

// The inner exploration asked for other stacks than the outer one runs on: it used to free the
// running fiber's stack.
TEST(Escapes, ANestedExploreWithAnotherStackSizeIsAnError) {
  const Result result = explore(schedules(3), [] {
    Options inner = schedules(3);
    inner.stack_kib = 512;
    (void)explore(inner, [] {});
  });
  expect_failure(result, FailureKind::exception, "explore() was called inside an explored body");
}

// With two jobs the inner exploration ran on a worker thread and was misreported as a
// nondeterministic test.
TEST(Escapes, ANestedExploreOnWorkerThreadsIsAnError) {
  const Result result = explore(schedules(8, 2), [] { (void)explore(schedules(3), [] {}); });
  expect_failure(result, FailureKind::exception, "explore() was called inside an explored body");
}

TEST(Escapes, StressInsideABodyIsAnError) {
  const Result result = explore(schedules(3), [] { (void)stress(Options{}, []<Platform Q>() {}); });
  expect_failure(result, FailureKind::exception, "stress() was called inside an explored body");
}

// exit() inside a body ran the process's destructors on the fiber's stack (a segfault, the
// status lost): now the process ends with the body's status after the report.
TEST(EscapesDeathTest, ExitInsideABodyKeepsItsStatusAndPrintsTheReproduceLine) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT((void)explore(schedules(3), [] { std::exit(7); }), ::testing::ExitedWithCode(7),
              "exit\\(7\\) was called inside an explored body, in fiber 0.*\n.*reproduce: INTERLEAVE_REPLAY=");
}

TEST(EscapesDeathTest, ExitOutsideABodyIsTheLibraryExit) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(std::exit(5), ::testing::ExitedWithCode(5), "");
}

// fork() inside a body left the child exploring too (each process printing a report).
TEST(Escapes, ForkInsideABodyFailsTheSchedule) {
  const Result result = explore(schedules(3), [] {
    const pid_t child = ::fork();
    if (child == 0) ::_exit(0);  // only reached with the old behaviour
    INTERLEAVE_ASSERT(child == -1);
  });
  expect_failure(result, FailureKind::contract_violation, "fork() was called inside an explored body");
}

// A real thread incrementing beside the fibers ran unscheduled, and the exploration passed.
TEST(Escapes, ARealThreadInsideABodyFailsTheSchedule) {
  const Result result = explore(schedules(20), []<Platform Q>() {
    typename Q::template Atomic<int> counter{0};
    std::thread real([&] {
      for (int i = 0; i < 100; ++i) counter.fetch_add(1);
    });
    for (int i = 0; i < 100; ++i) counter.fetch_add(1);
    real.join();
    INTERLEAVE_ASSERT(counter.load() == 200);
  });
  expect_failure(result, FailureKind::contract_violation, "a real thread (std::thread, pthread_create)");
}

TEST(Escapes, RealThreadsOutsideABodyStillStart) {
  std::atomic<int> ran{0};
  std::thread t([&] { ran.store(1); });
  t.join();
  EXPECT_EQ(ran.load(), 1);
}

// A thread never joined, whose objects are destroyed under it, was reported as a data race
// (the destruction unordered with its last use) rather than as the missing join it is.
TEST(Escapes, AnUnjoinedThreadIsReportedAsUnjoinedNotAsARace) {
  const Result result = explore(schedules(200), [] {
    std::optional<P::Thread> never_joined;  // destroyed after the counter: it sees the counter die
    P::Atomic<int> done{0};
    P::Atomic<int> counter{0};
    never_joined.emplace([&] {
      counter.fetch_add(1, std::memory_order_relaxed);
      done.store(1, std::memory_order_relaxed);
      for (;;) P::yield();  // still running when the body returns
    });
    while (done.load(std::memory_order_relaxed) == 0) P::yield();  // no happens-before: relaxed
  });
  expect_failure(result, FailureKind::unjoined_fiber, "fiber 1");
}

}  // namespace
}  // namespace interleave
