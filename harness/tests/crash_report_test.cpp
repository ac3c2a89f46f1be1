// A schedule that crashes or hangs the process still prints its reproduce line: a fatal signal, a
// fiber's stack overflow (also on a worker thread, and past the guard region in one frame), a fiber
// stack that cannot be mapped, and a fiber that makes no scheduling point (the watchdog), with the
// watchdog's control.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "explore_bodies.h"
#include "interleave/detail/fiber.h"
#include "interleave/explore.h"
#include "interleave/stress.h"

namespace interleave {
namespace {

using explore_bodies::LockedCounter;
using explore_bodies::with_schedules;

TEST(ExploreDeathTest, FatalSignalPrintsTheReproduceLine) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  // The token printed from the signal handler carries the fingerprint of the points run until the
  // crash: the same as a report's token for a body that fails at the same point without crashing.
  Options o = with_schedules(5);
  o.jobs = 1;  // with several jobs, the schedule named is whichever crashed first
  const Result failing = explore(o, []<Platform P>() {
    typename P::template Atomic<std::uint32_t> x{0};
    x.store(1);
    INTERLEAVE_ASSERT(x.load() == 2);
  });
  ASSERT_TRUE(failing.failed());
  const std::string fingerprint = failing.schedule.test.text();
  EXPECT_EQ(fingerprint.substr(0, 4), "2-1-");
  EXPECT_DEATH(
      {
        (void)explore(o, []<Platform P>() {
          typename P::template Atomic<std::uint32_t> x{0};
          x.store(1);
          (void)x.load();
          std::abort();
        });
      },
      "FATAL SIGNAL .* while running schedule random\\.s=1eaf5eed\\.i=0[^\n]*\\.t=" + fingerprint +
          "\n.*\nreproduce: "
          "INTERLEAVE_REPLAY=random\\.s=1eaf5eed\\.i=0\\.w=[0-9]+\\.m=[0-9]+\\.v=weak-[0-9]+-[0-9]+\\.t=" +
          fingerprint + " ");
}

// Recursion far deeper than a 64 KiB stack; the volatile frame keeps it from being optimized away.
int recurse(int depth) {
  volatile char frame[256];
  frame[0] = static_cast<char>(depth);
  if (depth > 1'000'000) return frame[0];
  return recurse(depth + 1) + frame[0];
}

TEST(ExploreDeathTest, StackOverflowInAFiberIsReportedWithTheReproduceLine) {
#if INTERLEAVE_ASAN || INTERLEAVE_TSAN
  GTEST_SKIP() << "sanitizers handle SIGSEGV themselves and use stacks differently";
#endif
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        Options o = with_schedules(1);
        o.stack_kib = 64;
        (void)explore(o, []<Platform P>() {
          typename P::Thread t([] { (void)recurse(0); });
          t.join();
        });
      },
      "FATAL SIGNAL .*stack overflow in a fiber.* in fiber 1 after step [0-9]+ while running schedule "
      "random\\.s=1eaf5eed[^\n]*\n.*\nreproduce: INTERLEAVE_REPLAY=random\\.s=1eaf5eed");
}

// A function with a frame of `Bytes`, touching only its lowest byte (the end a stack overflow
// reaches first): without stack probes, the compiler moves the stack pointer down by the whole
// frame at once, possibly past the stack's guard region.
template <std::size_t Bytes>
[[gnu::noinline]] int touch_large_frame() {
  volatile char frame[Bytes];
  frame[0] = 1;
  return frame[0];
}

// The body's main fiber overflows its stack with a single large frame while fiber 1, whose stack
// the kernel mapped just below the main fiber's guard region, is suspended.
template <std::size_t FrameBytes>
void overflow_beside_a_neighbour() {
  Options o = with_schedules(1);
  o.jobs = 1;
  o.stack_kib = 64;
  (void)explore(o, []<Platform P>() {
    typename P::template Atomic<int> started{0};
    typename P::template Atomic<int> go{0};
    typename P::Thread neighbour([&] {
      started.store(1);
      while (go.load() == 0) P::yield();
    });
    while (started.load() == 0) P::yield();  // the neighbour has a stack now
    (void)touch_large_frame<FrameBytes>();
    go.store(1);
    neighbour.join();
  });
}

// Regression: the guard region was 16 KiB and nothing probed the stack, so a larger frame jumped
// it: the overflow went unreported and wrote into the neighbouring fiber's stack (seen as an
// assertion failing in the wrong fiber, or a pass). Now the guard is Fiber::kGuardBytes (256 KiB)
// and code linking interleave::harness is built with -fstack-clash-protection.
TEST(ExploreDeathTest, FrameLargerThanAPageCannotJumpTheGuardRegion) {
#if INTERLEAVE_ASAN || INTERLEAVE_TSAN
  GTEST_SKIP() << "sanitizers handle SIGSEGV themselves and use stacks differently";
#endif
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(overflow_beside_a_neighbour<100 * 1024>(),
               "FATAL SIGNAL .*stack overflow in a fiber.* in fiber 0 after step [0-9]+ while running schedule "
               "random\\.s=1eaf5eed[^\n]*\n.*\nreproduce: INTERLEAVE_REPLAY=random\\.s=1eaf5eed");
}

// A frame larger than the guard region itself: caught because this test, like any code linking
// interleave::harness, is built with stack probes.
TEST(ExploreDeathTest, FrameLargerThanTheGuardRegionIsCaughtByStackProbes) {
#if INTERLEAVE_ASAN || INTERLEAVE_TSAN
  GTEST_SKIP() << "sanitizers handle SIGSEGV themselves and use stacks differently";
#endif
  static_assert(detail::Fiber::kGuardBytes < 1024 * 1024);
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(overflow_beside_a_neighbour<1024 * 1024>(),
               "FATAL SIGNAL .*stack overflow in a fiber.* in fiber 0 after step [0-9]+ while running schedule "
               "random\\.s=1eaf5eed[^\n]*\n.*\nreproduce: INTERLEAVE_REPLAY=random\\.s=1eaf5eed");
}

// Regression: the alternate signal stack was installed only on the thread that first called
// explore(), so an overflow on one of the worker threads (jobs >= 2) killed the process with no
// output at all.
TEST(ExploreDeathTest, StackOverflowOnAWorkerThreadIsReportedWithTheReproduceLine) {
#if INTERLEAVE_ASAN || INTERLEAVE_TSAN
  GTEST_SKIP() << "sanitizers handle SIGSEGV themselves and use stacks differently";
#endif
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        Options o = with_schedules(2);
        o.jobs = 2;
        o.stack_kib = 64;
        (void)explore(o, []<Platform P>() {
          // The calling thread runs one schedule and waits in it until the process ends, so the
          // other schedule runs on a worker thread, where the overflow happens.
          if (::gettid() == ::getpid()) {
            for (;;) ::pause();
          }
          typename P::Thread t([] { (void)recurse(0); });
          t.join();
        });
      },
      "FATAL SIGNAL .*stack overflow in a fiber.* in fiber 1 after step [0-9]+ while running schedule "
      "random\\.s=1eaf5eed\\.i=[01][^\n]*\n.*\nreproduce: INTERLEAVE_REPLAY=random\\.s=1eaf5eed\\.i=[01]");
}

// The process's address space now, in bytes (VmSize in /proc/self/status).
std::uint64_t address_space_in_use() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmSize:", 0) == 0) return std::stoull(line.substr(7)) * 1024;
  }
  return 0;
}

// Starts 64 threads that stay alive until all have started, each needing a 16 MiB stack, under an
// address-space limit that admits about 30 of them. Exits 0 when the exploration reports that.
[[noreturn]] void start_more_fibers_than_the_address_space_holds() {
  constexpr int kThreads = 64;
  const std::uint64_t limit = address_space_in_use() + std::uint64_t{512} * 1024 * 1024;
  const rlimit address_space{limit, limit};
  if (::setrlimit(RLIMIT_AS, &address_space) != 0) std::exit(2);
  Options o = with_schedules(1);
  o.jobs = 1;
  o.stack_kib = 16 * 1024;
  o.shrink_runs = 0;
  const Result r = explore(o, []<Platform P>() {
    typename P::template Atomic<int> started{0};
    std::vector<std::unique_ptr<typename P::Thread>> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.push_back(std::make_unique<typename P::Thread>([&] {
        started.fetch_add(1);
        while (started.load() < kThreads) P::yield();
      }));
    }
    for (auto& t : threads) t->join();
  });
  std::fputs(r.report().c_str(), stderr);
  std::exit(r.failed() && r.failure->kind == FailureKind::resources_exhausted ? 0 : 1);
}

// Regression: a fiber stack that could not be mapped (past about 32k live fibers, at the limit of
// vm.max_map_count; here an address-space limit) threw out of the scheduler on a fiber, whose
// entry cannot throw: std::terminate, with no report.
TEST(ExploreDeathTest, FiberStackThatCannotBeMappedFailsTheScheduleNamingTheCause) {
#if INTERLEAVE_ASAN || INTERLEAVE_TSAN
  GTEST_SKIP() << "sanitizers reserve more address space than the limit this test sets";
#endif
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(start_more_fibers_than_the_address_space_holds(), ::testing::ExitedWithCode(0),
              "RESOURCES EXHAUSTED .*\n  fiber [0-9]+ could not be started: Fiber: mapping a stack of [0-9]+ bytes "
              "failed: Cannot allocate memory; [0-9]+ fibers are alive in this schedule(.|\n)*reproduce: "
              "INTERLEAVE_REPLAY=");
}

// A body whose second fiber spins on a plain variable that nothing sets: no scheduling point,
// ever. With a 200 ms watchdog.
[[noreturn]] void spin_without_a_scheduling_point(unsigned jobs) {
  Options o = with_schedules(jobs);
  o.jobs = jobs;
  o.watchdog_ms = 200;
  (void)explore(o, []<Platform P>() {
    typename P::Thread spinner([] {
      volatile bool stop = false;
      while (!stop) {
      }
    });
    spinner.join();
  });
  std::exit(0);  // not reached: the watchdog ends the process
}

// Regression: such a body hung the exploration for ever, with no output even with progress on.
TEST(ExploreDeathTest, FiberMakingNoSchedulingPointIsReportedByTheWatchdog) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(spin_without_a_scheduling_point(1), ::testing::ExitedWithCode(kHungExitCode),
              "WATCHDOG: fiber 1 made no scheduling point for 200 ms while running schedule "
              "random\\.s=1eaf5eed\\.i=0[^\n]*\n  it has made none since it started \\(the schedule was at step "
              "[0-9]+\\)(.|\n)*\nreproduce: INTERLEAVE_REPLAY=random\\.s=1eaf5eed\\.i=0");
}

TEST(ExploreDeathTest, FiberMakingNoSchedulingPointOnAWorkerThreadIsReportedByTheWatchdog) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(spin_without_a_scheduling_point(2), ::testing::ExitedWithCode(kHungExitCode),
              "WATCHDOG: fiber 1 made no scheduling point for 200 ms while running schedule "
              "random\\.s=1eaf5eed\\.i=[01](.|\n)*\nreproduce: INTERLEAVE_REPLAY=random\\.s=1eaf5eed\\.i=[01]");
}

// The fiber's last scheduling point is named when it made one.
TEST(ExploreDeathTest, WatchdogReportNamesTheFibersLastSchedulingPoint) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        Options o = with_schedules(1);
        o.jobs = 1;
        o.watchdog_ms = 200;
        (void)explore(o, []<Platform P>() {
          typename P::template Atomic<int> flag{0};
          typename P::Thread spinner([&] {
            flag.store(1);
            volatile bool stop = false;
            while (!stop) {
            }
          });
          spinner.join();
        });
        std::exit(0);
      },
      ::testing::ExitedWithCode(kHungExitCode),
      "WATCHDOG: fiber 1 made no scheduling point for 200 ms[^\n]*\n  its last scheduling point was step [0-9]+ "
      "\\(atomic store\\)");
}

// The control: a watchdog far shorter than the exploration stays quiet while scheduling points
// keep coming, across schedules and jobs.
TEST(Explore, WatchdogStaysQuietWhileSchedulingPointsKeepComing) {
  Options o = with_schedules(1000);
  o.jobs = 2;
  o.watchdog_ms = 250;
  const Result r = explore(o, LockedCounter{300});
  EXPECT_TRUE(r.passed()) << r;
}

}  // namespace
}  // namespace interleave
